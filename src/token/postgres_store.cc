// The PostgreSQL token store: libpq, a pool of connections, statements prepared once per
// connection, and a deadline on every answer so that a server that is down or stalled
// gives kUnavailable instead of a hang.
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/token_store.h"
#include "src/db/connection_pool.h"
#include "src/db/postgres.h"
#include "src/db/schema_version.h"
#include "src/token/store_sql.h"
#include "src/token/stores.h"

namespace piicrypt::internal {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS piicrypt_schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS piicrypt_tokens ("
    "  field TEXT NOT NULL,"
    "  token TEXT COLLATE \"C\" NOT NULL,"
    "  ciphertext TEXT NOT NULL,"
    "  lookup TEXT,"
    "  expires_at BIGINT,"
    "  PRIMARY KEY (field, token));"
    "CREATE UNIQUE INDEX IF NOT EXISTS piicrypt_tokens_lookup"
    "  ON piicrypt_tokens (field, lookup) WHERE lookup IS NOT NULL;";

// Serializes schema creation between processes: pg_advisory_xact_lock on "piicrypt".
constexpr char kSchemaLock[] = "SELECT pg_advisory_xact_lock(8100112548009865332)";

struct Prepared {
  const char* name;
  const char* sql;
  int params;
};
constexpr Prepared kStatements[kStatementCount] = {
    {"piicrypt_insert",
     "INSERT INTO piicrypt_tokens (field, token, ciphertext, lookup, expires_at) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
     5},
    {"piicrypt_find",
     "SELECT token, ciphertext, expires_at FROM piicrypt_tokens WHERE field = $1 AND token = $2",
     2},
    {"piicrypt_find_lookup",
     "SELECT token, ciphertext, expires_at FROM piicrypt_tokens WHERE field = $1 AND lookup = $2",
     2},
    {"piicrypt_delete", "DELETE FROM piicrypt_tokens WHERE field = $1 AND token = $2", 2},
    {"piicrypt_list",
     "SELECT token, ciphertext, expires_at FROM piicrypt_tokens WHERE field = $1 AND token > $2 "
     "ORDER BY token LIMIT $3",
     3},
    {"piicrypt_delete_expired",
     "DELETE FROM piicrypt_tokens WHERE field = $1 AND expires_at IS NOT NULL AND "
     "expires_at <= $2",
     2},
    // $4: NULL keeps the lookup, '' removes it, anything else replaces an existing one.
    {"piicrypt_replace",
     "UPDATE piicrypt_tokens SET ciphertext = $3, lookup = CASE WHEN $4::text IS NULL OR "
     "lookup IS NULL THEN lookup WHEN $4::text = '' THEN NULL ELSE $4::text END "
     "WHERE field = $1 AND token = $2 AND ciphertext = $5",
     5},
};

constexpr char kPrefix[] = "token store (postgresql): ";

struct Connection {
  PgConnPtr conn;
  bool broken = false;  // the connection failed; never reuse it
};

// An error of one call: its status, and whether the connection itself failed (then the
// call may be retried once on a fresh connection).
struct CallError {
  absl::Status status;
  bool connection_failed = false;
};

// Marks `c` broken and says so in `error`: the call may be retried on a fresh connection.
absl::Status ConnectionLost(Connection& c, CallError& error) {
  c.broken = true;
  error = {absl::UnavailableError(absl::StrCat(kPrefix, "connection lost")), true};
  return error.status;
}

// Waits until the answer to what was sent on `c` is complete, or the deadline passes.
bool WaitForAnswer(Connection& c, absl::Time deadline, CallError& error) {
  while (PQisBusy(c.conn.get())) {
    const int64_t remaining = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (remaining <= 0) {
      c.broken = true;  // the answer may still come: this connection is out of step
      error = {absl::UnavailableError(absl::StrCat(kPrefix, "no answer in time")), false};
      return false;
    }
    pollfd fd{PQsocket(c.conn.get()), POLLIN, 0};
    const int rc = poll(&fd, 1, static_cast<int>(std::min<int64_t>(remaining, 1 << 30)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (rc > 0 && !PQconsumeInput(c.conn.get()))) {
      ConnectionLost(c, error).IgnoreError();
      return false;
    }
  }
  return true;
}

// Collects every result of a sent command; returns the last, or an error if any failed.
absl::StatusOr<PgResultPtr> CollectResults(Connection& c, absl::string_view what,
                                           CallError& error) {
  PgResultPtr last;
  absl::Status failed;
  while (PGresult* raw = PQgetResult(c.conn.get())) {
    PgResultPtr r(raw);
    if (failed.ok() && !PgSucceeded(r.get())) {
      const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
      if (PQstatus(c.conn.get()) != CONNECTION_OK || state == nullptr) {
        failed = ConnectionLost(c, error);
      } else {
        failed = PgStatus(kPrefix, what, r.get());
        error = {failed, false};
      }
    }
    last = std::move(r);
  }
  if (!failed.ok()) return failed;
  if (PQstatus(c.conn.get()) != CONNECTION_OK) return ConnectionLost(c, error);
  return last;
}

// Runs SQL text (possibly several statements) with a deadline.
absl::StatusOr<PgResultPtr> RunSql(Connection& c, const char* sql, absl::Time deadline,
                                   absl::string_view what, CallError& error) {
  if (!PQsendQuery(c.conn.get(), sql)) return ConnectionLost(c, error);
  if (!WaitForAnswer(c, deadline, error)) return error.status;
  return CollectResults(c, what, error);
}

absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& uri,
                                                    const TokenStoreOptions& options) {
  const int64_t timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(options.timeout));
  // libpq counts connect_timeout in whole seconds, at least 2.
  const int64_t connect_timeout = std::max<int64_t>(2, (timeout_ms + 999) / 1000);
  auto c = std::make_unique<Connection>();
  PIICRYPT_ASSIGN_OR_RETURN(c->conn, PgConnect(uri, "piicrypt", connect_timeout, kPrefix));
  const absl::Time deadline = absl::Now() + options.timeout;
  CallError error;
  // The server gives up on a statement when the client would.
  const std::string settings =
      absl::StrCat("SET statement_timeout = ", timeout_ms, "; SET lock_timeout = ", timeout_ms,
                   "; SET client_min_messages = warning");
  PIICRYPT_RETURN_IF_ERROR(
      RunSql(*c, settings.c_str(), deadline, "cannot configure", error).status());
  return c;
}

absl::Status PrepareAll(Connection& c, absl::Time deadline) {
  for (const Prepared& p : kStatements) {
    CallError error;
    if (!PQsendPrepare(c.conn.get(), p.name, p.sql, p.params, nullptr)) {
      return ConnectionLost(c, error);
    }
    if (!WaitForAnswer(c, deadline, error)) return error.status;
    PIICRYPT_RETURN_IF_ERROR(CollectResults(c, "cannot prepare a statement", error).status());
  }
  return absl::OkStatus();
}

// A connection with its statements prepared, for the pool.
absl::StatusOr<std::unique_ptr<Connection>> ConnectPrepared(const std::string& uri,
                                                            const TokenStoreOptions& options,
                                                            absl::Time deadline) {
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connect(uri, options));
  PIICRYPT_RETURN_IF_ERROR(PrepareAll(*c, deadline));
  return c;
}

