#include "piicrypt/secret_data.h"

#include <openssl/crypto.h>

namespace piicrypt {
namespace internal {

void SecureWipe(void* ptr, size_t size) {
  if (ptr != nullptr && size != 0) OPENSSL_cleanse(ptr, size);
}

}  // namespace internal

SecretData SecretDataFromBytes(absl::Span<const uint8_t> bytes) {
  return SecretData(bytes.begin(), bytes.end());
}

SecretData SecretDataFromString(absl::string_view bytes) {
  return SecretData(bytes.begin(), bytes.end());
}

bool SecretEquals(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool SecretEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace piicrypt
