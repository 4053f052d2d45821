// stores.h: the token store back-ends behind TokenStore::Open
// (include/piicrypt/subtle/token_store.h).
#ifndef PIICRYPT_SRC_TOKEN_STORES_H_
#define PIICRYPT_SRC_TOKEN_STORES_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/subtle/token_store.h"
#include "src/db/store_backend.h"

namespace piicrypt::internal {

// The schema version this library writes and reads (table piicrypt_schema_version).
// Version 2 has version 1's tables; its entries are in entry format version 2
// (src/token/token_entry.h). A version 1 store is raised to 2 when opened, so that an
// older library, which would write entries this one refuses, refuses the store.
inline constexpr int kTokenSchemaVersion = 2;

// A Replacement's lookup in the form TokenStore::Replace takes.
inline std::optional<absl::string_view> LookupView(const Replacement& r) {
  if (!r.lookup.has_value()) return std::nullopt;
  return absl::string_view(*r.lookup);
}

// `path` is a file path (the part after "sqlite:").
absl::StatusOr<std::unique_ptr<TokenStore>> OpenSqliteTokenStore(const std::string& path,
                                                                 const TokenStoreOptions& options);
// `uri` is a libpq connection URI.
absl::StatusOr<std::unique_ptr<TokenStore>> OpenPostgresTokenStore(
    const std::string& uri, const TokenStoreOptions& options);

// The back-ends live in their own components (piicrypt::sqlite, piicrypt::postgres), which
// register their opener with the core when linked (sqlite_component.cc,
// postgres_component.cc); TokenStore::Open reaches them through this registry only.
using TokenStoreOpener = absl::StatusOr<std::unique_ptr<TokenStore>> (*)(
    const std::string& location, const TokenStoreOptions& options);

// Registers (or replaces) the opener of `backend`. Thread-safe. Exported from the shared
// core library for the component libraries only.
PIICRYPT_EXPORT void RegisterTokenStore(StoreBackend backend, TokenStoreOpener opener);

// Opens `location` with the registered back-end; kFailedPrecondition naming the component
// to link when it is not.
absl::StatusOr<std::unique_ptr<TokenStore>> OpenRegisteredTokenStore(
    StoreBackend backend, const std::string& location, const TokenStoreOptions& options);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_TOKEN_STORES_H_
