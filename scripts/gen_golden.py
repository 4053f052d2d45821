#!/usr/bin/python3
"""Writes tests/testdata/golden_ciphertexts.json: field ciphertexts and blind indexes made
by an independent implementation of docs/SPEC.md's formats (Debian's python3-cryptography),
which the C++ tests must decrypt and reproduce byte for byte.

Run from the project root: /usr/bin/python3 scripts/gen_golden.py
"""
import base64
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def field_key(root, purpose, context):
    size = 64 if purpose == "daead" else 32
    info = ("piicrypt/v1/%s/%s" % (purpose, context)).encode()
    return HKDF(algorithm=hashes.SHA256(), length=size, salt=None, info=info).derive(root)


def lp(b):
    return struct.pack(">I", len(b)) + b


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def randomized(root, key_id, context, record, plaintext, nonce, fmt=1):
    """Format 0x01 of the text `plaintext`, or fmt 0x03 of the bytes `plaintext` (padded)."""
    header = bytes([fmt]) + struct.pack(">I", key_id)
    ad = header + lp(context.encode()) + lp(record.encode())
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    ct = AESGCM(field_key(root, "aead", context)).encrypt(nonce, data, ad)
    return header + nonce + ct


def _dbl(block):
    v = int.from_bytes(block, "big") << 1
    if v >> 128:
        v ^= 0x87
    return (v & ((1 << 128) - 1)).to_bytes(16, "big")


