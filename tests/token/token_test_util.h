// token_test_util.h: the two token stores behind one interface, for tests that run on both.
#ifndef PIICRYPT_TESTS_TOKEN_TOKEN_TEST_UTIL_H_
#define PIICRYPT_TESTS_TOKEN_TOKEN_TEST_UTIL_H_

#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
  StoreKind kind() const { return kind_; }
  const TempDir& dir() const { return dir_; }

 private:
  StoreKind kind_;
  TempDir dir_;
};

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_TOKEN_TOKEN_TEST_UTIL_H_
