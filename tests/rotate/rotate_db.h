// rotate_db.h: the database of a re-encryption test, on SQLite or PostgreSQL, behind one
// interface (RotateDb), so that one test body runs on both back ends
// (reencrypt_test.cc); and the plain connections the back-end-specific tests use.
#ifndef PIICRYPT_TESTS_ROTATE_ROTATE_DB_H_
#define PIICRYPT_TESTS_ROTATE_ROTATE_DB_H_

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "tests/pg/pg_server.h"
#include "tests/rotate/rotate_test_util.h"
#include "tests/test_util.h"

namespace piicrypt::testing {

// A row of text values (NULL: nullopt), as both back ends give them.
using DbRow = std::vector<std::optional<std::string>>;

class Sqlite {
 public:
  explicit Sqlite(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 60000);
  }
  ~Sqlite() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
  }
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    return s;
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = Prepare(sql);
    int64_t v = -1;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

inline void Bind(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
  if (v) {
    sqlite3_bind_text(s, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_null(s, i);
  }
}
inline std::optional<std::string> Col(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                     static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

// A libpq connection of the test (the application's side).
class Pg {
 public:
  explicit Pg(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
  }
  ~Pg() { PQfinish(conn_); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;

  void Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    PGresult* r = Run(sql, params);
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << PQresultErrorMessage(r) << " in " << sql;
    PQclear(r);
  }
  // The SQLSTATE of a failed statement, "" if it succeeded.
  std::string TryExec(const std::string& sql,
                      const std::vector<std::optional<std::string>>& params = {}) {
    PGresult* r = Run(sql, params);
    std::string state;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      state = s != nullptr ? s : "?";
    }
    PQclear(r);
    return state;
  }
  std::optional<std::string> Value(const std::string& sql,
                                   const std::vector<std::optional<std::string>>& params = {}) {
    PGresult* r = Run(sql, params);
    std::optional<std::string> v;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
      v = PQgetvalue(r, 0, 0);
    }
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r) << " in " << sql;
    PQclear(r);
    return v;
  }
  int64_t Int(const std::string& sql) {
    const std::optional<std::string> v = Value(sql);
    return v.has_value() ? std::atoll(v->c_str()) : -1;
  }
  // Rows of text values (NULL: nullopt).
  std::vector<std::vector<std::optional<std::string>>> Rows(const std::string& sql) {
    PGresult* r = Run(sql, {});
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::optional<std::string>> row;
      for (int j = 0; j < PQnfields(r); ++j) {
        row.push_back(PQgetisnull(r, i, j) ? std::nullopt
                                           : std::optional<std::string>(PQgetvalue(r, i, j)));
      }
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
  // COPY table FROM STDIN of tab-separated lines (\N: NULL).
  void Copy(const std::string& table_and_columns, const std::string& data) {
    PGresult* r = PQexec(conn_, ("COPY " + table_and_columns + " FROM STDIN").c_str());
    ASSERT_EQ(PQresultStatus(r), PGRES_COPY_IN) << PQresultErrorMessage(r);
    PQclear(r);
    ASSERT_EQ(PQputCopyData(conn_, data.data(), static_cast<int>(data.size())), 1);
    ASSERT_EQ(PQputCopyEnd(conn_, nullptr), 1);
    r = PQgetResult(conn_);
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
    PQclear(r);
    while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
  }

 private:
  PGresult* Run(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.has_value() ? p->c_str() : nullptr);
    return PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0);
  }
  PGconn* conn_;
};

inline std::string CopyField(const std::optional<std::string>& v) { return v.value_or("\\N"); }

enum class RotateBackend { kSqlite, kPostgres };

inline std::ostream& operator<<(std::ostream& os, RotateBackend b) {
  return os << (b == RotateBackend::kSqlite ? "sqlite" : "postgresql");
}

// The database of one test, holding the orders table (rotate_test_util.h).
class RotateDb {
 public:
  virtual ~RotateDb() = default;
  // A fresh database on `backend` with an empty orders table; null (and a test failure)
  // if it cannot be had. SQLite files go into `dir`.
  static std::unique_ptr<RotateDb> Create(RotateBackend backend, const TempDir& dir);