def _cmac(key, msg):
    c = cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def aes_siv(key, plaintext, ads):
    """RFC 5297 written out (OpenSSL's SIV, behind AESSIV, rejects empty plaintext)."""
    k1, k2 = key[: len(key) // 2], key[len(key) // 2:]
    d = _cmac(k1, bytes(16))
    for ad in ads:
        d = _xor(_dbl(d), _cmac(k1, ad))
    if len(plaintext) >= 16:
        t = plaintext[:-16] + _xor(plaintext[-16:], d)
    else:
        padded = plaintext + b"\x80" + bytes(15 - len(plaintext))
        t = _xor(_dbl(d), padded)
    v = _cmac(k1, t)
    q = bytearray(v)
    q[8] &= 0x7F
    q[12] &= 0x7F
    enc = Cipher(algorithms.AES(k2), modes.CTR(bytes(q))).encryptor()
    out = v + enc.update(plaintext) + enc.finalize()
    if plaintext:  # cross-check against the library's AES-SIV where it works
        assert out == AESSIV(key).encrypt(plaintext, list(ads))
    return out


def deterministic(root, key_id, context, record, plaintext, fmt=2):
    """Format 0x02 of the text `plaintext`, or fmt 0x04 of the bytes `plaintext` (padded)."""
    header = bytes([fmt]) + struct.pack(">I", key_id)
    ad = header + lp(context.encode()) + lp(record.encode())
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    out = aes_siv(field_key(root, "daead", context), data, [ad])
    return header + out  # siv || ciphertext


def padded_size(padding, n):
    """The size P a value of n bytes is padded to (docs/SPEC.md, "Padding")."""
    if "multiple" in padding:
        m = padding["multiple"]
        return -(-max(n, 1) // m) * m
    for bucket in padding["buckets"]:
        if n <= bucket:
            return bucket
    largest = padding["buckets"][-1]
    return -(-n // largest) * largest


def pad(value, size):
    """ISO/IEC 7816-4: value || 0x80 || 0x00 * (size - len(value))."""
    assert len(value) <= size
    return value + b"\x80" + bytes(size - len(value))


def unpad(padded):
    """The inverse of pad, or None if `padded` is not well-formed."""
    stripped = padded.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        return None
    return stripped[:-1]


def blind_index(root, context, value, bits):
    mac = hmac.new(field_key(root, "bidx", context), value.encode(), hashlib.sha256).digest()
    n = (bits + 7) // 8
    cut = bytearray(mac[:n])
    if bits % 8:
        cut[-1] &= (0xFF << (8 - bits % 8)) & 0xFF
    return cut.hex()


def main():
    root = bytes(range(32))
    root2 = hashlib.sha256(b"piicrypt golden root 2").digest()
    cases = []
    values = [
        ("orders.customer_email", "jane.doe@example.com", ""),
        ("orders.customer_email", "jane.doe@example.com", "order-10042"),
        ("orders.phone", "+61 2 5550 0199", "order-10042"),
        ("orders.delivery_address", "12 High Street, Springfield 2000", "order-10042"),
        ("orders.customer_name", "", ""),
        ("orders.customer_name", "Zoë Ångström-Núñez", ""),
        ("bookings.card_last4", "4242", "booking-7"),
        ("orders.notes", "x" * 100, ""),
    ]
    for i, (context, plaintext, record) in enumerate(values):
        for key_id, r in ((0x0A0B0C0D, root), (0xFFFFFFFF, root2)):
            nonce = hashlib.sha256(b"nonce%d-%d" % (i, key_id)).digest()[:12]
            cases.append({
                "mode": "randomized", "key_id": key_id, "root_hex": r.hex(),
                "context": context, "record": record, "plaintext": plaintext,
                "nonce_hex": nonce.hex(),
                "ciphertext": b64url(randomized(r, key_id, context, record, plaintext, nonce)),
            })
            cases.append({
                "mode": "deterministic", "key_id": key_id, "root_hex": r.hex(),
                "context": context, "record": record, "plaintext": plaintext,
                "ciphertext": b64url(deterministic(r, key_id, context, record, plaintext)),
            })
    padded = []
    padded_values = [
        ("orders.customer_name", "", "", {"buckets": [16, 32, 64]}),
        ("orders.customer_name", "Jo", "", {"buckets": [16, 32, 64]}),
        ("orders.customer_name", "Zoë Ångström-Núñez", "", {"buckets": [16, 32, 64]}),
        ("orders.customer_name", "y" * 16, "", {"buckets": [16, 32, 64]}),
        ("orders.customer_name", "y" * 17, "", {"buckets": [16, 32, 64]}),
        ("orders.delivery_address", "12 High Street, Springfield 2000", "order-10042",
         {"buckets": [16, 32, 64]}),
        ("orders.delivery_address", "z" * 65, "order-10042", {"buckets": [16, 32, 64]}),
        ("orders.delivery_address", "z" * 130, "order-10042", {"buckets": [16, 32, 64]}),
        ("orders.notes", "", "", {"multiple": 16}),
        ("orders.notes", "x" * 16, "", {"multiple": 16}),
        ("orders.notes", "x" * 17, "order-7", {"multiple": 16}),
        ("orders.notes", "abc", "", {"multiple": 1}),
    ]
    for i, (context, plaintext, record, padding) in enumerate(padded_values):
        encoded = pad(plaintext.encode(), padded_size(padding, len(plaintext.encode())))
        assert unpad(encoded) == plaintext.encode()
        nonce = hashlib.sha256(b"padded-nonce%d" % i).digest()[:12]
        common = {"key_id": 0x0A0B0C0D, "root_hex": root.hex(), "context": context,
                  "record": record, "plaintext": plaintext, "padding": padding}
        padded.append(dict(common, mode="randomized", nonce_hex=nonce.hex(), ciphertext=b64url(
            randomized(root, 0x0A0B0C0D, context, record, encoded, nonce, fmt=3))))
        padded.append(dict(common, mode="deterministic", ciphertext=b64url(
            deterministic(root, 0x0A0B0C0D, context, record, encoded, fmt=4))))

    # Authentic ciphertexts (right key, field and record) whose plaintext is not a padded
    # value: a reader must reject every one as a failed decryption.
    malformed = []
    for i, (why, encoded) in enumerate([
            ("all zero bytes", bytes(16)),
            ("last non-zero byte 0x81", b"abc\x81" + bytes(12)),
            ("bytes after the marker", b"abc\x80\x00\x01"),
            ("one zero byte", b"\x00"),
            ("no marker at all", b"abc"),
    ]):
        assert unpad(encoded) is None
        nonce = hashlib.sha256(b"malformed-nonce%d" % i).digest()[:12]
        for mode, blob in (
                ("randomized", randomized(root, 0x0A0B0C0D, "orders.customer_name", "", encoded,
                                          nonce, fmt=3)),
                ("deterministic", deterministic(root, 0x0A0B0C0D, "orders.customer_name", "",
                                                encoded, fmt=4))):
            malformed.append({"mode": mode, "why": why, "key_id": 0x0A0B0C0D,
                              "root_hex": root.hex(), "context": "orders.customer_name",
                              "record": "", "ciphertext": b64url(blob)})

    indexes = []
    for context, value, bits in [
        ("orders.customer_email", "jane.doe@example.com", 32),
        ("orders.customer_email", "jane.doe@example.com", 256),
        ("orders.phone", "+61255500199", 20),
        ("orders.phone", "+61255500199", 7),
        ("orders.customer_name", "", 64),
    ]:
        indexes.append({"root_hex": root.hex(), "context": context, "value": value,
                        "bits": bits, "index": blind_index(root, context, value, bits)})
    doc = {
        "about": "Generated by scripts/gen_golden.py with python3-cryptography, an "
                 "implementation independent of piicrypt; pins docs/SPEC.md's field format.",
        "field_ciphertexts": cases,
        "padded_field_ciphertexts": padded,
        "malformed_padding": malformed,
        "blind_indexes": indexes,
    }
    with open("tests/testdata/golden_ciphertexts.json", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
