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
// After ProtectProcessSecrets (piicrypt/process_secrets.h), SecretData lives in OpenSSL's
// secure heap, which core dumps leave out.
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
// Wipes the 32 KiB of stack below the caller's frame, where functions that returned may
// have left copies of keys (OpenSSL's HKDF and HMAC, protobuf's parser). Called after
// deriving keys and after decrypting a keyset, so that no dead stack frame keeps key
// bytes for a core dump: the stack is not in the secure heap. Then zeroes the vector
// registers, which keep key bytes copied with SIMD instructions until something (lazy
// symbol binding, a signal frame) saves them to the stack.
PIICRYPT_EXPORT void BurnStack();
// Memory for secrets: from OpenSSL's secure heap (left out of core dumps) once
// ProtectProcessSecrets has started it and while it has room, else from operator new.
// FreeSecret wipes `size` bytes and returns the memory where it came from.
PIICRYPT_EXPORT void* AllocateSecret(size_t size);
PIICRYPT_EXPORT void FreeSecret(void* ptr, size_t size) noexcept;
}  // namespace internal

// An allocator that wipes memory before giving it back. With `kSecureHeap` (SecretData)
// it takes the memory from the secure heap when the process has one
// (piicrypt/process_secrets.h); without it (ScratchData), from the ordinary heap.
template <typename T, bool kSecureHeap = true>
struct CleansingAllocator {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = CleansingAllocator<U, kSecureHeap>;
  };
  CleansingAllocator() = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U, kSecureHeap>&) noexcept {}  // NOLINT
  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_alloc();
    if (kSecureHeap) return static_cast<T*>(internal::AllocateSecret(n * sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (kSecureHeap) return internal::FreeSecret(p, n * sizeof(T));
    internal::SecureWipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const CleansingAllocator<U, kSecureHeap>&) const noexcept {
    return true;
  }
  template <typename U>
  bool operator!=(const CleansingAllocator<U, kSecureHeap>&) const noexcept {
    return false;
  }
};

// Key material and other secrets. Wiped on destruction and on reallocation; in the secure
// heap once the process has one.
using SecretData = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

// Scratch buffers of a per-call path that hold plaintext-derived bytes, not keys: wiped
// like SecretData, but from the ordinary heap, so that they never take the secure heap's
// lock.
using ScratchData = std::vector<uint8_t, CleansingAllocator<uint8_t, false>>;

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
