// hkdf.h: HKDF-SHA256 (RFC 5869).
#ifndef PIICRYPT_SRC_CRYPTO_HKDF_H_
#define PIICRYPT_SRC_CRYPTO_HKDF_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

inline constexpr size_t kHkdfSha256MaxOutput = 255 * 32;

// HKDF-SHA256(salt, ikm, info) of `size` bytes; kInvalidArgument if `size` is 0 or more
// than 255 * 32 bytes.
absl::StatusOr<SecretData> HkdfSha256(absl::Span<const uint8_t> ikm, absl::string_view salt,
                                      absl::string_view info, size_t size);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_HKDF_H_
