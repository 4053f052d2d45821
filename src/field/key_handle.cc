#include "piicrypt/key_handle.h"

#include <sys/stat.h>

#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "piicrypt/status_macros.h"

namespace piicrypt {
namespace {

// What the watcher compares between two checks: a file replaced by rename has a new inode
// and change time; one rewritten in place a new modification time or size. A file that
// cannot be stat'ed has `exists` false (and differs from any that can).
struct FileIdentity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  static FileIdentity Of(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return FileIdentity();
    return FileIdentity{true,
                        st.st_dev,
                        st.st_ino,
                        st.st_size,
                        int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec,
                        int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
  }
  bool operator==(const FileIdentity& o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
           mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
  }
};

// Each handle has a serial never reused, so a thread's pinned snapshot can never be taken
// for one of another handle (not even one allocated where a destroyed handle was).
std::atomic<uint64_t> next_serial{1};

// The snapshot the calling thread last used, and of which handle and generation.
struct ThreadPin {
  uint64_t serial = 0;
  uint64_t generation = 0;
  std::shared_ptr<const KeySnapshot> snapshot;
};
thread_local ThreadPin pin;

}  // namespace

KeySnapshot::KeySnapshot(Keyset keyset, std::unique_ptr<const FieldCryptor> cryptor,
                         uint64_t generation)
    : keyset_(std::move(keyset)), cryptor_(std::move(cryptor)), generation_(generation) {}

struct KeyHandle::Rep {
  explicit Rep(KeyHandleOptions o) : options(std::move(o)) {}

  // Reads both files and builds a snapshot, outside every lock a call takes. The
  // identities are taken first: a change during the read is seen again at the next check.
  absl::StatusOr<std::shared_ptr<const KeySnapshot>> Load(uint64_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu) {
    seen_keyset = FileIdentity::Of(options.keyset_path);
    seen_policy = FileIdentity::Of(options.policy_path);
    PIICRYPT_ASSIGN_OR_RETURN(Keyset keyset, Keyset::Read(options.keyset_path, *options.kek));
    PIICRYPT_ASSIGN_OR_RETURN(Policy policy, Policy::ReadFile(options.policy_path));
    auto cryptor = FieldCryptor::Create(keyset, policy);
    if (!cryptor.ok()) {
      return absl::Status(cryptor.status().code(),
                          absl::StrCat(options.policy_path, ": ", cryptor.status().message()));
    }
    return std::make_shared<const KeySnapshot>(std::move(keyset), *std::move(cryptor), generation);
  }

  bool FilesChanged() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu) {
    return !(FileIdentity::Of(options.keyset_path) == seen_keyset &&
             FileIdentity::Of(options.policy_path) == seen_policy);
  }

  // Loads the files (when `force`, or when they changed or the last load failed) and swaps
  // the result in; on failure keeps the current snapshot. Reports to on_reload.
  absl::Status Reload(KeyHandle& handle, bool force) ABSL_LOCKS_EXCLUDED(reload_mu);

  const KeyHandleOptions options;

  // Serializes reloads (the watcher's and Reload()'s); calls never take it.
  absl::Mutex reload_mu;
  FileIdentity seen_keyset ABSL_GUARDED_BY(reload_mu);
  FileIdentity seen_policy ABSL_GUARDED_BY(reload_mu);
  // Whether the last load failed: the watcher then tries again at every check, changed
  // files or not (the KEK's HSM may be back).
  bool retry ABSL_GUARDED_BY(reload_mu) = false;

  // Held only to copy or swap the pointer.
  mutable absl::Mutex current_mu;
  std::shared_ptr<const KeySnapshot> current ABSL_GUARDED_BY(current_mu);

  mutable absl::Mutex status_mu;
  absl::Status last_status ABSL_GUARDED_BY(status_mu);

  absl::Mutex watch_mu;
  bool stop ABSL_GUARDED_BY(watch_mu) = false;
  std::thread watcher;
};

