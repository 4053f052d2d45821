#include "src/crypto/aes_gcm.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#include <climits>
#include <utility>

#include "src/crypto/random.h"

namespace piicrypt::internal {

// One encrypting and one decrypting context, each keyed once.
struct AesGcm::Contexts {
  SslPtr<EVP_CIPHER_CTX> enc;
  SslPtr<EVP_CIPHER_CTX> dec;
  size_t enc_iv_len = kNonceSize;
  size_t dec_iv_len = kNonceSize;
};

namespace {

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

// OpenSSL's GCM provider takes IVs of at most 128 bytes. Longer IVs (legal in GCM, never
// used by piicrypt's own formats, which use 12-byte nonces) go through OpenSSL's generic
// GCM128 mode code, with the block cipher on a keyed AES-ECB context.
constexpr size_t kProviderMaxIv = 128;

void EcbBlock(const unsigned char in[16], unsigned char out[16], const void* key) {
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(const_cast<void*>(key));
  int len = 0;
  (void)EVP_EncryptUpdate(ctx, out, &len, in, 16);
}

struct Gcm128Deleter {
  void operator()(GCM128_CONTEXT* p) const { CRYPTO_gcm128_release(p); }
};

// Encrypts (or decrypts) with a long IV. `tag_in` is checked when decrypting; the
// computed tag is written to `tag_out` when encrypting.
bool LongIvGcm(const SecretData& key, absl::string_view iv, absl::string_view aad,
               absl::string_view in, uint8_t* out, bool encrypt, absl::string_view tag_in,
               absl::Span<uint8_t> tag_out) {
  SslPtr<EVP_CIPHER_CTX> ecb(EVP_CIPHER_CTX_new());
  if (ecb == nullptr ||
      EVP_EncryptInit_ex(ecb.get(), AesCipher(AesMode::kEcb, key.size()), nullptr, key.data(),
                         nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ecb.get(), 0) != 1) {
    return false;
  }
  std::unique_ptr<GCM128_CONTEXT, Gcm128Deleter> gcm(CRYPTO_gcm128_new(ecb.get(), EcbBlock));
  if (gcm == nullptr) return false;
  CRYPTO_gcm128_setiv(gcm.get(), reinterpret_cast<const uint8_t*>(iv.data()), iv.size());
  if (CRYPTO_gcm128_aad(gcm.get(), reinterpret_cast<const uint8_t*>(aad.data()), aad.size()) != 0) {
    return false;
  }
  const auto* src = reinterpret_cast<const uint8_t*>(in.data());
  if (encrypt) {
    if (CRYPTO_gcm128_encrypt(gcm.get(), src, out, in.size()) != 0) return false;
    uint8_t full[16];
    CRYPTO_gcm128_tag(gcm.get(), full, sizeof(full));
    std::copy(full, full + tag_out.size(), tag_out.begin());
    return true;
  }
  if (CRYPTO_gcm128_decrypt(gcm.get(), src, out, in.size()) != 0) return false;
  return CRYPTO_gcm128_finish(gcm.get(), reinterpret_cast<const uint8_t*>(tag_in.data()),
                              tag_in.size()) == 0;
}

// Sets the IV (changing the IV length first if needed).
bool SetIv(EVP_CIPHER_CTX* ctx, size_t& current_len, absl::string_view iv, bool encrypt) {
  if (iv.size() != current_len) {
    if (iv.size() > static_cast<size_t>(INT_MAX)) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv.size()),
                            nullptr) != 1) {
      return false;
    }
    current_len = iv.size();
  }
  return EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr,
                           reinterpret_cast<const uint8_t*>(iv.data()), encrypt ? 1 : 0) == 1;
}

// Feeds `in` through the context in chunks that fit an int.
bool Update(EVP_CIPHER_CTX* ctx, uint8_t* out, absl::string_view in) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
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
  const EVP_CIPHER* cipher = AesCipher(AesMode::kGcm, key_.size());
  auto ctxs = std::make_unique<Contexts>();
  ctxs->enc = NewKeyedContext(cipher, key_, /*encrypt=*/true);
  ctxs->dec = NewKeyedContext(cipher, key_, /*encrypt=*/false);
  if (ctxs->enc == nullptr || ctxs->dec == nullptr) return nullptr;
  return ctxs;
}

