// Database errors never carry a password or a value: a connection URI with a bad
// percent-escape (libpq quotes the bad token, password and all), a statement the server
// rejects while quoting a value, and SQLite messages that quote SQL text.
#include <libpq-fe.h>
#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/subtle/token_store.h"
#include "src/db/postgres.h"
#include "src/db/sqlite.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "S3cretPa";
// "%zz" is not a percent-escape: libpq's own message quotes "S3cretPa%zzss".
constexpr char kBadEscapeUri[] = "postgresql://shop:S3cretPa%zzss@db.internal:5433/orders";

TEST(DbErrorTest, ConnectionUriWithABadEscapeIsNeverShown) {
  // libpq itself would print the password: the test means something only if it does.
  char* libpq_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(kBadEscapeUri, &libpq_error);
  ASSERT_EQ(parsed, nullptr);
  ASSERT_NE(libpq_error, nullptr);
  EXPECT_THAT(std::string(libpq_error), HasSubstr(kPassword));
  PQfreemem(libpq_error);

  absl::Status s = internal::PgConnectError("test: ", kBadEscapeUri, nullptr);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), AllOf(HasSubstr("malformed"), Not(HasSubstr(kPassword))));
}

TEST(DbErrorTest, ConnectionFailureNamesTheTargetButNotThePassword) {
  const std::string uri = "postgresql://shop:hunter2secret@/orders?host=/nonexistent-dir&port=5";
  PGconn* conn = PQconnectdb(uri.c_str());
  ASSERT_NE(PQstatus(conn), CONNECTION_OK);
  absl::Status s = internal::PgConnectError("test: ", uri, conn);
  PQfinish(conn);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), AllOf(HasSubstr("host /nonexistent-dir"), HasSubstr("database orders"),
                                 HasSubstr("user shop"), Not(HasSubstr("hunter2secret"))));
}

TEST(DbErrorTest, TokenStoreApiNeverShowsThePassword) {
  auto store = TokenStore::Open(kBadEscapeUri);
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(kPassword)));
}

class DbErrorCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = "file:" + dir_.File("kek.key");
    keyset_ = dir_.File("ks");
    ASSERT_EQ(RunCommand(CliPath() + " kek create '" + kek_ + "'").exit_code, 0);
    CommandResult r =
        RunCommand(CliPath() + " keyset create --kek '" + kek_ + "' --out '" + keyset_ + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string Common() const {
    return absl::StrCat(" --kek '", kek_, "' --keyset '", keyset_, "'");
  }
  TempDir dir_;
  std::string kek_, keyset_;
};

TEST_F(DbErrorCliTest, TokenizeWithABadStoreUriNeverShowsThePassword) {
  CommandResult r =
      RunCommand(absl::StrCat(CliPath(), " tokenize", Common(),
                              " --field orders.card --format card --store '", kBadEscapeUri, "'"),
                 "4111111111111111\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("malformed"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kPassword)));
}

TEST_F(DbErrorCliTest, ReencryptWithABadDbUriNeverShowsThePassword) {
  const std::string policy = dir_.File("policy.textproto");
  std::ofstream(policy) << "field { name: \"orders.email\" kind: KIND_EMAIL "
                           "mode: MODE_RANDOMIZED }\n";
  CommandResult r =
      RunCommand(absl::StrCat(CliPath(), " reencrypt", Common(), " --policy '", policy, "' --db '",
                              kBadEscapeUri, "' --table orders --key-column id"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("malformed"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kPassword)));
}

// The one mapping of SQLite result codes, for the token store and the re-encryption job
// alike; extended codes map as their primary code.
TEST(DbErrorTest, SqliteStatusMapsEachCodeOneWay) {
  const std::pair<int, absl::StatusCode> cases[] = {
      {SQLITE_ERROR, absl::StatusCode::kInvalidArgument},
      {SQLITE_BUSY, absl::StatusCode::kUnavailable},
      {SQLITE_BUSY_SNAPSHOT, absl::StatusCode::kUnavailable},
      {SQLITE_LOCKED, absl::StatusCode::kUnavailable},
      {SQLITE_CANTOPEN, absl::StatusCode::kUnavailable},
      {SQLITE_IOERR_FSYNC, absl::StatusCode::kUnavailable},
      {SQLITE_READONLY, absl::StatusCode::kUnavailable},
      {SQLITE_CORRUPT, absl::StatusCode::kDataLoss},
      {SQLITE_NOTADB, absl::StatusCode::kDataLoss},
      {SQLITE_FULL, absl::StatusCode::kResourceExhausted},
      {SQLITE_MISUSE, absl::StatusCode::kInternal},
  };
  for (const auto& [code, want] : cases) {
    const absl::Status s = internal::SqliteStatus("test: ", nullptr, code, "cannot step");
    EXPECT_EQ(s.code(), want) << sqlite3_errstr(code);
    EXPECT_EQ(s.message(), absl::StrCat("test: cannot step: ", sqlite3_errstr(code)));
  }
}

TEST(DbErrorTest, SqliteMessageKeepsMissingNamesAndDropsQuotedSql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  int rc =
      sqlite3_exec(db.get(), "SELECT ('S3cretValue' 'S3cretValue')", nullptr, nullptr, nullptr);
  ASSERT_NE(rc, SQLITE_OK);
  ASSERT_THAT(std::string(sqlite3_errmsg(db.get())), HasSubstr("S3cretValue"));  // SQLite's own
  EXPECT_THAT(internal::SqliteMessage(db.get(), rc), Not(HasSubstr("S3cretValue")));
  rc = sqlite3_exec(db.get(), "SELECT nosuch", nullptr, nullptr, nullptr);
  ASSERT_NE(rc, SQLITE_OK);
  EXPECT_EQ(internal::SqliteMessage(db.get(), rc), "no such column: nosuch");
}

// A statement the server rejects while quoting the value (22P02): the message keeps the
// SQLSTATE and drops the value.
TEST(PostgresDbErrorTest, StatementErrorNeverQuotesTheValue) {
  std::string error;
  testing::PgServer* server = testing::SharedPgServer(&error);
  ASSERT_NE(server, nullptr) << error;
  PGconn* conn = PQconnectdb(server->Url().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
  const char* values[] = {"S3cretValue"};
  PGresult* r =
      PQexecParams(conn, "SELECT $1::text::bigint", 1, nullptr, values, nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  ASSERT_THAT(std::string(PQresultErrorMessage(r)), HasSubstr("S3cretValue"));  // the server's
  const std::string message = internal::PgResultMessage(r);
  PQclear(r);
  PQfinish(conn);
  EXPECT_THAT(message, AllOf(HasSubstr("SQLSTATE 22P02"), Not(HasSubstr("S3cretValue"))));
}

}  // namespace
}  // namespace piicrypt
