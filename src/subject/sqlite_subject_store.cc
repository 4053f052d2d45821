// The SQLite subject key store: one file, WAL mode, one connection per store object
// (SQLite serializes writers anyway; readers of other processes are not blocked), and
// secure deletion: a forgotten subject's wrapped key is overwritten in the file and the
// write-ahead log is truncated after every delete, so the live file keeps no copy of it.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
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
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_key_store.h"
#include "src/db/schema_version.h"
#include "src/db/sqlite.h"
#include "src/secrets/secret_file.h"
#include "src/subject/subject_stores.h"

namespace piicrypt::internal {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS piicrypt_subject_schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS piicrypt_subject_keys ("
    "  lookup TEXT NOT NULL PRIMARY KEY,"
    "  key_id INTEGER NOT NULL,"
    "  wrapped TEXT NOT NULL) WITHOUT ROWID;";

constexpr char kPrefix[] = "subject key store (sqlite): ";

// A column that must be TEXT; kDataLoss for anything else.
absl::StatusOr<std::string> TextColumn(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) != SQLITE_TEXT) {
    return absl::DataLossError(absl::StrCat(kPrefix, "a row is malformed"));
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

// A column that must be an INTEGER in 0..2^32-1; kDataLoss for anything else.
absl::StatusOr<uint32_t> U32Column(sqlite3_stmt* stmt, int column) {
  const int64_t v = sqlite3_column_int64(stmt, column);
  if (sqlite3_column_type(stmt, column) != SQLITE_INTEGER || v < 0 ||
      v > std::numeric_limits<uint32_t>::max()) {
    return absl::DataLossError(absl::StrCat(kPrefix, "a row is malformed"));
  }
  return static_cast<uint32_t>(v);
}

absl::StatusOr<SubjectKeyRow> ReadRow(sqlite3_stmt* stmt) {
  SubjectKeyRow row;
  PIICRYPT_ASSIGN_OR_RETURN(row.lookup, TextColumn(stmt, 0));
  PIICRYPT_ASSIGN_OR_RETURN(row.key_id, U32Column(stmt, 1));
  PIICRYPT_ASSIGN_OR_RETURN(row.wrapped, TextColumn(stmt, 2));
  return row;
}

class SqliteSubjectKeyStore : public SubjectKeyStore {
 public:
  explicit SqliteSubjectKeyStore(SqliteDb db) : db_(std::move(db)) {}

  absl::StatusOr<std::optional<SubjectKeyRow>> Find(absl::string_view lookup) const override {
    absl::MutexLock lock(&mu_);
    return FindLocked(lookup);
  }

  absl::StatusOr<SubjectKeyRow> InsertOrGet(const SubjectKeyRow& row) const override {
    absl::MutexLock lock(&mu_);
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr stmt,
        db_.Prepare("INSERT INTO piicrypt_subject_keys (lookup, key_id, wrapped) "
                    "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"));
    SqliteBindText(stmt.get(), 1, row.lookup);
    sqlite3_bind_int64(stmt.get(), 2, row.key_id);
    SqliteBindText(stmt.get(), 3, row.wrapped);
    PIICRYPT_RETURN_IF_ERROR(db_.Step(stmt.get(), "cannot insert a subject key"));
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<SubjectKeyRow> stored, FindLocked(row.lookup));
    if (!stored.has_value()) {
      return absl::UnavailableError(
          absl::StrCat(kPrefix, "a subject key was deleted while it was created"));
    }
    return *std::move(stored);
  }

