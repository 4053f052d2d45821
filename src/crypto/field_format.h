// field_format.h: the field format of docs/SPEC.md, in one bounds-checked module.
//
//   randomized:    0x01 || key_id(4) || nonce(12) || ciphertext || tag(16)   (AES-256-GCM)
//   deterministic: 0x02 || key_id(4) || siv(16) || ciphertext                (AES-SIV-256)
//   padded forms:  0x03 (randomized), 0x04 (deterministic), the same layout, the plaintext
//                  being value || 0x80 || 0x00 * k (ISO/IEC 7816-4 padding)
//   associated data (both): header(5) || lp(CONTEXT) || lp(RECORD),  lp(x) = u32be(len) || x
//   text form: base64url without padding (RFC 4648 section 5)
//   field keys: HKDF-SHA256(salt = "", ikm = root, info = "piicrypt/v1/" PURPOSE "/" CONTEXT)
//
// The format is documented in prose in docs/SPEC.md and pinned by the golden
// ciphertexts in tests/testdata/golden_ciphertexts.json.
#ifndef PIICRYPT_SRC_CRYPTO_FIELD_FORMAT_H_
#define PIICRYPT_SRC_CRYPTO_FIELD_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

// Key purposes of the field key derivation (docs/SPEC.md), with their key sizes.
enum class FieldPurpose { kAead, kDaead, kBlindIndex, kFf1, kToken, kCompoundIndex };
// "aead", "daead", "bidx", "ff1", "token", "cidx" (CONTEXT: a compound index's definition,
// src/field/compound_index.h)
absl::string_view PurposeName(FieldPurpose purpose);
size_t PurposeKeySize(FieldPurpose purpose);  // 32, 64, 32, 32, 32, 32

inline constexpr size_t kRootKeySize = 32;
// Longest CONTEXT (field name) accepted, in bytes.
inline constexpr size_t kMaxContextSize = 1024;

// HKDF-SHA256 field key; `root` must be kRootKeySize bytes and `context` non-empty.
absl::StatusOr<SecretData> DeriveFieldKey(absl::Span<const uint8_t> root, FieldPurpose purpose,
                                          absl::string_view context);

inline constexpr uint8_t kRandomizedFormat = 0x01;
inline constexpr uint8_t kDeterministicFormat = 0x02;
inline constexpr uint8_t kRandomizedPaddedFormat = 0x03;
inline constexpr uint8_t kDeterministicPaddedFormat = 0x04;
inline constexpr size_t kHeaderSize = 5;
inline constexpr size_t kRandomizedOverhead = kHeaderSize + 12 + 16;
inline constexpr size_t kDeterministicOverhead = kHeaderSize + 16;

// What a (known) format byte says: the mode, and whether the plaintext is padded.
inline constexpr bool IsRandomizedFormat(uint8_t format) {
  return format == kRandomizedFormat || format == kRandomizedPaddedFormat;
}
inline constexpr bool IsPaddedFormat(uint8_t format) {
  return format == kRandomizedPaddedFormat || format == kDeterministicPaddedFormat;
}

// Padding of the formats 0x03 and 0x04: a value padded to `padded_size` bytes
// (>= value.size()) is value || 0x80 || 0x00 * (padded_size - value.size()), one byte
// longer than padded_size. PadValue writes those padded_size + 1 bytes to `out`.
void PadValue(absl::string_view value, size_t padded_size, uint8_t* out);
// The length of the value inside a padded plaintext: everything before the last non-zero
// byte, which must be 0x80. -1 if there is none or it is another byte. The time taken
// depends on the size of `padded` only, not on its bytes.
ptrdiff_t UnpaddedSize(absl::Span<const uint8_t> padded);

// A parsed binary field ciphertext; the views point into the parsed input.
struct CiphertextView {
  uint8_t format = 0;  // one of the four format bytes above
  uint32_t key_id = 0;
  absl::string_view header;  // the first kHeaderSize bytes
  absl::string_view body;    // everything after the header (nonce||ct||tag or siv||ct)
};

// The shortest binary ciphertext of a format byte (its overhead, and the padding's one
// byte in a padded format); 0 for an unknown format byte.
inline constexpr size_t MinCiphertextSize(uint8_t format) {
  switch (format) {
    case kRandomizedFormat:
      return kRandomizedOverhead;
    case kDeterministicFormat:
      return kDeterministicOverhead;
    case kRandomizedPaddedFormat:
      return kRandomizedOverhead + 1;
    case kDeterministicPaddedFormat:
      return kDeterministicOverhead + 1;
    default:
      return 0;
  }
}