  // Runs one SQL statement, which must succeed.
  virtual void Exec(const std::string& sql) = 0;
  // The integer that `sql` selects (-1 if none).
  virtual int64_t QueryInt(const std::string& sql) = 0;
  // Every row `sql` selects, as text.
  virtual std::vector<DbRow> Rows(const std::string& sql) = 0;
  // The value of `--db`.
  virtual std::string Url() const = 0;
  // Rows 1..n of orders, encrypted by `c` (Original(id)).
  virtual void Fill(const FieldCryptor& c, int64_t n) = 0;
  // The rows the job of orders has committed so far, over all its runs.
  virtual int64_t RowsDone() = 0;
  // Returns once a job killed with SIGKILL can do nothing more: on PostgreSQL its server
  // sessions may still commit the batch the client sent before it died. (SQLite: nothing to
  // wait for; the killed process's transaction committed or is rolled back at next open.)
  virtual void AwaitKilledJob() {}
  // Checks, while a job runs, that the wait above would see it (PostgreSQL).
  virtual void ExpectJobConnected() {}
  // Whether the job tables (piicrypt_jobs) exist.
  virtual bool HasJobTables() = 0;
  // DDL of a trigger that cancels every update of orders row 5.
  virtual std::vector<std::string> IgnoreUpdatesOfRow5() const = 0;
  // Arguments that make the job use its parallelism (PostgreSQL: several workers).
  virtual std::string ParallelArgs() const = 0;
};

class SqliteRotateDb : public RotateDb {
 public:
  explicit SqliteRotateDb(std::string path) : path_(std::move(path)) {
    Exec(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, email_bidx TEXT, name TEXT,"
        " loyalty TEXT, note TEXT)");
  }
  const std::string& path() const { return path_; }

  void Exec(const std::string& sql) override { Sqlite(path_).Exec(sql); }
  int64_t QueryInt(const std::string& sql) override { return Sqlite(path_).Int(sql); }
  std::vector<DbRow> Rows(const std::string& sql) override {
    Sqlite db(path_);
    sqlite3_stmt* s = db.Prepare(sql);
    std::vector<DbRow> rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
      DbRow row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) row.push_back(Col(s, i));
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return rows;
  }
  std::string Url() const override { return "sqlite:" + path_; }
  void Fill(const FieldCryptor& c, int64_t n) override {
    Sqlite db(path_);
    db.Exec("BEGIN");
    sqlite3_stmt* s = db.Prepare(
        "INSERT INTO orders (id, email, email_bidx, name, loyalty, note) VALUES (?,?,?,?,?,?)");
    for (int64_t id = 1; id <= n; ++id) {
      const Plain p = Original(id);
      const std::string rec = absl::StrCat(id);
      sqlite3_bind_int64(s, 1, id);
      Bind(s, 2, *c.Encrypt(kRotateFields[0], p.v[0], rec));
      Bind(s, 3, *c.BlindIndex(kRotateFields[0], p.v[0]));
      Bind(s, 4, *c.Encrypt(kRotateFields[1], p.v[1], rec));
      Bind(s, 5, *c.Encrypt(kRotateFields[2], p.v[2], rec));
      Bind(s, 6, "not encrypted");
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    db.Exec("COMMIT");
  }
  int64_t RowsDone() override {
    return HasJobTables() ? QueryInt("SELECT coalesce(max(rows), 0) FROM piicrypt_jobs") : 0;
  }
  bool HasJobTables() override {
    return QueryInt("SELECT count(*) FROM sqlite_master WHERE name = 'piicrypt_jobs'") > 0;
  }
  std::vector<std::string> IgnoreUpdatesOfRow5() const override {
    return {
        "CREATE TRIGGER keep5 BEFORE UPDATE ON orders WHEN OLD.id = 5"
        " BEGIN SELECT RAISE(IGNORE); END"};
  }
  std::string ParallelArgs() const override { return ""; }

 private:
  std::string path_;
};