absl::Status InitSchema(Connection& c, absl::Time deadline) {
  CallError error;
  PIICRYPT_RETURN_IF_ERROR(RunSql(c, "BEGIN", deadline, "cannot begin", error).status());
  absl::Status status = [&]() -> absl::Status {
    PIICRYPT_RETURN_IF_ERROR(
        RunSql(c, kSchemaLock, deadline, "cannot lock the schema", error).status());
    PIICRYPT_RETURN_IF_ERROR(
        RunSql(c, kSchema, deadline, "cannot create the schema", error).status());
    PIICRYPT_ASSIGN_OR_RETURN(
        PgResultPtr r, RunSql(c, "SELECT max(version) FROM piicrypt_schema_version", deadline,
                              "cannot read the schema version", error));
    if (r == nullptr || PQntuples(r.get()) != 1) {
      return absl::InternalError(absl::StrCat(kPrefix, "cannot read the schema version"));
    }
    int64_t version = 0;
    if (!PQgetisnull(r.get(), 0, 0) && !absl::SimpleAtoi(PQgetvalue(r.get(), 0, 0), &version)) {
      return absl::DataLossError(absl::StrCat(kPrefix, "unreadable schema version"));
    }
    PIICRYPT_ASSIGN_OR_RETURN(const bool write,
                              MustWriteSchemaVersion(kPrefix, version, kTokenSchemaVersion));
    if (!write) return absl::OkStatus();
    const std::string insert = SchemaVersionInsert("piicrypt_schema_version", kTokenSchemaVersion);
    return RunSql(c, insert.c_str(), deadline, "cannot write the schema version", error).status();
  }();
  if (!status.ok()) {
    if (!c.broken) RunSql(c, "ROLLBACK", deadline, "cannot roll back", error).IgnoreError();
    return status;
  }
  return RunSql(c, "COMMIT", deadline, "cannot commit the schema", error).status();
}

