// process_secrets.h: keeps key material out of core dumps.
//
// Call it first thing in main(), before anything else in the process uses OpenSSL:
//
//   int main(int argc, char** argv) {
//     absl::StatusOr<piicrypt::ProcessSecrets> protection = piicrypt::ProtectProcessSecrets();
//     if (!protection.ok()) { /* log protection.status(); exit */ }
//     ...
//
// What it does:
//   - Starts OpenSSL's secure heap (CRYPTO_secure_malloc_init): one mmap'ed area that the
//     kernel leaves out of core dumps (MADV_DONTDUMP) and keeps out of swap (mlock, as far
//     as RLIMIT_MEMLOCK allows). From then on every SecretData (keyset root material,
//     derived field keys, KEK keys, PINs) lives there, and so does every keyed OpenSSL
//     context piicrypt creates (the key schedules of its ciphers and MACs): a core dump of
//     the process holds none of them.
//   - With `disable_core_dumps` (the default), makes the process write no core file at all
//     (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no ptrace attach by the same
//     user, /proc/PID/mem closed to it). The piicrypt command-line tool does this for itself.
//
// Order matters: OpenSSL lets the keyed contexts be placed in the secure heap only if it
// has allocated no memory yet (CRYPTO_set_mem_functions). Called later, the secure heap
// still holds every SecretData, and `contexts_protected` is false.
//
// The hot path is unchanged: keyed contexts are created once and reused, and nothing is
// allocated per operation. Creating a keyed context takes the secure heap's lock.
// Keys that arrive while a keyset is parsed sit briefly in ordinary memory, and are
// wiped as soon as they are copied into SecretData.
#ifndef PIICRYPT_PROCESS_SECRETS_H_
#define PIICRYPT_PROCESS_SECRETS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "piicrypt/export.h"

namespace piicrypt {

struct ProcessSecretsOptions {
  // Size of the secure heap, in bytes. A keyed context takes about 1-2 KiB and each field
  // in use keeps up to 16 per purpose and key (one per thread using it); when the heap is
  // full, new key memory comes from the ordinary heap (and can reach a core dump, unless
  // core dumps are disabled): GetSecureHeapUsage() counts such allocations.
  // Default: 16 MiB. REQUIRES: a power of two, at least 64 KiB.
  size_t secure_heap_size = size_t{16} << 20;

  // Write no core file and make the process non-dumpable. Default: true.
  bool disable_core_dumps = true;
};

// What is in place after ProtectProcessSecrets.
struct ProcessSecrets {
  bool secure_heap = false;          // SecretData lives in the secure heap
  bool memory_locked = false;        // ... which is also mlock'ed (else RLIMIT_MEMLOCK is low)
  bool contexts_protected = false;   // keyed OpenSSL contexts live there too
  bool core_dumps_disabled = false;  // RLIMIT_CORE 0 and PR_SET_DUMPABLE 0
};

// What the secure heap holds, for a service's health checks and metrics.
struct SecureHeapUsage {
  size_t size = 0;  // its size in bytes; 0 before ProtectProcessSecrets started it
  size_t used = 0;  // bytes allocated in it now
  // Allocations for secrets (SecretData, keyed OpenSSL contexts) that found it full and
  // took ordinary memory instead, since the process started: those secrets can reach a
  // core dump (unless core dumps are disabled). Not 0: give the heap more room
  // (ProcessSecretsOptions::secure_heap_size).
  uint64_t fallbacks = 0;
};

// Thread-safe; cheap (reads two counters and the heap's used size under its lock).
PIICRYPT_EXPORT SecureHeapUsage GetSecureHeapUsage();

// Idempotent: a second call changes nothing and reports the same. kInvalidArgument for a
// bad heap size; kInternal if the secure heap or the core-dump settings cannot be applied.
PIICRYPT_EXPORT absl::StatusOr<ProcessSecrets> ProtectProcessSecrets(
    const ProcessSecretsOptions& options = {});

}  // namespace piicrypt

#endif  // PIICRYPT_PROCESS_SECRETS_H_