  absl::StatusOr<bool> Delete(absl::string_view lookup) const override {
    absl::MutexLock lock(&mu_);
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr stmt,
                              db_.Prepare("DELETE FROM piicrypt_subject_keys WHERE lookup = ?1"));
    SqliteBindText(stmt.get(), 1, lookup);
    PIICRYPT_RETURN_IF_ERROR(db_.Step(stmt.get(), "cannot delete a subject key"));
    const bool deleted = sqlite3_changes(db_.get()) > 0;
    // secure_delete zeroed the row in the page written to the log; moving the log into the
    // file and truncating it leaves no copy of the key in either. Run on every delete, so
    // that a retry after a checkpoint that could not finish (readers in other processes)
    // finishes it.
    const int checkpoint =
        sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (checkpoint != SQLITE_OK) {
      return db_.Error(checkpoint, "the key is deleted, but the log still holds a copy; retry");
    }
    return deleted;
  }

  absl::StatusOr<bool> Replace(absl::string_view lookup, uint32_t key_id,
                               absl::string_view expected_wrapped,
                               absl::string_view wrapped) const override {
    absl::MutexLock lock(&mu_);
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr stmt,
                              db_.Prepare("UPDATE piicrypt_subject_keys SET wrapped = ?4 "
                                          "WHERE lookup = ?1 AND key_id = ?2 AND wrapped = ?3"));
    SqliteBindText(stmt.get(), 1, lookup);
    sqlite3_bind_int64(stmt.get(), 2, key_id);
    SqliteBindText(stmt.get(), 3, expected_wrapped);
    SqliteBindText(stmt.get(), 4, wrapped);
    PIICRYPT_RETURN_IF_ERROR(db_.Step(stmt.get(), "cannot replace a subject key"));
    return sqlite3_changes(db_.get()) > 0;
  }

  absl::StatusOr<std::vector<SubjectKeyRow>> List(absl::string_view after,
                                                  size_t limit) const override {
    absl::MutexLock lock(&mu_);
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr stmt,
        db_.Prepare("SELECT lookup, key_id, wrapped FROM piicrypt_subject_keys WHERE lookup > ?1 "
                    "ORDER BY lookup LIMIT ?2"));
    SqliteBindText(stmt.get(), 1, after);
    sqlite3_bind_int64(stmt.get(), 2, static_cast<int64_t>(std::min<size_t>(limit, 1 << 30)));
    std::vector<SubjectKeyRow> rows;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow row, ReadRow(stmt.get()));
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return db_.Error(rc, "cannot list subject keys");
    return rows;
  }

  absl::StatusOr<int64_t> Count() const override {
    absl::MutexLock lock(&mu_);
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr stmt,
                              db_.Prepare("SELECT COUNT(*) FROM piicrypt_subject_keys"));
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return db_.Error(rc, "cannot count subject keys");
    return sqlite3_column_int64(stmt.get(), 0);
  }

 private:
  absl::StatusOr<std::optional<SubjectKeyRow>> FindLocked(absl::string_view lookup) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr stmt,
        db_.Prepare("SELECT lookup, key_id, wrapped FROM piicrypt_subject_keys WHERE lookup = ?1"));
    SqliteBindText(stmt.get(), 1, lookup);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return db_.Error(rc, "cannot read a subject key");
    PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow row, ReadRow(stmt.get()));
    return row;
  }

  mutable absl::Mutex mu_;
  const SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

// Creates the schema, or checks the version of an existing one, in one write transaction.
absl::Status InitSchema(const SqliteDb& db) {
  PIICRYPT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "cannot lock the database"));
  absl::Status status = [&]() -> absl::Status {
    PIICRYPT_RETURN_IF_ERROR(db.Exec(kSchema, "cannot create the schema"));
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr stmt, db.Prepare("SELECT MAX(version) FROM piicrypt_subject_schema_version"));
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return db.Error(rc, "cannot read the schema version");
    const bool empty = sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL;
    const int64_t version = empty ? 0 : sqlite3_column_int64(stmt.get(), 0);
    PIICRYPT_ASSIGN_OR_RETURN(const bool write,
                              MustWriteSchemaVersion(kPrefix, version, kSubjectSchemaVersion));
    if (!write) return absl::OkStatus();
    return db.Exec(SchemaVersionInsert("piicrypt_subject_schema_version", kSubjectSchemaVersion),
                   "cannot write the schema version");
  }();
  if (!status.ok()) {
    db.Rollback();
    return status;
  }
  return db.Exec("COMMIT", "cannot commit the schema");
}

}  // namespace

absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenSqliteSubjectKeyStore(
    const std::string& path, const SubjectKeyStoreOptions& options) {
  // Created with mode 0600 if missing (SQLite gives its -wal and -shm files the same mode);
  // an existing file must be under the rule of secret files (owner, mode, no symlink).
  absl::StatusOr<int> fd = OpenSecretFile(path, O_RDWR | O_CREAT, "subject key database");
  if (!fd.ok()) {
    const absl::StatusCode code = fd.status().code() == absl::StatusCode::kFailedPrecondition
                                      ? absl::StatusCode::kFailedPrecondition
                                      : absl::StatusCode::kUnavailable;
    return absl::Status(code, absl::StrCat(kPrefix, fd.status().message()));
  }
  ::close(*fd);
  PIICRYPT_ASSIGN_OR_RETURN(SqliteDb db,
                            SqliteDb::Open(path, SQLITE_OPEN_READWRITE, options.timeout, kPrefix));
  // FULL: a subject key that an encryption used survives a power loss (values under a
  // lost key would be unreadable). secure_delete: deleted keys are overwritten.
  PIICRYPT_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL", "cannot enable WAL"));
  PIICRYPT_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL", "cannot set synchronous"));
  PIICRYPT_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON", "cannot enable secure deletion"));
  PIICRYPT_RETURN_IF_ERROR(InitSchema(db));
  return std::make_unique<SqliteSubjectKeyStore>(std::move(db));
}

}  // namespace piicrypt::internal
