// The PostgreSQL subject key store: libpq, one connection per store object used by one
// call at a time (opened again after a failure), statement and lock timeouts set on the
// server so that a stalled server gives kUnavailable instead of a hang. Subject key reads
// happen once per subject per cache lifetime (subject_cryptor.h), so one connection is
// enough for a server process.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_key_store.h"
#include "src/db/postgres.h"
#include "src/db/schema_version.h"
#include "src/subject/subject_stores.h"

namespace piicrypt::internal {
namespace {

constexpr char kPrefix[] = "subject key store (postgresql): ";

constexpr char kSchema[] =
    "SELECT pg_advisory_xact_lock(8100112548009865333);"
    "CREATE TABLE IF NOT EXISTS piicrypt_subject_schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS piicrypt_subject_keys ("
    "  lookup TEXT COLLATE \"C\" NOT NULL PRIMARY KEY,"
    "  key_id BIGINT NOT NULL,"
    "  wrapped TEXT NOT NULL);";

absl::StatusOr<PgConnPtr> Connect(const std::string& uri, const SubjectKeyStoreOptions& options) {
  const int64_t timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(options.timeout));
  PIICRYPT_ASSIGN_OR_RETURN(
      PgConnPtr conn,
      PgConnect(uri, "piicrypt", std::max<int64_t>(2, (timeout_ms + 999) / 1000), kPrefix));
  const std::string settings =
      absl::StrCat("SET statement_timeout = ", timeout_ms, "; SET lock_timeout = ", timeout_ms,
                   "; SET client_min_messages = warning");
  PgResultPtr r(PQexec(conn.get(), settings.c_str()));
  if (!PgSucceeded(r.get())) return PgStatus(kPrefix, "cannot configure", r.get());
  return conn;
}

absl::StatusOr<uint32_t> U32Value(const PGresult* r, int row, int column) {
  int64_t v = 0;
  if (PQgetisnull(r, row, column) || !absl::SimpleAtoi(PQgetvalue(r, row, column), &v) || v < 0 ||
      v > 0xffffffffll) {
    return absl::DataLossError(absl::StrCat(kPrefix, "a row is malformed"));
  }
  return static_cast<uint32_t>(v);
}

absl::StatusOr<SubjectKeyRow> ReadRow(const PGresult* r, int row) {
  if (PQnfields(r) != 3 || PQgetisnull(r, row, 0) || PQgetisnull(r, row, 2)) {
    return absl::DataLossError(absl::StrCat(kPrefix, "a row is malformed"));
  }
  SubjectKeyRow out;
  out.lookup.assign(PQgetvalue(r, row, 0), PQgetlength(r, row, 0));
  PIICRYPT_ASSIGN_OR_RETURN(out.key_id, U32Value(r, row, 1));
  out.wrapped.assign(PQgetvalue(r, row, 2), PQgetlength(r, row, 2));
  return out;
}

class PostgresSubjectKeyStore : public SubjectKeyStore {
 public:
  PostgresSubjectKeyStore(std::string uri, SubjectKeyStoreOptions options, PgConnPtr conn)
      : uri_(std::move(uri)), options_(options), conn_(std::move(conn)) {}

