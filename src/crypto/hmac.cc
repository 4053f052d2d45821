#include "src/crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <utility>

#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {

struct HmacSha256::Context {
  SslPtr<EVP_MAC_CTX> mac;
};

HmacSha256::HmacSha256(SecretData key) : key_(std::move(key)) {}
HmacSha256::~HmacSha256() = default;

absl::StatusOr<std::unique_ptr<HmacSha256>> HmacSha256::Create(absl::Span<const uint8_t> key) {
  std::unique_ptr<HmacSha256> hmac(new HmacSha256(SecretDataFromBytes(key)));
  auto probe = hmac->pool_.Acquire([&] { return hmac->NewContext(); });
  if (!probe) return OpenSslError("HMAC key setup");
  return hmac;
}

std::unique_ptr<HmacSha256::Context> HmacSha256::NewContext() const {
  EVP_MAC* alg = HmacAlgorithm();
  if (alg == nullptr) return nullptr;
  auto ctx = std::make_unique<Context>();
  ctx->mac.reset(EVP_MAC_CTX_new(alg));
  if (ctx->mac == nullptr) return nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer for it.
  static const uint8_t kEmpty = 0;
  const uint8_t* key = key_.empty() ? &kEmpty : key_.data();
  if (EVP_MAC_init(ctx->mac.get(), key, key_.size(), params) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

absl::Status HmacSha256::Compute(absl::string_view message, Tag& tag) const {
  auto ctx = pool_.Acquire([this] { return NewContext(); });
  if (!ctx) return OpenSslError("HMAC context");
  EVP_MAC_CTX* mac = ctx->mac.get();
  size_t out_len = 0;
  // Re-initialising with no key restarts from the stored keyed state (no key setup).
  if (EVP_MAC_init(mac, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(mac, reinterpret_cast<const uint8_t*>(message.data()), message.size()) != 1 ||
      EVP_MAC_final(mac, tag.data(), &out_len, tag.size()) != 1 || out_len != kTagSize) {
    return OpenSslError("HMAC");
  }
  return absl::OkStatus();
}

bool HmacSha256::Verify(absl::string_view message, absl::Span<const uint8_t> tag,
                        size_t tag_size) const {
  if (tag_size == 0 || tag_size > kTagSize || tag.size() != tag_size) return false;
  Tag computed;
  if (!Compute(message, computed).ok()) return false;
  const bool equal = SecretEquals(absl::MakeConstSpan(computed.data(), tag.size()), tag);
  SecureWipe(computed.data(), computed.size());
  return equal;
}

}  // namespace piicrypt::internal
