// key_cache.h: the in-process cache of unwrapped subject keys behind SubjectCryptor:
// bounded in size (least recently used evicted first) and in age (an entry is used for at
// most `ttl` after it was read from the store), with a forget epoch so that a key read
// from the store before a forget is never cached after it.
//
// Entries are shared: an evicted entry is destroyed (its keys wiped, they are SecretData
// inside AesGcm) when the last call using it returns.
//
// Thread safety: every method may be called from many threads at once.
#ifndef PIICRYPT_SRC_SUBJECT_KEY_CACHE_H_
#define PIICRYPT_SRC_SUBJECT_KEY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "src/crypto/aes_gcm.h"

namespace piicrypt::internal {

// The keys of one subject: which stored key they come from, and one keyed AES-GCM per
// subject field of the policy (in policy order), derived from the subject key.
struct SubjectKeys {
  uint32_t wrap_key_id = 0;  // the data key the subject key was wrapped under when read
  uint32_t subject_key_id = 0;
  std::vector<std::unique_ptr<AesGcm>> ciphers;
};

class SubjectKeyCache {
 public:
  // REQUIRES: capacity >= 1, ttl > 0.
  SubjectKeyCache(size_t capacity, absl::Duration ttl)
      : capacity_(capacity), ttl_nanos_(absl::ToInt64Nanoseconds(ttl)) {}

  // Now on the cache's clock: CLOCK_MONOTONIC_COARSE in nanoseconds (a few milliseconds of
  // resolution, no system call, unaffected by changes of the wall clock).
  static int64_t Now();

  // The keys of `subject` if cached and younger than the ttl (and marks them most recently
  // used); nullptr otherwise (an expired entry is dropped).
  std::shared_ptr<const SubjectKeys> Get(absl::string_view subject);
  // The current forget epoch: read it before reading a key from the store, and pass it to Put.
  uint64_t epoch() const;
  // Caches `keys`, read from the store from time `loaded` (Now()) on, unless a Forget ran
  // since `epoch` was read (then the keys may be a forgotten subject's and are not kept).
  void Put(absl::string_view subject, std::shared_ptr<const SubjectKeys> keys, int64_t loaded,
           uint64_t epoch);
  // Drops `subject` and starts a new epoch.
  void Forget(absl::string_view subject);
  size_t size() const;

 private:
  struct Node {
    std::string subject;
    std::shared_ptr<const SubjectKeys> keys;
    int64_t expires;  // Now() after which the entry is not used
  };
  using List = std::list<Node>;
  void EraseLocked(List::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  const int64_t ttl_nanos_;
  mutable absl::Mutex mu_;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  List lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  absl::flat_hash_map<std::string, List::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SUBJECT_KEY_CACHE_H_
