#include "src/crypto/aes_siv.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {

// Both halves run on AES-ECB contexts keyed once: CMAC chains blocks itself (no IV
// re-initialisation per message), and CTR encrypts a run of counter blocks in one call.
struct AesSiv::Contexts {
  SslPtr<EVP_CIPHER_CTX> k1;  // S2V (CMAC)
  SslPtr<EVP_CIPHER_CTX> k2;  // CTR keystream
};

namespace {

using Block = AesSiv::Block;
constexpr size_t kBlock = 16;

// Doubling in GF(2^128) (RFC 5297 section 2.3), in constant time.
Block Dbl(const Block& in) {
  Block out;
  const uint8_t carry_mask = static_cast<uint8_t>(0 - (in[0] >> 7));
  for (size_t i = 0; i < kBlock - 1; ++i) {
    out[i] = static_cast<uint8_t>((in[i] << 1) | (in[i + 1] >> 7));
  }
  out[kBlock - 1] = static_cast<uint8_t>((in[kBlock - 1] << 1) ^ (carry_mask & 0x87));
  return out;
}

void XorInto(Block& a, const Block& b) {
  for (size_t i = 0; i < kBlock; ++i) a[i] ^= b[i];
}

SslPtr<EVP_CIPHER_CTX> NewEcbContext(size_t key_size, const uint8_t* key) {
  SslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return nullptr;
  if (EVP_EncryptInit_ex(ctx.get(), AesCipher(AesMode::kEcb, key_size), nullptr, key, nullptr) !=
          1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return nullptr;
  }
  return ctx;
}

// block = AES(block), in place.
bool EncryptBlock(EVP_CIPHER_CTX* ecb, Block& block) {
  int written = 0;
  return EVP_EncryptUpdate(ecb, block.data(), &written, block.data(), kBlock) == 1 &&
         written == static_cast<int>(kBlock);
}

// CBC-MAC chaining: state = AES(state ^ block) for each whole block of `in`.
bool Chain(EVP_CIPHER_CTX* ecb, Block& state, const uint8_t* in, size_t blocks) {
  for (size_t b = 0; b < blocks; ++b, in += kBlock) {
    for (size_t i = 0; i < kBlock; ++i) state[i] ^= in[i];
    if (!EncryptBlock(ecb, state)) return false;
  }
  return true;
}

absl::Status DecryptFailed() { return absl::InvalidArgumentError("decryption failed"); }

}  // namespace

AesSiv::AesSiv(SecretData key) : key_(std::move(key)) {}
AesSiv::~AesSiv() {
  SecureWipe(k1_sub1_.data(), kBlock);
  SecureWipe(k1_sub2_.data(), kBlock);
  SecureWipe(cmac_zero_.data(), kBlock);
}

absl::StatusOr<std::unique_ptr<AesSiv>> AesSiv::Create(absl::Span<const uint8_t> key) {
  if (key.size() != 32 && key.size() != 48 && key.size() != 64) {
    return absl::InvalidArgumentError("AES-SIV key must be 32, 48 or 64 bytes");
  }
  std::unique_ptr<AesSiv> siv(new AesSiv(SecretDataFromBytes(key)));
  auto ctx = siv->pool_.Acquire([&] { return siv->NewContexts(); });
  if (!ctx) return OpenSslError("AES-SIV key setup");
  // CMAC subkeys (RFC 4493): L = AES-K1(0^128), K1' = dbl(L), K2' = dbl(K1').
  Block l{};
  if (!EncryptBlock(ctx->k1.get(), l)) return OpenSslError("AES-SIV subkeys");
  siv->k1_sub1_ = Dbl(l);
  siv->k1_sub2_ = Dbl(siv->k1_sub1_);
  SecureWipe(l.data(), kBlock);
  // S2V starts from CMAC(K1, <zero>), the same for every message.
  const char zero[kBlock] = {};
  absl::Status s = siv->Cmac(*ctx, absl::string_view(zero, kBlock), siv->cmac_zero_);
  if (!s.ok()) return s;
  return siv;
}

