#include "src/db/sqlite.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/db/db_names.h"

namespace piicrypt::internal {

std::string SqliteMessage(sqlite3* db, int code) {
  if (db != nullptr && (code & 0xff) == SQLITE_ERROR) {
    const absl::string_view message = sqlite3_errmsg(db);
    for (absl::string_view known : {"no such table: ", "no such column: "}) {
      if (absl::StartsWith(message, known) && IsPlainDbIdentifier(message.substr(known.size()))) {
        return std::string(message);
      }
    }
  }
  return sqlite3_errstr(code);
}

absl::Status SqliteStatus(absl::string_view prefix, sqlite3* db, int code, absl::string_view what) {
  const std::string message = absl::StrCat(prefix, what, ": ", SqliteMessage(db, code));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_ERROR:  // no such table / column: the caller's names
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

void SqliteBindText(sqlite3_stmt* stmt, int index, absl::string_view text) {
  sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

std::string SqliteColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

absl::StatusOr<SqliteDb> SqliteDb::Open(const std::string& path, int flags,
                                        absl::Duration busy_timeout, std::string prefix) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDbPtr db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(prefix, nullptr, rc, "cannot open the database file");
  sqlite3_extended_result_codes(raw, 1);
  const int64_t ms = absl::ToInt64Milliseconds(busy_timeout);
  sqlite3_busy_timeout(raw, static_cast<int>(std::min<int64_t>(std::max<int64_t>(ms, 1),
                                                               std::numeric_limits<int>::max())));
  return SqliteDb(std::move(db), std::move(prefix));
}

absl::Status SqliteDb::Error(int code, absl::string_view what) const {
  return SqliteStatus(prefix_, db_.get(), code, what);
}

absl::StatusOr<SqliteStmtPtr> SqliteDb::Prepare(absl::string_view sql, unsigned prep_flags) const {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), prep_flags,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare a statement");
  return SqliteStmtPtr(stmt);
}

absl::Status SqliteDb::Exec(const std::string& sql, absl::string_view what) const {
  const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : Error(rc, what);
}

absl::Status SqliteDb::Step(sqlite3_stmt* stmt, absl::string_view what) const {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE ? absl::OkStatus() : Error(rc, what);
}

void SqliteDb::Rollback() const { sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr); }

}  // namespace piicrypt::internal
