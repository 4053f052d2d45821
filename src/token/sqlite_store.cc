// The SQLite token store: one file, WAL mode, a pool of connections with prepared
// statements. Safe for many threads (each connection is used by one thread at a time) and
// many processes (SQLite's file locks, waited for up to the busy timeout).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/token_store.h"
#include "src/db/connection_pool.h"
#include "src/db/schema_version.h"
#include "src/db/sqlite.h"
#include "src/secrets/secret_file.h"
#include "src/token/store_sql.h"
#include "src/token/stores.h"

namespace piicrypt::internal {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS piicrypt_schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS piicrypt_tokens ("
    "  field TEXT NOT NULL,"
    "  token TEXT NOT NULL,"
    "  ciphertext TEXT NOT NULL,"
    "  lookup TEXT,"
    "  expires_at INTEGER,"
    "  PRIMARY KEY (field, token)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS piicrypt_tokens_lookup"
    "  ON piicrypt_tokens (field, lookup) WHERE lookup IS NOT NULL;";

constexpr const char* kStatements[kStatementCount] = {
    "INSERT INTO piicrypt_tokens (field, token, ciphertext, lookup, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    "SELECT token, ciphertext, expires_at FROM piicrypt_tokens WHERE field = ?1 AND token = ?2",
    "SELECT token, ciphertext, expires_at FROM piicrypt_tokens WHERE field = ?1 AND lookup = ?2",
    "DELETE FROM piicrypt_tokens WHERE field = ?1 AND token = ?2",
    "SELECT token, ciphertext, expires_at FROM piicrypt_tokens WHERE field = ?1 AND token > ?2 "
    "ORDER BY token LIMIT ?3",
    "DELETE FROM piicrypt_tokens WHERE field = ?1 AND expires_at IS NOT NULL AND "
    "expires_at <= ?2",
    // ?4: NULL keeps the lookup, '' removes it, anything else replaces an existing one.
    "UPDATE piicrypt_tokens SET ciphertext = ?3, lookup = CASE WHEN ?4 IS NULL OR "
    "lookup IS NULL THEN lookup WHEN ?4 = '' THEN NULL ELSE ?4 END "
    "WHERE field = ?1 AND token = ?2 AND ciphertext = ?5",
};

constexpr char kPrefix[] = "token store (sqlite): ";

struct Connection {
  explicit Connection(SqliteDb opened) : db(std::move(opened)) {}
  SqliteDb db;
  SqliteStmtPtr stmts[kStatementCount];  // finalized before `db` closes
};

absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& path,
                                                    const TokenStoreOptions& options) {
  PIICRYPT_ASSIGN_OR_RETURN(SqliteDb db,
                            SqliteDb::Open(path, SQLITE_OPEN_READWRITE, options.timeout, kPrefix));
  // WAL: readers never block writers; FULL: a token that Tokenize returned survives a
  // power loss (a lost token would make its value unrecoverable).
  PIICRYPT_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL", "cannot enable WAL"));
  PIICRYPT_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL", "cannot set synchronous"));
  return std::make_unique<Connection>(std::move(db));
}

absl::Status PrepareAll(Connection& conn) {
  for (int i = 0; i < kStatementCount; ++i) {
    PIICRYPT_ASSIGN_OR_RETURN(conn.stmts[i],
                              conn.db.Prepare(kStatements[i], SQLITE_PREPARE_PERSISTENT));
  }
  return absl::OkStatus();
}

// A connection with its statements prepared, for the pool.
absl::StatusOr<std::unique_ptr<Connection>> ConnectPrepared(const std::string& path,
                                                            const TokenStoreOptions& options) {
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connect(path, options));
  PIICRYPT_RETURN_IF_ERROR(PrepareAll(*conn));
  return conn;
}

// Creates the schema, or checks the version of an existing one, in one write transaction.
absl::Status InitSchema(const SqliteDb& db) {
  PIICRYPT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "cannot lock the database"));
  absl::Status status = [&]() -> absl::Status {
    PIICRYPT_RETURN_IF_ERROR(db.Exec(kSchema, "cannot create the schema"));
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr stmt,
                              db.Prepare("SELECT MAX(version) FROM piicrypt_schema_version"));
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return db.Error(rc, "cannot read the schema version");
    const bool empty = sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL;
    const int64_t version = empty ? 0 : sqlite3_column_int64(stmt.get(), 0);
    PIICRYPT_ASSIGN_OR_RETURN(const bool write,
                              MustWriteSchemaVersion(kPrefix, version, kTokenSchemaVersion));
    if (!write) return absl::OkStatus();
    return db.Exec(SchemaVersionInsert("piicrypt_schema_version", kTokenSchemaVersion),
                   "cannot write the schema version");
  }();
  if (!status.ok()) {
    db.Rollback();
    return status;
  }
  return db.Exec("COMMIT", "cannot commit the schema");
}

