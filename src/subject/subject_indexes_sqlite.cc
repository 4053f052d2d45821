// ClearSubjectIndexes on SQLite (include/piicrypt/subject_indexes.h).
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_indexes.h"
#include "src/db/db_names.h"
#include "src/db/sqlite.h"

namespace piicrypt {
namespace {

constexpr char kPrefix[] = "clear indexes (sqlite): ";

absl::Status CheckRequest(const ClearIndexesRequest& r) {
  if (!absl::StartsWith(r.db_url, "sqlite:") || r.db_url.size() == 7) {
    return absl::InvalidArgumentError(absl::StrCat(kPrefix, "the database must be sqlite:PATH"));
  }
  if (!internal::IsSqlIdentifier(r.table) || !internal::IsSqlIdentifier(r.key_column)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kPrefix, "table and key column must be plain SQL identifiers"));
  }
  if (r.columns.empty() || r.records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kPrefix, "needs index columns and records"));
  }
  for (const std::string& c : r.columns) {
    if (!internal::IsSqlIdentifier(c) || c == r.key_column) {
      return absl::InvalidArgumentError(absl::StrCat(
          kPrefix, "index columns must be plain SQL identifiers other than the key column"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ClearSubjectIndexes(const ClearIndexesRequest& request) {
  PIICRYPT_RETURN_IF_ERROR(CheckRequest(request));
  const std::string path(absl::StripPrefix(request.db_url, "sqlite:"));
  PIICRYPT_ASSIGN_OR_RETURN(
      internal::SqliteDb db,
      internal::SqliteDb::Open(path, SQLITE_OPEN_READWRITE, absl::Seconds(5), kPrefix));
  std::string sets;
  for (const std::string& c : request.columns) {
    absl::StrAppend(&sets, sets.empty() ? "" : ", ", "\"", c, "\" = NULL");
  }
  PIICRYPT_ASSIGN_OR_RETURN(internal::SqliteStmtPtr stmt,
                            db.Prepare(absl::StrCat("UPDATE \"", request.table, "\" SET ", sets,
                                                    " WHERE \"", request.key_column, "\" = ?1")));
  PIICRYPT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "cannot lock the database"));
  int64_t changed = 0;
  for (const std::string& record : request.records) {
    internal::SqliteBindText(stmt.get(), 1, record);
    if (absl::Status s = db.Step(stmt.get(), "cannot clear a row's indexes"); !s.ok()) {
      db.Rollback();
      return s;
    }
    changed += sqlite3_changes(db.get());
  }
  if (absl::Status s = db.Exec("COMMIT", "cannot commit"); !s.ok()) {
    db.Rollback();
    return s;
  }
  return changed;
}

}  // namespace piicrypt
