#include "piicrypt/secret_data.h"

#include <openssl/crypto.h>

#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"

namespace piicrypt {
namespace internal {

void SecureWipe(void* ptr, size_t size) {
  if (ptr == nullptr || size == 0) return;
  std::memset(ptr, 0, size);
  // The stores cannot be dropped as dead: the empty assembly may read all memory through
  // `ptr` (what BoringSSL's OPENSSL_cleanse does; OpenSSL's goes through a volatile
  // function pointer, several times slower for field-sized buffers).
  __asm__ __volatile__("" : : "r"(ptr) : "memory");
}

ABSL_ATTRIBUTE_NOINLINE void BurnStack() {
  constexpr size_t kBurn = 32 * 1024;
  uint8_t scratch[kBurn];
  OPENSSL_cleanse(scratch, sizeof(scratch));  // not elided: OPENSSL_cleanse is opaque
}

void* AllocateSecret(size_t size) {
  if (size != 0 && CRYPTO_secure_malloc_initialized()) {
    // No file/line: a full heap returns null without queueing an OpenSSL error.
    if (void* p = CRYPTO_secure_malloc(size, nullptr, 0); p != nullptr) return p;
  }
  return ::operator new(size);
}

void FreeSecret(void* ptr, size_t size) noexcept {
  if (ptr == nullptr) return;
  if (CRYPTO_secure_allocated(ptr)) {
    CRYPTO_secure_clear_free(ptr, size, nullptr, 0);  // wipes the whole block
    return;
  }
  SecureWipe(ptr, size);
  ::operator delete(ptr);
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