class PgRotateDb : public RotateDb {
 public:
  // A database of its own on the shared server.
  static std::unique_ptr<PgRotateDb> Create() {
    std::string error;
    PgServer* server = SharedPgServer(&error);
    if (server == nullptr) {
      ADD_FAILURE() << error;
      return nullptr;
    }
    if (!server->running() && !server->Restart().ok()) {
      ADD_FAILURE() << "the PostgreSQL server does not restart";
      return nullptr;
    }
    static std::atomic<int> counter{0};
    const std::string db = absl::StrCat("reenc_", getpid(), "_", counter++);
    if (!server->CreateDatabase(db).ok()) {
      ADD_FAILURE() << "cannot create database " << db;
      return nullptr;
    }
    return std::unique_ptr<PgRotateDb>(new PgRotateDb(server, db));
  }
  const std::string& url() const { return url_; }

  void Exec(const std::string& sql) override { Pg(url_).Exec(sql); }
  int64_t QueryInt(const std::string& sql) override { return Pg(url_).Int(sql); }
  std::vector<DbRow> Rows(const std::string& sql) override { return Pg(url_).Rows(sql); }
  std::string Url() const override { return url_; }
  void Fill(const FieldCryptor& c, int64_t n) override {
    std::string data;
    for (int64_t id = 1; id <= n; ++id) {
      const Plain p = Original(id);
      const std::string rec = absl::StrCat(id);
      absl::StrAppend(&data, id, "\t", CopyField(*c.Encrypt(kRotateFields[0], p.v[0], rec)), "\t",
                      CopyField(*c.BlindIndex(kRotateFields[0], p.v[0])), "\t",
                      CopyField(*c.Encrypt(kRotateFields[1], p.v[1], rec)), "\t",
                      CopyField(*c.Encrypt(kRotateFields[2], p.v[2], rec)), "\tnot encrypted\n");
    }
    Pg(url_).Copy("orders (id, email, email_bidx, name, loyalty, note)", data);
  }
  int64_t RowsDone() override {
    Pg pg(url_);
    if (!pg.Value("SELECT to_regclass('piicrypt_job_ranges')::text").has_value()) return 0;
    return pg.Int("SELECT coalesce(sum(rows), 0) FROM piicrypt_job_ranges");
  }
  void AwaitKilledJob() override {
    // The job's sessions are named so (src/rotate/reencrypt_pg.cc).
    ASSERT_TRUE(server_->AwaitSessionsEnded(db_, "piicrypt-reencrypt").ok())
        << "the killed job's sessions are still open";
  }
  void ExpectJobConnected() override {
    absl::StatusOr<int> n = server_->Sessions(db_, "piicrypt-reencrypt");
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_GE(*n, 1) << "the running job has no session named piicrypt-reencrypt";
  }
  bool HasJobTables() override {
    return Pg(url_).Value("SELECT to_regclass('piicrypt_jobs')::text").has_value();
  }
  std::vector<std::string> IgnoreUpdatesOfRow5() const override {
    return {
        "CREATE FUNCTION keep5() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF OLD.id = 5 THEN RETURN NULL; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER keep5 BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION keep5()"};
  }
  std::string ParallelArgs() const override { return " --workers 2"; }

 private:
  PgRotateDb(PgServer* server, std::string db)
      : server_(server), db_(std::move(db)), url_(server->Url(db_)) {
    Exec(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, email TEXT, email_bidx TEXT, name TEXT,"
        " loyalty VARCHAR(200), note TEXT)");
  }
  PgServer* server_;
  std::string db_;
  std::string url_;
};

inline std::unique_ptr<RotateDb> RotateDb::Create(RotateBackend backend, const TempDir& dir) {
  if (backend == RotateBackend::kSqlite) {
    return std::make_unique<SqliteRotateDb>(dir.File("shop.db"));
  }
  return PgRotateDb::Create();
}

// RotateFixture on a RotateDb: the back-end hooks, and the job's runs and checks.
class RotateDbFixture : public RotateFixture {
 protected:
  // Sets up the keys and a fresh database on `backend`.
  void SetUpOn(RotateBackend backend) {
    RotateFixture::SetUp();
    if (HasFatalFailure()) return;
    db_ = RotateDb::Create(backend, dir_);
    ASSERT_NE(db_, nullptr);
  }

