// `piicrypt plan-index`: the blind-index planner from the command line (its arithmetic is
// tested in tests/field/index_planner_test.cc).
#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class PlanCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    values_ = dir_.File("emails.txt");
    std::ofstream f(values_);
    for (int i = 0; i < 3000; ++i) f << "Customer" << i % 2000 << "@Example.com\n";
    f << "not-an-address\n";
  }
  CommandResult Plan(const std::string& args) {
    return RunCommand(absl::StrCat(CliPath(), " plan-index --values '", values_, "' ", args));
  }
  TempDir dir_;
  std::string values_;
};

TEST_F(PlanCliTest, PrintsEveryLengthAndARecommendation) {
  CommandResult r = Plan("--rows 1000000 --normalize email --max-bits 40");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3001 values read (1 refused by the normalizer), 2000 distinct"));
  EXPECT_THAT(r.out, HasSubstr("false positives"));
  EXPECT_THAT(r.out, HasSubstr("\n   8 "));
  EXPECT_THAT(r.out, HasSubstr("\n  40 "));
  EXPECT_THAT(r.out, Not(HasSubstr("\n  41 ")));
  EXPECT_THAT(r.out, HasSubstr("recommended: "));
  EXPECT_THAT(r.out, HasSubstr("rule: the most bits at which every index value"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("@example.com")));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("not-an-address")));
}

TEST_F(PlanCliTest, JsonAndPolicy) {
  const std::string policy = dir_.File("policy.textproto");
  {
    std::ofstream f(policy);
    f << "field { name: \"orders.email\" kind: KIND_EMAIL mode: MODE_RANDOMIZED\n"
         "        blind_index { bits: 32 } }\n"
         "field { name: \"orders.name\" kind: KIND_NAME mode: MODE_RANDOMIZED }\n";
  }
  CommandResult r =
      Plan("--rows 50000 --json --min-values 3 --policy '" + policy + "' --field orders.email");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              StartsWith("{\"sample_rows\": 3001, \"refused\": 1, \"sample_distinct\": 2000"));
  EXPECT_THAT(r.out, HasSubstr("\"candidates\": [{\"bits\": 8, \"false_positives\": "));
  EXPECT_THAT(r.out, HasSubstr("\"recommended_bits\": "));
  EXPECT_THAT(r.out, HasSubstr("at least 3 distinct values"));
  // A field without a blind index, and --normalize beside --policy: bad usage.
  EXPECT_EQ(Plan("--rows 10 --policy '" + policy + "' --field orders.name").exit_code, 2);
  EXPECT_EQ(
      Plan("--rows 10 --normalize email --policy '" + policy + "' --field orders.email").exit_code,
      2);
}

