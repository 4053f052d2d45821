// random.h: random bytes for nonces and keys.
//
// Nonces come from a per-thread pool that is filled in bulk from OpenSSL's CSPRNG
// (RAND_bytes) and handed out without a system call or a lock. The pool is discarded
// in a child after fork() (a pthread_atfork handler bumps a generation counter that every
// draw checks), so parent and child never draw the same bytes. Processes created with a
// raw clone() syscall bypass pthread_atfork and are not supported.
#ifndef PIICRYPT_SRC_CRYPTO_RANDOM_H_
#define PIICRYPT_SRC_CRYPTO_RANDOM_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

// Fills `out` from the calling thread's pool (refilled with RAND_bytes when empty).
// For nonces: unpredictable and, with overwhelming probability, never repeated.
[[nodiscard]] absl::Status RandomNonce(absl::Span<uint8_t> out);

// Fresh key material straight from RAND_priv_bytes (never pooled).
[[nodiscard]] absl::Status RandomKey(absl::Span<uint8_t> out);

// Size of one pool refill, in bytes.
inline constexpr size_t kNoncePoolBytes = 4096;

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_RANDOM_H_