  void Exec(const std::string& sql) override { db_->Exec(sql); }
  int64_t QueryInt(const std::string& sql) override { return db_->QueryInt(sql); }
  std::string DbArgs() const override { return " --db " + Q(db_->Url()); }
  void Fill(int64_t n) override { db_->Fill(*Cryptor(), n); }
  int64_t RowsDone() override { return db_->RowsDone(); }
  void AwaitKilledJob() override { db_->AwaitKilledJob(); }
  void ExpectJobConnected() { db_->ExpectJobConnected(); }

  // " reencrypt ... --db URL --table orders --key-column id EXTRA" (without the binary).
  std::string Args(const std::string& extra = "") {
    return absl::StrCat(BaseArgs(), DbArgs(), " --table orders --key-column id ", extra);
  }
  CommandResult Reencrypt(const std::string& extra = "") {
    return RunCommand(CliPath() + Args(extra));
  }

  // Every row holds its expected plaintexts under the primary, and a current blind
  // index. Returns the number of problems (each also reported).
  int CheckAll(int64_t n, const std::map<int64_t, Plain>& overrides = {}) {
    auto c = Cryptor();
    const uint32_t primary = Primary();
    int problems = 0, reported = 0;
    const std::vector<DbRow> rows =
        db_->Rows("SELECT id, email, email_bidx, name, loyalty, note FROM orders ORDER BY id");
    for (const DbRow& row : rows) {
      const int64_t id = std::atoll(row[0]->c_str());
      auto it = overrides.find(id);
      const Plain want = it != overrides.end() ? it->second : Original(id);
      const std::optional<std::string> stored[3] = {row[1], row[3], row[4]};
      problems += CheckRow(*c, primary, id, stored, row[2], row[5], want, reported);
    }
    EXPECT_EQ(static_cast<int64_t>(rows.size()), n);
    return problems;
  }

  // The callers table (rotate_test_util.h), rows 1..6 written under the current keys of
  // `policy` (a CallersPolicy) as an application writes them: phone_key is the phone's
  // write key, sp_idx the compound index of the row's plaintexts.
  void FillCallers(const std::string& policy) {
    Exec(
        "CREATE TABLE callers (id BIGINT NOT NULL PRIMARY KEY, surname TEXT, phone TEXT,"
        " phone_key BIGINT, sp_idx TEXT)");
    auto c = CryptorFor(policy);
    auto key = c->WriteKeyId("callers.phone");
    ASSERT_TRUE(key.ok()) << key.status();
    auto lit = [](const std::optional<std::string>& v) {
      return v.has_value() ? absl::StrCat("'", *v, "'") : std::string("NULL");
    };
    for (int64_t id = 1; id <= 6; ++id) {
      const std::string rec = absl::StrCat(id);
      const std::optional<std::string> phone = CallerPhone(id);
      auto surname = c->Encrypt("callers.surname", CallerSurname(id), rec);
      auto ff1 = c->Encrypt("callers.phone", phone, rec);
      auto idx = c->CompoundIndex("callers.sp", {CallerSurname(id), phone});
      ASSERT_TRUE(surname.ok() && ff1.ok() && idx.ok());
      Exec(absl::StrCat("INSERT INTO callers VALUES (", id, ", ", lit(*surname), ", ", lit(*ff1),
                        ", ", phone.has_value() ? absl::StrCat(*key) : "NULL", ", ", lit(*idx),
                        ")"));
    }
  }

