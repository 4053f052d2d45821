// hmac_sha256_fast.h: HMAC-SHA256 from precomputed inner and outer states, for the blind
// index (a short message per call).
//
//   HmacSha256Fast hmac(key);          // absorbs key ^ ipad and key ^ opad once
//   HmacSha256Fast::Tag tag = hmac.Compute("alice@example.com");
//
// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)) (RFC 2104), with K' the key padded to
// the 64-byte block (keys longer than a block are hashed first). Both padded key blocks
// are absorbed once here, so a call copies two 112-byte SHA-256 states and compresses
// ceil((len + 9) / 64) blocks for the inner hash and one for the outer: two compressions
// for a field-sized message, on OpenSSL's SHA-256 block code (SHA-NI or AVX2 where the
// CPU has them). There is no EVP dispatch, no context pool, no allocation and no failure.
//
// It gives the same tags as HmacSha256 (hmac.h), the EVP_MAC form, which the tests check
// on RFC 4231's vectors and on random keys and messages. It takes about half the time of
// a reused EVP_MAC context for 32-byte messages; cloning keyed EVP digest contexts
// (EVP_MD_CTX_copy_ex) instead takes about 0.7x (BlindIndex/openssl_evp_midstate in
// bench/crypto_bench.cc).
//
// Thread safety: Compute is const and works on copies of the states: safe from many
// threads at once. The states (as secret as the key) are wiped on destruction.
#ifndef PIICRYPT_SRC_CRYPTO_HMAC_SHA256_FAST_H_
#define PIICRYPT_SRC_CRYPTO_HMAC_SHA256_FAST_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"

namespace piicrypt::internal {

class PIICRYPT_EXPORT HmacSha256Fast {
 public:
  static constexpr size_t kTagSize = 32;
  using Tag = std::array<uint8_t, kTagSize>;

  // Any key length, including empty (RFC 2104).
  explicit HmacSha256Fast(absl::Span<const uint8_t> key);
  ~HmacSha256Fast();
  HmacSha256Fast(const HmacSha256Fast&) = delete;
  HmacSha256Fast& operator=(const HmacSha256Fast&) = delete;

  // The full 32-byte tag of `message`.
  Tag Compute(absl::string_view message) const;

 private:
  // A SHA256_CTX (OpenSSL's struct, 112 bytes) after one block, kept as bytes so that
  // this header needs no OpenSSL one.
  struct alignas(8) State {
    uint8_t bytes[112];
  };
  State inner_;  // after (K' ^ ipad)
  State outer_;  // after (K' ^ opad)
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_HMAC_SHA256_FAST_H_
