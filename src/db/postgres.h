// postgres.h: the libpq layer shared by the PostgreSQL token store and the re-encryption
// job (piicrypt::postgres component; nothing in the core includes it).
//
// Handles are RAII (PgConnPtr, PgResultPtr); connections are opened by PgConnect; every
// failed statement becomes a canonical status through PgStatus, the one mapping of SQLSTATEs
// in piicrypt.
//
// libpq's own text can hold what no log may: a connection URI with a bad percent-escape
// comes back as `invalid percent-encoded token: "S3cretPa%zzss"`, and a server's message
// can quote a value (`invalid input syntax for type bigint: "..."`). Nothing here passes
// that text on. A connection failure names where the connection was going (host, port,
// database, user: never the password) and a reason from a fixed list; a failed statement
// names its SQLSTATE, the SQLSTATE's generic meaning and the schema objects the server
// names in separate fields (table, column, constraint), never a value.
//
//   PIICRYPT_ASSIGN_OR_RETURN(PgConnPtr conn, PgConnect(uri, "piicrypt", 10, kPrefix));
//   PgResultPtr r(PQexec(conn.get(), "SELECT 1"));
//   if (!PgSucceeded(r.get())) return PgStatus(kPrefix, "cannot select", r.get());
#ifndef PIICRYPT_SRC_DB_POSTGRES_H_
#define PIICRYPT_SRC_DB_POSTGRES_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace piicrypt::internal {

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;

// Connects to `uri` (a libpq URI or key=value string) with client_encoding UTF8; the URI
// may set application_name and connect_timeout (seconds), else those given here apply.
// Fails as PgConnectError says.
absl::StatusOr<PgConnPtr> PgConnect(const std::string& uri, const char* application_name,
                                    int64_t connect_timeout_seconds, absl::string_view prefix);

// The failure of PQconnectdb* on `conninfo` (a URI or key=value string; `conn` may be
// null). kInvalidArgument if `conninfo` does not parse (nothing of it is shown: it may hold
// the password); otherwise kUnavailable, or kPermissionDenied when the server refused the
// credentials. `prefix` starts the message ("token store (postgresql): ").
absl::Status PgConnectError(absl::string_view prefix, const std::string& conninfo,
                            const PGconn* conn);

// "<generic meaning> (SQLSTATE xxxxx)" for a failed statement's result, followed by the
// table, column and constraint the server names, if any; "the connection failed" when
// `result` is null or carries no SQLSTATE.
std::string PgResultMessage(const PGresult* result);

// True if `result` is a statement's success (PGRES_COMMAND_OK or PGRES_TUPLES_OK).
bool PgSucceeded(const PGresult* result);

// The status of a failed statement, "<prefix><what>: <PgResultMessage>", by SQLSTATE:
//   kUnavailable        no SQLSTATE (the connection failed), classes 08, 53, 57, and
//                       55P03 (lock timeout), 25006 (read-only transaction);
//   kAborted            40001 serialization failure, 40P01 deadlock (run it again);
//   kPermissionDenied   class 28, 42501;
//   kAlreadyExists      23505 unique violation;
//   kInvalidArgument    42P01, 42703, 42804, 22P02: the statement does not fit the
//                       caller's table (no such table or column, a type mismatch);
//   kInternal           anything else.
absl::Status PgStatus(absl::string_view prefix, absl::string_view what, const PGresult* result);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_POSTGRES_H_
