// ClearSubjectIndexes on SQLite (include/piicrypt/subject_indexes.h).
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_indexes.h"

namespace piicrypt {
namespace {

constexpr char kPrefix[] = "clear indexes (sqlite): ";

bool IsIdentifier(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

absl::Status Error(sqlite3* db, int rc, absl::string_view what) {
  // "no such table/column: NAME" names the caller's own identifiers; other SQLite text is
  // not passed on.
  const absl::string_view message = db == nullptr ? "" : sqlite3_errmsg(db);
  if (absl::StartsWith(message, "no such table: ") ||
      absl::StartsWith(message, "no such column: ")) {
    return absl::InvalidArgumentError(absl::StrCat(kPrefix, message));
  }
  const std::string text = absl::StrCat(kPrefix, what, ": ", sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::UnavailableError(text);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(text);
    default:
      return absl::InternalError(text);
  }
}

struct DbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

absl::Status CheckRequest(const ClearIndexesRequest& r) {
  if (!absl::StartsWith(r.db_url, "sqlite:") || r.db_url.size() == 7) {
    return absl::InvalidArgumentError(absl::StrCat(kPrefix, "the database must be sqlite:PATH"));
  }
  if (!IsIdentifier(r.table) || !IsIdentifier(r.key_column)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kPrefix, "table and key column must be plain SQL identifiers"));
  }
  if (r.columns.empty() || r.records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kPrefix, "needs index columns and records"));
  }
  for (const std::string& c : r.columns) {
    if (!IsIdentifier(c) || c == r.key_column) {
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
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, DbDeleter> db(raw);
  if (rc != SQLITE_OK) return Error(nullptr, rc, "cannot open the database");
  sqlite3_busy_timeout(db.get(), 5000);
  std::string sets;
  for (const std::string& c : request.columns) {
    absl::StrAppend(&sets, sets.empty() ? "" : ", ", "\"", c, "\" = NULL");
  }
  const std::string sql = absl::StrCat("UPDATE \"", request.table, "\" SET ", sets, " WHERE \"",
                                       request.key_column, "\" = ?1");
  sqlite3_stmt* stmt_raw = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt_raw, nullptr);
  std::unique_ptr<sqlite3_stmt, StmtDeleter> stmt(stmt_raw);
  if (rc != SQLITE_OK) return Error(db.get(), rc, "cannot prepare the update");
  rc = sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(db.get(), rc, "cannot lock the database");
  int64_t changed = 0;
  for (const std::string& record : request.records) {
    sqlite3_bind_text(stmt.get(), 1, record.data(), static_cast<int>(record.size()),
                      SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt.get());
    sqlite3_reset(stmt.get());
    if (rc != SQLITE_DONE) {
      absl::Status error = Error(db.get(), rc, "cannot clear a row's indexes");
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      return error;
    }
    changed += sqlite3_changes(db.get());
  }
  rc = sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status error = Error(db.get(), rc, "cannot commit");
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  return changed;
}

}  // namespace piicrypt
