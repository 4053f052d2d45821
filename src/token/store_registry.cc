// The registry of token store back-ends (src/token/stores.h), filled by the components.
#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "src/token/stores.h"

namespace piicrypt::internal {
namespace {

struct StoreRegistry {
  absl::Mutex mu;
  std::array<TokenStoreOpener, 2> openers ABSL_GUARDED_BY(mu) = {};
};

StoreRegistry& Registry() {
  static auto* registry = new StoreRegistry;  // never destroyed: used by initializers
  return *registry;
}

size_t Slot(StoreBackend backend) { return static_cast<size_t>(backend); }

}  // namespace

void RegisterTokenStore(StoreBackend backend, TokenStoreOpener opener) {
  StoreRegistry& registry = Registry();
  absl::MutexLock lock(&registry.mu);
  registry.openers.at(Slot(backend)) = opener;
}

absl::StatusOr<std::unique_ptr<TokenStore>> OpenRegisteredTokenStore(
    StoreBackend backend, const std::string& location, const TokenStoreOptions& options) {
  TokenStoreOpener opener = nullptr;
  {
    StoreRegistry& registry = Registry();
    absl::MutexLock lock(&registry.mu);
    opener = registry.openers.at(Slot(backend));
  }
  if (opener == nullptr) {
    return absl::FailedPreconditionError(
        backend == StoreBackend::kSqlite
            ? "token store: sqlite: stores need the piicrypt::sqlite component; link it"
            : "token store: postgresql:// stores need the piicrypt::postgres component; link it");
  }
  return opener(location, options);
}

}  // namespace piicrypt::internal