std::unique_ptr<AesSiv::Contexts> AesSiv::NewContexts() const {
  const size_t half = key_.size() / 2;
  auto ctxs = std::make_unique<Contexts>();
  ctxs->k1 = NewEcbContext(half, key_.data());
  ctxs->k2 = NewEcbContext(half, key_.data() + half);
  if (ctxs->k1 == nullptr || ctxs->k2 == nullptr) return nullptr;
  return ctxs;
}

// AES-CMAC (RFC 4493) of `msg` under K1.
absl::Status AesSiv::Cmac(Contexts& ctx, absl::string_view msg, Block& mac) const {
  const size_t last_len =
      msg.empty() ? 0 : (msg.size() % kBlock == 0 ? kBlock : msg.size() % kBlock);
  const size_t full_blocks = (msg.size() - last_len) / kBlock;
  Block state{};
  if (!Chain(ctx.k1.get(), state, reinterpret_cast<const uint8_t*>(msg.data()), full_blocks)) {
    return OpenSslError("AES-CMAC");
  }
  const char* tail = msg.data() + full_blocks * kBlock;
  for (size_t i = 0; i < last_len; ++i) state[i] ^= static_cast<uint8_t>(tail[i]);
  if (last_len == kBlock) {
    XorInto(state, k1_sub1_);
  } else {
    state[last_len] ^= 0x80;
    XorInto(state, k1_sub2_);
  }
  if (!EncryptBlock(ctx.k1.get(), state)) return OpenSslError("AES-CMAC");
  mac = state;
  return absl::OkStatus();
}

absl::StatusOr<AesSiv::Block> AesSiv::S2VPrefix(
    absl::Span<const absl::string_view> associated_data) const {
  if (associated_data.size() > kMaxComponents) {
    return absl::InvalidArgumentError("AES-SIV takes at most 126 associated-data components");
  }
  auto ctx = pool_.Acquire([this] { return NewContexts(); });
  if (!ctx) return OpenSslError("AES-SIV context");
  Block d = cmac_zero_;
  for (absl::string_view component : associated_data) {
    Block mac;
    absl::Status s = Cmac(*ctx, component, mac);
    if (!s.ok()) return s;
    d = Dbl(d);
    XorInto(d, mac);
  }
  return d;
}

// The last step of S2V: V = CMAC(K1, T) with T = P xorend D (|P| >= 16) or
// T = dbl(D) xor pad(P).
absl::Status AesSiv::S2VFinal(Contexts& ctx, const Block& d, absl::string_view plaintext,
                              Block& v) const {
  const auto* p = reinterpret_cast<const uint8_t*>(plaintext.data());
  const size_t n = plaintext.size();
  Block state{};
  absl::Cleanup wipe = [&] { SecureWipe(state.data(), kBlock); };
  if (n >= kBlock) {
    // T differs from P only in its last 16 bytes, which may straddle two CMAC blocks.
    const size_t last_len = n % kBlock == 0 ? kBlock : n % kBlock;
    const size_t full_blocks = (n - last_len) / kBlock;
    const size_t xor_from = n - kBlock;  // T[i] = P[i] ^ D[i - xor_from] for i >= xor_from
    auto t_byte = [&](size_t i) -> uint8_t {
      return i >= xor_from ? static_cast<uint8_t>(p[i] ^ d[i - xor_from]) : p[i];
    };
    const size_t plain_blocks = xor_from / kBlock;  // blocks untouched by the xorend
    if (!Chain(ctx.k1.get(), state, p, plain_blocks)) return OpenSslError("AES-SIV S2V");
    for (size_t b = plain_blocks; b < full_blocks; ++b) {
      for (size_t i = 0; i < kBlock; ++i) state[i] ^= t_byte(b * kBlock + i);
      if (!EncryptBlock(ctx.k1.get(), state)) return OpenSslError("AES-SIV S2V");
    }
    const size_t last = full_blocks * kBlock;
    for (size_t i = 0; i < last_len; ++i) state[i] ^= t_byte(last + i);
    if (last_len == kBlock) {
      XorInto(state, k1_sub1_);
    } else {
      state[last_len] ^= 0x80;
      XorInto(state, k1_sub2_);
    }
  } else {
    state = Dbl(d);
    for (size_t i = 0; i < n; ++i) state[i] ^= p[i];
    state[n] ^= 0x80;
    XorInto(state, k1_sub1_);  // T is exactly one block: CMAC uses the first subkey
  }
  if (!EncryptBlock(ctx.k1.get(), state)) return OpenSslError("AES-SIV S2V");
  v = state;
  return absl::OkStatus();
}

