// blind_indexer.h: the blind index of one field's values under one data key.
//
// A blind index is HMAC-SHA256(field key "bidx", normalized value) cut to a number of bits,
// stored beside a randomized field so that rows can be found by equality (docs/SPEC.md,
// "Blind index"). FieldCryptor (field_cryptor.h) computes the indexes of a policy's fields:
// it normalizes the value as the field's rule says and covers every enabled key during a
// rotation. A BlindIndexer does one key and takes the value already normalized.
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto indexers,
//                             keyset.BlindIndexersFor("orders.customer_email", 32));
//   for (const auto& [key_id, indexer] : indexers) {
//     PIICRYPT_ASSIGN_OR_RETURN(std::string index, indexer->Compute("jane@example.com"));
//   }
#ifndef PIICRYPT_SUBTLE_BLIND_INDEXER_H_
#define PIICRYPT_SUBTLE_BLIND_INDEXER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/secret_data.h"

namespace piicrypt {

// Computes blind indexes of one field under one data key:
// HMAC-SHA256(field key "bidx", value) cut to `bits`, as lower-case hex.
// The caller normalizes the value first (e-mail, phone, name normalizers come with the
// field API). Thread safety: const and safe to call from many threads.
class PIICRYPT_EXPORT BlindIndexer {
 public:
  // REQUIRES: 1 <= bits <= 256 (policies demand at least 8; see docs/SPEC.md).
  static absl::StatusOr<std::unique_ptr<BlindIndexer>> Create(const SecretData& root_material,
                                                              absl::string_view context, int bits);
  virtual ~BlindIndexer() = default;
  virtual absl::StatusOr<std::string> Compute(absl::string_view normalized_value) const = 0;
  virtual int bits() const = 0;
};

}  // namespace piicrypt

#endif  // PIICRYPT_SUBTLE_BLIND_INDEXER_H_
