// Lookups against real databases: SQLite (its C API) and PostgreSQL (libpq, a throw-away
// server from tests/pg/). The same scenario on both: rows written under one key, the key
// rotated, more rows under the new one; then lookups by an e-mail typed differently and by
// a phone's last four digits, with 8-bit indexes so that the queries return rows of other
// values (and one collision made on purpose), and a row whose ciphertext was swapped.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/lookup.h"
#include "piicrypt/status_macros.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using Rows = std::vector<std::vector<std::optional<std::string>>>;

constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 8 column: "email_idx" }
  }
  field { name: "orders.customer_phone" kind: KIND_PHONE mode: MODE_RANDOMIZED bind_record: true }
  index {
    name: "orders.phone_last4"
    bits: 8
    part { field: "orders.customer_phone" transform: TRANSFORM_LAST_DIGITS n: 4 }
  }
)pb";

constexpr char kSchema[] =
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_email TEXT, email_idx TEXT, "
    "customer_phone TEXT, phone_last4_idx TEXT)";

// The application's side of a database: statements with text parameters.
class Db {
 public:
  virtual ~Db() = default;
  virtual SqlPlaceholders placeholders() const = 0;
  // Runs `sql` with `params`; the rows it returns, as text (NULL: nullopt).
  virtual Rows Run(const std::string& sql, const std::vector<std::string>& params) = 0;
};

class SqliteDb : public Db {
 public:
  SqliteDb() { EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK); }
  ~SqliteDb() override { sqlite3_close(db_); }
  SqlPlaceholders placeholders() const override { return SqlPlaceholders::kQuestionMark; }
  Rows Run(const std::string& sql, const std::vector<std::string>& params) override {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << " in " << sql;
    for (size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].data(),
                        static_cast<int>(params[i].size()), SQLITE_STATIC);
    }
    Rows rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.push_back(text == nullptr ? std::nullopt : std::optional<std::string>(text));
      }
      rows.push_back(std::move(row));
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

class PostgresDb : public Db {
 public:
  explicit PostgresDb(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
  }
  ~PostgresDb() override { PQfinish(conn_); }
  SqlPlaceholders placeholders() const override { return SqlPlaceholders::kDollarNumbered; }
  Rows Run(const std::string& sql, const std::vector<std::string>& params) override {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << PQresultErrorMessage(r) << " in " << sql;
    Rows rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < PQnfields(r); ++c) {
        row.push_back(PQgetisnull(r, i, c) ? std::nullopt
                                           : std::optional<std::string>(PQgetvalue(r, i, c)));
      }
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }

 private:
  PGconn* conn_;
};

NullableValue Value(const std::optional<std::string>& v) {
  if (!v.has_value()) return std::nullopt;
  return absl::string_view(*v);
}

std::string Email(int id) { return absl::StrCat("customer", id, "@example.com"); }
std::string Phone(int id) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%08d", (id * 7919) % 100000000);
  return absl::StrCat("+61 4", digits);
}
std::string Last4(const std::string& phone) { return phone.substr(phone.size() - 4); }

void Insert(Db& db, const FieldCryptor& c, int id, const std::string& email,
            const std::string& phone) {
  const std::string record = std::to_string(id);
  const std::string placeholders =
      db.placeholders() == SqlPlaceholders::kQuestionMark ? "?,?,?,?,?" : "$1,$2,$3,$4,$5";
  db.Run(absl::StrCat("INSERT INTO orders (id, customer_email, email_idx, customer_phone, "
                      "phone_last4_idx) VALUES (",
                      placeholders, ")"),
         {record, c.EncryptValue("orders.customer_email", email, record).value(),
          c.BlindIndexValue("orders.customer_email", email).value(),
          c.EncryptValue("orders.customer_phone", phone, record).value(),
          *c.CompoundIndex("orders.phone_last4", {phone}).value()});
}

struct Found {
  std::set<int> ids;
  size_t candidates = 0;
};

// The application's lookup: one call for the lookup, one for the SQL, one per row.
absl::StatusOr<Found> FindByEmail(Db& db, const FieldCryptor& c, absl::string_view typed) {
  PIICRYPT_ASSIGN_OR_RETURN(Lookup lookup, Lookup::Create(c, "orders.customer_email", typed));
  PIICRYPT_ASSIGN_OR_RETURN(SqlInList in, lookup.SqlIn(db.placeholders()));
  Found found;
  for (const auto& row :
       db.Run(absl::StrCat("SELECT id, customer_email FROM orders WHERE ", in.sql), in.bindings)) {
    ++found.candidates;
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email,
                              lookup.MatchValue(*row[0], Value(row[1])));
    if (email.has_value()) found.ids.insert(std::stoi(*row[0]));
  }
  return found;
}

