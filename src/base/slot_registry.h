// slot_registry.h: a process-wide table of plain functions, one slot per enumerator,
// that optional components fill from their static initializers and the core reads.
//
// The core names what it may need (a normalizer, a store back-end) by an enum; a component
// linked into the program registers the function that provides it. Reading an empty slot
// gives nullptr, which the caller turns into "link the component".
//
//   SlotRegistry<StoreBackend, TokenStoreOpener, 2>& Openers() {
//     static auto* registry = new SlotRegistry<StoreBackend, TokenStoreOpener, 2>;
//     return *registry;  // never destroyed: components register from static initializers
//   }
//   Openers().Set(StoreBackend::kSqlite, &OpenSqliteTokenStore);
//   TokenStoreOpener opener = Openers().Get(StoreBackend::kSqlite);
//
// Thread safety: Set and Get may be called from many threads.
#ifndef PIICRYPT_SRC_BASE_SLOT_REGISTRY_H_
#define PIICRYPT_SRC_BASE_SLOT_REGISTRY_H_

#include <array>
#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace piicrypt::internal {

// `Key` is an enum whose values are below `kSlots`; `Fn` a function pointer type.
template <typename Key, typename Fn, size_t kSlots>
class SlotRegistry {
 public:
  // Replaces what `key`'s slot held.
  void Set(Key key, Fn fn) {
    absl::MutexLock lock(&mu_);
    slots_.at(static_cast<size_t>(key)) = fn;
  }

  // What was registered for `key`, or nullptr.
  Fn Get(Key key) const {
    absl::MutexLock lock(&mu_);
    return slots_.at(static_cast<size_t>(key));
  }

 private:
  mutable absl::Mutex mu_;
  std::array<Fn, kSlots> slots_ ABSL_GUARDED_BY(mu_) = {};
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_BASE_SLOT_REGISTRY_H_
