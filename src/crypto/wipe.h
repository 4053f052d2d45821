// wipe.h: SecureWipe (piicrypt/secret_data.h) inlined, for the hot paths that wipe a small
// stack buffer on every call (a blind index's normalized value and HMAC tag): the same
// zeroing without a call into the library.
#ifndef PIICRYPT_SRC_CRYPTO_WIPE_H_
#define PIICRYPT_SRC_CRYPTO_WIPE_H_

#include <cstddef>
#include <cstring>

namespace piicrypt::internal {

// Zeroes `size` bytes at `ptr` (which may be null when `size` is 0). The stores cannot be
// dropped as dead: the empty assembly may read all memory through `ptr` (what BoringSSL's
// OPENSSL_cleanse does; OpenSSL's goes through a volatile function pointer, several times
// slower for field-sized buffers).
inline void WipeInline(void* ptr, size_t size) {
  if (size != 0) std::memset(ptr, 0, size);
  __asm__ __volatile__("" : : "r"(ptr) : "memory");
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_WIPE_H_
