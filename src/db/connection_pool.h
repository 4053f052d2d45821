// connection_pool.h: a pool of database connections shared by many threads, each
// connection used by one thread at a time. Back-end free: the SQLite and the PostgreSQL
// token stores pool their own connection types with it.
//
//   ConnectionPool<Connection> pool(options.max_connections,
//                                   "token store (sqlite): no free connection in time",
//                                   [&](absl::Time deadline) { return Connect(path, deadline); },
//                                   /*reusable=*/nullptr, std::move(first));
//   PIICRYPT_ASSIGN_OR_RETURN(auto lease, pool.Acquire(absl::Now() + options.timeout));
//   lease->Run(...);  // given back to the pool when `lease` goes
//
// At most `max_connections` are open at once; Acquire waits for a free one until its
// deadline, then fails with kUnavailable. A connection that `reusable` rejects when it is
// given back (broken, or left inside a transaction) is closed instead of pooled.
//
// Thread safety: every method may be called from many threads at once.
#ifndef PIICRYPT_SRC_DB_CONNECTION_POOL_H_
#define PIICRYPT_SRC_DB_CONNECTION_POOL_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace piicrypt::internal {

template <typename Connection>
class ConnectionPool {
 public:
  // Opens a new connection, ready for use, by `deadline`.
  using Connector = std::function<absl::StatusOr<std::unique_ptr<Connection>>(absl::Time)>;
  // Whether a connection given back may serve again; null: always.
  using Reusable = std::function<bool(const Connection&)>;

  // `first` is an open connection that the pool takes (it counts towards the maximum).
  ConnectionPool(int max_connections, std::string exhausted_message, Connector connect,
                 Reusable reusable, std::unique_ptr<Connection> first)
      : max_connections_(max_connections),
        exhausted_message_(std::move(exhausted_message)),
        connect_(std::move(connect)),
        reusable_(std::move(reusable)) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A connection taken from the pool; given back when the lease is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(std::move(conn_));
    }
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }

   private:
    friend class ConnectionPool;
    Lease(const ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    const ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // An idle connection, or a new one if fewer than the maximum are open; kUnavailable with
  // the exhausted message if none is free by `deadline`, or the connector's error.
  absl::StatusOr<Lease> Acquire(absl::Time deadline) const {
    {
      absl::MutexLock lock(&mu_);
      auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < max_connections_;
      };
      if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
        return absl::UnavailableError(exhausted_message_);
      }
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<Connection>> conn = connect_(deadline);
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return conn.status();
    }
    return Lease(this, *std::move(conn));
  }

  // Closes every idle connection (say, after one turned out dead: the others may be too).
  void DropIdle() const {
    std::vector<std::unique_ptr<Connection>> dropped;
    absl::MutexLock lock(&mu_);
    open_ -= static_cast<int>(idle_.size());
    dropped.swap(idle_);
  }

 private:
  void Release(std::unique_ptr<Connection> conn) const {
    const bool keep = reusable_ == nullptr || reusable_(*conn);
    if (!keep) conn.reset();  // closes it, outside the lock
    absl::MutexLock lock(&mu_);
    if (keep) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }

  const int max_connections_;
  const std::string exhausted_message_;
  const Connector connect_;
  const Reusable reusable_;
  mutable absl::Mutex mu_;
  mutable std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  mutable int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_CONNECTION_POOL_H_
