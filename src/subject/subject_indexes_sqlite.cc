// ClearSubjectIndexes on SQLite (include/piicrypt/subject_indexes.h), registered by the
// piicrypt::sqlite component (src/subject/subject_stores.h).
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_indexes.h"
#include "src/db/sqlite.h"
#include "src/subject/subject_stores.h"

namespace piicrypt::internal {
namespace {

constexpr char kPrefix[] = "clear indexes (sqlite): ";

}  // namespace

absl::StatusOr<int64_t> ClearSqliteSubjectIndexes(const std::string& path,
                                                  const ClearIndexesRequest& request) {
  PIICRYPT_ASSIGN_OR_RETURN(SqliteDb db,
                            SqliteDb::Open(path, SQLITE_OPEN_READWRITE, absl::Seconds(5), kPrefix));
  // A double-quoted name that is no column would otherwise be read as a string literal:
  // WHERE "no_such_key" = ?1 would match no row instead of failing.
  if (sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DQS_DML, 0, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(kPrefix, "cannot turn off double-quoted strings"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr stmt, db.Prepare(ClearIndexesSql(request, "?1")));
  PIICRYPT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "cannot lock the database"));
  int64_t changed = 0;
  for (const std::string& record : request.records) {
    SqliteBindText(stmt.get(), 1, record);
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

}  // namespace piicrypt::internal
