#include "src/crypto/aes_gcm.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "src/crypto/random.h"

namespace piicrypt::internal {

namespace {

// The block cipher under OpenSSL's GCM mode code (openssl/modes.h): an AES-ECB context
// keyed once. EVP_Cipher goes straight to the provider's AES-NI code, with none of the
// parameter handling of the EVP AEAD interface. A failure (there is none in practice) is
// remembered and fails the call.
struct EcbKey {
  SslPtr<EVP_CIPHER_CTX> ctx;
  bool failed = false;
};

// block128_f
void EcbBlock(const unsigned char in[16], unsigned char out[16], const void* key) {
  auto* k = static_cast<EcbKey*>(const_cast<void*>(key));
  if (EVP_Cipher(k->ctx.get(), out, in, 16) <= 0) k->failed = true;
}

// ctr128_f: CTR with a 32-bit big-endian counter in the last four bytes of `ivec`
// (wrapping, as GCM's inc32), `blocks` whole blocks. The keystream is AES-ECB of the
// counter blocks, kChunk blocks per call, and wiped afterwards.
void EcbCtr32(const unsigned char* in, unsigned char* out, size_t blocks, const void* key,
              const unsigned char ivec[16]) {
  auto* k = static_cast<EcbKey*>(const_cast<void*>(key));
  constexpr size_t kChunk = 32;
  alignas(16) uint8_t stream[kChunk * 16];
  uint32_t counter = (uint32_t{ivec[12]} << 24) | (uint32_t{ivec[13]} << 16) |
                     (uint32_t{ivec[14]} << 8) | uint32_t{ivec[15]};
  const size_t used = std::min(blocks, kChunk) * 16;
  while (blocks > 0) {
    const size_t n = std::min(blocks, kChunk);
    for (size_t i = 0; i < n; ++i, ++counter) {
      uint8_t* b = stream + 16 * i;
      std::memcpy(b, ivec, 12);
      b[12] = static_cast<uint8_t>(counter >> 24);
      b[13] = static_cast<uint8_t>(counter >> 16);
      b[14] = static_cast<uint8_t>(counter >> 8);
      b[15] = static_cast<uint8_t>(counter);
    }
    if (EVP_Cipher(k->ctx.get(), stream, stream, static_cast<unsigned>(16 * n)) <= 0) {
      k->failed = true;
    }
    for (size_t j = 0; j < 16 * n; j += 8) {  // eight bytes at a time; blocks are whole
      uint64_t a, b;
      std::memcpy(&a, in + j, 8);
      std::memcpy(&b, stream + j, 8);
      a ^= b;
      std::memcpy(out + j, &a, 8);
    }
    in += 16 * n;
    out += 16 * n;
    blocks -= n;
  }
  SecureWipe(stream, used);
}

}  // namespace

// Keyed once per pooled slot:
//   - `gcm` (OpenSSL's GCM mode over `ecb`): short messages, the field sizes, and every
//     IV length. Per call: the IV, GHASH (PCLMULQDQ) and one ECB call for the keystream.
//   - `enc`/`dec` (EVP AES-GCM, 12-byte IV): long messages, where OpenSSL's stitched
//     AES-GCM assembly outruns ECB + GHASH and the EVP overhead no longer shows.
struct AesGcm::Contexts {
  Contexts() = default;
  Contexts(const Contexts&) = delete;  // `gcm` points at `ecb`
  Contexts& operator=(const Contexts&) = delete;

  EcbKey ecb;
  SslPtr<GCM128_CONTEXT> gcm;
  SslPtr<EVP_CIPHER_CTX> enc;
  SslPtr<EVP_CIPHER_CTX> dec;
};

namespace {

// Messages up to this size (and any message with an IV other than 12 bytes) take the
// mode-code path; bench/crypto_bench.cc measures both sides of it.
constexpr size_t kShortMessage = 1024;

constexpr int kMaxChunk = INT_MAX / 2;

SslPtr<EVP_CIPHER_CTX> NewKeyedContext(const EVP_CIPHER* cipher, const SecretData& key,
                                       bool encrypt) {
  SslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return nullptr;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, encrypt ? 1 : 0) != 1) {
    return nullptr;
  }
  return ctx;
}

absl::Status DecryptFailed() { return absl::InvalidArgumentError("decryption failed"); }

