// subject_test_util.h: subject key stores on SQLite and PostgreSQL behind one interface,
// for tests (and benchmarks) that run on both.
#ifndef PIICRYPT_TESTS_SUBJECT_SUBJECT_TEST_UTIL_H_
#define PIICRYPT_TESTS_SUBJECT_SUBJECT_TEST_UTIL_H_

#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "piicrypt/subject_key_store.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"

namespace piicrypt::testing {

// A StatusOr that is OK and holds a value matching `matcher`.
MATCHER_P(IsOkAndHolds, matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status: " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

enum class SubjectStoreKind { kSqlite, kPostgres };

// Fresh store locations for one test: files in a temporary directory, or new databases on
// the shared PostgreSQL server.
class SubjectStoreEnv {
 public:
  explicit SubjectStoreEnv(SubjectStoreKind kind) : kind_(kind) {}

  // A new, empty store location ("" and `error` set if none can be provided).
  std::string NewUrl(std::string* error) {
    const std::string name = absl::StrCat("subjects_", Counter()++);
    if (kind_ == SubjectStoreKind::kSqlite) return "sqlite:" + dir_.File(name + ".db");
    PgServer* server = SharedPgServer(error);
    if (server == nullptr) return "";
    absl::Status s = server->CreateDatabase(name);
    if (!s.ok()) {
      *error = std::string(s.message());
      return "";
    }
    return server->Url(name);
  }

  // Runs `sql` on the store at `url` directly, as someone who can write to it would.
  absl::Status Sql(const std::string& url, const std::string& sql) const {
    if (kind_ == SubjectStoreKind::kPostgres) {
      PgServer* server = SharedPgServer();
      if (server == nullptr) return absl::UnavailableError("no server");
      const std::string db = url.substr(std::string("postgresql:///").size());
      return server->Psql(sql, db.substr(0, db.find('?'))).status();
    }
    sqlite3* db = nullptr;
    const std::string path = url.substr(7);
    int rc = sqlite3_open(path.c_str(), &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc == SQLITE_OK ? absl::OkStatus() : absl::InternalError("sqlite statement failed");
  }

  // A copy of every row of `from` in a new store (a dump restored): its URL.
  absl::StatusOr<std::string> Copy(const SubjectKeyStore& from) {
    std::string error;
    const std::string url = NewUrl(&error);
    if (url.empty()) return absl::UnavailableError(error);
    absl::StatusOr<std::unique_ptr<SubjectKeyStore>> to = SubjectKeyStore::Open(url);
    if (!to.ok()) return to.status();
    std::string after;
    while (true) {
      absl::StatusOr<std::vector<SubjectKeyRow>> rows = from.List(after, 100);
      if (!rows.ok()) return rows.status();
      for (const SubjectKeyRow& row : *rows) {
        absl::StatusOr<SubjectKeyRow> stored = (*to)->InsertOrGet(row);
        if (!stored.ok()) return stored.status();
        after = row.lookup;
      }
      if (rows->size() < 100) return url;
    }
  }

  SubjectStoreKind kind() const { return kind_; }
  const TempDir& dir() const { return dir_; }

 private:
  static std::atomic<int>& Counter() {
    static std::atomic<int> counter{0};
    return counter;
  }
  SubjectStoreKind kind_;
  TempDir dir_;
};

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_SUBJECT_SUBJECT_TEST_UTIL_H_
