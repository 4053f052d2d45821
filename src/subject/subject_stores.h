// subject_stores.h: the subject back-ends behind SubjectKeyStore::Open
// (include/piicrypt/subject_key_store.h) and ClearSubjectIndexes
// (include/piicrypt/subject_indexes.h). The SQLite back-ends are part of the piicrypt::sqlite
// component, the PostgreSQL ones of piicrypt::postgres; they register their openers and
// index clearers with the core when linked (src/token/sqlite_component.cc,
// postgres_component.cc), so that the core stays free of SQLite and libpq.
#ifndef PIICRYPT_SRC_SUBJECT_SUBJECT_STORES_H_
#define PIICRYPT_SRC_SUBJECT_SUBJECT_STORES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/subject_indexes.h"
#include "piicrypt/subject_key_store.h"
#include "src/db/store_backend.h"

namespace piicrypt::internal {

// The schema version this library writes and reads (piicrypt_subject_schema_version).
inline constexpr int kSubjectSchemaVersion = 1;

using SubjectKeyStoreOpener = absl::StatusOr<std::unique_ptr<SubjectKeyStore>> (*)(
    const std::string& location, const SubjectKeyStoreOptions& options);

// Registers (or replaces) the opener of `backend`. Thread-safe.
PIICRYPT_EXPORT void RegisterSubjectKeyStore(StoreBackend backend, SubjectKeyStoreOpener opener);

// The openers of the back-ends, called by the components' registration.
absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenSqliteSubjectKeyStore(
    const std::string& path, const SubjectKeyStoreOptions& options);
absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenPostgresSubjectKeyStore(
    const std::string& uri, const SubjectKeyStoreOptions& options);

// A back-end of ClearSubjectIndexes: `location` is what follows "sqlite:" (a file path),
// or the whole postgresql:// URL. ClearSubjectIndexes calls it only with a request it has
// checked (src/subject/subject_indexes.cc): every identifier in it is a plain SQL identifier
// (db_names.h), the key column is not among the index columns, there is at least one column
// and one record, and no record holds a NUL byte.
using SubjectIndexClearer = absl::StatusOr<int64_t> (*)(const std::string& location,
                                                        const ClearIndexesRequest& request);

// Registers (or replaces) the index clearer of `backend`. Thread-safe.
PIICRYPT_EXPORT void RegisterSubjectIndexClearer(StoreBackend backend, SubjectIndexClearer clearer);

// The index clearers of the back-ends, called by the components' registration.
absl::StatusOr<int64_t> ClearSqliteSubjectIndexes(const std::string& path,
                                                  const ClearIndexesRequest& request);
absl::StatusOr<int64_t> ClearPostgresSubjectIndexes(const std::string& uri,
                                                    const ClearIndexesRequest& request);

// `UPDATE "table" SET "c1" = NULL, "c2" = NULL WHERE "key" = <placeholder>` for a checked
// request: the statement both back-ends run once per record.
inline std::string ClearIndexesSql(const ClearIndexesRequest& request,
                                   absl::string_view placeholder) {
  std::string sets;
  for (const std::string& c : request.columns) {
    absl::StrAppend(&sets, sets.empty() ? "" : ", ", "\"", c, "\" = NULL");
  }
  return absl::StrCat("UPDATE \"", request.table, "\" SET ", sets, " WHERE \"", request.key_column,
                      "\" = ", placeholder);
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SUBJECT_SUBJECT_STORES_H_
