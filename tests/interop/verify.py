#!/usr/bin/python3
"""Checks piicrypt's field ciphertexts, blind indexes, subject field values and subject key
stores with an independent implementation of docs/SPEC.md's formats: Debian's
python3-cryptography (AESGCM, HKDF, HMAC, CMAC, AES-CTR; RFC 5297 S2V written out, since
OpenSSL's AES-SIV behind AESSIV rejects an empty plaintext) and Python's sqlite3.

    /usr/bin/python3 tests/interop/verify.py KEYS.json CASES.json

KEYS.json is the output of `piicrypt keyset export-cleartext`. CASES.json, written by
tests/interop/interop_test.cc, holds:
  "ciphertexts":    {mode, form ("text"|"binary"), key_id, context_hex, record_hex,
                     plaintext_hex, stored, [padding]}
                     -- stored: base64url text, or hex for binary; padding ({"multiple": N}
                     or {"buckets": [...]}) for a value written by a padded field, which
                     must then be in the padded format (0x03, 0x04) padded exactly so
  "blind_indexes":  {key_id, context_hex, value_hex, bits, index}
  "lookups":        {context_hex, typed, normalizer ("email"), bits, indexes}
                     -- indexes under every enabled key, the primary's first
  "subject_ciphertexts": {store, subject_id_hex, context_hex, record_hex, plaintext_hex,
                     wrap_key_id, row_wrap_key_id, stored, [padding]}
                     -- store: the path of an SQLite subject key store, read (read-only)
                     as docs/SPEC.md "Subject fields" says: its lookup key row unwrapped,
                     the subject's row found at hex(HMAC-SHA256(lookup key, subject id))
                     and unwrapped; the row must be wrapped under row_wrap_key_id and hold
                     the subject key id the value's header names; the header must name
                     wrap_key_id; stored (base64url) is format 0x06 padded exactly as
                     padding says when given, else 0x05

Every case is verified; each failure is printed on its own line. The last line is
"interop: N cases verified, M failed". Exit status 0 if all passed, 1 if any failed (or
there were none), 2 on bad input.
"""
import base64
import hashlib
import hmac
import json
import os
import sqlite3
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# RFC 5297 (S2V written out) and the length prefix, shared with the golden generator.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from gen_golden import aes_siv, lp, pad, padded_size, unpad  # noqa: E402

HEADER_SIZE = 5
NONCE_SIZE = 12
TAG_SIZE = 16
SIV_SIZE = 16

SUBJECT_HEADER_SIZE = 9
SUBJECT_KEY_SIZE = 32
WRAPPED_KEY_SIZE = 5 + NONCE_SIZE + SUBJECT_KEY_SIZE + TAG_SIZE
LOOKUP_KEY_ROW = "0" * 64


class Keys:
    def __init__(self, export):
        self.primary = export["primary_key_id"]
        self.material = {}
        self.enabled = []
        for key in export["keys"]:
            if "material_hex" in key:
                self.material[key["id"]] = bytes.fromhex(key["material_hex"])
            if key["status"] == "ENABLED":
                self.enabled.append(key["id"])
        self._cache = {}

    def field_key(self, key_id, purpose, context):
        """HKDF-SHA256(salt = empty, ikm = root, info = "piicrypt/v1/" PURPOSE "/" CONTEXT)."""
        cache_key = (key_id, purpose, context)
        if cache_key not in self._cache:
            size = 64 if purpose == "daead" else 32
            info = b"piicrypt/v1/" + purpose.encode() + b"/" + context
            self._cache[cache_key] = HKDF(algorithm=hashes.SHA256(), length=size, salt=None,
                                          info=info).derive(self.material[key_id])
        return self._cache[cache_key]


