// db_error.h: error messages about PostgreSQL and SQLite failures that are safe to log.
//
// libpq's own text can hold what no log may: a connection URI with a bad percent-escape
// comes back as `invalid percent-encoded token: "S3cretPa%zzss"`, and a server's message
// can quote a value (`invalid input syntax for type bigint: "..."`). Nothing here passes
// that text on. A connection failure names where the connection was going (host, port,
// database, user: never the password) and a reason from a fixed list; a failed statement
// names its SQLSTATE, the SQLSTATE's generic meaning and the schema objects the server
// names in separate fields (table, column, constraint), never a value.
//
//   if (PQstatus(conn) != CONNECTION_OK) return PgConnectError("reencrypt (postgresql): ", uri,
//   conn); if (failed) return absl::InternalError(absl::StrCat(prefix, what, ": ",
//   PgResultMessage(r)));
#ifndef PIICRYPT_SRC_DB_DB_ERROR_H_
#define PIICRYPT_SRC_DB_DB_ERROR_H_

#include <libpq-fe.h>
#include <sqlite3.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace piicrypt::internal {

// The failure of PQconnectdb* on `conninfo` (a URI or key=value string; `conn` may be
// null). kInvalidArgument if `conninfo` does not parse (nothing of it is shown: it may hold
// the password); otherwise kUnavailable, or kPermissionDenied when the server refused the
// credentials. `prefix` starts the message ("token store (postgresql): ").
// (src/db/pg_error.cc, in the piicrypt::postgres component.)
absl::Status PgConnectError(absl::string_view prefix, const std::string& conninfo,
                            const PGconn* conn);

// "<generic meaning> (SQLSTATE xxxxx)" for a failed statement's result, followed by the
// table, column and constraint the server names, if any; "the connection failed" when
// `result` is null or carries no SQLSTATE.
std::string PgResultMessage(const PGresult* result);

// SQLite's message for `code`, with the name SQLite gives in "no such table: T" or "no
// such column: C" (the caller's own identifiers); never the rest of sqlite3_errmsg, which
// can quote SQL text.
// (src/db/sqlite_error.cc, linked with the re-encryption job that uses it.)
std::string SqliteMessage(sqlite3* db, int code);

// True for a name made of ASCII letters, digits, '_', '.' and '$' (at most 128 bytes): a
// schema object's name that a message may show.
inline bool IsPlainDbIdentifier(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '$') {
      return false;
    }
  }
  return true;
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_DB_ERROR_H_