// A row as it is stored; an expiry time that does not parse is kDataLoss, never 0.
absl::StatusOr<TokenEntry> ReadEntry(const PGresult* r, int row) {
  TokenEntry entry;
  entry.token.assign(PQgetvalue(r, row, 0), PQgetlength(r, row, 0));
  entry.ciphertext.assign(PQgetvalue(r, row, 1), PQgetlength(r, row, 1));
  if (!PQgetisnull(r, row, 2) &&
      !absl::SimpleAtoi(PQgetvalue(r, row, 2), &entry.expires_unix_seconds)) {
    return absl::DataLossError(absl::StrCat(kPrefix, "an expiry time is not an integer"));
  }
  return entry;
}

int64_t AffectedRows(const PGresult* r) {
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(const_cast<PGresult*>(r)), &n) ? n : 0;
}

class PostgresTokenStore : public TokenStore {
 public:
  PostgresTokenStore(std::string uri, const TokenStoreOptions& options,
                     std::unique_ptr<Connection> first)
      : timeout_(options.timeout),
        pool_(
            options.max_connections, absl::StrCat(kPrefix, "no free connection in time"),
            [uri = std::move(uri), options](absl::Time deadline) {
              return ConnectPrepared(uri, options, deadline);
            },
            Reusable, std::move(first)) {}

  absl::StatusOr<InsertOutcome> Insert(absl::string_view field, const TokenEntry& entry,
                                       absl::string_view lookup) const override {
    const std::string expires = absl::StrCat(entry.expires_unix_seconds);
    const std::string lookup_text(lookup);
    const std::string field_text(field);
    PIICRYPT_ASSIGN_OR_RETURN(
        PgResultPtr r, Run(kInsert,
                           {field_text.c_str(), entry.token.c_str(), entry.ciphertext.c_str(),
                            lookup.empty() ? nullptr : lookup_text.c_str(),
                            entry.expires_unix_seconds == 0 ? nullptr : expires.c_str()},
                           "cannot insert a token"));
    if (AffectedRows(r.get()) == 1) return InsertOutcome::kInserted;
    // A unique constraint held: the value's lookup, or else the token.
    if (!lookup.empty()) {
      PIICRYPT_ASSIGN_OR_RETURN(std::optional<TokenEntry> existing, FindByLookup(field, lookup));
      if (existing.has_value()) return InsertOutcome::kLookupTaken;
    }
    return InsertOutcome::kTokenTaken;
  }

  absl::StatusOr<std::optional<TokenEntry>> Find(absl::string_view field,
                                                 absl::string_view token) const override {
    return QueryOne(kFind, field, token);
  }

  absl::StatusOr<std::optional<TokenEntry>> FindByLookup(absl::string_view field,
                                                         absl::string_view lookup) const override {
    return QueryOne(kFindByLookup, field, lookup);
  }

