// token_entry.h: the format of a vault token entry (docs/TOKENS.md, "Entry format").
//
// A token store row holds a token, the value's ciphertext and an expiry time. The
// ciphertext is the field's randomized ciphertext (AES-256-GCM, docs/SPEC.md) of the value,
// whose RECORD binds the other columns of the row:
//
//   version 2:  RECORD = "piicrypt-token-entry/2" || lp(token) || i64be(expires)
//               (expires: Unix seconds, 0 for never; lp(x) = u32be(len(x)) || x)
//   version 1:  RECORD = token   (older entries: the expiry is not authenticated)
//
// So a ciphertext moved to another token, or a rewritten expiry, fails to decrypt.
// Version 1 entries are read only to erase them and to upgrade them to version 2
// (Tokenizer::Rekey); a token whose entry is in version 1 does not detokenize.
#ifndef PIICRYPT_SRC_TOKEN_TOKEN_ENTRY_H_
#define PIICRYPT_SRC_TOKEN_TOKEN_ENTRY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/subtle/field_cipher.h"
#include "piicrypt/subtle/token_store.h"

namespace piicrypt::internal {

// The entry format this library writes.
inline constexpr int kTokenEntryVersion = 2;

// The RECORD of a version 2 entry.
std::string TokenEntryRecord(absl::string_view token, int64_t expires_unix_seconds);

// The ciphertext of a version 2 entry holding `value` (`cipher` is the field's randomized
// cipher under the primary key).
absl::StatusOr<std::string> SealTokenEntry(const FieldCipher& cipher, absl::string_view value,
                                           absl::string_view token, int64_t expires_unix_seconds);

// A decrypted entry. The caller wipes `value` after use.
struct OpenedTokenEntry {
  std::string value;
  int version = kTokenEntryVersion;
};

// Decrypts `entry` with `cipher` (the field's randomized cipher under the entry's key):
// as a version 2 entry, else as a version 1 entry. kInvalidArgument (naming `field`) if it
// is neither: its ciphertext, token or expiry is not what was written together.
absl::StatusOr<OpenedTokenEntry> OpenTokenEntry(const FieldCipher& cipher, absl::string_view field,
                                                const TokenEntry& entry);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_TOKEN_TOKEN_ENTRY_H_
