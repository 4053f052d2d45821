// subject_format.h: the byte formats of subject keys and subject fields (docs/SPEC.md,
// "Subject fields"; docs/SUBJECTS.md), in one bounds-checked module.
//
//   subject field:  0x05 || wrap_key_id(4) || subject_key_id(4) || nonce(12) || ct || tag(16)
//                   0x06: the same, the plaintext padded as in formats 0x03/0x04
//                   AES-256-GCM under HKDF(subject key, "piicrypt/v1/subject-aead/" CONTEXT);
//                   AD = header(9) || lp(CONTEXT) || lp(RECORD)
//   wrapped key:    0x01 || wrap_key_id(4) || nonce(12) || ct(32) || tag(16), base64url;
//                   AES-256-GCM under HKDF(data key, "piicrypt/v1/subject-wrap");
//                   AD = "piicrypt/subject-key/v1" || header(5) || u32(subject_key_id) ||
//                   lookup(32)
//   lookup:         hex(HMAC-SHA256(the store's lookup key, subject id)); the lookup key is a
//                   random 32-byte key wrapped like a subject key in the row of lookup 0*64
#ifndef PIICRYPT_SRC_SUBJECT_SUBJECT_FORMAT_H_
#define PIICRYPT_SRC_SUBJECT_SUBJECT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

inline constexpr uint8_t kSubjectFormat = 0x05;
inline constexpr uint8_t kSubjectPaddedFormat = 0x06;
inline constexpr size_t kSubjectHeaderSize = 9;
inline constexpr size_t kSubjectOverhead = kSubjectHeaderSize + 12 + 16;
inline constexpr size_t kSubjectKeySize = 32;
// Longest subject id accepted, in bytes.
inline constexpr size_t kMaxSubjectIdSize = 1024;

// A parsed binary subject field value; the views point into the parsed input.
struct SubjectCiphertextView {
  uint8_t format = 0;
  uint32_t wrap_key_id = 0;  // the data key that wrapped the subject key when written
  uint32_t subject_key_id = 0;
  absl::string_view header;  // the first kSubjectHeaderSize bytes
  absl::string_view body;    // nonce || ciphertext || tag
};

// A known format byte, non-zero key ids, and at least the overhead (plus the padding's
// byte in format 0x06); kInvalidArgument otherwise.
absl::StatusOr<SubjectCiphertextView> ParseSubjectCiphertext(absl::string_view in);
void WriteSubjectHeader(uint8_t format, uint32_t wrap_key_id, uint32_t subject_key_id,
                        uint8_t* out);

// The AES-256-GCM key of subject field `context` under a subject key.
absl::StatusOr<SecretData> DeriveSubjectFieldKey(absl::Span<const uint8_t> subject_key,
                                                 absl::string_view context);
// The wrapping key of a keyset data key's root material.
absl::StatusOr<SecretData> DeriveSubjectWrapKey(absl::Span<const uint8_t> root);

inline constexpr uint8_t kWrappedKeyFormat = 0x01;
inline constexpr size_t kWrappedKeySize = 5 + 12 + kSubjectKeySize + 16;
inline constexpr size_t kLookupHexSize = 64;

// True for 64 lower-case hex digits.
bool IsLookup(absl::string_view lookup);
// The 32 bytes of a lookup (REQUIRES: IsLookup).
std::string LookupBytes(absl::string_view lookup);
// The associated data of a wrapped key.
std::string WrapAssociatedData(absl::string_view header, uint32_t subject_key_id,
                               absl::string_view lookup);
// The binary form of a stored wrapped key (base64url of kWrappedKeySize bytes, format
// 0x01, non-zero wrapping key id); kDataLoss otherwise.
absl::StatusOr<std::string> ParseWrappedKey(absl::string_view wrapped);
// The wrapping key id of a binary wrapped key (REQUIRES: from ParseWrappedKey).
uint32_t WrappedKeyId(absl::string_view binary);

uint32_t ReadBigEndian32(const char* p);
void WriteBigEndian32(uint32_t v, uint8_t* out);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SUBJECT_SUBJECT_FORMAT_H_