  absl::StatusOr<std::optional<SubjectKeyRow>> Find(absl::string_view lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                              Run("SELECT lookup, key_id, wrapped FROM piicrypt_subject_keys "
                                  "WHERE lookup = $1",
                                  {std::string(lookup)}, "cannot read a subject key"));
    if (PQntuples(r.get()) == 0) return std::nullopt;
    PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow row, ReadRow(r.get(), 0));
    return row;
  }

  absl::StatusOr<SubjectKeyRow> InsertOrGet(const SubjectKeyRow& row) const override {
    PIICRYPT_RETURN_IF_ERROR(Run("INSERT INTO piicrypt_subject_keys (lookup, key_id, wrapped) "
                                 "VALUES ($1, $2::bigint, $3) ON CONFLICT DO NOTHING",
                                 {row.lookup, absl::StrCat(row.key_id), row.wrapped},
                                 "cannot insert a subject key")
                                 .status());
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<SubjectKeyRow> stored, Find(row.lookup));
    if (!stored.has_value()) {
      return absl::UnavailableError(
          absl::StrCat(kPrefix, "a subject key was deleted while it was created"));
    }
    return *std::move(stored);
  }

  absl::StatusOr<bool> Delete(absl::string_view lookup) const override {
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                              Run("DELETE FROM piicrypt_subject_keys WHERE lookup = $1",
                                  {std::string(lookup)}, "cannot delete a subject key"));
    return absl::string_view(PQcmdTuples(r.get())) != "0";
  }

  absl::StatusOr<bool> Replace(absl::string_view lookup, uint32_t key_id,
                               absl::string_view expected_wrapped,
                               absl::string_view wrapped) const override {
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                              Run("UPDATE piicrypt_subject_keys SET wrapped = $4 "
                                  "WHERE lookup = $1 AND key_id = $2::bigint AND wrapped = $3",
                                  {std::string(lookup), absl::StrCat(key_id),
                                   std::string(expected_wrapped), std::string(wrapped)},
                                  "cannot replace a subject key"));
    return absl::string_view(PQcmdTuples(r.get())) != "0";
  }

  absl::StatusOr<std::vector<SubjectKeyRow>> List(absl::string_view after,
                                                  size_t limit) const override {
    PIICRYPT_ASSIGN_OR_RETURN(
        PgResultPtr r, Run("SELECT lookup, key_id, wrapped FROM piicrypt_subject_keys "
                           "WHERE lookup > $1 ORDER BY lookup LIMIT $2::bigint",
                           {std::string(after), absl::StrCat(std::min<size_t>(limit, 1 << 30))},
                           "cannot list subject keys"));
    std::vector<SubjectKeyRow> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow row, ReadRow(r.get(), i));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Count() const override {
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r, Run("SELECT COUNT(*) FROM piicrypt_subject_keys", {},
                                                 "cannot count subject keys"));
    int64_t n = 0;
    if (PQntuples(r.get()) != 1 || !absl::SimpleAtoi(PQgetvalue(r.get(), 0, 0), &n)) {
      return absl::DataLossError(absl::StrCat(kPrefix, "the row count is malformed"));
    }
    return n;
  }

 private:
  // Runs one statement with text parameters, on a fresh connection if the last one failed.
  absl::StatusOr<PgResultPtr> Run(const char* sql, const std::vector<std::string>& params,
                                  absl::string_view what) const {
    absl::MutexLock lock(&mu_);
    if (conn_ == nullptr || PQstatus(conn_.get()) != CONNECTION_OK) {
      conn_.reset();
      PIICRYPT_ASSIGN_OR_RETURN(conn_, Connect(uri_, options_));
    }
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PgResultPtr r(PQexecParams(conn_.get(), sql, static_cast<int>(params.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
    if (!PgSucceeded(r.get())) {
      absl::Status error = PgStatus(kPrefix, what, r.get());
      if (PQstatus(conn_.get()) != CONNECTION_OK) conn_.reset();
      return error;
    }
    return r;
  }

  const std::string uri_;
  const SubjectKeyStoreOptions options_;
  mutable absl::Mutex mu_;
  mutable PgConnPtr conn_ ABSL_GUARDED_BY(mu_);
};

// Inside InitSchema's transaction: the store's schema version, written if the tables were
// just made; a newer version than this library's is kFailedPrecondition.
absl::Status CheckSchemaVersion(PGconn* conn) {
  PgResultPtr v(PQexec(conn, "SELECT MAX(version) FROM piicrypt_subject_schema_version"));
  if (!PgSucceeded(v.get())) return PgStatus(kPrefix, "cannot read the schema version", v.get());
  int64_t version = 0;
  if (PQntuples(v.get()) != 1 || PQnfields(v.get()) != 1 ||
      (!PQgetisnull(v.get(), 0, 0) && !absl::SimpleAtoi(PQgetvalue(v.get(), 0, 0), &version))) {
    return absl::DataLossError(absl::StrCat(kPrefix, "the schema version is malformed"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(const bool write,
                            MustWriteSchemaVersion(kPrefix, version, kSubjectSchemaVersion));
  if (!write) return absl::OkStatus();
  const std::string insert =
      SchemaVersionInsert("piicrypt_subject_schema_version", kSubjectSchemaVersion);
  PgResultPtr w(PQexec(conn, insert.c_str()));
  if (!PgSucceeded(w.get())) return PgStatus(kPrefix, "cannot write the schema version", w.get());
  return absl::OkStatus();
}

// Creates the tables if missing (under an advisory lock: stores opened at once by several
// servers) and checks the schema version, in one transaction.
absl::Status InitSchema(PGconn* conn) {
  PgResultPtr begin(PQexec(conn, "BEGIN"));
  if (!PgSucceeded(begin.get())) return PgStatus(kPrefix, "cannot create the schema", begin.get());
  PgResultPtr r(PQexec(conn, kSchema));
  const absl::Status status = PgSucceeded(r.get())
                                  ? CheckSchemaVersion(conn)
                                  : PgStatus(kPrefix, "cannot create the schema", r.get());
  PgResultPtr end(PQexec(conn, status.ok() ? "COMMIT" : "ROLLBACK"));
  if (status.ok() && !PgSucceeded(end.get())) {
    return PgStatus(kPrefix, "cannot commit the schema", end.get());
  }
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenPostgresSubjectKeyStore(
    const std::string& uri, const SubjectKeyStoreOptions& options) {
  PIICRYPT_ASSIGN_OR_RETURN(PgConnPtr conn, Connect(uri, options));
  PIICRYPT_RETURN_IF_ERROR(InitSchema(conn.get()));
  return std::make_unique<PostgresSubjectKeyStore>(uri, options, std::move(conn));
}

}  // namespace piicrypt::internal
