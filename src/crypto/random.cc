#include "src/crypto/random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/base/optimization.h"
#include "src/crypto/context_pool.h"
#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {
namespace {

std::atomic<uint64_t> g_fork_generation{1};

void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

bool RegisterForkHandler() { return pthread_atfork(nullptr, nullptr, OnForkChild) == 0; }

struct NoncePool {
  uint8_t bytes[kNoncePoolBytes];
  size_t used = kNoncePoolBytes;  // empty until the first draw
  uint64_t generation = 0;
  ~NoncePool() { SecureWipe(bytes, sizeof(bytes)); }
};

std::atomic<uint32_t> g_next_thread_index{0};

}  // namespace

uint32_t ThisThreadIndex() {
  thread_local const uint32_t index = g_next_thread_index.fetch_add(1, std::memory_order_relaxed);
  return index;
}

absl::Status RandomNonce(absl::Span<uint8_t> out) {
  thread_local NoncePool pool;
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_TRUE(pool.generation == generation &&
                        out.size() <= kNoncePoolBytes - pool.used)) {
    // The common case: bytes this thread has not handed out yet, no lock, no syscall.
    // (Nonces are public, so the pool is not wiped per draw: it is wiped at thread exit.)
    std::memcpy(out.data(), pool.bytes + pool.used, out.size());
    pool.used += out.size();
    return absl::OkStatus();
  }
  if (pool.generation != generation) {  // first use on this thread, or we are a fork child
    static const bool registered = RegisterForkHandler();
    if (!registered) return absl::InternalError("cannot register the fork handler");
    pool.used = kNoncePoolBytes;
    pool.generation = g_fork_generation.load(std::memory_order_relaxed);
  }
  uint8_t* dst = out.data();
  size_t need = out.size();
  while (need > 0) {
    if (pool.used == kNoncePoolBytes) {
      if (RAND_bytes(pool.bytes, sizeof(pool.bytes)) != 1) return OpenSslError("RAND_bytes");
      pool.used = 0;
    }
    const size_t take = std::min(need, kNoncePoolBytes - pool.used);
    std::memcpy(dst, pool.bytes + pool.used, take);
    pool.used += take;
    dst += take;
    need -= take;
  }
  return absl::OkStatus();
}

absl::Status RandomKey(absl::Span<uint8_t> out) {
  if (out.empty()) return absl::OkStatus();
  if (RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return OpenSslError("RAND_priv_bytes");
  }
  return absl::OkStatus();
}

}  // namespace piicrypt::internal
