// schema_version.h: the check every store of piicrypt's own tables (token stores, subject
// key stores) makes of its schema version when it opens, in the transaction that creates
// the tables if they are missing.
#ifndef PIICRYPT_SRC_DB_SCHEMA_VERSION_H_
#define PIICRYPT_SRC_DB_SCHEMA_VERSION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace piicrypt::internal {

// Whether a store whose version table holds `found` (its largest row; 0: no row yet) must
// record this library's version `current` (SchemaVersionInsert); kFailedPrecondition,
// after `prefix`, when the store was written by a newer library.
inline absl::StatusOr<bool> MustWriteSchemaVersion(absl::string_view prefix, int64_t found,
                                                   int64_t current) {
  if (found > current) {
    return absl::FailedPreconditionError(absl::StrCat(
        prefix, "schema version ", found, " is newer than this library's (", current, ")"));
  }
  return found != current;
}

// The statement that records version `current` in `table` (a constant name).
inline std::string SchemaVersionInsert(absl::string_view table, int64_t current) {
  return absl::StrCat("INSERT INTO ", table, " (version) VALUES (", current, ")");
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_SCHEMA_VERSION_H_