// The same through Filter, for the phone's last four digits.
absl::StatusOr<Found> FindByLast4(Db& db, const FieldCryptor& c, absl::string_view last4) {
  PIICRYPT_ASSIGN_OR_RETURN(Lookup lookup, Lookup::Create(c, "orders.phone_last4", last4));
  PIICRYPT_ASSIGN_OR_RETURN(SqlInList in, lookup.SqlIn(db.placeholders()));
  const Rows rows =
      db.Run(absl::StrCat("SELECT id, customer_phone FROM orders WHERE ", in.sql, " ORDER BY id"),
             in.bindings);
  std::vector<LookupCandidate> candidates;
  for (const auto& row : rows) candidates.push_back({*row[0], {Value(row[1])}});
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<size_t> matches, lookup.Filter(candidates));
  Found found;
  found.candidates = rows.size();
  for (size_t i : matches) found.ids.insert(std::stoi(*rows[i][0]));
  return found;
}

void RunScenario(Db& db) {
  db.Run(kSchema, {});
  const Policy policy = Policy::ParseTextProto(kPolicy).value();
  Keyset keyset = Keyset::Generate().value();
  auto old_cryptor = FieldCryptor::Create(keyset, policy).value();
  for (int id = 1; id <= 200; ++id) Insert(db, *old_cryptor, id, Email(id), Phone(id));
  ASSERT_THAT(keyset.Rotate(), IsOk());
  auto c = FieldCryptor::Create(keyset, policy).value();
  for (int id = 201; id <= 400; ++id) Insert(db, *c, id, Email(id), Phone(id));

  // A value made to share the new key's index value with customer 300's: the query
  // returns its row, the filter drops it.
  const std::string target = c->BlindIndexValue("orders.customer_email", Email(300)).value();
  std::string impostor;
  for (int i = 0; impostor.empty(); ++i) {
    const std::string e = absl::StrCat("impostor", i, "@example.com");
    if (c->BlindIndexValue("orders.customer_email", e).value() == target) impostor = e;
  }
  Insert(db, *c, 401, impostor, Phone(401));

  size_t candidates = 0;
  for (int id : {1, 2, 117, 200, 201, 300, 399}) {
    const std::string typed = absl::StrCat("  ", absl::AsciiStrToUpper(Email(id)), " ");
    auto found = FindByEmail(db, *c, typed);
    ASSERT_THAT(found, IsOk());
    EXPECT_EQ(found->ids, std::set<int>({id})) << typed;
    candidates += found->candidates;
  }
  // 401 rows over 256 index values, two values queried per lookup (one per key).
  EXPECT_GT(candidates, 7u) << "the 8-bit indexes returned no row of another value";
  auto found_300 = FindByEmail(db, *c, Email(300));
  ASSERT_THAT(found_300, IsOk());
  EXPECT_GE(found_300->candidates, 2u);  // customer 300 and the impostor at least

  // Old rows are found through the old key's index value (the second one queried).
  auto lookup = Lookup::Create(*c, "orders.customer_email", Email(5)).value();
  ASSERT_EQ(lookup.index_values().size(), 2u);
  const Rows stored =
      db.Run(absl::StrCat("SELECT email_idx FROM orders WHERE id = ",
                          db.placeholders() == SqlPlaceholders::kQuestionMark ? "?" : "$1"),
             {"5"});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(*stored[0][0], lookup.index_values()[1]);

  // Compound: a phone's last four digits, the rows of every customer whose number ends so.
  for (int id : {3, 250}) {
    std::set<int> want;
    for (int other = 1; other <= 401; ++other) {
      if (Last4(Phone(other)) == Last4(Phone(id))) want.insert(other);
    }
    auto found = FindByLast4(db, *c, Last4(Phone(id)));
    ASSERT_THAT(found, IsOk());
    EXPECT_EQ(found->ids, want);
  }

  // An attacker with write access copies customer 9's e-mail ciphertext into row 10:
  // looking up customer 10 now fails, it never returns row 10 as a match (nor drops it).
  db.Run(
      "UPDATE orders SET customer_email = (SELECT customer_email FROM orders WHERE id = 9) "
      "WHERE id = 10",
      {});
  EXPECT_THAT(FindByEmail(db, *c, Email(10)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LookupSqliteTest, FindsTypedValuesDropsCollisionsAcrossARotationAndFailsClosed) {
  SqliteDb db;
  RunScenario(db);
}

TEST(PostgresLookupTest, FindsTypedValuesDropsCollisionsAcrossARotationAndFailsClosed) {
  std::string error;
  testing::PgServer* server = testing::SharedPgServer(&error);
  ASSERT_NE(server, nullptr) << error;
  if (!server->running()) {
    ASSERT_THAT(server->Restart(), IsOk());
  }
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat("lookup_", getpid(), "_", counter++);
  ASSERT_THAT(server->CreateDatabase(name), IsOk());
  PostgresDb db(server->Url(name));
  RunScenario(db);
}

}  // namespace
}  // namespace piicrypt