// Parses and bounds-checks a binary ciphertext: a known format byte, a non-zero key id,
// and a body at least as long as the format's overhead (and the padding's one byte, in a
// padded format). false (`*view` unspecified) otherwise. Inline, for the decrypt hot
// path; ParseCiphertext says what is wrong.
inline bool ParseCiphertextTo(absl::string_view in, CiphertextView* view) {
  if (in.size() < kHeaderSize) return false;
  const auto* b = reinterpret_cast<const uint8_t*>(in.data());
  const size_t min_size = MinCiphertextSize(b[0]);
  if (min_size == 0 || in.size() < min_size) return false;
  view->format = b[0];
  view->key_id =
      (uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | uint32_t{b[4]};
  if (view->key_id == 0) return false;
  view->header = in.substr(0, kHeaderSize);
  view->body = in.substr(kHeaderSize);
  return true;
}

// ParseCiphertextTo with the reason of a failure: kInvalidArgument naming it.
absl::StatusOr<CiphertextView> ParseCiphertext(absl::string_view in);
// Writes format || key_id into out[0..5).
void WriteHeader(uint8_t format, uint32_t key_id, uint8_t* out);
// The exact inverse of ParseCiphertext: header || body.
std::string SerializeCiphertext(const CiphertextView& view);

// Appends lp(x) to `out`.
void AppendLengthPrefixed(absl::string_view x, std::string& out);
// header || lp(context) || lp(record).
std::string AssociatedData(absl::string_view header, absl::string_view context,
                           absl::string_view record);

// base64url without padding. Decode is strict: it rejects padding, characters outside
// the URL-safe alphabet, a length of 1 mod 4 and non-zero unused trailing bits, so every
// ciphertext has exactly one text form.
std::string Base64UrlEncode(absl::string_view bytes);
// The length of the base64url form of `size` bytes, and the encoder behind Base64UrlEncode
// writing exactly that many characters to `out` (the hot path encodes into the stack).
inline constexpr size_t Base64UrlEncodedSize(size_t size) { return (size * 4 + 2) / 3; }
// It uses AVX2 or SSSE3 when the CPU has them; Base64UrlEncodePortableTo is the encoder
// for other CPUs (the same output; exposed for tests).
size_t Base64UrlEncodeTo(absl::string_view bytes, char* out);
size_t Base64UrlEncodePortableTo(absl::string_view bytes, char* out);
// The encoder of at most `max_level` (2: AVX2, 1: SSSE3, 0: portable) that the CPU has:
// lets the tests run every encoder this CPU can. Base64UrlEncodeTo is level 2.
size_t Base64UrlEncodeAtLevelTo(int max_level, absl::string_view bytes, char* out);
// The fastest form, for a caller that owns scratch space on both sides (the field hot
// path, whose binary and text forms are on its stack): `in` holds `size` bytes and then
// kBase64Slack writable bytes, which are overwritten with zeros; `out` has room for
// Base64UrlEncodedSize(size) + kBase64Slack characters, those past the encoding being
// scratch. With AVX2 the encoding is whole 24-byte steps over the zero-padded input, with
// no tail to handle; otherwise Base64UrlEncodeTo. Returns Base64UrlEncodedSize(size).
inline constexpr size_t kBase64Slack = 32;
size_t Base64UrlEncodePaddedTo(uint8_t* in, size_t size, char* out);
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);
// The decoder behind Base64UrlDecode, into a buffer the caller owns (the field hot path
// decodes onto its stack): writes Base64UrlDecodedSize(text.size()) bytes to `out` and
// returns true, or returns false for every text Base64UrlDecode rejects (what `out` then
// holds is unspecified). With AVX2 it decodes whole 32-character blocks, the last one
// from a padded copy, so there is no scalar tail; with SSSE3 16-character blocks and a
// scalar tail; otherwise four characters at a time.
inline constexpr size_t Base64UrlDecodedSize(size_t chars) { return chars * 3 / 4; }
[[nodiscard]] bool Base64UrlDecodeTo(absl::string_view text, uint8_t* out);
// The decoder of at most `max_level` (2: AVX2, 1: SSSE3, 0: portable) that the CPU has,
// for the tests: every level accepts the same texts and writes the same bytes.
[[nodiscard]] bool Base64UrlDecodeAtLevelTo(int max_level, absl::string_view text, uint8_t* out);

// Lower-case hex of the first ceil(bits/8) bytes of `mac`, with the unused low bits of the
// last byte cleared. `bits` must be in 1..8*mac.size().
std::string TruncatedHex(absl::Span<const uint8_t> mac, int bits);
// Each byte's two lower-case hex digits, as they lie in memory.
inline constexpr auto kHexPairs = [] {
  std::array<std::array<char, 2>, 256> pairs{};
  constexpr char kHex[] = "0123456789abcdef";
  for (int b = 0; b < 256; ++b) pairs[b] = {kHex[b >> 4], kHex[b & 15]};
  return pairs;
}();
// The same written to out[0, 2 * ceil(bits / 8)). REQUIRES: bits <= 8 * mac.size().
// Inline: it is on every blind index's path.
inline void TruncatedHexTo(absl::Span<const uint8_t> mac, int bits, char* out) {
  const size_t nbytes = (static_cast<size_t>(bits) + 7) / 8;
  for (size_t i = 0; i + 1 < nbytes; ++i) std::memcpy(out + 2 * i, kHexPairs[mac[i]].data(), 2);
  const uint8_t last = mac[nbytes - 1] & static_cast<uint8_t>(0xff << ((8 - bits % 8) % 8));
  std::memcpy(out + 2 * (nbytes - 1), kHexPairs[last].data(), 2);
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_FIELD_FORMAT_H_
