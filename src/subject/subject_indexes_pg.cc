// ClearSubjectIndexes on PostgreSQL (include/piicrypt/subject_indexes.h), registered by the
// piicrypt::postgres component (src/subject/subject_stores.h). One connection, one
// transaction: the table's columns are checked in the catalog first (so that an unknown
// name is reported by name), then one prepared UPDATE runs per record. Its parameter is
// left untyped, so that the server reads the record in the key column's own type (BIGINT,
// TEXT, UUID...) and the key column's index serves the lookup.
#include <libpq-fe.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_indexes.h"
#include "src/db/postgres.h"
#include "src/subject/subject_stores.h"

namespace piicrypt::internal {
namespace {

constexpr char kPrefix[] = "clear indexes (postgresql): ";

// A row locked by another transaction is waited for this long, then kUnavailable (55P03),
// as SQLite's busy timeout; a statement that runs longer than a minute is cancelled.
constexpr char kSettings[] =
    "SET lock_timeout = 5000; SET statement_timeout = 60000; "
    "SET client_min_messages = warning";

absl::Status Exec(PGconn* conn, const char* sql, absl::string_view what) {
  PgResultPtr r(PQexec(conn, sql));
  if (!PgSucceeded(r.get())) return PgStatus(kPrefix, what, r.get());
  return absl::OkStatus();
}

// kInvalidArgument naming the table or the first column it lacks.
absl::Status CheckColumns(PGconn* conn, const ClearIndexesRequest& request) {
  const std::string table = absl::StrCat("\"", request.table, "\"");
  const char* values[] = {table.c_str()};
  PgResultPtr r(PQexecParams(conn,
                             "SELECT a.attname FROM pg_catalog.pg_attribute a"
                             " WHERE a.attrelid = to_regclass($1)"
                             " AND a.attnum > 0 AND NOT a.attisdropped",
                             1, nullptr, values, nullptr, nullptr, 0));
  if (!PgSucceeded(r.get())) return PgStatus(kPrefix, "cannot read the table's columns", r.get());
  if (PQntuples(r.get()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        kPrefix, "no such table: ", request.table,
        " (PostgreSQL names are matched exactly; unquoted names are stored in lower case)"));
  }
  std::set<std::string> existing;
  for (int i = 0; i < PQntuples(r.get()); ++i) existing.insert(PQgetvalue(r.get(), i, 0));
  std::vector<std::string> wanted = request.columns;
  wanted.push_back(request.key_column);
  for (const std::string& c : wanted) {
    if (existing.count(c) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(kPrefix, "no such column: ", request.table, ".", c));
    }
  }
  return absl::OkStatus();
}

// The body of the transaction: the rows changed.
absl::StatusOr<int64_t> ClearInTransaction(PGconn* conn, const ClearIndexesRequest& request) {
  PIICRYPT_RETURN_IF_ERROR(CheckColumns(conn, request));
  const std::string sql = ClearIndexesSql(request, "$1");
  PgResultPtr prepared(PQprepare(conn, "", sql.c_str(), 1, nullptr));
  if (!PgSucceeded(prepared.get())) {
    return PgStatus(kPrefix, "cannot prepare the update", prepared.get());
  }
  int64_t changed = 0;
  for (const std::string& record : request.records) {
    const char* values[] = {record.c_str()};
    PgResultPtr r(PQexecPrepared(conn, "", 1, values, nullptr, nullptr, 0));
    if (!PgSucceeded(r.get())) return PgStatus(kPrefix, "cannot clear a row's indexes", r.get());
    int64_t rows = 0;
    if (!absl::SimpleAtoi(PQcmdTuples(r.get()), &rows) || rows < 0) {
      return absl::InternalError(absl::StrCat(kPrefix, "the server did not count the rows"));
    }
    changed += rows;
  }
  return changed;
}

}  // namespace

absl::StatusOr<int64_t> ClearPostgresSubjectIndexes(const std::string& uri,
                                                    const ClearIndexesRequest& request) {
  PIICRYPT_ASSIGN_OR_RETURN(PgConnPtr conn, PgConnect(uri, "piicrypt", 10, kPrefix));
  PIICRYPT_RETURN_IF_ERROR(Exec(conn.get(), kSettings, "cannot configure the session"));
  PIICRYPT_RETURN_IF_ERROR(Exec(conn.get(), "BEGIN", "cannot begin a transaction"));
  absl::StatusOr<int64_t> changed = ClearInTransaction(conn.get(), request);
  if (!changed.ok()) {
    PgResultPtr rollback(PQexec(conn.get(), "ROLLBACK"));  // closing the connection would too
    return changed.status();
  }
  PgResultPtr commit(PQexec(conn.get(), "COMMIT"));
  if (!PgSucceeded(commit.get())) return PgStatus(kPrefix, "cannot commit", commit.get());
  // A transaction that failed on the server ends in "ROLLBACK", not an error.
  if (absl::string_view(PQcmdStatus(commit.get())) != "COMMIT") {
    return absl::InternalError(absl::StrCat(kPrefix, "the transaction was rolled back"));
  }
  return *changed;
}

}  // namespace piicrypt::internal
