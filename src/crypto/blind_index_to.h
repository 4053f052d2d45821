// blind_index_to.h: a blind index written into a string the caller keeps, for the field
// hot path (FieldCryptor::BlindIndex): no StatusOr and no string of its own per call.
#ifndef PIICRYPT_SRC_CRYPTO_BLIND_INDEX_TO_H_
#define PIICRYPT_SRC_CRYPTO_BLIND_INDEX_TO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "piicrypt/subtle/field_cipher.h"

namespace piicrypt::internal {

// indexer.Compute(normalized) into `*out`: straight from its HMAC states for the indexers
// BlindIndexer::Create makes (which cannot fail), through Compute for any other. `*out`
// is left empty on failure.
[[nodiscard]] absl::Status ComputeBlindIndexTo(const BlindIndexer& indexer,
                                               absl::string_view normalized, std::string* out);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_BLIND_INDEX_TO_H_
