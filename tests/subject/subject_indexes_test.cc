// ClearSubjectIndexes (include/piicrypt/subject_indexes.h) on SQLite and PostgreSQL: the
// subject's rows cleared and no other, in one transaction, with BIGINT and TEXT keys;
// unknown names refused by name; requests and URLs refused before any database is reached.
#include "piicrypt/subject_indexes.h"

#include <sqlite3.h>

#include <cstdlib>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/subject/subject_stores.h"
#include "tests/pg/pg_server.h"
#include "tests/subject/subject_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::IsOkAndHolds;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::SubjectStoreEnv;
using ::piicrypt::testing::SubjectStoreKind;
using ::testing::HasSubstr;

ClearIndexesRequest Request(const std::string& url) {
  ClearIndexesRequest r;
  r.db_url = url;
  r.table = "orders";
  r.key_column = "id";
  r.columns = {"email_idx", "phone_idx"};
  r.records = {"1001"};
  return r;
}

TEST(ClearSubjectIndexesTest, RefusesIdentifiersThatAreNotPlain) {
  ClearIndexesRequest r = Request("sqlite:/nonexistent.db");
  r.table = "orders; DROP TABLE orders";
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r.table = "orders";
  r.columns = {"email_idx\" = 'x', \"id"};
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r.columns = {"id"};  // the key column itself
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r.columns = {};
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r.columns = {"email_idx"};
  r.records = {};
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
  // libpq takes text parameters as C strings: "1001\0x" would clear row 1001.
  r.records = {std::string("1001\0x", 6)};
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r.db_url = "postgresql://unreachable.invalid/shop";  // refused before connecting
  EXPECT_THAT(ClearSubjectIndexes(r), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ClearSubjectIndexesTest, RefusesUnknownUrlSchemes) {
  for (const char* url : {"mysql://db/shop", "file:/tmp/orders.db", "sqlite:", "postgresql:x",
                          "SQLITE:/tmp/orders.db", ""}) {
    absl::StatusOr<int64_t> cleared = ClearSubjectIndexes(Request(url));
    EXPECT_THAT(cleared, StatusIs(absl::StatusCode::kInvalidArgument)) << url;
    EXPECT_THAT(cleared.status().message(), HasSubstr("sqlite:")) << url;
  }
}

// A back-end whose component is not linked: in a child process, so that this process's
// registry stays whole.
TEST(ClearSubjectIndexesDeathTest, BackEndNotLinkedIsFailedPrecondition) {
  for (auto [backend, url, component] :
       {std::tuple{internal::StoreBackend::kSqlite, "sqlite:/nonexistent.db", "piicrypt::sqlite"},
        std::tuple{internal::StoreBackend::kPostgres, "postgres://db/shop",
                   "piicrypt::postgres"}}) {
    EXPECT_EXIT(
        {
          internal::RegisterSubjectIndexClearer(backend, nullptr);
          absl::StatusOr<int64_t> cleared = ClearSubjectIndexes(Request(url));
          const bool ok = cleared.status().code() == absl::StatusCode::kFailedPrecondition &&
                          absl::StrContains(cleared.status().message(), component);
          std::_Exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "")
        << url;
  }
}

// The application's database, on SQLite or on the shared PostgreSQL server.
class SubjectIndexesTest : public ::testing::TestWithParam<SubjectStoreKind> {
 protected:
  void SetUp() override {
    std::string error;
    url_ = env_.NewUrl(&error);
    ASSERT_FALSE(url_.empty()) << error;
  }
  bool postgres() const { return GetParam() == SubjectStoreKind::kPostgres; }
  void Sql(const std::string& sql) { ASSERT_THAT(env_.Sql(url_, sql), IsOk()) << sql; }
  // The rows of `select`, one line each, columns separated by '|', NULL as nothing.
  std::string Query(const std::string& select) {
    if (postgres()) {
      const std::string db = url_.substr(std::string("postgresql:///").size());
      absl::StatusOr<std::string> out =
          testing::SharedPgServer()->Psql(select, db.substr(0, db.find('?')));
      EXPECT_THAT(out, IsOk());
      return out.value_or("");
    }
    sqlite3* db = nullptr;
    std::string out;
    sqlite3_open(url_.substr(7).c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, select.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        absl::StrAppend(&out, i > 0 ? "|" : "",
                        text == nullptr ? "" : reinterpret_cast<const char*>(text));
      }
      out += "\n";
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  // orders (BIGINT key) and customers (TEXT key), three rows each.
  void CreateTables() {
    Sql("CREATE TABLE orders (id BIGINT PRIMARY KEY, email_idx TEXT, phone_idx TEXT, "
        "note TEXT); INSERT INTO orders VALUES (1001, 'ab', 'cd', 'n1'), "
        "(1002, 'ef', 'gh', 'n2'), (1003, 'ij', 'kl', 'n3');"
        "CREATE TABLE customers (ref TEXT PRIMARY KEY, email_idx TEXT); "
        "INSERT INTO customers VALUES ('c-1', 'ab'), ('c-2', 'ef'), ('10', 'ij');");
  }
  static constexpr char kOrders[] = "SELECT id, email_idx, phone_idx, note FROM orders ORDER BY id";
  static constexpr char kUntouchedOrders[] = "1001|ab|cd|n1\n1002|ef|gh|n2\n1003|ij|kl|n3\n";

  SubjectStoreEnv env_{GetParam()};
  std::string url_;
};

TEST_P(SubjectIndexesTest, ClearsTheSubjectsRowsOfABigintKeyAndNoOther) {
  ASSERT_NO_FATAL_FAILURE(CreateTables());
  ClearIndexesRequest r = Request(url_);
  r.records = {"1001", "5555", "1003"};  // 5555 is no row: not counted
  EXPECT_THAT(ClearSubjectIndexes(r), IsOkAndHolds(2));
  EXPECT_EQ(Query(kOrders), "1001|||n1\n1002|ef|gh|n2\n1003|||n3\n");
  r.columns = {"note"};
  r.records = {"1002"};
  if (postgres()) r.db_url = "postgres://" + url_.substr(std::string("postgresql://").size());
  EXPECT_THAT(ClearSubjectIndexes(r), IsOkAndHolds(1));
  EXPECT_EQ(Query(kOrders), "1001|||n1\n1002|ef|gh|\n1003|||n3\n");
}

TEST_P(SubjectIndexesTest, ClearsTheSubjectsRowsOfATextKeyAndNoOther) {
  ASSERT_NO_FATAL_FAILURE(CreateTables());
  ClearIndexesRequest r = Request(url_);
  r.table = "customers";
  r.key_column = "ref";
  r.columns = {"email_idx"};
  r.records = {"c-2", "c-9", "10"};
  EXPECT_THAT(ClearSubjectIndexes(r), IsOkAndHolds(2));
  EXPECT_EQ(Query("SELECT ref, email_idx FROM customers ORDER BY ref"), "10|\nc-1|ab\nc-2|\n");
}

TEST_P(SubjectIndexesTest, UnknownTableOrColumnIsNamedAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(CreateTables());
  struct Case {
    const char* table;
    const char* key;
    const char* column;   // after email_idx, which exists
    const char* unknown;  // the name the error names
  };
  for (const Case& c : {Case{"missing_orders", "id", "phone_idx", "missing_orders"},
                        Case{"orders", "id", "nope_idx", "nope_idx"},
                        Case{"orders", "order_no", "phone_idx", "order_no"}}) {
    ClearIndexesRequest r = Request(url_);
    r.table = c.table;
    r.key_column = c.key;
    r.columns = {"email_idx", c.column};
    r.records = {"1001", "1002"};
    absl::StatusOr<int64_t> cleared = ClearSubjectIndexes(r);
    EXPECT_THAT(cleared, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(cleared.status().message(), HasSubstr(c.unknown));
    EXPECT_EQ(Query(kOrders), kUntouchedOrders);
  }
}

// The second row cannot be cleared (a CHECK constraint): the first, cleared in the same
// transaction, is left as it was.
TEST_P(SubjectIndexesTest, AllRowsOrNone) {
  Sql("CREATE TABLE orders (id BIGINT PRIMARY KEY, email_idx TEXT, "
      "phone_idx TEXT CHECK (phone_idx IS NOT NULL OR id <> 1002), note TEXT); "
      "INSERT INTO orders VALUES (1001, 'ab', 'cd', 'n1'), (1002, 'ef', 'gh', 'n2'), "
      "(1003, 'ij', 'kl', 'n3');");
  ClearIndexesRequest r = Request(url_);
  r.records = {"1001", "1003", "1002"};
  EXPECT_FALSE(ClearSubjectIndexes(r).ok());
  EXPECT_EQ(Query(kOrders), kUntouchedOrders);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SubjectIndexesTest, ::testing::Values(SubjectStoreKind::kSqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, SubjectIndexesTest,
                         ::testing::Values(SubjectStoreKind::kPostgres));

// PostgreSQL reads each record in the key column's type: one that is no BIGINT is refused,
// never compared as text, and what was cleared before it in the transaction is undone.
TEST(PostgresSubjectIndexesTest, ARecordNotOfTheKeyTypeClearsNothing) {
  SubjectStoreEnv env(SubjectStoreKind::kPostgres);
  std::string error;
  const std::string url = env.NewUrl(&error);
  ASSERT_FALSE(url.empty()) << error;
  ASSERT_THAT(env.Sql(url,
                      "CREATE TABLE orders (id BIGINT PRIMARY KEY, email_idx TEXT, "
                      "phone_idx TEXT); INSERT INTO orders VALUES (1001, 'ab', 'cd');"),
              IsOk());
  ClearIndexesRequest r = Request(url);
  r.records = {"1001", "1001 OR TRUE"};
  absl::StatusOr<int64_t> cleared = ClearSubjectIndexes(r);
  EXPECT_THAT(cleared, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cleared.status().message(), ::testing::Not(HasSubstr("OR TRUE")));
  const std::string db = url.substr(std::string("postgresql:///").size());
  EXPECT_THAT(testing::SharedPgServer()->Psql("SELECT id, email_idx, phone_idx FROM orders",
                                              db.substr(0, db.find('?'))),
              IsOkAndHolds(std::string("1001|ab|cd\n")));
  r.records = {"1001"};
  r.db_url = url + "&user=nobody_here";  // refused credentials: no libpq text either
  cleared = ClearSubjectIndexes(r);
  EXPECT_FALSE(cleared.ok());
  EXPECT_THAT(cleared.status().message(), HasSubstr("clear indexes (postgresql): "));
}

}  // namespace
}  // namespace piicrypt
