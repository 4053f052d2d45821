// subject_keys.h: what a keyset contributes to subject keys: the wrapping of subject keys
// (and of the store's lookup key) under its data keys (src/subject/subject_format.h has the
// bytes). Shared by SubjectCryptor and the rewrap job.
//
// Thread safety: every method is const and may be called from many threads at once.
#ifndef PIICRYPT_SRC_SUBJECT_SUBJECT_KEYS_H_
#define PIICRYPT_SRC_SUBJECT_SUBJECT_KEYS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/keyset.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subject_key_store.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/hmac.h"

namespace piicrypt::internal {

class SubjectKeyring {
 public:
  // Wrapping keys of every ENABLED key; new keys are wrapped under the primary.
  static absl::StatusOr<std::unique_ptr<SubjectKeyring>> Create(const Keyset& keyset);

  uint32_t primary_key_id() const { return primary_; }

  // A new random subject key and its row (random non-zero key id, wrapped under the
  // primary) for `lookup`.
  absl::StatusOr<SubjectKeyRow> NewRow(absl::string_view lookup, SecretData& key) const;
  // `key` wrapped under the primary for row (`lookup`, `subject_key_id`): base64url.
  absl::StatusOr<std::string> Wrap(absl::Span<const uint8_t> key, absl::string_view lookup,
                                   uint32_t subject_key_id) const;
  // The subject key of `row`, checked: a malformed row or a wrapped key that does not
  // authenticate for this row is kDataLoss; a key wrapped under a disabled data key is
  // kFailedPrecondition, under a destroyed or unknown one kNotFound.
  absl::StatusOr<SecretData> Unwrap(const SubjectKeyRow& row) const;
  // The data key a row's key is wrapped under (kDataLoss if malformed).
  absl::StatusOr<uint32_t> WrapKeyIdOf(const SubjectKeyRow& row) const;

 private:
  SubjectKeyring() = default;
  absl::Status KeyError(uint32_t key_id, absl::string_view what) const;

  uint32_t primary_ = 0;
  absl::flat_hash_map<uint32_t, KeyStatus> status_;
  absl::flat_hash_map<uint32_t, std::unique_ptr<AesGcm>> wrap_;
};

// The store's lookup key (the row kLookupKeyRow), created and stored if the store has none
// yet, unwrapped and checked as Unwrap does, as a keyed HMAC.
absl::StatusOr<std::unique_ptr<HmacSha256>> OpenLookupKey(const SubjectKeyring& ring,
                                                          const SubjectKeyStore& store);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SUBJECT_SUBJECT_KEYS_H_
