// hmac.h: HMAC-SHA256 on reused keyed state (the blind-index PRF).
//
// Thread safety: every method is const and may be called from many threads at once.
#ifndef PIICRYPT_SRC_CRYPTO_HMAC_H_
#define PIICRYPT_SRC_CRYPTO_HMAC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/context_pool.h"

namespace piicrypt::internal {

class HmacSha256 {
 public:
  static constexpr size_t kTagSize = 32;
  using Tag = std::array<uint8_t, kTagSize>;

  // Any key length, including empty (RFC 2104).
  static absl::StatusOr<std::unique_ptr<HmacSha256>> Create(absl::Span<const uint8_t> key);

  [[nodiscard]] absl::Status Compute(absl::string_view message, Tag& tag) const;
  // Constant-time check of `tag` against the first `tag_size` bytes of the MAC, where
  // `tag_size` (1..32) is the length the caller's format fixes, never the length of the
  // tag it was handed: false on any mismatch, and for a tag of any other length (a
  // shortened tag included).
  [[nodiscard]] bool Verify(absl::string_view message, absl::Span<const uint8_t> tag,
                            size_t tag_size) const;

  ~HmacSha256();

 private:
  struct Context;
  explicit HmacSha256(SecretData key);
  std::unique_ptr<Context> NewContext() const;
  SecretData key_;
  mutable ContextPool<Context> pool_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_HMAC_H_
