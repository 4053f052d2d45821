// Rows whose id the database generates (INTEGER PRIMARY KEY AUTOINCREMENT), on SQLite through
// its C API: the pattern of docs/ROWS.md. In one transaction: insert the row with its
// protected columns NULL, read the new id, encrypt the row bound to that id, UPDATE it. A
// row that fails to encrypt leaves nothing behind; the stored row reads back by its id and
// is found by its blind index.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/row_cryptor.h"
#include "tests/order_fixture.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::StatusIs;

std::string OrderPolicy() {
  return absl::StrCat(::piicrypt::testing::kOrderNameField, ::piicrypt::testing::kOrderEmailField,
                      ::piicrypt::testing::kOrderPhoneField);
}

class RowSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(dir_.File("shop.db").c_str(), &db_), SQLITE_OK);
    Exec(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, status TEXT NOT NULL,"
        " customer_name TEXT, customer_email TEXT, customer_email_idx TEXT,"
        " customer_phone TEXT, customer_phone_idx TEXT)");
    auto keyset = Keyset::Generate();
    ASSERT_TRUE(keyset.ok());
    auto policy = Policy::ParseTextProto(OrderPolicy());
    ASSERT_TRUE(policy.ok()) << policy.status();
    auto rows = RowCryptor::Create(*keyset, *policy, "orders");
    ASSERT_TRUE(rows.ok()) << rows.status();
    orders_ = *std::move(rows);
  }
  void TearDown() override { sqlite3_close(db_); }

  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  int64_t Count() {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "SELECT count(*) FROM orders", -1, &s, nullptr);
    sqlite3_step(s);
    const int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }

  // The pattern: INSERT with the protected columns NULL, the generated id, Encrypt bound
  // to it, UPDATE; all in one transaction, rolled back on any failure.
  absl::StatusOr<int64_t> InsertOrder(absl::Span<const ColumnValue> values) {
    if (Exec("BEGIN IMMEDIATE") != SQLITE_OK) return absl::UnavailableError("begin");
    absl::StatusOr<int64_t> id = InsertAndUpdate(values);
    if (Exec(id.ok() ? "COMMIT" : "ROLLBACK") != SQLITE_OK && id.ok()) {
      return absl::UnavailableError("commit");
    }
    return id;
  }

  absl::StatusOr<int64_t> InsertAndUpdate(absl::Span<const ColumnValue> values) {
    if (Exec("INSERT INTO orders (status) VALUES ('new')") != SQLITE_OK) {
      return absl::UnavailableError("insert");
    }
    const int64_t id = sqlite3_last_insert_rowid(db_);
    absl::StatusOr<Row> stored = orders_->Encrypt(id, values);
    if (!stored.ok()) return stored.status();
    std::vector<std::string> sets;
    for (const Row::Column& c : *stored) sets.push_back(absl::StrCat(c.name, " = ?"));
    sqlite3_stmt* s = nullptr;
    const std::string sql =
        absl::StrCat("UPDATE orders SET ", absl::StrJoin(sets, ", "), " WHERE id = ?");
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      return absl::UnavailableError("prepare");
    }
    int i = 1;
    for (const Row::Column& c : *stored) {
      if (c.value.has_value()) {
        sqlite3_bind_text(s, i++, c.value->data(), static_cast<int>(c.value->size()),
                          SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(s, i++);
      }
    }
    sqlite3_bind_int64(s, i, id);
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE || sqlite3_changes(db_) != 1) return absl::UnavailableError("update");
    return id;
  }

  // The orders whose e-mail index is one of the lookup's, decrypted by their own ids.
  std::vector<std::pair<int64_t, Row>> FindByEmail(absl::string_view email) {
    std::vector<std::pair<int64_t, Row>> found;
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT id, customer_name, customer_email, customer_phone "
                                 "FROM orders WHERE customer_email_idx = ? ORDER BY id",
                                 -1, &s, nullptr),
              SQLITE_OK);
    auto index = Index(email);
    sqlite3_bind_text(s, 1, index.data(), static_cast<int>(index.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(s) == SQLITE_ROW) {
      const int64_t id = sqlite3_column_int64(s, 0);
      auto text = [&](int i) {
        return NullableText(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                            static_cast<size_t>(sqlite3_column_bytes(s, i)));
      };
      absl::StatusOr<Row> plain = orders_->Decrypt(
          id,
          {{"customer_name", text(1)}, {"customer_email", text(2)}, {"customer_phone", text(3)}});
      EXPECT_TRUE(plain.ok()) << plain.status();
      if (plain.ok()) found.emplace_back(id, *std::move(plain));
    }
    sqlite3_finalize(s);
    return found;
  }

  std::string Index(absl::string_view email) {
    auto row = orders_->EncryptColumns(1, {{"customer_email", email}});
    return row.ok() ? **row->Find("customer_email_idx") : "";
  }

  testing::TempDir dir_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<RowCryptor> orders_;
};

TEST_F(RowSqliteTest, GeneratedIdsAreBoundInTheSameTransaction) {
  auto first = InsertOrder({{"customer_name", "Jane Doe"},
                            {"customer_email", "jane@example.com"},
                            {"customer_phone", "(02) 5550 0199"}});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = InsertOrder({{"customer_name", "John Roe"},
                             {"customer_email", "JANE@example.com "},
                             {"customer_phone", std::nullopt}});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*first, *second);

  // A row that fails to encrypt (an invalid phone number) leaves no row behind.
  auto failed = InsertOrder({{"customer_name", "Bad Phone"},
                             {"customer_email", "bad@example.com"},
                             {"customer_phone", "not a phone"}});
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Count(), 2);

  // Both orders are found by the e-mail however it is typed, each decrypted by its id.
  auto found = FindByEmail(" Jane@Example.com");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].first, *first);
  EXPECT_EQ(**found[0].second.Find("customer_name"), "Jane Doe");
  EXPECT_EQ(**found[0].second.Find("customer_phone"), "(02) 5550 0199");
  EXPECT_EQ(**found[1].second.Find("customer_name"), "John Roe");
  EXPECT_FALSE(found[1].second.Find("customer_phone")->has_value());

  // The values are bound to the generated id: copied into the other row, they fail.
  ASSERT_EQ(Exec(absl::StrCat("UPDATE orders SET customer_name = (SELECT customer_name FROM "
                              "orders WHERE id = ",
                              *first, ") WHERE id = ", *second)),
            SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db_, "SELECT customer_name FROM orders WHERE id = ?", -1, &s, nullptr),
      SQLITE_OK);
  sqlite3_bind_int64(s, 1, *second);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  auto moved = orders_->Decrypt(
      *second,
      {{"customer_name", NullableText(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)))}});
  sqlite3_finalize(s);
  EXPECT_THAT(moved, StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace piicrypt
