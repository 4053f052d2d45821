#include "piicrypt/subtle/token_store.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "piicrypt/status_macros.h"
#include "src/fpe/utf8.h"
#include "src/token/stores.h"

namespace piicrypt {
namespace {

// OK if `text` can be stored as it is by every back-end: PostgreSQL's TEXT holds neither
// NUL bytes nor invalid UTF-8 (its client encoding is UTF8), so SQLite is held to the same.
absl::Status CheckStorable(absl::string_view text, absl::string_view what) {
  if (text.find('\0') == absl::string_view::npos && internal::DecodeUtf8(text).ok()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("token store: the ", what, " contains a NUL byte or is not UTF-8"));
}

// Every back-end behind this check: a string argument that a back-end could not store as
// it is (and PostgreSQL would have cut at a NUL byte) is refused before any back-end sees
// it, so that both stores give the same answer to every call.
class CheckedTokenStore : public TokenStore {
 public:
  explicit CheckedTokenStore(std::unique_ptr<TokenStore> store) : store_(std::move(store)) {}

  absl::StatusOr<InsertOutcome> Insert(absl::string_view field, const TokenEntry& entry,
                                       absl::string_view lookup) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(entry.token, "token"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(entry.ciphertext, "ciphertext"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(lookup, "lookup"));
    return store_->Insert(field, entry, lookup);
  }
  absl::StatusOr<std::optional<TokenEntry>> Find(absl::string_view field,
                                                 absl::string_view token) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(token, "token"));
    return store_->Find(field, token);
  }
  absl::StatusOr<std::optional<TokenEntry>> FindByLookup(absl::string_view field,
                                                         absl::string_view lookup) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(lookup, "lookup"));
    return store_->FindByLookup(field, lookup);
  }
  absl::StatusOr<bool> Delete(absl::string_view field, absl::string_view token) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(token, "token"));
    return store_->Delete(field, token);
  }
  absl::StatusOr<std::vector<TokenEntry>> List(absl::string_view field, absl::string_view after,
                                               size_t limit) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(after, "token to list after"));
    return store_->List(field, after, limit);
  }
  absl::StatusOr<int64_t> DeleteExpired(absl::string_view field,
                                        int64_t now_unix_seconds) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    return store_->DeleteExpired(field, now_unix_seconds);
  }
  absl::StatusOr<ReplaceOutcome> Replace(absl::string_view field, absl::string_view token,
                                         absl::string_view expected_ciphertext,
                                         absl::string_view ciphertext,
                                         std::optional<absl::string_view> lookup) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    PIICRYPT_RETURN_IF_ERROR(CheckReplacement(token, expected_ciphertext, ciphertext, lookup));
    return store_->Replace(field, token, expected_ciphertext, ciphertext, lookup);
  }
  absl::StatusOr<std::vector<ReplaceOutcome>> ReplaceAll(
      absl::string_view field, const std::vector<Replacement>& replacements) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(field, "field"));
    for (const Replacement& r : replacements) {
      PIICRYPT_RETURN_IF_ERROR(
          CheckReplacement(r.token, r.expected_ciphertext, r.ciphertext, internal::LookupView(r)));
    }
    return store_->ReplaceAll(field, replacements);
  }

 private:
  static absl::Status CheckReplacement(absl::string_view token,
                                       absl::string_view expected_ciphertext,
                                       absl::string_view ciphertext,
                                       std::optional<absl::string_view> lookup) {
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(token, "token"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(expected_ciphertext, "expected ciphertext"));
    PIICRYPT_RETURN_IF_ERROR(CheckStorable(ciphertext, "ciphertext"));
    return CheckStorable(lookup.value_or(""), "lookup");
  }

  const std::unique_ptr<TokenStore> store_;
};

absl::StatusOr<std::unique_ptr<TokenStore>> Checked(
    absl::StatusOr<std::unique_ptr<TokenStore>> store) {
  if (!store.ok()) return store.status();
  return std::make_unique<CheckedTokenStore>(*std::move(store));
}

}  // namespace

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
    return Checked(internal::OpenRegisteredTokenStore(internal::StoreBackend::kSqlite,
                                                      std::string(url), options));
  }
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    return Checked(internal::OpenRegisteredTokenStore(internal::StoreBackend::kPostgres,
                                                      std::string(url), options));
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
