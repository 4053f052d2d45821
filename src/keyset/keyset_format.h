// keyset_format.h: the in-memory keyset and its two stored forms (proto/piicrypt/keyset.proto).
//
// Both parsers are strict: they reject anything that would not re-serialize to the same
// meaning (unknown fields, unknown enum values, duplicate or zero key ids, material of the
// wrong size, a primary that is missing or not enabled). The outer parser also requires
// the input to be the exact canonical serialization, so that a changed byte anywhere in a
// keyset file is always detected, even where GCM does not look.
#ifndef PIICRYPT_SRC_KEYSET_KEYSET_FORMAT_H_
#define PIICRYPT_SRC_KEYSET_KEYSET_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

inline constexpr uint32_t kKeysetFormatVersion = 1;
inline constexpr size_t kKeyMaterialSize = 32;
inline constexpr size_t kKeysetIvSize = 12;
inline constexpr size_t kKeysetTagSize = 16;
// Largest keyset file accepted (kMaxKeys keys take well under 1 MiB).
inline constexpr size_t kMaxKeysetFileSize = size_t{4} << 20;

struct KeyEntry {
  uint32_t id = 0;
  KeyStatus status = KeyStatus::kEnabled;
  int64_t created_unix_seconds = 0;
  SecretData material;  // kKeyMaterialSize bytes; empty once destroyed
};

struct KeysetData {
  uint32_t primary_key_id = 0;
  std::vector<KeyEntry> keys;
};

// "piicrypt/keyset/v1/file" or "piicrypt/keyset/v1/pkcs11".
std::string KeysetAssociatedData(KekKind kind);

// The name of `status` in keyset.proto without its KEY_STATUS_ prefix: "ENABLED",
// "DISABLED", "DESTROYED" (KeyStatusName, keyset.h).
absl::string_view KeyStatusProtoName(KeyStatus status);

// Checks every invariant of a keyset (see the file comment); kDataLoss names the first
// broken one.
[[nodiscard]] absl::Status ValidateKeyset(const KeysetData& keyset);

// The serialized Keyset message, in wiped memory. Validates first (kFailedPrecondition
// for a keyset that breaks an invariant: that is a bug in the caller).
absl::StatusOr<SecretData> SerializeKeyset(const KeysetData& keyset);
// Parses and validates a serialized Keyset; kDataLoss on any problem.
absl::StatusOr<KeysetData> ParseKeyset(absl::Span<const uint8_t> serialized);

struct EncryptedKeysetParts {
  KekKind kek_kind = KekKind::kFile;
  KekCiphertext ciphertext;
};
std::string SerializeEncryptedKeyset(const EncryptedKeysetParts& parts);
// kDataLoss for anything but a canonical EncryptedKeyset of a known version and KEK kind,
// with an IV of kKeysetIvSize bytes and a ciphertext of at least kKeysetTagSize bytes.
absl::StatusOr<EncryptedKeysetParts> ParseEncryptedKeyset(absl::string_view serialized);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_KEYSET_KEYSET_FORMAT_H_