class SqliteTokenStore : public TokenStore {
 public:
  SqliteTokenStore(std::string path, const TokenStoreOptions& options,
                   std::unique_ptr<Connection> first)
      : timeout_(options.timeout),
        pool_(
            options.max_connections, absl::StrCat(kPrefix, "no free connection in time"),
            [path = std::move(path), options](absl::Time) {
              return ConnectPrepared(path, options);
            },
            /*reusable=*/nullptr, std::move(first)) {}

  absl::StatusOr<InsertOutcome> Insert(absl::string_view field, const TokenEntry& entry,
                                       absl::string_view lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    int rc;
    {
      sqlite3_stmt* stmt = lease->stmts[kInsert].get();
      SqliteReset reset(stmt);
      SqliteBindText(stmt, 1, field);
      SqliteBindText(stmt, 2, entry.token);
      SqliteBindText(stmt, 3, entry.ciphertext);
      if (lookup.empty()) {
        sqlite3_bind_null(stmt, 4);
      } else {
        SqliteBindText(stmt, 4, lookup);
      }
      if (entry.expires_unix_seconds == 0) {
        sqlite3_bind_null(stmt, 5);
      } else {
        sqlite3_bind_int64(stmt, 5, entry.expires_unix_seconds);
      }
      rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) return InsertOutcome::kInserted;
    if ((rc & 0xff) != SQLITE_CONSTRAINT) return lease->db.Error(rc, "cannot insert a token");
    // Which constraint: if the value's lookup is taken, another writer tokenized it first.
    if (!lookup.empty()) {
      PIICRYPT_ASSIGN_OR_RETURN(std::optional<TokenEntry> existing,
                                Query(*lease, kFindByLookup, field, lookup));
      if (existing.has_value()) return InsertOutcome::kLookupTaken;
    }
    return InsertOutcome::kTokenTaken;
  }

