#include "src/crypto/aes_siv.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {

struct AesSiv::Contexts {
  SslPtr<EVP_CIPHER_CTX> cbc;  // K1, AES-CBC without padding: the CBC-MAC of CMAC
  SslPtr<EVP_CIPHER_CTX> ctr;  // K2, AES-CTR
};

namespace {

using Block = AesSiv::Block;
constexpr size_t kBlock = 16;
constexpr uint8_t kZeroIv[kBlock] = {};
// CBC output is discarded in CMAC; it goes through this much stack at a time.
constexpr size_t kScratch = 512;

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

SslPtr<EVP_CIPHER_CTX> NewContext(const EVP_CIPHER* cipher, const uint8_t* key, bool pad_off) {
  SslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return nullptr;
  if (EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key, kZeroIv) != 1) return nullptr;
  if (pad_off && EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return nullptr;
  return ctx;
}

// CBC-encrypts `in` (a multiple of 16 bytes) and discards the output, except that the
// final output block is written to `last` when `in` is non-empty.
bool CbcAbsorb(EVP_CIPHER_CTX* ctx, absl::string_view in, uint8_t* last) {
  uint8_t scratch[kScratch];
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t left = in.size();
  while (left > 0) {
    const size_t n = std::min(left, kScratch);
    int written = 0;
    if (EVP_EncryptUpdate(ctx, scratch, &written, p, static_cast<int>(n)) != 1 ||
        written != static_cast<int>(n)) {
      return false;
    }
    if (left == n && last != nullptr) std::memcpy(last, scratch + n - kBlock, kBlock);
    p += n;
    left -= n;
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
  if (!CbcAbsorb(ctx->cbc.get(), absl::string_view(reinterpret_cast<const char*>(kZeroIv), kBlock),
                 l.data())) {
    return OpenSslError("AES-SIV subkeys");
  }
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
  ctxs->cbc = NewContext(AesCipher(AesMode::kCbc, half), key_.data(), /*pad_off=*/true);
  ctxs->ctr = NewContext(AesCipher(AesMode::kCtr, half), key_.data() + half, /*pad_off=*/false);
  if (ctxs->cbc == nullptr || ctxs->ctr == nullptr) return nullptr;
  return ctxs;
}

// AES-CMAC (RFC 4493) of `msg` under K1.
absl::Status AesSiv::Cmac(Contexts& ctx, absl::string_view msg, Block& mac) const {
  EVP_CIPHER_CTX* cbc = ctx.cbc.get();
  if (EVP_EncryptInit_ex(cbc, nullptr, nullptr, nullptr, kZeroIv) != 1) {
    return OpenSslError("AES-CMAC");
  }
  const size_t last_len = msg.empty() ? 0 : (msg.size() % kBlock == 0 ? kBlock : msg.size() % kBlock);
  const absl::string_view body = msg.substr(0, msg.size() - last_len);
  const absl::string_view tail = msg.substr(msg.size() - last_len);
  if (!CbcAbsorb(cbc, body, nullptr)) return OpenSslError("AES-CMAC");
  Block last{};
  std::memcpy(last.data(), tail.data(), tail.size());
  if (tail.size() == kBlock) {
    XorInto(last, k1_sub1_);
  } else {
    last[tail.size()] = 0x80;
    XorInto(last, k1_sub2_);
  }
  const bool ok = CbcAbsorb(
      cbc, absl::string_view(reinterpret_cast<const char*>(last.data()), kBlock), mac.data());
  SecureWipe(last.data(), kBlock);
  if (!ok) return OpenSslError("AES-CMAC");
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
  if (plaintext.size() >= kBlock) {
    // Blocks before the 16..31-byte tail are untouched by the xorend; copy only the tail.
    const size_t boundary = ((plaintext.size() - kBlock) / kBlock) * kBlock;
    EVP_CIPHER_CTX* cbc = ctx.cbc.get();
    if (EVP_EncryptInit_ex(cbc, nullptr, nullptr, nullptr, kZeroIv) != 1 ||
        !CbcAbsorb(cbc, plaintext.substr(0, boundary), nullptr)) {
      return OpenSslError("AES-SIV S2V");
    }
    uint8_t tail[2 * kBlock];
    const size_t tail_len = plaintext.size() - boundary;  // 16..31
    std::memcpy(tail, plaintext.data() + boundary, tail_len);
    for (size_t i = 0; i < kBlock; ++i) tail[tail_len - kBlock + i] ^= d[i];
    // Finish CMAC over tail, continuing the CBC chain: full block first if there are two.
    absl::Cleanup wipe = [&] { SecureWipe(tail, sizeof(tail)); };
    Block last{};
    const size_t last_len = tail_len == kBlock ? kBlock : tail_len - kBlock;
    if (tail_len > kBlock &&
        !CbcAbsorb(cbc, absl::string_view(reinterpret_cast<const char*>(tail), kBlock), nullptr)) {
      return OpenSslError("AES-SIV S2V");
    }
    std::memcpy(last.data(), tail + tail_len - last_len, last_len);
    if (last_len == kBlock) {
      XorInto(last, k1_sub1_);
    } else {
      last[last_len] = 0x80;
      XorInto(last, k1_sub2_);
    }
    const bool ok = CbcAbsorb(
        cbc, absl::string_view(reinterpret_cast<const char*>(last.data()), kBlock), v.data());
    SecureWipe(last.data(), kBlock);
    if (!ok) return OpenSslError("AES-SIV S2V");
    return absl::OkStatus();
  }
  Block t = Dbl(d);
  for (size_t i = 0; i < plaintext.size(); ++i) t[i] ^= static_cast<uint8_t>(plaintext[i]);
  t[plaintext.size()] ^= 0x80;
  absl::Status s = Cmac(ctx, absl::string_view(reinterpret_cast<const char*>(t.data()), kBlock), v);
  SecureWipe(t.data(), kBlock);
  return s;
}

absl::Status AesSiv::Ctr(Contexts& ctx, const Block& v, absl::string_view in, uint8_t* out) const {
  if (in.empty()) return absl::OkStatus();
  Block q = v;
  q[8] &= 0x7f;
  q[12] &= 0x7f;
  EVP_CIPHER_CTX* ctr = ctx.ctr.get();
  if (EVP_EncryptInit_ex(ctr, nullptr, nullptr, nullptr, q.data()) != 1) {
    return OpenSslError("AES-SIV CTR");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t left = in.size();
  while (left > 0) {
    const size_t n = std::min<size_t>(left, INT_MAX / 2);
    int written = 0;
    if (EVP_EncryptUpdate(ctr, out, &written, p, static_cast<int>(n)) != 1) {
      return OpenSslError("AES-SIV CTR");
    }
    out += written;
    p += n;
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
