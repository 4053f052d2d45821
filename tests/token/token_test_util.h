// token_test_util.h: the two token stores behind one interface, for tests that run on both.
#ifndef PIICRYPT_TESTS_TOKEN_TOKEN_TEST_UTIL_H_
#define PIICRYPT_TESTS_TOKEN_TOKEN_TEST_UTIL_H_

#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"

namespace piicrypt::testing {

enum class StoreKind { kSqlite, kPostgres };

// A store location for one test: a file in a fresh temporary directory, or the shared
// PostgreSQL server (tests keep apart by field names).
class TestStore {
 public:
  explicit TestStore(StoreKind kind) : kind_(kind) {}
  // "" and an error message if the store cannot be provided.
  std::string Url(std::string* error) const {
    if (kind_ == StoreKind::kSqlite) return "sqlite:" + dir_.File("tokens.db");
    PgServer* server = SharedPgServer(error);
    return server == nullptr ? std::string() : server->Url();
  }
  // Everything an attacker with a dump of the store would see, as text.
  absl::StatusOr<std::string> Dump() const {
    if (kind_ == StoreKind::kPostgres) {
      PgServer* server = SharedPgServer();
      if (server == nullptr) return absl::UnavailableError("no server");
      return server->Psql("SELECT * FROM piicrypt_tokens");
    }
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream f(dir_.File("tokens.db") + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    return all;
  }
  // Runs `sql` on the store's database directly, as someone who can write to it would;
  // returns the first column of the answer's rows, one per line (psql's unaligned form).
  absl::StatusOr<std::string> Sql(const std::string& sql) const {
    if (kind_ == StoreKind::kPostgres) {
      PgServer* server = SharedPgServer();
      if (server == nullptr) return absl::UnavailableError("no server");
      return server->Psql(sql);
    }
    sqlite3* db = nullptr;
    if (sqlite3_open(dir_.File("tokens.db").c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return absl::InternalError("cannot open the SQLite file");
    }
    std::string out;
    auto row = [](void* rows, int, char** values, char**) {
      absl::StrAppend(static_cast<std::string*>(rows), values[0] == nullptr ? "" : values[0], "\n");
      return 0;
    };
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), row, &out, &error);
    const std::string message = error == nullptr ? "" : error;
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return absl::InternalError(absl::StrCat("sqlite: ", message));
    return out;
  }
  // The one value `sql` selects, without its line end.
  absl::StatusOr<std::string> SqlValue(const std::string& sql) const {
    absl::StatusOr<std::string> out = Sql(sql);
    if (!out.ok()) return out.status();
    return std::string(absl::StripSuffix(*out, "\n"));
  }
  StoreKind kind() const { return kind_; }
  const TempDir& dir() const { return dir_; }

 private:
  StoreKind kind_;
  TempDir dir_;
};

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_TOKEN_TOKEN_TEST_UTIL_H_
