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

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/token_store.h"
#include "src/keyset/keyset_file.h"
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

enum Statement {
  kInsert,
  kFind,
  kFindByLookup,
  kDelete,
  kList,
  kDeleteExpired,
  kReplace,
  kStatementCount
};

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

// Maps an SQLite result code to a canonical status. sqlite3_errstr names the code only
// (never SQL text or values).
absl::Status SqliteError(int code, absl::string_view what) {
  const std::string message =
      absl::StrCat("token store (sqlite): ", what, ": ", sqlite3_errstr(code));
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
    default:
      return absl::InternalError(message);
  }
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct Connection {
  ~Connection() {
    for (StmtPtr& s : stmts) s.reset();
    sqlite3_close_v2(db);
  }
  sqlite3* db = nullptr;
  StmtPtr stmts[kStatementCount];
};

absl::Status Exec(sqlite3* db, const char* sql, absl::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(rc, what);
}

absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& path,
                                                    const TokenStoreOptions& options) {
  auto conn = std::make_unique<Connection>();
  const int rc = sqlite3_open_v2(path.c_str(), &conn->db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, "cannot open the database file");
  sqlite3_extended_result_codes(conn->db, 1);
  const int64_t ms = absl::ToInt64Milliseconds(options.timeout);
  sqlite3_busy_timeout(conn->db, static_cast<int>(std::min<int64_t>(
                                     std::max<int64_t>(ms, 1), std::numeric_limits<int>::max())));
  // WAL: readers never block writers; FULL: a token that Tokenize returned survives a
  // power loss (a lost token would make its value unrecoverable).
  PIICRYPT_RETURN_IF_ERROR(Exec(conn->db, "PRAGMA journal_mode=WAL", "cannot enable WAL"));
  PIICRYPT_RETURN_IF_ERROR(Exec(conn->db, "PRAGMA synchronous=FULL", "cannot set synchronous"));
  return conn;
}

absl::Status PrepareAll(Connection& conn) {
  for (int i = 0; i < kStatementCount; ++i) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v3(conn.db, kStatements[i], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, "cannot prepare a statement");
    conn.stmts[i].reset(stmt);
  }
  return absl::OkStatus();
}

// Creates the schema, or checks the version of an existing one, in one write transaction.
absl::Status InitSchema(sqlite3* db) {
  PIICRYPT_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "cannot lock the database"));
  absl::Status status = [&]() -> absl::Status {
    PIICRYPT_RETURN_IF_ERROR(Exec(db, kSchema, "cannot create the schema"));
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, "SELECT MAX(version) FROM piicrypt_schema_version", -1, &raw,
                                nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, "cannot read the schema version");
    StmtPtr stmt(raw);
    rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return SqliteError(rc, "cannot read the schema version");
    const bool empty = sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL;
    const int64_t version = empty ? 0 : sqlite3_column_int64(stmt.get(), 0);
    if (version > kTokenSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat("token store (sqlite): schema version ",
                                                        version, " is newer than this library's (",
                                                        kTokenSchemaVersion, ")"));
    }
    if (version == kTokenSchemaVersion) return absl::OkStatus();
    return Exec(db,
                absl::StrCat("INSERT INTO piicrypt_schema_version (version) VALUES (",
                             kTokenSchemaVersion, ")")
                    .c_str(),
                "cannot write the schema version");
  }();
  if (!status.ok()) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return status;
  }
  return Exec(db, "COMMIT", "cannot commit the schema");
}

