#include "piicrypt/process_secrets.h"

#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/status/status.h"
#include "src/secrets/secret_context_scope.h"
#include "src/secrets/secure_heap.h"

namespace piicrypt {
namespace internal {
namespace {

// Depth of SecretContextScope on this thread (a plain int: read inside malloc hooks).
thread_local int secret_scope_depth = 0;

// Secret allocations that found the secure heap full (SecureHeapUsage::fallbacks), and the
// heap's size once started.
std::atomic<uint64_t> secure_heap_fallbacks{0};
std::atomic<size_t> secure_heap_size{0};

// OpenSSL's allocator once ProtectProcessSecrets has installed it: allocations made inside
// a SecretContextScope come from the secure heap, all others from malloc; frees and
// reallocations go back where the memory came from. When the secure heap is full, a
// scoped allocation falls back to malloc rather than failing.
void* SecretAwareMalloc(size_t size, const char* /*file*/, int /*line*/) {
  if (secret_scope_depth > 0 && size > 0) {
    // No file/line: a full heap returns null without queueing an OpenSSL error.
    if (void* p = CRYPTO_secure_malloc(size, nullptr, 0); p != nullptr) return p;
    NoteSecureHeapFull();
  }
  return std::malloc(size);
}

void SecretAwareFree(void* ptr, const char* /*file*/, int /*line*/) {
  if (ptr == nullptr) return;
  if (CRYPTO_secure_allocated(ptr)) {
    CRYPTO_secure_clear_free(ptr, CRYPTO_secure_actual_size(ptr), nullptr, 0);  // wipes
    return;
  }
  std::free(ptr);
}

void* SecretAwareRealloc(void* ptr, size_t size, const char* file, int line) {
  if (ptr == nullptr) return SecretAwareMalloc(size, file, line);
  if (!CRYPTO_secure_allocated(ptr)) return std::realloc(ptr, size);
  if (size == 0) {
    SecretAwareFree(ptr, file, line);
    return nullptr;
  }
  // Secure memory stays secure: a new block, the old one wiped and freed.
  void* moved = CRYPTO_secure_malloc(size, nullptr, 0);
  if (moved == nullptr) {
    NoteSecureHeapFull();
    moved = std::malloc(size);
  }
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, ptr, std::min(size, CRYPTO_secure_actual_size(ptr)));
  SecretAwareFree(ptr, file, line);
  return moved;
}

constexpr size_t kMinSecureHeapSize = size_t{64} << 10;
constexpr int kSecureHeapMinAllocation = 32;

absl::Status StartSecureHeap(const ProcessSecretsOptions& options, ProcessSecrets& state) {
  const size_t size = options.secure_heap_size;
  if (size < kMinSecureHeapSize || (size & (size - 1)) != 0) {
    return absl::InvalidArgumentError(
        "ProtectProcessSecrets: secure_heap_size must be a power of two of at least 64 KiB");
  }
  // Only possible before OpenSSL's first allocation: then keyed contexts can be placed.
  state.contexts_protected =
      CRYPTO_set_mem_functions(SecretAwareMalloc, SecretAwareRealloc, SecretAwareFree) == 1;
  const int rc = CRYPTO_secure_malloc_init(size, kSecureHeapMinAllocation);
  if (rc == 0) {
    return absl::InternalError("ProtectProcessSecrets: cannot start OpenSSL's secure heap");
  }
  state.secure_heap = true;
  secure_heap_size.store(size, std::memory_order_relaxed);
  state.memory_locked = rc == 1;  // 2: mapped and left out of dumps, but not mlock'ed
  return absl::OkStatus();
}

absl::Status DisableCoreDumps() {
  const struct rlimit none = {0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0 || ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return absl::InternalError("ProtectProcessSecrets: cannot disable core dumps");
  }
  return absl::OkStatus();
}

}  // namespace

void NoteSecureHeapFull() { secure_heap_fallbacks.fetch_add(1, std::memory_order_relaxed); }

SecretContextScope::SecretContextScope() { ++secret_scope_depth; }
SecretContextScope::~SecretContextScope() { --secret_scope_depth; }

}  // namespace internal

absl::StatusOr<ProcessSecrets> ProtectProcessSecrets(const ProcessSecretsOptions& options) {
  static std::mutex mu;
  static ProcessSecrets state;
  static bool heap_started = false;
  std::lock_guard<std::mutex> lock(mu);
  if (!heap_started) {
    if (absl::Status s = internal::StartSecureHeap(options, state); !s.ok()) return s;
    heap_started = true;
  }
  if (options.disable_core_dumps && !state.core_dumps_disabled) {
    if (absl::Status s = internal::DisableCoreDumps(); !s.ok()) return s;
    state.core_dumps_disabled = true;
  }
  return state;
}

SecureHeapUsage GetSecureHeapUsage() {
  SecureHeapUsage usage;
  usage.size = internal::secure_heap_size.load(std::memory_order_relaxed);
  if (usage.size != 0) usage.used = CRYPTO_secure_used();
  usage.fallbacks = internal::secure_heap_fallbacks.load(std::memory_order_relaxed);
  return usage;
}

}  // namespace piicrypt
