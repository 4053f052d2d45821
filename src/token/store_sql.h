// store_sql.h: what the SQL token store back-ends (sqlite_store.cc, postgres_store.cc)
// share: the names of their prepared statements and the check of a store's schema version.
#ifndef PIICRYPT_SRC_TOKEN_STORE_SQL_H_
#define PIICRYPT_SRC_TOKEN_STORE_SQL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/token/stores.h"

namespace piicrypt::internal {

// The statements each back-end prepares on every connection; each back-end's table of
// SQL (kStatements) is indexed by them.
enum Statement {
  kInsert,
  kFind,
  kFindByLookup,
  kDelete,
  kList,
  kDeleteExpired,
  kReplace,
  kStatementCount
};

// Whether opening a store whose piicrypt_schema_version holds `found` (0: no row yet) must
// write kTokenSchemaVersion (SchemaVersionInsert); kFailedPrecondition, after `prefix`,
// when the store is of a newer library.
inline absl::StatusOr<bool> MustWriteSchemaVersion(absl::string_view prefix, int64_t found) {
  if (found > kTokenSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(prefix, "schema version ", found,
                                                      " is newer than this library's (",
                                                      kTokenSchemaVersion, ")"));
  }
  return found != kTokenSchemaVersion;
}

// The statement that records kTokenSchemaVersion.
inline std::string SchemaVersionInsert() {
  return absl::StrCat("INSERT INTO piicrypt_schema_version (version) VALUES (", kTokenSchemaVersion,
                      ")");
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_TOKEN_STORE_SQL_H_