class SqliteTokenStore : public TokenStore {
 public:
  SqliteTokenStore(std::string path, const TokenStoreOptions& options,
                   std::unique_ptr<Connection> first)
      : path_(std::move(path)), options_(options) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }

  absl::StatusOr<InsertOutcome> Insert(absl::string_view field, const TokenEntry& entry,
                                       absl::string_view lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kInsert].get();
    BindText(stmt, 1, field);
    BindText(stmt, 2, entry.token);
    BindText(stmt, 3, entry.ciphertext);
    if (lookup.empty()) {
      sqlite3_bind_null(stmt, 4);
    } else {
      BindText(stmt, 4, lookup);
    }
    if (entry.expires_unix_seconds == 0) {
      sqlite3_bind_null(stmt, 5);
    } else {
      sqlite3_bind_int64(stmt, 5, entry.expires_unix_seconds);
    }
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc == SQLITE_DONE) return InsertOutcome::kInserted;
    if ((rc & 0xff) != SQLITE_CONSTRAINT) return SqliteError(rc, "cannot insert a token");
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
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    return Query(*lease, kFind, field, token);
  }

  absl::StatusOr<std::optional<TokenEntry>> FindByLookup(absl::string_view field,
                                                         absl::string_view lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    return Query(*lease, kFindByLookup, field, lookup);
  }

  absl::StatusOr<bool> Delete(absl::string_view field, absl::string_view token) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kDelete].get();
    BindText(stmt, 1, field);
    BindText(stmt, 2, token);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return SqliteError(rc, "cannot delete a token");
    return sqlite3_changes(lease->db) > 0;
  }

  absl::StatusOr<std::vector<TokenEntry>> List(absl::string_view field, absl::string_view after,
                                               size_t limit) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kList].get();
    BindText(stmt, 1, field);
    BindText(stmt, 2, after);
    sqlite3_bind_int64(
        stmt, 3, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int>::max())));
    std::vector<TokenEntry> out;
    absl::Status unreadable;
    int rc;
    while (unreadable.ok() && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      absl::StatusOr<TokenEntry> entry = ReadEntry(stmt);
      if (entry.ok()) {
        out.push_back(*std::move(entry));
      } else {
        unreadable = entry.status();
      }
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!unreadable.ok()) return unreadable;
    if (rc != SQLITE_DONE) return SqliteError(rc, "cannot list tokens");
    return out;
  }

  absl::StatusOr<ReplaceOutcome> Replace(absl::string_view field, absl::string_view token,
                                         absl::string_view expected_ciphertext,
                                         absl::string_view ciphertext,
                                         std::optional<absl::string_view> lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    return ReplaceOne(*lease, field, token, expected_ciphertext, ciphertext, lookup);
  }

  absl::StatusOr<std::vector<ReplaceOutcome>> ReplaceAll(
      absl::string_view field, const std::vector<Replacement>& replacements) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    PIICRYPT_RETURN_IF_ERROR(Exec(lease->db, "BEGIN IMMEDIATE", "cannot lock the database"));
    std::vector<ReplaceOutcome> outcomes;
    outcomes.reserve(replacements.size());
    for (const Replacement& r : replacements) {
      absl::StatusOr<ReplaceOutcome> outcome =
          ReplaceOne(*lease, field, r.token, r.expected_ciphertext, r.ciphertext, LookupView(r));
      if (!outcome.ok()) {
        sqlite3_exec(lease->db, "ROLLBACK", nullptr, nullptr, nullptr);
        return outcome.status();
      }
      outcomes.push_back(*outcome);
    }
    if (absl::Status s = Exec(lease->db, "COMMIT", "cannot commit re-encrypted tokens"); !s.ok()) {
      sqlite3_exec(lease->db, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    return outcomes;
  }

  absl::StatusOr<int64_t> DeleteExpired(absl::string_view field,
                                        int64_t now_unix_seconds) const override {
    PIICRYPT_ASSIGN_OR_RETURN(Lease lease, Acquire());
    sqlite3_stmt* stmt = lease->stmts[kDeleteExpired].get();
    BindText(stmt, 1, field);
    sqlite3_bind_int64(stmt, 2, now_unix_seconds);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return SqliteError(rc, "cannot delete expired tokens");
    return static_cast<int64_t>(sqlite3_changes64(lease->db));
  }

 private:
  // One compare-and-set UPDATE on `conn` (inside or outside a transaction). A constraint
  // failure ends only this statement, not a surrounding transaction.
  static absl::StatusOr<ReplaceOutcome> ReplaceOne(Connection& conn, absl::string_view field,
                                                   absl::string_view token,
                                                   absl::string_view expected_ciphertext,
                                                   absl::string_view ciphertext,
                                                   std::optional<absl::string_view> lookup) {
    sqlite3_stmt* stmt = conn.stmts[kReplace].get();
    BindText(stmt, 1, field);
    BindText(stmt, 2, token);
    BindText(stmt, 3, ciphertext);
    if (lookup.has_value()) {
      BindText(stmt, 4, *lookup);
    } else {
      sqlite3_bind_null(stmt, 4);
    }
    BindText(stmt, 5, expected_ciphertext);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    // The token is the key and stays: only the lookup's unique index can object.
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return ReplaceOutcome::kLookupTaken;
    if (rc != SQLITE_DONE) return SqliteError(rc, "cannot re-encrypt a token");
    return sqlite3_changes(conn.db) > 0 ? ReplaceOutcome::kReplaced : ReplaceOutcome::kChanged;
  }

  // A connection taken from the pool; given back on destruction.
  class Lease {
   public:
    Lease(const SqliteTokenStore* store, std::unique_ptr<Connection> conn)
        : store_(store), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) store_->Release(std::move(conn_));
    }
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }

   private:
    const SqliteTokenStore* store_;
    std::unique_ptr<Connection> conn_;
  };

  absl::StatusOr<Lease> Acquire() const {
    {
      absl::MutexLock lock(&mu_);
      auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.max_connections;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&available), options_.timeout)) {
        return absl::UnavailableError("token store (sqlite): no free connection in time");
      }
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connect(path_, options_);
    if (conn.ok()) {
      absl::Status prepared = PrepareAll(**conn);
      if (!prepared.ok()) conn = prepared;
    }
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return conn.status();
    }
    return Lease(this, *std::move(conn));
  }

  void Release(std::unique_ptr<Connection> conn) const {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
  }

  static void BindText(sqlite3_stmt* stmt, int index, absl::string_view text) {
    sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  }

  static std::string ColumnText(sqlite3_stmt* stmt, int column) {
    const unsigned char* text = sqlite3_column_text(stmt, column);
    const int size = sqlite3_column_bytes(stmt, column);
    return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
  }

  // A row as it is stored; a column of another type than the schema's (SQLite lets any
  // column hold any type) is kDataLoss, never converted.
  static absl::StatusOr<TokenEntry> ReadEntry(sqlite3_stmt* stmt) {
    if (sqlite3_column_type(stmt, 0) != SQLITE_TEXT ||
        sqlite3_column_type(stmt, 1) != SQLITE_TEXT) {
      return absl::DataLossError("token store (sqlite): a token or ciphertext is not text");
    }
    const int expires_type = sqlite3_column_type(stmt, 2);
    if (expires_type != SQLITE_NULL && expires_type != SQLITE_INTEGER) {
      return absl::DataLossError("token store (sqlite): an expiry time is not an integer");
    }
    TokenEntry entry;
    entry.token = ColumnText(stmt, 0);
    entry.ciphertext = ColumnText(stmt, 1);
    entry.expires_unix_seconds = expires_type == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, 2);
    return entry;
  }

  static absl::StatusOr<std::optional<TokenEntry>> Query(Connection& conn, Statement which,
                                                         absl::string_view field,
                                                         absl::string_view key) {
    sqlite3_stmt* stmt = conn.stmts[which].get();
    BindText(stmt, 1, field);
    BindText(stmt, 2, key);
    std::optional<TokenEntry> out;
    absl::Status unreadable;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      absl::StatusOr<TokenEntry> entry = ReadEntry(stmt);
      if (entry.ok()) {
        out = *std::move(entry);
        rc = sqlite3_step(stmt);
      } else {
        unreadable = entry.status();
      }
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!unreadable.ok()) return unreadable;
    if (rc != SQLITE_DONE) return SqliteError(rc, "cannot read a token");
    return out;
  }

  const std::string path_;
  const TokenStoreOptions options_;
  mutable absl::Mutex mu_;
  mutable std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  mutable int open_ ABSL_GUARDED_BY(mu_) = 0;
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