bool UseModeCode(absl::string_view iv, size_t message_size) {
  return message_size <= kShortMessage || iv.size() != AesGcm::kNonceSize;
}

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// GCM through the mode code. Encrypts (writing all 16 tag bytes to `tag_out`) when
// `tag_in` is null, else decrypts and checks `tag_in` (1 to 16 bytes, in constant time).
bool ModeGcm(EcbKey& ecb, GCM128_CONTEXT* g, absl::string_view iv, absl::string_view aad,
             absl::string_view in, uint8_t* out, const absl::string_view* tag_in,
             uint8_t tag_out[AesGcm::kTagSize]) {
  ecb.failed = false;
  CRYPTO_gcm128_setiv(g, Bytes(iv), iv.size());
  if (CRYPTO_gcm128_aad(g, Bytes(aad), aad.size()) != 0) return false;
  if (tag_in == nullptr) {
    if (CRYPTO_gcm128_encrypt_ctr32(g, Bytes(in), out, in.size(), EcbCtr32) != 0) return false;
    CRYPTO_gcm128_tag(g, tag_out, AesGcm::kTagSize);
    return !ecb.failed;
  }
  if (CRYPTO_gcm128_decrypt_ctr32(g, Bytes(in), out, in.size(), EcbCtr32) != 0) return false;
  const bool tag_ok = CRYPTO_gcm128_finish(g, Bytes(*tag_in), tag_in->size()) == 0;
  return tag_ok && !ecb.failed;
}

bool SetIv(EVP_CIPHER_CTX* ctx, absl::string_view iv, bool encrypt) {
  return EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, Bytes(iv), encrypt ? 1 : 0) == 1;
}

bool Update(EVP_CIPHER_CTX* ctx, uint8_t* out, absl::string_view in) {
  const auto* p = Bytes(in);
  size_t left = in.size();
  while (left > 0) {
    const int n = left > static_cast<size_t>(kMaxChunk) ? kMaxChunk : static_cast<int>(left);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, p, n) != 1) return false;
    if (out != nullptr) out += written;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// GCM through EVP (12-byte IV).
bool EvpSeal(EVP_CIPHER_CTX* ctx, absl::string_view iv, absl::string_view aad, absl::string_view in,
             uint8_t* out, uint8_t tag_out[AesGcm::kTagSize]) {
  int len = 0;
  return SetIv(ctx, iv, true) && Update(ctx, nullptr, aad) && Update(ctx, out, in) &&
         EVP_EncryptFinal_ex(ctx, nullptr, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AesGcm::kTagSize, tag_out) == 1;
}

bool EvpOpen(EVP_CIPHER_CTX* ctx, absl::string_view iv, absl::string_view aad, absl::string_view in,
             uint8_t* out, absl::string_view tag) {
  int len = 0;
  return SetIv(ctx, iv, false) && Update(ctx, nullptr, aad) && Update(ctx, out, in) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()),
                             const_cast<char*>(tag.data())) == 1 &&
         EVP_DecryptFinal_ex(ctx, nullptr, &len) == 1;
}

}  // namespace

AesGcm::AesGcm(SecretData key) : key_(std::move(key)) {}
AesGcm::~AesGcm() = default;

absl::StatusOr<std::unique_ptr<AesGcm>> AesGcm::Create(absl::Span<const uint8_t> key) {
  if (AesCipher(AesMode::kGcm, key.size()) == nullptr) {
    return absl::InvalidArgumentError("AES-GCM key must be 16, 24 or 32 bytes");
  }
  std::unique_ptr<AesGcm> gcm(new AesGcm(SecretDataFromBytes(key)));
  // Key one context now, so a bad key or a broken provider fails here, not per call.
  auto probe = gcm->pool_.Acquire([&] { return gcm->NewContexts(); });
  if (!probe) return OpenSslError("AES-GCM key setup");
  return gcm;
}

std::unique_ptr<AesGcm::Contexts> AesGcm::NewContexts() const {
  auto ctxs = std::make_unique<Contexts>();
  ctxs->ecb.ctx.reset(EVP_CIPHER_CTX_new());
  if (ctxs->ecb.ctx == nullptr ||
      EVP_EncryptInit_ex(ctxs->ecb.ctx.get(), AesCipher(AesMode::kEcb, key_.size()), nullptr,
                         key_.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctxs->ecb.ctx.get(), 0) != 1) {
    return nullptr;
  }
  ctxs->gcm.reset(CRYPTO_gcm128_new(&ctxs->ecb, EcbBlock));  // computes H = AES_K(0)
  if (ctxs->gcm == nullptr || ctxs->ecb.failed) return nullptr;
  const EVP_CIPHER* cipher = AesCipher(AesMode::kGcm, key_.size());
  ctxs->enc = NewKeyedContext(cipher, key_, /*encrypt=*/true);
  ctxs->dec = NewKeyedContext(cipher, key_, /*encrypt=*/false);
  if (ctxs->enc == nullptr || ctxs->dec == nullptr) return nullptr;
  return ctxs;
}

