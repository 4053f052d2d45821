#include "src/crypto/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {

absl::StatusOr<SecretData> HkdfSha256(absl::Span<const uint8_t> ikm, absl::string_view salt,
                                      absl::string_view info, size_t size) {
  if (size == 0 || size > kHkdfSha256MaxOutput) {
    return absl::InvalidArgumentError("HKDF-SHA256 output must be 1 to 8160 bytes");
  }
  EVP_KDF* kdf = HkdfAlgorithm();
  if (kdf == nullptr) return OpenSslError("HKDF fetch");
  SslPtr<EVP_KDF_CTX> ctx(EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr) return OpenSslError("HKDF context");
  char digest[] = "SHA256";
  // OpenSSL wants non-null pointers even for empty inputs.
  static uint8_t empty = 0;
  auto ptr = [](const void* p, size_t n) {
    return n == 0 ? static_cast<void*>(&empty) : const_cast<void*>(p);
  };
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ptr(ikm.data(), ikm.size()),
                                                  ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    ptr(salt.data(), salt.size()), salt.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  ptr(info.data(), info.size()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  SecretData out(size);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return OpenSslError("HKDF derive");
  }
  return out;
}

}  // namespace piicrypt::internal
