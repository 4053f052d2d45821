// The policy's table and column of each field (FieldRule::table, ::column): defaults read
// from the name, explicit settings, and the checks at load (one column, one field).
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/policy.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RowPolicyTest, TableAndColumnDefaultToTheNamesTableDotColumn) {
  auto policy = Policy::ParseTextProto(R"pb(
    field {
      name: "orders.customer_email"
      kind: KIND_EMAIL
      mode: MODE_RANDOMIZED
      blind_index { bits: 16 }
    }
    field { name: "email" mode: MODE_RANDOMIZED }
    field { name: "shop.orders.note" mode: MODE_RANDOMIZED }
    field { name: "orders.customer-phone" mode: MODE_RANDOMIZED }
  )pb");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const FieldRule& email = policy->rules()[0];
  EXPECT_EQ(email.table, "orders");
  EXPECT_EQ(email.column, "customer_email");
  EXPECT_EQ(email.blind_index->column, "customer_email_idx");
  EXPECT_EQ(policy->FindColumn("orders", "customer_email"), &email);
  EXPECT_EQ(policy->FindColumn("orders", "customer_email_idx"), nullptr);
  // Names that are not TABLE.COLUMN of plain identifiers are stored in no known column.
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(policy->rules()[i].table, "") << policy->rules()[i].name;
    EXPECT_EQ(policy->rules()[i].column, "") << policy->rules()[i].name;
  }
}

TEST(RowPolicyTest, ExplicitTableAndColumnLeaveTheNameAlone) {
  auto policy = Policy::ParseTextProto(R"pb(
    field {
      name: "orders.customer_email"
      kind: KIND_EMAIL
      mode: MODE_RANDOMIZED
      column: "email_ct"
      blind_index { bits: 16 }
    }
    field { name: "orders.customer_name" mode: MODE_RANDOMIZED table: "sales_orders" }
    field { name: "loyalty" mode: MODE_DETERMINISTIC table: "members" column: "loyalty_no" }
  )pb");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->rules()[0].name, "orders.customer_email");
  EXPECT_EQ(policy->rules()[0].table, "orders");
  EXPECT_EQ(policy->rules()[0].column, "email_ct");
  EXPECT_EQ(policy->rules()[0].blind_index->column, "email_ct_idx");
  EXPECT_EQ(policy->rules()[1].table, "sales_orders");
  EXPECT_EQ(policy->rules()[1].column, "customer_name");
  EXPECT_EQ(policy->FindColumn("members", "loyalty_no"), &policy->rules()[2]);
}

// ... tables exactly: PostgreSQL keeps the quoted "Orders" and "orders" apart.
TEST(RowPolicyTest, TablesDifferingInCaseAreTwoTables) {
  auto policy = Policy::ParseTextProto(R"pb(
    field { name: "orders.email" mode: MODE_RANDOMIZED }
    field { name: "Orders.email" mode: MODE_RANDOMIZED }
  )pb");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->FindColumn("Orders", "email"), &policy->rules()[1]);
}

TEST(RowPolicyTest, LoadRefusesColumnsThatAreNotOneFieldsOwn) {
  struct Case {
    const char* policy;
    const char* message;
  };
  const Case cases[] = {
      {R"pb(field { name: "orders.email" mode: MODE_RANDOMIZED }
            field { name: "orders.mail" mode: MODE_RANDOMIZED column: "email" })pb",
       "policy field \"orders.mail\": column orders.email is already a column of field "
       "\"orders.email\""},
      // The columns of a table are compared without regard to case (SQLite: one column) ...
      {R"pb(field { name: "orders.email" mode: MODE_RANDOMIZED }
            field { name: "orders.mail" mode: MODE_RANDOMIZED column: "EMAIL" })pb",
       "column orders.EMAIL is already a column of field \"orders.email\""},
      {R"pb(field { name: "orders.email" mode: MODE_RANDOMIZED }
            field { name: "sales.email" mode: MODE_RANDOMIZED table: "orders" })pb",
       "column orders.email is already a column of field \"orders.email\""},
      // A blind index on another field's column, and a field on another's index column.
      {R"pb(field { name: "orders.email" mode: MODE_RANDOMIZED }
            field {
              name: "orders.phone"
              kind: KIND_PHONE
              mode: MODE_RANDOMIZED
              blind_index { bits: 16 column: "email" }
            })pb",
       "column orders.email is already a column of field \"orders.email\""},
      {R"pb(field {
              name: "orders.email"
              kind: KIND_EMAIL
              mode: MODE_RANDOMIZED
              blind_index { bits: 16 }
            }
            field { name: "orders.email_idx" mode: MODE_RANDOMIZED })pb",
       "column orders.email_idx is already a column of field \"orders.email\""},
      // One field using a column twice: its key-version column on its own value.
      {R"pb(field {
              name: "orders.phone"
              kind: KIND_PHONE
              mode: MODE_FORMAT_PRESERVING
              format_preserving {
                phone {}
                key_version_column: "phone"
              }
            })pb",
       "column orders.phone is used twice by this field"},
      // A column needs a table and a table a column.
      {R"pb(field { name: "email" mode: MODE_RANDOMIZED column: "email" })pb",
       "column needs a table"},
      {R"pb(field { name: "email" mode: MODE_RANDOMIZED table: "orders" })pb",
       "table needs a column"},
      {R"pb(field { name: "orders.email" mode: MODE_RANDOMIZED column: "email; DROP TABLE x" })pb",
       "column must be a plain SQL identifier"},
      {R"pb(field { name: "orders.email" mode: MODE_RANDOMIZED table: "a.b" })pb",
       "table must be a plain SQL identifier"},
  };
  for (const Case& c : cases) {
    auto policy = Policy::ParseTextProto(c.policy);
    EXPECT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument)) << c.policy;
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(c.message)) << c.policy;
  }
}

}  // namespace
}  // namespace piicrypt
