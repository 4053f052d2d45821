// The token stores' own failure paths: unreachable, locked or slow, newer schema, corrupt
// file; and TokenStore::Open's URL and option checks.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/keyset.h"
#include "piicrypt/subtle/token_store.h"
#include "piicrypt/tokenizer.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::PgServer;
using ::piicrypt::testing::SharedPgServer;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<Tokenizer> MakeTokenizer(const Keyset& keyset,
                                         std::shared_ptr<const TokenStore> store,
                                         TokenMode mode = TokenMode::kDeterministic) {
  TokenizerOptions o;
  o.field = "orders.email";
  o.mode = mode;
  auto t = Tokenizer::Create(keyset, o, std::move(store));
  EXPECT_THAT(t, IsOk());
  return t.ok() ? *std::move(t) : nullptr;
}

TEST(TokenStoreTest, OpenChecksUrlAndOptions) {
  TempDir dir;
  EXPECT_THAT(TokenStore::Open("mysql://localhost/x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenStore::Open("sqlite:"), StatusIs(absl::StatusCode::kInvalidArgument));
  TokenStoreOptions bad;
  bad.timeout = absl::ZeroDuration();
  EXPECT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  bad = {};
  bad.max_connections = 0;
  EXPECT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TokenizerOptionsTest, BadOptionsAreRejected) {
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  TempDir dir;
  std::shared_ptr<TokenStore> store = *TokenStore::Open("sqlite:" + dir.File("t.db"));
  auto create = [&](auto change) {
    TokenizerOptions o;
    o.field = "orders.email";
    change(o);
    return Tokenizer::Create(*keyset, o, store).status();
  };
  EXPECT_THAT(create([](TokenizerOptions& o) { o.field.clear(); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) { o.prefix = "tok "; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) { o.prefix = std::string(33, 't'); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) { o.max_attempts = 0; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) { o.ttl = absl::Milliseconds(10); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) {
                o.format = TokenFormat::kAlphanumeric;
                o.alphanumeric_length = 3;
              }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) {
                o.vaultless = true;
                o.mode = TokenMode::kRandom;
              }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(create([](TokenizerOptions& o) {
                o.vaultless = true;
                o.ttl = absl::Seconds(10);
              }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  TokenizerOptions o;
  o.field = "orders.email";
  EXPECT_THAT(Tokenizer::Create(*keyset, o, nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---- SQLite ----

TEST(SqliteTokenStoreTest, UnopenableFileIsUnavailable) {
  EXPECT_THAT(TokenStore::Open("sqlite:/nonexistent-directory/tokens.db"),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(SqliteTokenStoreTest, FileIsPrivateAndInWalMode) {
  TempDir dir;
  ASSERT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db")), IsOk());
  struct stat st;
  ASSERT_EQ(stat(dir.File("t.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("t.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// A SQLite store with a short timeout and a keyset, for the tests where another process
// holds the database's write lock.
class SqliteLockedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    keyset_ = std::make_unique<Keyset>(*std::move(keyset));
    TokenStoreOptions options;
    options.timeout = absl::Milliseconds(100);
    auto store = TokenStore::Open("sqlite:" + dir_.File("t.db"), options);
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }
  void TearDown() override { Unlock(); }

  // Takes the write lock on another connection, as another process would.
  void Lock() {
    ASSERT_EQ(sqlite3_open(dir_.File("t.db").c_str(), &other_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  void Unlock() {
    if (other_ == nullptr) return;
    EXPECT_EQ(sqlite3_exec(other_, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other_);
    other_ = nullptr;
  }

  TempDir dir_;
  std::unique_ptr<Keyset> keyset_;
  std::shared_ptr<TokenStore> store_;
  sqlite3* other_ = nullptr;
};

TEST_F(SqliteLockedStoreTest, TokenizeIsUnavailableThenRecovers) {
  auto t = MakeTokenizer(*keyset_, store_);
  const std::string token = *t->Tokenize("jane@example.com");
  ASSERT_NO_FATAL_FAILURE(Lock());
  EXPECT_THAT(t->Tokenize("bob@example.com"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(*t->Detokenize(token), "jane@example.com");  // WAL: readers go on
  Unlock();
  auto bob = t->Tokenize("bob@example.com");
  ASSERT_THAT(bob, IsOk());
  EXPECT_EQ(*t->Detokenize(*bob), "bob@example.com");
}

TEST_F(SqliteLockedStoreTest, RekeyIsUnavailableThenResumes) {
  const std::string token = *MakeTokenizer(*keyset_, store_)->Tokenize("jane@example.com");
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  auto t = MakeTokenizer(*keyset_, store_);
  ASSERT_NO_FATAL_FAILURE(Lock());
  EXPECT_THAT(t->Rekey("", 10), StatusIs(absl::StatusCode::kUnavailable));
  Unlock();
  auto page = t->Rekey("", 10);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->rekeyed, 1);
  EXPECT_TRUE(page->done);
  EXPECT_EQ(*t->Detokenize(token), "jane@example.com");
}

// Runs `sql` on the SQLite file at `path`; returns the first column of the last row.
std::string SqliteExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string last;
  auto row = [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) = values[0] == nullptr ? "NULL" : values[0];
    return 0;
  };
  EXPECT_EQ(sqlite3_exec(db, sql, row, &last, nullptr), SQLITE_OK) << sql;
  sqlite3_close(db);
  return last;
}

// Reading a token of `store` is kInvalidArgument, with `message` in its message.
void ExpectReadFails(const TokenStore& store, const std::string& message) {
  auto found = store.Find("orders.email", "tok_1");
  EXPECT_THAT(found, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(found.status().message()), HasSubstr(message));
}

TEST(SqliteTokenStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  ASSERT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db")), IsOk());
  EXPECT_EQ(SqliteExec(dir.File("t.db"), "SELECT max(version) FROM piicrypt_schema_version"), "2");
  SqliteExec(dir.File("t.db"), "UPDATE piicrypt_schema_version SET version = 3");
  auto reopened = TokenStore::Open("sqlite:" + dir.File("t.db"));
  EXPECT_THAT(reopened, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(reopened.status().message()), HasSubstr("schema version 3"));
}

// A store of schema version 1 (entry format version 1) opens, and records version 2 so
// that older libraries, which would write entries this one refuses, refuse it.
TEST(SqliteTokenStoreTest, Version1SchemaIsRaisedToVersion2) {
  TempDir dir;
  ASSERT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db")), IsOk());
  SqliteExec(dir.File("t.db"),
             "DELETE FROM piicrypt_schema_version; INSERT INTO piicrypt_schema_version VALUES (1)");
  ASSERT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db")), IsOk());
  EXPECT_EQ(SqliteExec(dir.File("t.db"), "SELECT max(version) FROM piicrypt_schema_version"), "2");
}

TEST(SqliteTokenStoreTest, CorruptFileIsDataLoss) {
  TempDir dir;
  {
    std::ofstream f(dir.File("t.db"), std::ios::binary);
    f << std::string(8192, 'x');
  }
  ASSERT_EQ(::chmod(dir.File("t.db").c_str(), 0600), 0);  // a token database's rule
  EXPECT_THAT(TokenStore::Open("sqlite:" + dir.File("t.db")),
              StatusIs(absl::StatusCode::kDataLoss));
}

// A statement that does not fit the database (here its table is gone) is kInvalidArgument
// naming the table, as in every other SQLite user (src/db/sqlite.h: one mapping).
TEST(SqliteTokenStoreTest, MissingTableIsInvalidArgumentNamingIt) {
  TempDir dir;
  std::shared_ptr<TokenStore> store = *TokenStore::Open("sqlite:" + dir.File("t.db"));
  ASSERT_THAT(store->Find("orders.email", "tok_1"), IsOk());
  SqliteExec(dir.File("t.db"), "DROP TABLE piicrypt_tokens");
  ExpectReadFails(*store,
                  "token store (sqlite): cannot read a token: no such table: "
                  "piicrypt_tokens");
}

TEST(SqliteTokenStoreTest, BusyPoolGivesUnavailable) {
  TempDir dir;
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  TokenStoreOptions options;
  options.timeout = absl::Milliseconds(100);
  options.max_connections = 1;
  std::shared_ptr<TokenStore> store = *TokenStore::Open("sqlite:" + dir.File("t.db"), options);
  // Four threads share one connection: every call either succeeds or, having waited
  // longer than the timeout for the connection, says kUnavailable; nothing else.
  auto t = MakeTokenizer(*keyset, store, TokenMode::kRandom);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, unavailable{0}, other{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 25; ++j) {
        absl::Status s = t->Tokenize("jane@example.com").status();
        (s.ok() ? ok : s.code() == absl::StatusCode::kUnavailable ? unavailable : other)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + unavailable.load(), 100);
  EXPECT_GT(ok.load(), 0);
}

// ---- PostgreSQL (one shared server; see tests/CMakeLists.txt) ----

class PostgresTokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = SharedPgServer(&error);
    ASSERT_NE(server_, nullptr) << error;
    if (!server_->running()) {
      ASSERT_THAT(server_->Restart(), IsOk());
    }
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    keyset_ = std::make_unique<Keyset>(*std::move(keyset));
  }
  void TearDown() override {
    if (server_ != nullptr && !server_->running()) {
      EXPECT_THAT(server_->Restart(), IsOk());
    }
  }
  PgServer* server_ = nullptr;
  std::unique_ptr<Keyset> keyset_;
};

TEST_F(PostgresTokenStoreTest, UnreachableServerIsUnavailableWithoutThePassword) {
  auto store = TokenStore::Open(
      "postgresql://piicrypt:hunter2secret@/orders?host=/nonexistent-socket-dir&port=5");
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("hunter2secret")));
}

TEST_F(PostgresTokenStoreTest, ServerDownIsUnavailableAndARestartRecovers) {
  TokenStoreOptions options;
  options.timeout = absl::Seconds(2);
  std::shared_ptr<TokenStore> store = *TokenStore::Open(server_->Url(), options);
  auto t = MakeTokenizer(*keyset_, store);
  const std::string token = *t->Tokenize("jane@example.com");
  ASSERT_THAT(server_->Stop(), IsOk());
  EXPECT_THAT(t->Detokenize(token), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(t->Tokenize("bob@example.com"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(TokenStore::Open(server_->Url(), options), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(server_->Restart(), IsOk());
  // The same store object reconnects; the data outlived the server.
  EXPECT_EQ(*t->Detokenize(token), "jane@example.com");
  EXPECT_EQ(*t->Tokenize("jane@example.com"), token);
}

TEST_F(PostgresTokenStoreTest, SlowServerIsUnavailableThenRecovers) {
  TokenStoreOptions options;
  options.timeout = absl::Milliseconds(300);
  std::shared_ptr<TokenStore> store = *TokenStore::Open(server_->Url(), options);
  auto t = MakeTokenizer(*keyset_, store);
  const std::string token = *t->Tokenize("jane@example.com");
  // Another session locks the table: every statement of the store now waits.
  PGconn* other = PQconnectdb(server_->Url().c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  PQclear(PQexec(other, "BEGIN"));
  PGresult* locked = PQexec(other, "LOCK TABLE piicrypt_tokens IN ACCESS EXCLUSIVE MODE");
  ASSERT_EQ(PQresultStatus(locked), PGRES_COMMAND_OK);
  PQclear(locked);
  const absl::Time start = absl::Now();
  EXPECT_THAT(t->Detokenize(token), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(t->Tokenize("bob@example.com"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  PQclear(PQexec(other, "ROLLBACK"));
  PQfinish(other);
  EXPECT_EQ(*t->Detokenize(token), "jane@example.com");
}

TEST_F(PostgresTokenStoreTest, SchemaIsVersionedAndANewerOneRefused) {
  ASSERT_THAT(server_->CreateDatabase("newer_schema"), IsOk());
  const std::string url = server_->Url("newer_schema");
  ASSERT_THAT(TokenStore::Open(url), IsOk());
  ASSERT_THAT(TokenStore::Open(url), IsOk());  // idempotent
  auto version = server_->Psql("SELECT version FROM piicrypt_schema_version", "newer_schema");
  ASSERT_THAT(version, IsOk());
  EXPECT_EQ(*version, "2\n");
  // A version 1 store is raised to 2 (see SqliteTokenStoreTest.Version1SchemaIsRaisedToVersion2).
  ASSERT_THAT(server_->Psql("UPDATE piicrypt_schema_version SET version = 1", "newer_schema"),
              IsOk());
  ASSERT_THAT(TokenStore::Open(url), IsOk());
  version = server_->Psql("SELECT max(version) FROM piicrypt_schema_version", "newer_schema");
  ASSERT_THAT(version, IsOk());
  EXPECT_EQ(*version, "2\n");
  ASSERT_THAT(server_->Psql("UPDATE piicrypt_schema_version SET version = 3", "newer_schema"),
              IsOk());
  EXPECT_THAT(TokenStore::Open(url), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// As on SQLite: a statement that does not fit the database is kInvalidArgument naming the
// table (src/db/postgres.h: one mapping of SQLSTATEs).
TEST_F(PostgresTokenStoreTest, MissingTableIsInvalidArgumentNamingIt) {
  ASSERT_THAT(server_->CreateDatabase("dropped_table"), IsOk());
  std::shared_ptr<TokenStore> store = *TokenStore::Open(server_->Url("dropped_table"));
  ASSERT_THAT(store->Find("orders.email", "tok_1"), IsOk());
  ASSERT_THAT(server_->Psql("DROP TABLE piicrypt_tokens", "dropped_table"), IsOk());
  ExpectReadFails(*store,
                  "token store (postgresql): cannot read a token: undefined table "
                  "(SQLSTATE 42P01)");
}

TEST_F(PostgresTokenStoreTest, MissingDatabaseIsUnavailable) {
  EXPECT_THAT(TokenStore::Open(server_->Url("no_such_database")),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace piicrypt
