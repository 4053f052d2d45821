#include "src/token/token_entry.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "piicrypt/subtle/field_cipher.h"
#include "src/crypto/field_format.h"

namespace piicrypt::internal {
namespace {

constexpr char kRecordTag[] = "piicrypt-token-entry/2";

}  // namespace

std::string TokenEntryRecord(absl::string_view token, int64_t expires_unix_seconds) {
  std::string record(kRecordTag);
  AppendLengthPrefixed(token, record);
  const uint64_t expires = static_cast<uint64_t>(expires_unix_seconds);
  for (int shift = 56; shift >= 0; shift -= 8) {
    record.push_back(static_cast<char>((expires >> shift) & 0xff));
  }
  return record;
}

absl::StatusOr<std::string> SealTokenEntry(const FieldCipher& cipher, absl::string_view value,
                                           absl::string_view token, int64_t expires_unix_seconds) {
  return cipher.EncryptText(value, TokenEntryRecord(token, expires_unix_seconds));
}

absl::StatusOr<OpenedTokenEntry> OpenTokenEntry(const FieldCipher& cipher, absl::string_view field,
                                                const TokenEntry& entry) {
  OpenedTokenEntry opened;
  absl::StatusOr<std::string> value = cipher.DecryptText(
      entry.ciphertext, TokenEntryRecord(entry.token, entry.expires_unix_seconds));
  if (!value.ok()) {
    opened.version = 1;
    value = cipher.DecryptText(entry.ciphertext, entry.token);
  }
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field,
                     ": token entry does not authenticate (its ciphertext, token or expiry time is "
                     "not what was written together)"));
  }
  opened.value = *std::move(value);
  return opened;
}

}  // namespace piicrypt::internal