  absl::StatusOr<bool> Delete(absl::string_view field, absl::string_view token) const override {
    const std::string f(field), t(token);
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                              Run(kDelete, {f.c_str(), t.c_str()}, "cannot delete a token"));
    return AffectedRows(r.get()) > 0;
  }

  absl::StatusOr<std::vector<TokenEntry>> List(absl::string_view field, absl::string_view after,
                                               size_t limit) const override {
    const std::string f(field), a(after), l = absl::StrCat(limit);
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                              Run(kList, {f.c_str(), a.c_str(), l.c_str()}, "cannot list tokens"));
    std::vector<TokenEntry> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      PIICRYPT_ASSIGN_OR_RETURN(TokenEntry entry, ReadEntry(r.get(), i));
      out.push_back(std::move(entry));
    }
    return out;
  }

  absl::StatusOr<ReplaceOutcome> Replace(absl::string_view field, absl::string_view token,
                                         absl::string_view expected_ciphertext,
                                         absl::string_view ciphertext,
                                         std::optional<absl::string_view> lookup) const override {
    const std::string f(field), t(token), expected(expected_ciphertext), c(ciphertext),
        l(lookup.value_or(""));
    absl::StatusOr<PgResultPtr> r =
        Run(kReplace,
            {f.c_str(), t.c_str(), c.c_str(), lookup.has_value() ? l.c_str() : nullptr,
             expected.c_str()},
            "cannot re-encrypt a token");
    if (r.status().code() == absl::StatusCode::kAlreadyExists) return ReplaceOutcome::kLookupTaken;
    if (!r.ok()) return r.status();
    return AffectedRows(r->get()) > 0 ? ReplaceOutcome::kReplaced : ReplaceOutcome::kChanged;
  }

  absl::StatusOr<int64_t> DeleteExpired(absl::string_view field,
                                        int64_t now_unix_seconds) const override {
    const std::string f(field), now = absl::StrCat(now_unix_seconds);
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r, Run(kDeleteExpired, {f.c_str(), now.c_str()},
                                                 "cannot delete expired tokens"));
    return AffectedRows(r.get());
  }

 private:
  absl::StatusOr<std::optional<TokenEntry>> QueryOne(Statement which, absl::string_view field,
                                                     absl::string_view key) const {
    const std::string f(field), k(key);
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                              Run(which, {f.c_str(), k.c_str()}, "cannot read a token"));
    if (PQntuples(r.get()) == 0) return std::optional<TokenEntry>();
    PIICRYPT_ASSIGN_OR_RETURN(TokenEntry entry, ReadEntry(r.get(), 0));
    return std::optional<TokenEntry>(std::move(entry));
  }

  // Runs a prepared statement. A connection that turns out dead (say, the server was
  // restarted since it was pooled) is dropped with every idle one, and the statement is
  // sent once more on a fresh connection.
  absl::StatusOr<PgResultPtr> Run(Statement which, std::vector<const char*> params,
                                  absl::string_view what) const {
    const absl::Time deadline = absl::Now() + timeout_;
    for (int round = 0; round < 2; ++round) {
      CallError error;
      absl::StatusOr<PgResultPtr> result;
      {
        PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire(deadline));
        result = RunOn(*c, which, params, deadline, what, error);
      }  // the lease goes back to the pool, or closes if it broke
      if (result.ok() || !error.connection_failed || round > 0) return result;
      pool_.DropIdle();
    }
    return absl::UnavailableError(absl::StrCat(kPrefix, "connection lost"));
  }

  static absl::StatusOr<PgResultPtr> RunOn(Connection& c, Statement which,
                                           const std::vector<const char*>& params,
                                           absl::Time deadline, absl::string_view what,
                                           CallError& error) {
    if (!PQsendQueryPrepared(c.conn.get(), kStatements[which].name, static_cast<int>(params.size()),
                             params.data(), nullptr, nullptr, 0)) {
      return ConnectionLost(c, error);
    }
    if (!WaitForAnswer(c, deadline, error)) return error.status;
    return CollectResults(c, what, error);
  }

  // Only a connection that works and is outside any transaction serves again.
  static bool Reusable(const Connection& c) {
    return !c.broken && PQstatus(c.conn.get()) == CONNECTION_OK &&
           PQtransactionStatus(c.conn.get()) == PQTRANS_IDLE;
  }

  using Pool = ConnectionPool<Connection>;
  const absl::Duration timeout_;
  Pool pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenStore>> OpenPostgresTokenStore(
    const std::string& uri, const TokenStoreOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connect(uri, options));
  PIICRYPT_RETURN_IF_ERROR(InitSchema(*c, deadline));
  PIICRYPT_RETURN_IF_ERROR(PrepareAll(*c, deadline));
  return std::make_unique<PostgresTokenStore>(uri, options, std::move(c));
}

}  // namespace piicrypt::internal
