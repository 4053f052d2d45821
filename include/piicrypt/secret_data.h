// secret_data.h: a byte container for key material that is wiped when freed, and a
// constant-time comparison.
//
//   piicrypt::SecretData key(32);
//   ...                                   // fill it
//   if (piicrypt::SecretEquals(a, b)) {}  // never memcmp secrets
//
// Every copy, move-out and reallocation of a SecretData wipes the memory it leaves
// behind (OPENSSL_cleanse). Raw key bytes leave the library only through functions that
// take an `InsecureSecretKeyAccess` token, so that every such place is easy to grep for.
#ifndef PIICRYPT_SECRET_DATA_H_
#define PIICRYPT_SECRET_DATA_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"

namespace piicrypt {

namespace internal {
// Wipes `size` bytes at `ptr` in a way the compiler cannot elide.
PIICRYPT_EXPORT void SecureWipe(void* ptr, size_t size);
}  // namespace internal

// An allocator that wipes memory before giving it back.
template <typename T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    internal::SecureWipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const CleansingAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const CleansingAllocator<U>&) const noexcept { return false; }
};

// Key material and other secrets. Wiped on destruction and on reallocation.
using SecretData = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

// Copies bytes into a new SecretData.
PIICRYPT_EXPORT SecretData SecretDataFromBytes(absl::Span<const uint8_t> bytes);
PIICRYPT_EXPORT SecretData SecretDataFromString(absl::string_view bytes);

// Constant-time equality (CRYPTO_memcmp). Inputs of different lengths are unequal; only
// the lengths are not hidden.
[[nodiscard]] bool SecretEquals(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b);
[[nodiscard]] bool SecretEquals(absl::string_view a, absl::string_view b);

// A token that must be passed to every function that hands out raw key bytes. Grep for
// it to find every place where keys leave the library.
class PIICRYPT_EXPORT InsecureSecretKeyAccess {
 public:
  static InsecureSecretKeyAccess Get() { return InsecureSecretKeyAccess(); }

 private:
  InsecureSecretKeyAccess() = default;
};

}  // namespace piicrypt

#endif  // PIICRYPT_SECRET_DATA_H_