  absl::StatusOr<std::optional<TokenEntry>> Find(absl::string_view field,
                                                 absl::string_view token) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    return Query(*lease, kFind, field, token);
  }

  absl::StatusOr<std::optional<TokenEntry>> FindByLookup(absl::string_view field,
                                                         absl::string_view lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    return Query(*lease, kFindByLookup, field, lookup);
  }

  absl::StatusOr<bool> Delete(absl::string_view field, absl::string_view token) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kDelete].get();
    SqliteReset reset(stmt);
    SqliteBindText(stmt, 1, field);
    SqliteBindText(stmt, 2, token);
    PIICRYPT_ASSIGN_OR_RETURN(const int64_t deleted,
                              RunDelete(*lease, stmt, "cannot delete a token"));
    return deleted > 0;
  }

  absl::StatusOr<std::vector<TokenEntry>> List(absl::string_view field, absl::string_view after,
                                               size_t limit) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kList].get();
    SqliteReset reset(stmt);
    SqliteBindText(stmt, 1, field);
    SqliteBindText(stmt, 2, after);
    sqlite3_bind_int64(
        stmt, 3, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int>::max())));
    std::vector<TokenEntry> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      PIICRYPT_ASSIGN_OR_RETURN(TokenEntry entry, ReadEntry(stmt));
      out.push_back(std::move(entry));
    }
    if (rc != SQLITE_DONE) return lease->db.Error(rc, "cannot list tokens");
    return out;
  }

  absl::StatusOr<ReplaceOutcome> Replace(absl::string_view field, absl::string_view token,
                                         absl::string_view expected_ciphertext,
                                         absl::string_view ciphertext,
                                         std::optional<absl::string_view> lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    return ReplaceOne(*lease, field, token, expected_ciphertext, ciphertext, lookup);
  }

  absl::StatusOr<std::vector<ReplaceOutcome>> ReplaceAll(
      absl::string_view field, const std::vector<Replacement>& replacements) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    const SqliteDb& db = lease->db;
    PIICRYPT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "cannot lock the database"));
    std::vector<ReplaceOutcome> outcomes;
    outcomes.reserve(replacements.size());
    for (const Replacement& r : replacements) {
      absl::StatusOr<ReplaceOutcome> outcome =
          ReplaceOne(*lease, field, r.token, r.expected_ciphertext, r.ciphertext, LookupView(r));
      if (!outcome.ok()) {
        db.Rollback();
        return outcome.status();
      }
      outcomes.push_back(*outcome);
    }
    if (absl::Status s = db.Exec("COMMIT", "cannot commit re-encrypted tokens"); !s.ok()) {
      db.Rollback();
      return s;
    }
    return outcomes;
  }

  absl::StatusOr<int64_t> DeleteExpired(absl::string_view field,
                                        int64_t now_unix_seconds) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Pool::Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kDeleteExpired].get();
    SqliteReset reset(stmt);
    SqliteBindText(stmt, 1, field);
    sqlite3_bind_int64(stmt, 2, now_unix_seconds);
    return RunDelete(*lease, stmt, "cannot delete expired tokens");
  }

 private:
  using Pool = ConnectionPool<Connection>;

  absl::StatusOr<Pool::Lease> Acquire() const { return pool_.Acquire(absl::Now() + timeout_); }

  // Runs `stmt`, a bound DELETE of `conn`; how many rows it deleted.
  static absl::StatusOr<int64_t> RunDelete(const Connection& conn, sqlite3_stmt* stmt,
                                           absl::string_view what) {
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return conn.db.Error(rc, what);
    return static_cast<int64_t>(sqlite3_changes64(conn.db.get()));
  }

  // One compare-and-set UPDATE on `conn` (inside or outside a transaction). A constraint
  // failure ends only this statement, not a surrounding transaction.
  static absl::StatusOr<ReplaceOutcome> ReplaceOne(Connection& conn, absl::string_view field,
                                                   absl::string_view token,
                                                   absl::string_view expected_ciphertext,
                                                   absl::string_view ciphertext,
                                                   std::optional<absl::string_view> lookup) {
    sqlite3_stmt* stmt = conn.stmts[kReplace].get();
    SqliteReset reset(stmt);
    SqliteBindText(stmt, 1, field);
    SqliteBindText(stmt, 2, token);
    SqliteBindText(stmt, 3, ciphertext);
    if (lookup.has_value()) {
      SqliteBindText(stmt, 4, *lookup);
    } else {
      sqlite3_bind_null(stmt, 4);
    }
    SqliteBindText(stmt, 5, expected_ciphertext);
    const int rc = sqlite3_step(stmt);
    // The token is the key and stays: only the lookup's unique index can object.
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return ReplaceOutcome::kLookupTaken;
    if (rc != SQLITE_DONE) return conn.db.Error(rc, "cannot re-encrypt a token");
    return sqlite3_changes(conn.db.get()) > 0 ? ReplaceOutcome::kReplaced
                                              : ReplaceOutcome::kChanged;
  }

  // A row as it is stored; a column of another type than the schema's (SQLite lets any
  // column hold any type) is kDataLoss, never converted.
  static absl::StatusOr<TokenEntry> ReadEntry(sqlite3_stmt* stmt) {
    if (sqlite3_column_type(stmt, 0) != SQLITE_TEXT ||
        sqlite3_column_type(stmt, 1) != SQLITE_TEXT) {
      return absl::DataLossError(absl::StrCat(kPrefix, "a token or ciphertext is not text"));
    }
    const int expires_type = sqlite3_column_type(stmt, 2);
    if (expires_type != SQLITE_NULL && expires_type != SQLITE_INTEGER) {
      return absl::DataLossError(absl::StrCat(kPrefix, "an expiry time is not an integer"));
    }
    TokenEntry entry;
    entry.token = SqliteColumnText(stmt, 0);
    entry.ciphertext = SqliteColumnText(stmt, 1);
    entry.expires_unix_seconds = expires_type == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, 2);
    return entry;
  }

  static absl::StatusOr<std::optional<TokenEntry>> Query(Connection& conn, Statement which,
                                                         absl::string_view field,
                                                         absl::string_view key) {
    sqlite3_stmt* stmt = conn.stmts[which].get();
    SqliteReset reset(stmt);
    SqliteBindText(stmt, 1, field);
    SqliteBindText(stmt, 2, key);
    std::optional<TokenEntry> out;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      PIICRYPT_ASSIGN_OR_RETURN(out, ReadEntry(stmt));
      rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) return conn.db.Error(rc, "cannot read a token");
    return out;
  }

  const absl::Duration timeout_;
  Pool pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenStore>> OpenSqliteTokenStore(const std::string& path,
                                                                 const TokenStoreOptions& options) {
  // Created with mode 0600 if missing (SQLite gives its -wal and -shm files the same mode);
  // an existing file must be under the rule of secret files (owner, mode, no symlink).
  absl::StatusOr<int> fd = OpenSecretFile(path, O_RDWR | O_CREAT, "token database");
  if (!fd.ok()) {
    // An unsafe file is the operator's to fix; anything else is the store being unavailable.
    const absl::StatusCode code = fd.status().code() == absl::StatusCode::kFailedPrecondition
                                      ? absl::StatusCode::kFailedPrecondition
                                      : absl::StatusCode::kUnavailable;
    return absl::Status(code, absl::StrCat("token store (sqlite): ", fd.status().message()));
  }
  ::close(*fd);
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connect(path, options));
  PIICRYPT_RETURN_IF_ERROR(InitSchema(conn->db));
  PIICRYPT_RETURN_IF_ERROR(PrepareAll(*conn));
  return std::make_unique<SqliteTokenStore>(path, options, std::move(conn));
}

}  // namespace piicrypt::internal
