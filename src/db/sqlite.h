// sqlite.h: the SQLite layer shared by the SQLite token store and the re-encryption job
// (piicrypt::sqlite component; nothing in the core includes it).
//
// Handles are RAII (SqliteDbPtr, SqliteStmtPtr); every failure becomes a canonical status
// through SqliteStatus, the one mapping of SQLite result codes in piicrypt; its messages
// never carry SQLite's own text beyond the names it gives in "no such table: T".
//
//   PIICRYPT_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(path, SQLITE_OPEN_READWRITE,
//                                                         absl::Seconds(30), "reencrypt (sqlite):
//                                                         "));
//   PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr stmt, db.Prepare("DELETE FROM t WHERE id = ?1"));
//   SqliteBindText(stmt.get(), 1, id);
//   PIICRYPT_RETURN_IF_ERROR(db.Step(stmt.get(), "cannot delete a row"));
//
// Thread safety: a SqliteDb is opened with SQLITE_OPEN_NOMUTEX and is used by one thread at
// a time (pool connections with ConnectionPool, connection_pool.h).
#ifndef PIICRYPT_SRC_DB_SQLITE_H_
#define PIICRYPT_SRC_DB_SQLITE_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace piicrypt::internal {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteDbPtr = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// SQLite's message for `code`, with the name SQLite gives in "no such table: T" or "no
// such column: C" (the caller's own identifiers); never the rest of sqlite3_errmsg, which
// can quote SQL text.
std::string SqliteMessage(sqlite3* db, int code);

// The status of a failed SQLite call, "<prefix><what>: <SqliteMessage>":
//   kUnavailable        busy, locked, cannot open, I/O error, read-only, permission;
//   kDataLoss           a corrupt file or not a database;
//   kResourceExhausted  the disk is full;
//   kInvalidArgument    SQLITE_ERROR: the statement does not fit the database (no such
//                       table or column: names the caller gave);
//   kInternal           anything else.
absl::Status SqliteStatus(absl::string_view prefix, sqlite3* db, int code, absl::string_view what);

// Binds `text` as TEXT without copying it: `text` must stay valid until the statement is
// reset (SqliteReset).
void SqliteBindText(sqlite3_stmt* stmt, int index, absl::string_view text);

// Column `column` of the current row as bytes ("" for NULL).
std::string SqliteColumnText(sqlite3_stmt* stmt, int column);

// Resets a reused statement and clears its bindings at the end of a scope, on every path.
class SqliteReset {
 public:
  explicit SqliteReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  SqliteReset(const SqliteReset&) = delete;
  SqliteReset& operator=(const SqliteReset&) = delete;
  ~SqliteReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* const stmt_;
};

// One open database file and the prefix its error messages start with.
class SqliteDb {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_NOMUTEX is added), extended result codes and a
  // busy timeout of `busy_timeout` (at least 1 ms).
  static absl::StatusOr<SqliteDb> Open(const std::string& path, int flags,
                                       absl::Duration busy_timeout, std::string prefix);

  sqlite3* get() const { return db_.get(); }

  // SqliteStatus for this database.
  absl::Status Error(int code, absl::string_view what) const;

  // Prepares one statement; `prep_flags` as for sqlite3_prepare_v3 (for example
  // SQLITE_PREPARE_PERSISTENT for a statement kept for the connection's life).
  absl::StatusOr<SqliteStmtPtr> Prepare(absl::string_view sql, unsigned prep_flags = 0) const;

  // Runs SQL text without results (may hold several statements).
  absl::Status Exec(const std::string& sql, absl::string_view what) const;

  // Steps `stmt` to its end (a statement without rows), then resets it.
  absl::Status Step(sqlite3_stmt* stmt, absl::string_view what) const;

  // Ends a failed transaction; best effort (SQLite may have rolled it back already).
  void Rollback() const;

 private:
  SqliteDb(SqliteDbPtr db, std::string prefix) : db_(std::move(db)), prefix_(std::move(prefix)) {}

  SqliteDbPtr db_;
  std::string prefix_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_SQLITE_H_