// CTR with the 128-bit big-endian counter Q = V with bits 31 and 63 cleared (RFC 5297
// section 2.5), incremented modulo 2^128; keystream made a run of blocks at a time.
absl::Status AesSiv::Ctr(Contexts& ctx, const Block& v, absl::string_view in, uint8_t* out) const {
  constexpr size_t kRun = 16;  // blocks of keystream per AES call
  uint8_t counters[kRun * kBlock];
  uint8_t stream[kRun * kBlock];
  absl::Cleanup wipe = [&] { SecureWipe(stream, sizeof(stream)); };
  Block q = v;
  q[8] &= 0x7f;
  q[12] &= 0x7f;
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  size_t left = in.size();
  while (left > 0) {
    const size_t blocks = std::min(kRun, (left + kBlock - 1) / kBlock);
    for (size_t b = 0; b < blocks; ++b) {
      std::memcpy(counters + b * kBlock, q.data(), kBlock);
      for (int i = kBlock - 1; i >= 0 && ++q[i] == 0; --i) {
      }
    }
    int written = 0;
    if (EVP_EncryptUpdate(ctx.k2.get(), stream, &written, counters,
                          static_cast<int>(blocks * kBlock)) != 1) {
      return OpenSslError("AES-SIV CTR");
    }
    const size_t n = std::min(left, blocks * kBlock);
    for (size_t i = 0; i < n; ++i) out[i] = src[i] ^ stream[i];
    src += n;
    out += n;
    left -= n;
  }
  return absl::OkStatus();
}

absl::Status AesSiv::EncryptWithPrefix(const Block& prefix, absl::string_view plaintext,
                                       absl::Span<uint8_t> out) const {
  if (out.size() != plaintext.size() + kSivSize) {
    return absl::InvalidArgumentError("AES-SIV output buffer has the wrong size");
  }
  auto ctx = pool_.Acquire([this] { return NewContexts(); });
  if (!ctx) return OpenSslError("AES-SIV context");
  Block v;
  absl::Status s = S2VFinal(*ctx, prefix, plaintext, v);
  if (!s.ok()) return s;
  std::memcpy(out.data(), v.data(), kSivSize);
  return Ctr(*ctx, v, plaintext, out.data() + kSivSize);
}

absl::Status AesSiv::DecryptWithPrefix(const Block& prefix, absl::string_view in,
                                       absl::Span<uint8_t> out) const {
  if (in.size() < kSivSize) return DecryptFailed();
  if (out.size() != in.size() - kSivSize) {
    return absl::InvalidArgumentError("AES-SIV output buffer has the wrong size");
  }
  auto ctx = pool_.Acquire([this] { return NewContexts(); });
  if (!ctx) return OpenSslError("AES-SIV context");
  Block v;
  std::memcpy(v.data(), in.data(), kSivSize);
  absl::Status s = Ctr(*ctx, v, in.substr(kSivSize), out.data());
  Block expected;
  if (s.ok()) {
    s = S2VFinal(*ctx, prefix,
                 absl::string_view(reinterpret_cast<const char*>(out.data()), out.size()),
                 expected);
  }
  if (!s.ok() || !SecretEquals(absl::MakeConstSpan(v), absl::MakeConstSpan(expected))) {
    SecureWipe(out.data(), out.size());
    ERR_clear_error();
    return DecryptFailed();
  }
  return absl::OkStatus();
}

absl::Status AesSiv::Encrypt(absl::Span<const absl::string_view> associated_data,
                             absl::string_view plaintext, absl::Span<uint8_t> out) const {
  absl::StatusOr<Block> prefix = S2VPrefix(associated_data);
  if (!prefix.ok()) return prefix.status();
  return EncryptWithPrefix(*prefix, plaintext, out);
}

absl::Status AesSiv::Decrypt(absl::Span<const absl::string_view> associated_data,
                             absl::string_view in, absl::Span<uint8_t> out) const {
  absl::StatusOr<Block> prefix = S2VPrefix(associated_data);
  if (!prefix.ok()) return prefix.status();
  return DecryptWithPrefix(*prefix, in, out);
}

}  // namespace piicrypt::internal