def b64url_decode(text):
    if any(c in text for c in "=+/"):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def blind_index(keys, key_id, context, value, bits):
    """HMAC-SHA256(field key bidx, value), first ceil(bits/8) bytes, low bits cleared, hex."""
    mac = hmac.new(keys.field_key(key_id, "bidx", context), value, hashlib.sha256).digest()
    cut = bytearray(mac[: (bits + 7) // 8])
    if bits % 8:
        cut[-1] &= (0xFF << (8 - bits % 8)) & 0xFF
    return cut.hex()


def verify_ciphertext(keys, case, nonces):
    """Returns None if the case verifies, else what is wrong."""
    context = bytes.fromhex(case["context_hex"])
    record = bytes.fromhex(case["record_hex"])
    plaintext = bytes.fromhex(case["plaintext_hex"])
    if case["form"] == "text":
        blob = b64url_decode(case["stored"])
    else:
        blob = bytes.fromhex(case["stored"])
    versions = {"randomized": (1, 3), "deterministic": (2, 4)}[case["mode"]]
    if len(blob) < HEADER_SIZE or blob[0] not in versions:
        return "wrong version byte"
    version = blob[0]
    padded = version in (3, 4)
    if padded != ("padding" in case):
        return "padded format without padding" if padded else "unpadded, expected padding"
    # The plaintext as encrypted: in a padded format, value || 0x80 || 0x00 * k.
    encoded = pad(plaintext, padded_size(case["padding"], len(plaintext))) if padded else plaintext
    key_id = struct.unpack(">I", blob[1:HEADER_SIZE])[0]
    if key_id != case["key_id"]:
        return "header names key %d, expected %d" % (key_id, case["key_id"])
    if key_id not in keys.material:
        return "key %d is not in the exported keyset" % key_id
    header = blob[:HEADER_SIZE]
    ad = header + lp(context) + lp(record)
    if version in (1, 3):
        if len(blob) != HEADER_SIZE + NONCE_SIZE + len(encoded) + TAG_SIZE:
            return "wrong length"
        nonce = blob[HEADER_SIZE:HEADER_SIZE + NONCE_SIZE]
        if (key_id, context, nonce) in nonces:
            return "nonce reused under one field key"
        nonces.add((key_id, context, nonce))
        aead = AESGCM(keys.field_key(key_id, "aead", context))
        try:
            got = aead.decrypt(nonce, blob[HEADER_SIZE + NONCE_SIZE:], ad)
        except Exception:  # InvalidTag
            return "does not decrypt"
        if padded and unpad(got) != plaintext:
            return "padding does not unpad to the value"
        return None if got == encoded else "decrypts to another value"
    expected = header + aes_siv(keys.field_key(key_id, "daead", context), encoded, [ad])
    return None if blob == expected else "differs from the independent AES-SIV"


def hkdf32(ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


class SubjectStore:
    """The rows of one SQLite subject key store, read once, unwrapped on demand."""

    def __init__(self, path, keys):
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            versions = db.execute("SELECT version FROM piicrypt_subject_schema_version").fetchall()
            if versions != [(1,)]:
                raise ValueError("schema version %s, expected one row of 1" % versions)
            self.rows = {}
            for lookup, key_id, wrapped in db.execute(
                    "SELECT lookup, key_id, wrapped FROM piicrypt_subject_keys"):
                self.rows[lookup] = (key_id, wrapped)
        finally:
            db.close()
        self.keys = keys
        self.lookup_key = None
        try:
            self.lookup_key, _ = self.unwrap(LOOKUP_KEY_ROW)
        except ValueError as e:
            self.lookup_key_problem = "lookup key row: %s" % e

    def unwrap(self, lookup):
        """The key of row `lookup` and the data key it is wrapped under; ValueError if the
        row is missing, malformed or does not authenticate."""
        if lookup not in self.rows:
            raise ValueError("no row")
        key_id, wrapped = self.rows[lookup]
        if len(lookup) != 64 or any(c not in "0123456789abcdef" for c in lookup):
            raise ValueError("lookup is not 64 lower-case hex digits")
        if not isinstance(key_id, int) or not 1 <= key_id <= 0xFFFFFFFF:
            raise ValueError("key id %r out of range" % (key_id,))
        blob = b64url_decode(wrapped)
        if len(blob) != WRAPPED_KEY_SIZE or blob[0] != 0x01:
            raise ValueError("wrapped key malformed")
        wrap_key_id = struct.unpack(">I", blob[1:5])[0]
        if wrap_key_id not in self.keys.material:
            raise ValueError("wrapped under key %d, not in the exported keyset" % wrap_key_id)
        # wrap key = HKDF(root of wrap_key_id, "piicrypt/v1/subject-wrap");
        # AD = "piicrypt/subject-key/v1" || wrapped[0..5) || u32(key_id) || bytes(lookup).
        wrap_key = hkdf32(self.keys.material[wrap_key_id], b"piicrypt/v1/subject-wrap")
        ad = b"piicrypt/subject-key/v1" + blob[:5] + struct.pack(">I", key_id) + \
            bytes.fromhex(lookup)
        try:
            key = AESGCM(wrap_key).decrypt(blob[5:5 + NONCE_SIZE], blob[5 + NONCE_SIZE:], ad)
        except Exception:  # InvalidTag
            raise ValueError("wrapped key does not authenticate") from None
        return key, wrap_key_id


def verify_subject_ciphertext(keys, stores, case, nonces):
    """Returns None if the subject case verifies, else what is wrong."""
    path = case["store"]
    if path not in stores:
        stores[path] = SubjectStore(path, keys)
    store = stores[path]
    if store.lookup_key is None:
        return store.lookup_key_problem
    subject = bytes.fromhex(case["subject_id_hex"])
    if not 1 <= len(subject) <= 1024:
        return "subject id of %d bytes" % len(subject)
    lookup = hmac.new(store.lookup_key, subject, hashlib.sha256).hexdigest()
    try:
        subject_key, row_wrap_key_id = store.unwrap(lookup)
    except ValueError as e:
        return "subject's row: %s" % e
    if row_wrap_key_id != case["row_wrap_key_id"]:
        return "row wrapped under key %d, expected %d" % (row_wrap_key_id,
                                                            case["row_wrap_key_id"])
    context = bytes.fromhex(case["context_hex"])
    record = bytes.fromhex(case["record_hex"])
    plaintext = bytes.fromhex(case["plaintext_hex"])
    blob = b64url_decode(case["stored"])
    if len(blob) < SUBJECT_HEADER_SIZE or blob[0] not in (5, 6):
        return "wrong version byte"
    padded = blob[0] == 6
    if padded != ("padding" in case):
        return "padded format without padding" if padded else "unpadded, expected padding"
    encoded = pad(plaintext, padded_size(case["padding"], len(plaintext))) if padded else plaintext
    wrap_key_id, subject_key_id = struct.unpack(">II", blob[1:SUBJECT_HEADER_SIZE])
    if wrap_key_id != case["wrap_key_id"]:
        return "header names wrapping key %d, expected %d" % (wrap_key_id, case["wrap_key_id"])
    if subject_key_id != store.rows[lookup][0]:
        return "header names subject key %d, the store's row %d" % (subject_key_id,
                                                                     store.rows[lookup][0])
    if len(blob) != SUBJECT_HEADER_SIZE + NONCE_SIZE + len(encoded) + TAG_SIZE:
        return "wrong length"
    nonce = blob[SUBJECT_HEADER_SIZE:SUBJECT_HEADER_SIZE + NONCE_SIZE]
    if (subject_key, context, nonce) in nonces:
        return "nonce reused under one field key"
    nonces.add((subject_key, context, nonce))
    field_key = hkdf32(subject_key, b"piicrypt/v1/subject-aead/" + context)
    ad = blob[:SUBJECT_HEADER_SIZE] + lp(context) + lp(record)
    try:
        got = AESGCM(field_key).decrypt(nonce, blob[SUBJECT_HEADER_SIZE + NONCE_SIZE:], ad)
    except Exception:  # InvalidTag
        return "does not decrypt"
    if padded and unpad(got) != plaintext:
        return "padding does not unpad to the value"
    return None if got == encoded else "decrypts to another value"


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            keys = Keys(json.load(f))
        with open(argv[2], encoding="utf-8") as f:
            cases = json.load(f)
    except (OSError, ValueError, KeyError) as e:
        print("interop: cannot read input: %s" % e, file=sys.stderr)
        return 2

    checked = failed = 0
    nonces = set()

    def report(what, problem):
        nonlocal checked, failed
        checked += 1
        if problem is not None:
            failed += 1
            print("FAIL %s: %s" % (what, problem))

    for i, case in enumerate(cases.get("ciphertexts", [])):
        what = "ciphertext %d (%s, %s, key %d)" % (i, case["mode"], case["form"], case["key_id"])
        try:
            problem = verify_ciphertext(keys, case, nonces)
        except Exception as e:  # malformed base64, unknown mode, ...
            problem = "%s: %s" % (type(e).__name__, e)
        report(what, problem)

    for i, case in enumerate(cases.get("blind_indexes", [])):
        context = bytes.fromhex(case["context_hex"])
        value = bytes.fromhex(case["value_hex"])
        got = blind_index(keys, case["key_id"], context, value, case["bits"])
        report("blind index %d (%d bits, key %d)" % (i, case["bits"], case["key_id"]),
               None if got == case["index"] else "expected %s" % got)

    for i, case in enumerate(cases.get("lookups", [])):
        if case["normalizer"] != "email":
            report("lookup %d" % i, "unsupported normalizer %s" % case["normalizer"])
            continue
        context = bytes.fromhex(case["context_hex"])
        normalized = case["typed"].strip().lower().encode()  # e-mail: trim, lower case
        order = [keys.primary] + [k for k in keys.enabled if k != keys.primary]
        want = [blind_index(keys, k, context, normalized, case["bits"]) for k in order]
        got = case["indexes"]
        ok = len(got) == len(want) and got[0] == want[0] and sorted(got) == sorted(want)
        report("lookup %d (%d keys)" % (i, len(want)),
               None if ok else "expected %s" % want)

    stores = {}
    for i, case in enumerate(cases.get("subject_ciphertexts", [])):
        what = "subject ciphertext %d (%d-byte subject id)" % (i, len(case["subject_id_hex"]) // 2)
        try:
            problem = verify_subject_ciphertext(keys, stores, case, nonces)
        except Exception as e:  # unreadable store, malformed base64, ...
            problem = "%s: %s" % (type(e).__name__, e)
        report(what, problem)

    print("interop: %d cases verified, %d failed" % (checked, failed))
    return 0 if checked > 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
