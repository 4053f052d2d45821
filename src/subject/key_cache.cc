#include "src/subject/key_cache.h"

#include <time.h>

#include <memory>
#include <string>
#include <utility>

namespace piicrypt::internal {

int64_t SubjectKeyCache::Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::shared_ptr<const SubjectKeys> SubjectKeyCache::Get(absl::string_view subject) {
  const int64_t now = Now();
  std::shared_ptr<const SubjectKeys> expired;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = index_.find(subject);
  if (it == index_.end()) return nullptr;
  if (now >= it->second->expires) {
    expired = std::move(it->second->keys);
    EraseLocked(it->second);
    return nullptr;
  }
  if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->keys;
}

uint64_t SubjectKeyCache::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

void SubjectKeyCache::Put(absl::string_view subject, std::shared_ptr<const SubjectKeys> keys,
                          int64_t loaded, uint64_t epoch) {
  std::shared_ptr<const SubjectKeys> evicted;
  absl::MutexLock lock(&mu_);
  if (epoch != epoch_) return;
  auto it = index_.find(subject);
  if (it != index_.end()) {
    evicted = std::move(it->second->keys);
    EraseLocked(it->second);
  } else if (index_.size() >= capacity_) {
    evicted = std::move(lru_.back().keys);
    EraseLocked(std::prev(lru_.end()));
  }
  lru_.push_front(Node{std::string(subject), std::move(keys), loaded + ttl_nanos_});
  index_.emplace(lru_.front().subject, lru_.begin());
}

void SubjectKeyCache::Forget(absl::string_view subject) {
  std::shared_ptr<const SubjectKeys> forgotten;
  absl::MutexLock lock(&mu_);
  ++epoch_;
  auto it = index_.find(subject);
  if (it == index_.end()) return;
  forgotten = std::move(it->second->keys);
  EraseLocked(it->second);
}

size_t SubjectKeyCache::size() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

void SubjectKeyCache::EraseLocked(List::iterator it) {
  index_.erase(it->subject);
  lru_.erase(it);
}

}  // namespace piicrypt::internal
