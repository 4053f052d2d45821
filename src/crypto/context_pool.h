// context_pool.h: per-object pools of keyed OpenSSL contexts, safe for many threads.
//
// A keyed EVP context cannot be used by two threads at once, and keying one costs more
// than the operation it serves. A ContextPool owns a few lazily keyed contexts in
// cache-line-sized slots; a thread leases the slot its thread index points at (lock-free,
// one atomic exchange) and so, in the common case, every thread keeps reusing "its own"
// context with no contention and no key schedule per call. When every slot is busy a lease
// falls back to a freshly keyed context of its own. The pool frees (and so wipes) every
// context with the object that owns it: no key schedule outlives its key. Contexts are
// created inside a SecretContextScope, so that after ProtectProcessSecrets OpenSSL keeps
// their key schedules in the secure heap, out of core dumps.
#ifndef PIICRYPT_SRC_CRYPTO_CONTEXT_POOL_H_
#define PIICRYPT_SRC_CRYPTO_CONTEXT_POOL_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "src/secrets/secret_context_scope.h"

namespace piicrypt::internal {

// A small dense index for the calling thread (0, 1, 2, ... in order of first use).
uint32_t ThisThreadIndex();

// `Ctx` is any movable type; `Factory` is a callable returning std::unique_ptr<Ctx>
// (nullptr on failure).
template <typename Ctx, size_t kSlots = 16>
class ContextPool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          slot_(other.slot_),
          owned_(std::move(other.owned_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr && owned_ == nullptr) {  // a pooled slot: give it back
        pool_->slots_[slot_].busy.store(false, std::memory_order_release);
      }
    }
    // nullptr if the context could not be created.
    Ctx* get() const {
      if (owned_ != nullptr) return owned_.get();
      return pool_ != nullptr ? pool_->slots_[slot_].ctx.get() : nullptr;
    }
    explicit operator bool() const { return get() != nullptr; }
    Ctx* operator->() const { return get(); }
    Ctx& operator*() const { return *get(); }

   private:
    friend class ContextPool;
    Lease(ContextPool* pool, size_t slot, std::unique_ptr<Ctx> owned)
        : pool_(pool), slot_(slot), owned_(std::move(owned)) {}
    ContextPool* pool_;
    size_t slot_;
    std::unique_ptr<Ctx> owned_;  // set only on the overflow path
  };

  template <typename Factory>
  Lease Acquire(const Factory& factory) {
    const size_t start = ThisThreadIndex() % kSlots;
    for (size_t i = 0; i < kSlots; ++i) {
      const size_t s = (start + i) % kSlots;
      Slot& slot = slots_[s];
      if (slot.busy.load(std::memory_order_relaxed)) continue;
      if (slot.busy.exchange(true, std::memory_order_acquire)) continue;
      if (slot.ctx == nullptr) {
        SecretContextScope secret;  // the key schedule goes to the secure heap, if any
        slot.ctx = factory();
        if (slot.ctx == nullptr) {
          slot.busy.store(false, std::memory_order_release);
          return Lease(nullptr, 0, nullptr);  // get() == nullptr
        }
      }
      return Lease(this, s, nullptr);
    }
    // Every slot is busy: more threads than slots are in this object right now.
    SecretContextScope secret;
    std::unique_ptr<Ctx> own = factory();
    if (own == nullptr) return Lease(nullptr, 0, nullptr);
    return Lease(this, 0, std::move(own));
  }

 private:
  struct alignas(64) Slot {
    std::atomic<bool> busy{false};
    std::unique_ptr<Ctx> ctx;
  };
  std::array<Slot, kSlots> slots_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_CONTEXT_POOL_H_