absl::Status AesGcm::Seal(absl::string_view iv, absl::string_view aad,
                          absl::string_view plaintext, absl::Span<uint8_t> ct,
                          absl::Span<uint8_t> tag) const {
  if (iv.empty()) return absl::InvalidArgumentError("AES-GCM IV must not be empty");
  if (tag.empty() || tag.size() > kTagSize) {
    return absl::InvalidArgumentError("AES-GCM tag must be 1 to 16 bytes");
  }
  if (ct.size() != plaintext.size()) {
    return absl::InvalidArgumentError("AES-GCM output buffer has the wrong size");
  }
  if (iv.size() > kProviderMaxIv) {
    if (!LongIvGcm(key_, iv, aad, plaintext, ct.data(), true, {}, tag)) {
      return OpenSslError("AES-GCM encrypt");
    }
    return absl::OkStatus();
  }
  auto ctxs = pool_.Acquire([this] { return NewContexts(); });
  if (!ctxs) return OpenSslError("AES-GCM context");
  EVP_CIPHER_CTX* ctx = ctxs->enc.get();
  int len = 0;
  uint8_t full_tag[kTagSize];
  if (!SetIv(ctx, ctxs->enc_iv_len, iv, true) || !Update(ctx, nullptr, aad) ||
      !Update(ctx, ct.data(), plaintext) || EVP_EncryptFinal_ex(ctx, nullptr, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, full_tag) != 1) {
    return OpenSslError("AES-GCM encrypt");
  }
  std::copy(full_tag, full_tag + tag.size(), tag.begin());
  return absl::OkStatus();
}

absl::Status AesGcm::Open(absl::string_view iv, absl::string_view aad,
                          absl::string_view ciphertext, absl::string_view tag,
                          absl::Span<uint8_t> plaintext) const {
  if (plaintext.size() != ciphertext.size()) {
    return absl::InvalidArgumentError("AES-GCM output buffer has the wrong size");
  }
  if (iv.empty() || tag.empty() || tag.size() > kTagSize) return DecryptFailed();
  if (iv.size() > kProviderMaxIv) {
    if (!LongIvGcm(key_, iv, aad, ciphertext, plaintext.data(), false, tag, {})) {
      SecureWipe(plaintext.data(), plaintext.size());
      ERR_clear_error();
      return DecryptFailed();
    }
    return absl::OkStatus();
  }
  auto ctxs = pool_.Acquire([this] { return NewContexts(); });
  if (!ctxs) return OpenSslError("AES-GCM context");
  EVP_CIPHER_CTX* ctx = ctxs->dec.get();
  int len = 0;
  if (!SetIv(ctx, ctxs->dec_iv_len, iv, false) || !Update(ctx, nullptr, aad) ||
      !Update(ctx, plaintext.data(), ciphertext) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()),
                          const_cast<char*>(tag.data())) != 1 ||
      EVP_DecryptFinal_ex(ctx, nullptr, &len) != 1) {
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
  // The hot path of every randomized field: one IV set-up on a keyed context, the GCM
  // pass, the tag; nothing else.
  uint8_t* nonce = out.data();
  if (absl::Status s = RandomNonce(absl::MakeSpan(nonce, kNonceSize)); !s.ok()) return s;
  auto ctxs = pool_.Acquire([this] { return NewContexts(); });
  if (!ctxs) return OpenSslError("AES-GCM context");
  EVP_CIPHER_CTX* ctx = ctxs->enc.get();
  int len = 0;
  if (!SetIv(ctx, ctxs->enc_iv_len,
             absl::string_view(reinterpret_cast<const char*>(nonce), kNonceSize), true) ||
      !Update(ctx, nullptr, aad) || !Update(ctx, nonce + kNonceSize, plaintext) ||
      EVP_EncryptFinal_ex(ctx, nullptr, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize,
                          nonce + kNonceSize + plaintext.size()) != 1) {
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
              in.substr(kNonceSize + ct_len), out);
}

}  // namespace piicrypt::internal
