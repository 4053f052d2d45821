// OpenSSL 3 marks the SHA256_Init/Update/Final family deprecated in favour of EVP_Digest*.
// This file needs exactly what they give and EVP does not: a plain struct for the SHA-256
// state, copied by value, with no provider dispatch per call (the EVP form of the same
// midstate HMAC, EVP_MD_CTX_copy_ex of keyed contexts, costs twice as much; see the header).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "src/crypto/hmac_sha256_fast.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace piicrypt::internal {
namespace {

static_assert(sizeof(SHA256_CTX) <= 112, "SHA256_CTX no longer fits HmacSha256Fast::State");
constexpr size_t kBlock = SHA256_CBLOCK;  // 64

}  // namespace

HmacSha256Fast::HmacSha256Fast(absl::Span<const uint8_t> key) {
  uint8_t padded[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(key.data(), key.size(), padded);  // K' = H(K), zero-padded
  } else if (!key.empty()) {
    std::memcpy(padded, key.data(), key.size());
  }
  uint8_t block[kBlock];
  SHA256_CTX ctx;
  for (size_t i = 0; i < kBlock; ++i) block[i] = padded[i] ^ 0x36;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, block, kBlock);
  std::memcpy(inner_.bytes, &ctx, sizeof(ctx));
  for (size_t i = 0; i < kBlock; ++i) block[i] = padded[i] ^ 0x5c;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, block, kBlock);
  std::memcpy(outer_.bytes, &ctx, sizeof(ctx));
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(padded, sizeof(padded));
}

HmacSha256Fast::~HmacSha256Fast() {
  OPENSSL_cleanse(&inner_, sizeof(inner_));
  OPENSSL_cleanse(&outer_, sizeof(outer_));
}

HmacSha256Fast::Tag HmacSha256Fast::Compute(absl::string_view message) const {
  struct {
    SHA256_CTX ctx;
    uint8_t inner_hash[SHA256_DIGEST_LENGTH];
  } scratch;  // wiped as one
  Tag tag;
  std::memcpy(&scratch.ctx, inner_.bytes, sizeof(scratch.ctx));
  SHA256_Update(&scratch.ctx, message.data(), message.size());
  SHA256_Final(scratch.inner_hash, &scratch.ctx);
  std::memcpy(&scratch.ctx, outer_.bytes, sizeof(scratch.ctx));
  SHA256_Update(&scratch.ctx, scratch.inner_hash, sizeof(scratch.inner_hash));
  SHA256_Final(tag.data(), &scratch.ctx);
  OPENSSL_cleanse(&scratch, sizeof(scratch));
  return tag;
}

}  // namespace piicrypt::internal
