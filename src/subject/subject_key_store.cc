// SubjectKeyStore::Open, the back-end registry, and the checks every row read from a
// back-end passes before anything uses it.
#include "piicrypt/subject_key_store.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "piicrypt/status_macros.h"
#include "src/base/slot_registry.h"
#include "src/subject/subject_format.h"
#include "src/subject/subject_stores.h"

namespace piicrypt {
namespace internal {
namespace {

using Registry = SlotRegistry<StoreBackend, SubjectKeyStoreOpener, 2>;

Registry& GetRegistry() {
  static auto* registry = new Registry;  // never destroyed: used by initializers
  return *registry;
}

absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenRegistered(
    StoreBackend backend, const std::string& location, const SubjectKeyStoreOptions& options) {
  const SubjectKeyStoreOpener opener = GetRegistry().Get(backend);
  if (opener == nullptr) {
    return absl::FailedPreconditionError(
        backend == StoreBackend::kSqlite
            ? "subject key store: sqlite: stores need the piicrypt::sqlite component; link it"
            : "subject key store: postgresql:// stores need the piicrypt::postgres component; "
              "link it");
  }
  return opener(location, options);
}

absl::Status CheckRow(const SubjectKeyRow& row) {
  if (!IsLookup(row.lookup) || row.key_id == 0) {
    return absl::DataLossError("subject key store: a row is malformed");
  }
  return ParseWrappedKey(row.wrapped).status();
}

absl::Status CheckLookup(absl::string_view lookup) {
  if (IsLookup(lookup)) return absl::OkStatus();
  return absl::InvalidArgumentError("subject key store: a lookup must be 64 lower-case hex digits");
}

// Every back-end behind these checks: arguments are well-formed before a back-end sees
// them, and rows are well-formed before a caller sees them (kDataLoss otherwise).
class CheckedSubjectKeyStore : public SubjectKeyStore {
 public:
  explicit CheckedSubjectKeyStore(std::unique_ptr<SubjectKeyStore> store)
      : store_(std::move(store)) {}

  absl::StatusOr<std::optional<SubjectKeyRow>> Find(absl::string_view lookup) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckLookup(lookup));
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<SubjectKeyRow> row, store_->Find(lookup));
    if (row.has_value()) {
      PIICRYPT_RETURN_IF_ERROR(CheckRow(*row));
      if (row->lookup != lookup) return absl::DataLossError("subject key store: wrong row");
    }
    return row;
  }
  absl::StatusOr<SubjectKeyRow> InsertOrGet(const SubjectKeyRow& row) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckLookup(row.lookup));
    if (row.key_id == 0 || !ParseWrappedKey(row.wrapped).ok()) {
      return absl::InvalidArgumentError("subject key store: a new row is malformed");
    }
    PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow stored, store_->InsertOrGet(row));
    PIICRYPT_RETURN_IF_ERROR(CheckRow(stored));
    if (stored.lookup != row.lookup) return absl::DataLossError("subject key store: wrong row");
    return stored;
  }
  absl::StatusOr<bool> Delete(absl::string_view lookup) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckLookup(lookup));
    return store_->Delete(lookup);
  }
  absl::StatusOr<bool> Replace(absl::string_view lookup, uint32_t key_id,
                               absl::string_view expected_wrapped,
                               absl::string_view wrapped) const override {
    PIICRYPT_RETURN_IF_ERROR(CheckLookup(lookup));
    if (!ParseWrappedKey(wrapped).ok()) {
      return absl::InvalidArgumentError("subject key store: a wrapped key is malformed");
    }
    return store_->Replace(lookup, key_id, expected_wrapped, wrapped);
  }
  absl::StatusOr<std::vector<SubjectKeyRow>> List(absl::string_view after,
                                                  size_t limit) const override {
    if (!after.empty()) PIICRYPT_RETURN_IF_ERROR(CheckLookup(after));
    PIICRYPT_ASSIGN_OR_RETURN(std::vector<SubjectKeyRow> rows, store_->List(after, limit));
    if (rows.size() > limit) return absl::DataLossError("subject key store: too many rows");
    std::string previous(after);
    for (const SubjectKeyRow& row : rows) {
      PIICRYPT_RETURN_IF_ERROR(CheckRow(row));
      if (row.lookup <= previous) {
        return absl::DataLossError("subject key store: rows out of order");
      }
      previous = row.lookup;
    }
    return rows;
  }
  absl::StatusOr<int64_t> Count() const override { return store_->Count(); }

 private:
  const std::unique_ptr<SubjectKeyStore> store_;
};

}  // namespace

void RegisterSubjectKeyStore(StoreBackend backend, SubjectKeyStoreOpener opener) {
  GetRegistry().Set(backend, opener);
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<SubjectKeyStore>> SubjectKeyStore::Open(
    const std::string& url, const SubjectKeyStoreOptions& options) {
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("subject key store: timeout must be positive");
  }
  absl::string_view rest = url;
  absl::StatusOr<std::unique_ptr<SubjectKeyStore>> store;
  if (absl::ConsumePrefix(&rest, "sqlite:")) {
    if (rest.empty()) {
      return absl::InvalidArgumentError("subject key store: sqlite: needs a file path");
    }
    store = internal::OpenRegistered(internal::StoreBackend::kSqlite, std::string(rest), options);
  } else if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    store = internal::OpenRegistered(internal::StoreBackend::kPostgres, url, options);
  } else {
    return absl::InvalidArgumentError(
        "subject key store: unknown URL scheme (expected sqlite:PATH or postgresql://...)");
  }
  if (!store.ok()) return store.status();
  return std::make_unique<internal::CheckedSubjectKeyStore>(*std::move(store));
}

}  // namespace piicrypt