  // " reencrypt ... --table callers --key-column id EXTRA".
  CommandResult ReencryptCallers(const std::string& extra = "") {
    return RunCommand(
        absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table callers --key-column id ", extra));
  }

  // The problems of the callers rows (0: each holds its surname, its phone (`phones`
  // overrides CallerPhone) under key `phone_key` as its phone_key says, and the compound
  // index `c` computes now from those plaintexts); each is reported as a test failure.
  int CheckCallers(const FieldCryptor& c, uint32_t phone_key,
                   const std::map<int64_t, std::string>& phones = {}) {
    int problems = 0;
    const std::vector<DbRow> rows =
        db_->Rows("SELECT id, surname, phone, phone_key, sp_idx FROM callers ORDER BY id");
    for (const DbRow& row : rows) {
      const int64_t id = std::atoll(row[0]->c_str());
      const std::string rec = absl::StrCat(id);
      auto report = [&](const std::string& what) {
        ADD_FAILURE() << "callers row " << id << ": " << what;
        ++problems;
      };
      auto it = phones.find(id);
      const std::optional<std::string> phone =
          it != phones.end() ? std::optional<std::string>(it->second) : CallerPhone(id);
      auto surname = c.Decrypt("callers.surname", row[1], rec);
      if (!surname.ok() || *surname != std::optional<std::string>(CallerSurname(id))) {
        report("surname does not decrypt to its value");
      }
      if (!phone.has_value()) {
        if (row[2] || row[3] || row[4]) report("phone, phone_key or sp_idx is not NULL");
        continue;
      }
      if (row[3] != std::optional<std::string>(absl::StrCat(phone_key))) {
        report(absl::StrCat("phone_key is ", row[3].value_or("NULL")));
        continue;
      }
      auto plain = c.DecryptWithKey("callers.phone", phone_key, row[2], rec);
      if (!plain.ok() || *plain != phone) report("phone does not decrypt to its value");
      auto index = c.CompoundIndex("callers.sp", {CallerSurname(id), *phone});
      if (!index.ok() || *index != row[4]) report("sp_idx is not the index of its values");
    }
    EXPECT_EQ(rows.size(), 6u);
    return problems;
  }

  // Where the part-changed tests start: callers rows whose phones are pinned to the current
  // primary (so after the rotation the job rewrites only surnames and indexes, and only the
  // parts condition can notice a changed phone), the keyset rotated, and row 2's new phone
  // encrypted as the application writes it.
  struct PartChange {
    uint32_t old_key = 0;
    std::unique_ptr<FieldCryptor> cryptor;
    std::string phone = "+61 2 5550 9999";
    std::string stored;  // the new phone's FF1 value
  };
  PartChange StartPartChange() {
    PartChange p;
    p.old_key = Primary();
    const std::string policy = CallersPolicy(p.old_key);
    WritePolicy(policy.c_str());
    FillCallers(policy);
    if (HasFatalFailure()) return p;
    Rotate();
    p.cryptor = CryptorFor(policy);
    auto stored = p.cryptor->EncryptValue("callers.phone", p.phone, "2");
    EXPECT_TRUE(stored.ok()) << stored.status();
    p.stored = stored.value_or("");
    return p;
  }
  // The job's summary after row 2's phone changed between its read and its write: one
  // conflict, nothing failed, and every row (row 2 with its new phone) indexed afresh.
  void ExpectPartChangeOutcome(const CommandResult& r, const PartChange& p) {
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // 6 surnames and 5 indexes re-encrypted, 5 phones current, row 6's phone and index NULL.
    EXPECT_THAT(r.out, ::testing::HasSubstr("re-encrypted:        11\n"));
    EXPECT_THAT(r.out, ::testing::HasSubstr("already current:     5\n"));
    EXPECT_THAT(r.out, ::testing::HasSubstr("NULL:                2\n"));
    EXPECT_THAT(r.out, ::testing::HasSubstr("conflicts:           1 "));
    EXPECT_THAT(r.out, ::testing::HasSubstr("failed:              0\n"));
    EXPECT_THAT(r.out, ::testing::HasSubstr("verify: 16 values checked, 0 failed"));
    EXPECT_EQ(CheckCallers(*p.cryptor, p.old_key, {{2, p.phone}}), 0);
  }

  // The stored values of every row, to compare before and after a run.
  std::vector<std::string> Snapshot() {
    std::vector<std::string> out;
    for (const DbRow& row :
         db_->Rows("SELECT id, email, email_bidx, name, loyalty FROM orders ORDER BY id")) {
      std::string line;
      for (const auto& v : row) line += v.value_or("<NULL>") + "|";
      out.push_back(line);
    }
    return out;
  }

  std::unique_ptr<RotateDb> db_;
};

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_ROTATE_ROTATE_DB_H_