absl::Status KeyHandle::Rep::Reload(KeyHandle& handle, bool force) {
  absl::MutexLock lock(&reload_mu);
  if (!force && !retry && !FilesChanged()) return absl::OkStatus();
  const uint64_t generation = handle.generation_.load(std::memory_order_relaxed) + 1;
  auto loaded = Load(generation);
  absl::Status status = loaded.status();
  retry = !status.ok();
  if (status.ok()) {
    std::shared_ptr<const KeySnapshot> old;  // freed after the lock, if this was the last
    {
      // The generation is published under the same lock as the pointer: whoever has seen
      // the new snapshot, and any thread told so by it, finds the new generation.
      absl::MutexLock swap(&current_mu);
      old = std::exchange(current, *std::move(loaded));
      handle.generation_.store(generation, std::memory_order_release);
    }
  } else {
    handle.failed_reloads_.fetch_add(1, std::memory_order_relaxed);
  }
  {
    absl::MutexLock s(&status_mu);
    last_status = status;
  }
  if (options.on_reload) options.on_reload(status);
  return status;
}

KeyHandle::KeyHandle(std::unique_ptr<Rep> rep)
    : rep_(std::move(rep)), serial_(next_serial.fetch_add(1)) {}

absl::StatusOr<std::unique_ptr<KeyHandle>> KeyHandle::Open(KeyHandleOptions options) {
  if (options.keyset_path.empty() || options.kek == nullptr || options.policy_path.empty()) {
    return absl::InvalidArgumentError("a key handle needs keyset_path, kek and policy_path");
  }
  if (options.check_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("check_interval must not be negative");
  }
  std::unique_ptr<KeyHandle> handle(new KeyHandle(std::make_unique<Rep>(std::move(options))));
  Rep& rep = *handle->rep_;
  {
    absl::MutexLock lock(&rep.reload_mu);
    PIICRYPT_ASSIGN_OR_RETURN(auto first, rep.Load(1));
    absl::MutexLock swap(&rep.current_mu);
    rep.current = std::move(first);
  }
  const absl::Duration interval = rep.options.check_interval;
  if (interval > absl::ZeroDuration()) {
    KeyHandle* self = handle.get();
    rep.watcher = std::thread([self, interval] {
      Rep& r = *self->rep_;
      r.watch_mu.Lock();
      while (!r.watch_mu.AwaitWithTimeout(absl::Condition(&r.stop), interval)) {
        r.watch_mu.Unlock();
        r.Reload(*self, /*force=*/false).IgnoreError();  // reported through on_reload
        r.watch_mu.Lock();
      }
      r.watch_mu.Unlock();
    });
  }
  return handle;
}

KeyHandle::~KeyHandle() {
  if (rep_->watcher.joinable()) {
    {
      absl::MutexLock lock(&rep_->watch_mu);
      rep_->stop = true;
    }
    rep_->watcher.join();
  }
}

absl::Status KeyHandle::Reload() { return rep_->Reload(*this, /*force=*/true); }

absl::Status KeyHandle::last_reload_status() const {
  absl::MutexLock lock(&rep_->status_mu);
  return rep_->last_status;
}

const std::shared_ptr<const KeySnapshot>& KeyHandle::Pinned() const {
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  ThreadPin& p = pin;
  if (p.serial != serial_ || p.generation != generation) {
    std::shared_ptr<const KeySnapshot> current;
    {
      absl::MutexLock lock(&rep_->current_mu);
      current = rep_->current;
    }
    p.serial = serial_;
    p.generation = current->generation();
    p.snapshot = std::move(current);  // the thread's previous snapshot is let go here
  }
  return p.snapshot;
}

const FieldCryptor& KeyHandle::Current() const { return Pinned()->cryptor(); }

std::shared_ptr<const KeySnapshot> KeyHandle::Snapshot() const { return Pinned(); }

}  // namespace piicrypt