bool AesGcm::SealWith(Contexts& c, absl::string_view iv, absl::string_view aad,
                      absl::string_view plaintext, uint8_t* ct, uint8_t tag[kTagSize]) {
  if (UseModeCode(iv, plaintext.size())) {
    return ModeGcm(c.ecb, c.gcm.get(), iv, aad, plaintext, ct, nullptr, tag);
  }
  return EvpSeal(c.enc.get(), iv, aad, plaintext, ct, tag);
}

bool AesGcm::OpenWith(Contexts& c, absl::string_view iv, absl::string_view aad,
                      absl::string_view ciphertext, absl::string_view tag, uint8_t* plaintext) {
  if (UseModeCode(iv, ciphertext.size())) {
    return ModeGcm(c.ecb, c.gcm.get(), iv, aad, ciphertext, plaintext, &tag, nullptr);
  }
  return EvpOpen(c.dec.get(), iv, aad, ciphertext, plaintext, tag);
}

absl::Status AesGcm::Seal(absl::string_view iv, absl::string_view aad, absl::string_view plaintext,
                          absl::Span<uint8_t> ct, absl::Span<uint8_t> tag) const {
  if (iv.empty()) return absl::InvalidArgumentError("AES-GCM IV must not be empty");
  if (tag.empty() || tag.size() > kTagSize) {
    return absl::InvalidArgumentError("AES-GCM tag must be 1 to 16 bytes");
  }
  if (ct.size() != plaintext.size()) {
    return absl::InvalidArgumentError("AES-GCM output buffer has the wrong size");
  }
  auto ctxs = pool_.Acquire([this] { return NewContexts(); });
  if (!ctxs) return OpenSslError("AES-GCM context");
  uint8_t full_tag[kTagSize];
  if (!SealWith(*ctxs, iv, aad, plaintext, ct.data(), full_tag)) {
    return OpenSslError("AES-GCM encrypt");
  }
  std::copy(full_tag, full_tag + tag.size(), tag.begin());
  return absl::OkStatus();
}

absl::Status AesGcm::Open(absl::string_view iv, absl::string_view aad, absl::string_view ciphertext,
                          absl::string_view tag, size_t tag_size,
                          absl::Span<uint8_t> plaintext) const {
  if (plaintext.size() != ciphertext.size()) {
    return absl::InvalidArgumentError("AES-GCM output buffer has the wrong size");
  }
  if (tag_size == 0 || tag_size > kTagSize) {
    return absl::InvalidArgumentError("AES-GCM tag size must be 1 to 16 bytes");
  }
  if (iv.empty() || tag.size() != tag_size) {
    SecureWipe(plaintext.data(), plaintext.size());
    return DecryptFailed();
  }
  auto ctxs = pool_.Acquire([this] { return NewContexts(); });
  if (!ctxs) return OpenSslError("AES-GCM context");
  if (!OpenWith(*ctxs, iv, aad, ciphertext, tag, plaintext.data())) {
    // Nothing unauthenticated leaves: the plaintext written so far is wiped.
    SecureWipe(plaintext.data(), plaintext.size());
    ERR_clear_error();
    return DecryptFailed();
  }
  return absl::OkStatus();
}

absl::Status AesGcm::EncryptRandomNonce(absl::string_view plaintext, absl::string_view aad,
                                        absl::Span<uint8_t> out) const {
  if (out.size() != plaintext.size() + kOverhead) {
    return absl::InvalidArgumentError("AES-GCM output buffer has the wrong size");
  }
  // The hot path of every randomized field: a pooled keyed context, the IV, the GCM
  // pass, the tag; nothing else.
  uint8_t* nonce = out.data();
  if (absl::Status s = RandomNonce(absl::MakeSpan(nonce, kNonceSize)); !s.ok()) return s;
  auto ctxs = pool_.Acquire([this] { return NewContexts(); });
  if (!ctxs) return OpenSslError("AES-GCM context");
  if (!SealWith(*ctxs, absl::string_view(reinterpret_cast<const char*>(nonce), kNonceSize), aad,
                plaintext, nonce + kNonceSize, nonce + kNonceSize + plaintext.size())) {
    return OpenSslError("AES-GCM encrypt");
  }
  return absl::OkStatus();
}

absl::Status AesGcm::DecryptWithNonce(absl::string_view in, absl::string_view aad,
                                      absl::Span<uint8_t> out) const {
  if (in.size() < kOverhead) return DecryptFailed();
  if (out.size() != in.size() - kOverhead) {
    return absl::InvalidArgumentError("AES-GCM output buffer has the wrong size");
  }
  const size_t ct_len = in.size() - kOverhead;
  return Open(in.substr(0, kNonceSize), aad, in.substr(kNonceSize, ct_len),
              in.substr(kNonceSize + ct_len), kTagSize, out);
}

}  // namespace piicrypt::internal