TEST_F(PlanCliTest, PlotsAPngOrSaysGnuplotIsMissing) {
  const std::string png = dir_.File("bits.png");
  CommandResult r = Plan("--rows 100000 --normalize email --plot '" + png + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream f(png, std::ios::binary);
  std::string magic(8, '\0');
  f.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
  CommandResult missing =
      RunCommand(absl::StrCat("PATH=/nonexistent ", CliPath(), " plan-index --values '", values_,
                              "' --rows 100 --plot '", png, "'"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("gnuplot"));
  EXPECT_THAT(missing.err, HasSubstr("not installed"));
}

// The column read from a table and decrypted through the policy: the same counts as the
// plaintext file; a ciphertext moved to another row stops the run naming the row.
TEST_F(PlanCliTest, ReadsATableColumnThroughThePolicy) {
  const std::string kek = "file:" + dir_.File("kek.key");
  const std::string keyset_path = dir_.File("orders.keyset");
  const std::string policy_path = dir_.File("policy.textproto");
  const std::string db_path = dir_.File("orders.db");
  {
    std::ofstream f(policy_path);
    f << "field { name: \"orders.customer_email\" kind: KIND_EMAIL mode: MODE_RANDOMIZED\n"
         "        bind_record: true blind_index { bits: 16 } }\n";
  }
  ASSERT_THAT(Kek::Create(kek), IsOk());
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  ASSERT_THAT(keyset->WriteNew(keyset_path, **Kek::Open(kek)), IsOk());
  auto policy = Policy::ReadFile(policy_path);
  ASSERT_THAT(policy, IsOk());
  auto cryptor = FieldCryptor::Create(*keyset, *policy);
  ASSERT_THAT(cryptor, IsOk());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
  std::string sql = "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT);";
  for (int id = 1; id <= 300; ++id) {
    auto ct =
        (*cryptor)->Encrypt("orders.customer_email",
                            absl::StrCat("Customer", id % 100, "@Example.com"), std::to_string(id));
    ASSERT_THAT(ct, IsOk());
    absl::StrAppend(&sql, "INSERT INTO orders VALUES (", id, ", '", **ct, "');");
  }
  absl::StrAppend(&sql, "INSERT INTO orders VALUES (301, NULL);");
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  const auto plan = [&](const std::string& table, const std::string& column = "email",
                        const std::string& key_column = "id") {
    return RunCommand(absl::StrCat(CliPath(), " plan-index --rows 30000 --db 'sqlite:", db_path,
                                   "' --table '", table, "' --column ", column, " --key-column ",
                                   key_column, " --kek '", kek, "' --keyset '", keyset_path,
                                   "' --policy '", policy_path, "' --field orders.customer_email"));
  };
  CommandResult r = plan("orders");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("300 values read (0 refused by the normalizer), 100 distinct"));
  EXPECT_THAT(r.out, HasSubstr("recommended: "));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("example.com")));

  // A column or key column that is not in the table is named as such (SQLite would read the
  // quoted name as a string literal unless told not to).
  for (const auto& [column, key_column] :
       {std::pair<std::string, std::string>("emial", "id"),
        std::pair<std::string, std::string>("email", "order_id")}) {
    CommandResult misspelt = plan("orders", column, key_column);
    EXPECT_EQ(misspelt.exit_code, 1);
    EXPECT_THAT(misspelt.err, HasSubstr("cannot read column"));
  }

  // Row 2's ciphertext copied into row 1: it does not decrypt there (bound to its row).
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE orders SET email = (SELECT email FROM orders WHERE id = 2) "
                         "WHERE id = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  CommandResult moved = plan("orders");
  EXPECT_EQ(moved.exit_code, 1);
  EXPECT_THAT(moved.err, HasSubstr("row id = 1"));
  EXPECT_THAT(moved.err, Not(HasSubstr("example.com")));
  // Usage: no policy, a table name that is not an identifier, both inputs.
  EXPECT_EQ(RunCommand(absl::StrCat(CliPath(), " plan-index --rows 10 --db 'sqlite:", db_path,
                                    "' --table orders --column email --key-column id"))
                .exit_code,
            2);
  CommandResult injected = plan("orders; DROP TABLE orders");
  EXPECT_EQ(injected.exit_code, 2);
  EXPECT_THAT(injected.err, HasSubstr("plain SQL identifiers"));
  EXPECT_EQ(RunCommand(absl::StrCat(CliPath(), " plan-index --rows 10 --values '", values_,
                                    "' --db 'sqlite:", db_path, "'"))
                .exit_code,
            2);
}

TEST_F(PlanCliTest, FailuresAndUsage) {
  EXPECT_EQ(Plan("").exit_code, 2);                                         // no --rows
  EXPECT_EQ(RunCommand(CliPath() + " plan-index --rows 10").exit_code, 2);  // no input
  EXPECT_EQ(Plan("--rows 0").exit_code, 2);
  EXPECT_EQ(Plan("--rows 10 --min-bits 4").exit_code, 2);
  EXPECT_EQ(Plan("--rows 10 --min-bits 30 --max-bits 20").exit_code, 2);
  CommandResult none = Plan("--rows 10 --normalize phone");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("none of the 3001 values normalizes"));
  CommandResult missing = RunCommand(CliPath() + " plan-index --values /nonexistent --rows 10");
  EXPECT_EQ(missing.exit_code, 1);
  CommandResult h = RunCommand(CliPath() + " plan-index --help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* text : {"--values", "--rows", "--json", "--plot", "fingerprint",
                           "false positives", "Heaps", "Examples", "Exit status"}) {
    EXPECT_THAT(h.out, HasSubstr(text));
  }
}

}  // namespace
}  // namespace piicrypt
