// OpenSSL 3 marks the SHA256_Init/Update/Final family deprecated in favour of EVP_Digest*.
// This file needs exactly what they give and EVP does not: a plain struct for the SHA-256
// state, copied by value, with no provider dispatch per call (the EVP form of the same
// midstate HMAC, EVP_MD_CTX_copy_ex of keyed contexts, costs twice as much; see the header),
// and SHA256_Transform, which compresses one block the caller padded.
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

namespace {

// SHA-256's final block for `n` bytes already in block[0, n), n <= 55, after `prefix` bytes
// hashed before them: the 0x80 marker, zeros, and the bit length, big-endian.
void PadFinalBlock(uint8_t (&block)[kBlock], size_t n, uint64_t prefix) {
  block[n] = 0x80;
  std::memset(block + n + 1, 0, kBlock - 8 - (n + 1));
  const uint64_t bits = (prefix + n) * 8;
  for (int i = 0; i < 8; ++i) block[kBlock - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
}

// The digest in a state's chaining words, big-endian.
void ReadDigest(const SHA256_CTX& ctx, uint8_t* out) {
  for (int i = 0; i < 8; ++i) {
    uint32_t word = static_cast<uint32_t>(ctx.h[i]);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    word = __builtin_bswap32(word);
#endif
    std::memcpy(out + 4 * i, &word, 4);
  }
}

}  // namespace

HmacSha256Fast::Tag HmacSha256Fast::Compute(absl::string_view message) const {
  struct {
    SHA256_CTX ctx;
    uint8_t block[kBlock];
  } scratch;  // holds the message and the inner hash: wiped as one
  Tag tag;
  std::memcpy(&scratch.ctx, inner_.bytes, sizeof(scratch.ctx));
  if (message.size() <= kBlock - 9) {
    // The usual field-sized value: the inner hash's last block is built here and compressed
    // with SHA256_Transform, skipping SHA256_Update's buffering and SHA256_Final's padding.
    if (!message.empty()) std::memcpy(scratch.block, message.data(), message.size());
    PadFinalBlock(scratch.block, message.size(), kBlock);
    SHA256_Transform(&scratch.ctx, scratch.block);
    ReadDigest(scratch.ctx, scratch.block);
  } else {
    SHA256_Update(&scratch.ctx, message.data(), message.size());
    SHA256_Final(scratch.block, &scratch.ctx);
  }
  // The outer hash: one block, the inner hash and its padding.
  PadFinalBlock(scratch.block, SHA256_DIGEST_LENGTH, kBlock);
  std::memcpy(&scratch.ctx, outer_.bytes, sizeof(scratch.ctx));
  SHA256_Transform(&scratch.ctx, scratch.block);
  ReadDigest(scratch.ctx, tag.data());
  OPENSSL_cleanse(&scratch, sizeof(scratch));
  return tag;
}

}  // namespace piicrypt::internal
