// The registry of token store back-ends (src/token/stores.h), filled by the components.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "src/base/slot_registry.h"
#include "src/token/stores.h"

namespace piicrypt::internal {
namespace {

using StoreRegistry = SlotRegistry<StoreBackend, TokenStoreOpener, 2>;

StoreRegistry& Registry() {
  static auto* registry = new StoreRegistry;  // never destroyed: used by initializers
  return *registry;
}

}  // namespace

void RegisterTokenStore(StoreBackend backend, TokenStoreOpener opener) {
  Registry().Set(backend, opener);
}

absl::StatusOr<std::unique_ptr<TokenStore>> OpenRegisteredTokenStore(
    StoreBackend backend, const std::string& location, const TokenStoreOptions& options) {
  const TokenStoreOpener opener = Registry().Get(backend);
  if (opener == nullptr) {
    return absl::FailedPreconditionError(
        backend == StoreBackend::kSqlite
            ? "token store: sqlite: stores need the piicrypt::sqlite component; link it"
            : "token store: postgresql:// stores need the piicrypt::postgres component; link it");
  }
  return opener(location, options);
}

}  // namespace piicrypt::internal
