// ClearSubjectIndexes (include/piicrypt/subject_indexes.h): the request's checks, the
// database URL, and the registry of the back-ends that clear (src/subject/subject_stores.h).
#include "piicrypt/subject_indexes.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "piicrypt/status_macros.h"
#include "src/base/slot_registry.h"
#include "src/db/db_names.h"
#include "src/subject/subject_stores.h"

namespace piicrypt {
namespace internal {
namespace {

constexpr char kPrefix[] = "clear indexes: ";

using ClearerRegistry = SlotRegistry<StoreBackend, SubjectIndexClearer, 2>;

ClearerRegistry& GetRegistry() {
  static auto* registry = new ClearerRegistry;  // never destroyed: used by initializers
  return *registry;
}

absl::StatusOr<int64_t> ClearRegistered(StoreBackend backend, const std::string& location,
                                        const ClearIndexesRequest& request) {
  const SubjectIndexClearer clearer = GetRegistry().Get(backend);
  if (clearer == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        kPrefix, backend == StoreBackend::kSqlite
                     ? "sqlite: databases need the piicrypt::sqlite component; link it"
                     : "postgresql:// databases need the piicrypt::postgres component; link it"));
  }
  return clearer(location, request);
}

// What every back-end relies on (subject_stores.h): the identifiers are put into SQL, and
// the records are passed as C strings to libpq.
absl::Status CheckRequest(const ClearIndexesRequest& r) {
  if (!IsSqlIdentifier(r.table) || !IsSqlIdentifier(r.key_column)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kPrefix, "table and key column must be plain SQL identifiers"));
  }
  if (r.columns.empty() || r.records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kPrefix, "needs index columns and records"));
  }
  for (const std::string& c : r.columns) {
    if (!IsSqlIdentifier(c) || c == r.key_column) {
      return absl::InvalidArgumentError(absl::StrCat(
          kPrefix, "index columns must be plain SQL identifiers other than the key column"));
    }
  }
  for (const std::string& record : r.records) {
    if (record.find('\0') != std::string::npos) {  // text parameters end at the first NUL
      return absl::InvalidArgumentError(absl::StrCat(kPrefix, "a record holds a NUL byte"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterSubjectIndexClearer(StoreBackend backend, SubjectIndexClearer clearer) {
  GetRegistry().Set(backend, clearer);
}

}  // namespace internal

absl::StatusOr<int64_t> ClearSubjectIndexes(const ClearIndexesRequest& request) {
  const std::string& url = request.db_url;
  absl::string_view path = url;
  const bool sqlite = absl::ConsumePrefix(&path, "sqlite:");
  if (sqlite && path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(internal::kPrefix, "sqlite: needs a file path"));
  }
  const bool postgres =
      absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://");
  if (!sqlite && !postgres) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::kPrefix,
                     "unknown database URL scheme (expected sqlite:PATH or postgresql://...)"));
  }
  PIICRYPT_RETURN_IF_ERROR(internal::CheckRequest(request));
  return sqlite ? internal::ClearRegistered(internal::StoreBackend::kSqlite, std::string(path),
                                            request)
                : internal::ClearRegistered(internal::StoreBackend::kPostgres, url, request);
}

}  // namespace piicrypt
