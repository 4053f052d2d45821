#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "piicrypt/token_store.h"
#include "src/token/stores.h"

namespace piicrypt {

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(absl::string_view url,
                                                             const TokenStoreOptions& options) {
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("token store: timeout must be positive");
  }
  if (options.max_connections < 1 || options.max_connections > 64) {
    return absl::InvalidArgumentError("token store: max_connections must be 1 to 64");
  }
  if (absl::ConsumePrefix(&url, "sqlite:")) {
    if (url.empty()) return absl::InvalidArgumentError("token store: sqlite: needs a file path");
    return internal::OpenRegisteredTokenStore(internal::StoreBackend::kSqlite, std::string(url),
                                              options);
  }
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    return internal::OpenRegisteredTokenStore(internal::StoreBackend::kPostgres, std::string(url),
                                              options);
  }
  return absl::InvalidArgumentError(
      "token store: unknown URL scheme (expected sqlite:PATH or postgresql://...)");
}

absl::StatusOr<ReplaceOutcome> TokenStore::Replace(absl::string_view, absl::string_view,
                                                   absl::string_view, absl::string_view,
                                                   std::optional<absl::string_view>) const {
  return absl::UnimplementedError("token store: this back-end cannot re-encrypt entries");
}

absl::StatusOr<std::vector<ReplaceOutcome>> TokenStore::ReplaceAll(
    absl::string_view field, const std::vector<Replacement>& replacements) const {
  std::vector<ReplaceOutcome> outcomes;
  outcomes.reserve(replacements.size());
  for (const Replacement& r : replacements) {
    absl::StatusOr<ReplaceOutcome> outcome =
        Replace(field, r.token, r.expected_ciphertext, r.ciphertext, internal::LookupView(r));
    if (!outcome.ok()) return outcome.status();
    outcomes.push_back(*outcome);
  }
  return outcomes;
}

}  // namespace piicrypt
