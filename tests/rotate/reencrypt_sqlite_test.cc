// `piicrypt reencrypt` on real SQLite files, the cases of SQLite's own: padding added to a
// policy, failures and plaintext migration, a concurrent writer in another connection,
// pacing, FF1 columns, usage errors, the progress bar, key columns and collations, jobs of
// an earlier schema, a compound index's part changed between the job's read and its write.
// The cases both back ends share are in reencrypt_test.cc.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/row_cryptor.h"
#include "src/crypto/field_format.h"
#include "tests/rotate/rotate_db.h"
#include "tests/rotate/rotate_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::Bind;
using ::piicrypt::testing::CallersPolicy;
using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::Col;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::ExpectFf1Rotation;
using ::piicrypt::testing::Ff1Phone;
using ::piicrypt::testing::Ff1Policy;
using ::piicrypt::testing::kRotateFields;
using ::piicrypt::testing::Original;
using ::piicrypt::testing::Plain;
using ::piicrypt::testing::Q;
using ::piicrypt::testing::RotateBackend;
using ::piicrypt::testing::RotateDbFixture;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::SpawnCli;
using ::piicrypt::testing::Sqlite;
using ::piicrypt::testing::SqliteRotateDb;
using ::testing::HasSubstr;
using ::testing::Not;

class ReencryptSqliteTest : public RotateDbFixture {
 protected:
  void SetUp() override {
    SetUpOn(RotateBackend::kSqlite);
    if (HasFatalFailure()) return;
    db_path_ = static_cast<SqliteRotateDb&>(*db_).path();
  }

  void SetColumn(int64_t id, const std::string& column, const std::optional<std::string>& v) {
    Sqlite db(db_path_);
    sqlite3_stmt* s = db.Prepare(absl::StrCat("UPDATE orders SET ", column, " = ? WHERE id = ?"));
    Bind(s, 1, v);
    sqlite3_bind_int64(s, 2, id);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
  }

  std::string db_path_;
};

// A policy that adds padding to a field: its unpadded values under the primary are not
// current (--verify says so); reencrypt rewrites them padded, and a second run finds
// every value current.
TEST_F(ReencryptSqliteTest, PaddingAddedToThePolicyRewritesUnpaddedValues) {
  Fill(50);
  const std::string padded_policy = absl::StrReplaceAll(
      testing::kRotatePolicy, {{R"(name: "orders.name" kind: KIND_NAME mode: MODE_RANDOMIZED)",
                                R"(name: "orders.name" kind: KIND_NAME mode: MODE_RANDOMIZED
                          padding { buckets: [16, 32] })"}});
  ASSERT_NE(padded_policy, testing::kRotatePolicy);
  WritePolicy(padded_policy.c_str());
  CommandResult before = Reencrypt("--dry-run --verify");
  EXPECT_EQ(before.exit_code, 1);
  EXPECT_THAT(before.out, HasSubstr("verify: 143 values checked, 43 failed"));
  EXPECT_THAT(before.out, HasSubstr("orders.name: not padded as the policy says"));

  CommandResult r = Reencrypt("--verify");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        43\n"));  // the 50 - 7 names
  EXPECT_THAT(r.out, HasSubstr("already current:     100\n"));
  auto padded = CryptorFor(padded_policy);
  Sqlite db(db_path_);
  sqlite3_stmt* s = db.Prepare("SELECT id, name FROM orders WHERE name IS NOT NULL");
  int names = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    ++names;
    const std::string id = *Col(s, 0), stored = *Col(s, 1);
    const std::string binary = internal::Base64UrlDecode(stored).value_or("");
    ASSERT_FALSE(binary.empty());
    EXPECT_EQ(binary[0], '\x03');
    EXPECT_EQ(binary.size(), internal::kRandomizedOverhead + 17);  // "Name N": 16 + 1
    EXPECT_EQ(**padded->Decrypt("orders.name", stored, id), *Original(std::stoi(id)).v[1]);
  }
  sqlite3_finalize(s);
  EXPECT_EQ(names, 43);

  CommandResult again = Reencrypt();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("re-encrypted:        0\n"));
  EXPECT_THAT(again.out, HasSubstr("already current:     143\n"));
}

TEST_F(ReencryptSqliteTest, FailedValuesAreListedLeftAsTheyAreAndExitOne) {
  Fill(50);
  // Row 17: a tampered ciphertext; row 23: plaintext; row 31: a ciphertext of another row.
  Sqlite db(db_path_);
  std::string tampered = *[&] {
    sqlite3_stmt* s = db.Prepare("SELECT email FROM orders WHERE id = 17");
    sqlite3_step(s);
    auto v = Col(s, 0);
    sqlite3_finalize(s);
    return v;
  }();
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  SetColumn(17, "email", tampered);
  SetColumn(23, "name", "Plain Text Name");
  db.Exec("UPDATE orders SET name = (SELECT name FROM orders WHERE id = 30) WHERE id = 31");
  Rotate();
  CommandResult r = Reencrypt("--verify");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("failed:              3\n"));
  EXPECT_THAT(r.out, HasSubstr("failed 17: orders.email: decryption failed"));
  EXPECT_THAT(r.out, HasSubstr("failed 23: orders.name: not a piicrypt ciphertext"));
  EXPECT_THAT(r.out, HasSubstr("failed 31: orders.name: decryption failed"));
  EXPECT_THAT(r.out, HasSubstr("verify: 143 values checked, 3 failed"));
  EXPECT_THAT(r.out, Not(HasSubstr("Plain Text Name")));
  EXPECT_THAT(r.err, HasSubstr("piicrypt: 6 value(s) failed"));
  // The failed values are exactly as they were.
  sqlite3_stmt* s = db.Prepare("SELECT email FROM orders WHERE id = 17");
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(Col(s, 0), tampered);
  sqlite3_finalize(s);
  s = db.Prepare("SELECT name FROM orders WHERE id = 23");
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(Col(s, 0), std::optional<std::string>("Plain Text Name"));
  sqlite3_finalize(s);
}

TEST_F(ReencryptSqliteTest, EncryptPlaintextMigratesAMixOfPlaintextAndCiphertext) {
  Fill(60);  // under key 1
  Rotate();  // rows 41..60 under key 2 (current), rows 1..40 under key 1
  {
    auto c = Cryptor();
    for (int64_t id = 41; id <= 60; ++id) {
      const Plain p = Original(id);
      const std::string rec = absl::StrCat(id);
      SetColumn(id, "email", *c->Encrypt(kRotateFields[0], p.v[0], rec));
      SetColumn(id, "email_bidx", *c->BlindIndex(kRotateFields[0], p.v[0]));
      SetColumn(id, "name", *c->Encrypt(kRotateFields[1], p.v[1], rec));
      SetColumn(id, "loyalty", *c->Encrypt(kRotateFields[2], p.v[2], rec));
    }
  }
  // Rows 1..20 back to plaintext (a legacy table), the blind index missing.
  for (int64_t id = 1; id <= 20; ++id) {
    const Plain p = Original(id);
    SetColumn(id, "email", p.v[0]);
    SetColumn(id, "email_bidx", std::nullopt);
    SetColumn(id, "name", p.v[1]);
    SetColumn(id, "loyalty", p.v[2]);
  }
  // Row 21: a tampered ciphertext (under the old key) must fail, never be taken for
  // plaintext and encrypted twice.
  auto c = Cryptor();
  std::string bad;
  {
    Sqlite db(db_path_);
    sqlite3_stmt* s = db.Prepare("SELECT loyalty FROM orders WHERE id = 21");
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    bad = *Col(s, 0);
    sqlite3_finalize(s);
  }
  bad[20] = bad[20] == 'A' ? 'B' : 'A';
  SetColumn(21, "loyalty", bad);

  // Without the flag, plaintext is a failure.
  CommandResult no_flag = Reencrypt("--dry-run");
  EXPECT_EQ(no_flag.exit_code, 1);
  EXPECT_THAT(no_flag.out, HasSubstr("not a piicrypt ciphertext"));

  CommandResult r = Reencrypt("--encrypt-plaintext");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("plaintext encrypted: 58\n"));  // 20 + 18 names + 20
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        56\n"));  // rows 21..40 less row 21's loyalty
  EXPECT_THAT(r.out, HasSubstr("already current:     57\n"));
  EXPECT_THAT(r.out, HasSubstr("failed 21: orders.loyalty: decryption failed"));
  std::map<int64_t, Plain> overrides;
  SetColumn(21, "loyalty", **c->Encrypt(kRotateFields[2], std::string("L-21")));  // repair
  EXPECT_EQ(CheckAll(60, overrides), 0);
  // Nothing left to do; the migrated table verifies.
  CommandResult again = Reencrypt("--encrypt-plaintext --verify");
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_THAT(again.out, HasSubstr("plaintext encrypted: 0\n"));
}

TEST_F(ReencryptSqliteTest, ConcurrentWriterUpdatesAllSurvive) {
  constexpr int64_t kRows = 3000;
  Fill(kRows);
  Rotate();
  auto c = Cryptor();  // the application, already on the new primary
  // Paced (60 batches, one per 25 ms), so that the job lasts at least 1.5 s however fast
  // or loaded the machine: the writer gets in between its batches many times.
  const pid_t pid = SpawnCli(Args("--batch 50 --max-rate 2000"));
  ASSERT_NE(pid, -1);
  std::map<int64_t, Plain> written;
  std::mt19937_64 rng(42);
  Sqlite db(db_path_);
  sqlite3_busy_timeout(db.get(), 10000);  // wait for the job's batch; no spinning
  sqlite3_stmt* s =
      db.Prepare("UPDATE orders SET email = ?, email_bidx = ?, name = ? WHERE id = ?");
  int status = 0;
  int updates = 0;
  for (int round = 0;; ++round) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    const int64_t id = static_cast<int64_t>(rng() % kRows) + 1;
    Plain p = Original(id);
    p.v[0] = absl::StrCat("changed", round, "@example.org");
    p.v[1] = absl::StrCat("Changed ", round);
    const std::string rec = absl::StrCat(id);
    Bind(s, 1, *c->Encrypt(kRotateFields[0], p.v[0], rec));
    Bind(s, 2, *c->BlindIndex(kRotateFields[0], p.v[0]));
    Bind(s, 3, *c->Encrypt(kRotateFields[1], p.v[1], rec));
    sqlite3_bind_int64(s, 4, id);
    ASSERT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db.get());
    sqlite3_reset(s);
    written[id] = p;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++updates;
  }
  sqlite3_finalize(s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(updates, 10);
  EXPECT_EQ(CheckAll(kRows, written), 0);
  RecordProperty("writer_updates", updates);
}

TEST_F(ReencryptSqliteTest, MaxRateSpacesOutTheBatches) {
  Fill(600);
  Rotate();
  // 12 batches of 50 at 2,000 rows/s: the last starts 11 x 25 ms after the first.
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = Reencrypt("--batch 50 --max-rate 2000");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_GE(elapsed, std::chrono::milliseconds(275));
  EXPECT_THAT(r.out, HasSubstr("failed:              0\n"));
  EXPECT_EQ(CheckAll(600), 0);
}

TEST_F(ReencryptSqliteTest, Ff1ColumnIsRotatedThroughItsKeyVersionColumn) {
  const uint32_t old_key = Primary();
  {
    Sqlite db(db_path_);
    db.Exec(
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, phone TEXT, phone_key INTEGER,"
        " phone_idx TEXT)");
    auto c = CryptorFor(Ff1Policy(old_key));
    sqlite3_stmt* s = db.Prepare("INSERT INTO contacts VALUES (?, ?, ?, ?)");
    for (int64_t id = 1; id <= 300; ++id) {
      sqlite3_bind_int64(s, 1, id);
      if (id <= 250) {  // under the old key
        Bind(s, 2, *c->Encrypt("contacts.phone", Ff1Phone(id), absl::StrCat(id)));
        sqlite3_bind_int64(s, 3, old_key);
        Bind(s, 4, *c->BlindIndex("contacts.phone", Ff1Phone(id)));
      } else if (id <= 280) {  // plaintext: no key version
        Bind(s, 2, Ff1Phone(id));
      }
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
    sqlite3_finalize(s);
  }
  Rotate();
  const uint32_t new_key = Primary();
  WritePolicy(Ff1Policy(new_key).c_str());  // step 3 of docs/FPE.md: the new write key
  const std::string args = BaseArgs() + " --db " + Q("sqlite:" + db_path_) +
                           " --table contacts --key-column id --batch 64";
  CommandResult r = RunCommand(CliPath() + args);
  CommandResult m = RunCommand(CliPath() + args + " --encrypt-plaintext --verify");
  ExpectFf1Rotation(r, m);
  if (HasFatalFailure()) return;

  auto c = CryptorFor(Ff1Policy(new_key));
  Sqlite db(db_path_);
  sqlite3_stmt* s = db.Prepare("SELECT id, phone, phone_key, phone_idx FROM contacts ORDER BY id");
  int problems = 0, reported = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(s, 0);
    if (id > 280) {
      EXPECT_EQ(Col(s, 1), std::nullopt) << id;
      continue;
    }
    problems += CheckFf1Row(*c, new_key, id, Col(s, 1), Col(s, 2), Col(s, 3), reported);
  }
  sqlite3_finalize(s);
  EXPECT_EQ(problems, 0);
  EXPECT_EQ(db.Int("SELECT typeof(phone_key) = 'integer' FROM contacts WHERE id = 1"), 1);
  // A value under the write key that the codec cannot decrypt is a failure, not current.
  db.Exec("UPDATE contacts SET phone = 'no digits here' WHERE id = 1");
  CommandResult bad = RunCommand(CliPath() + args);
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_THAT(bad.out, HasSubstr("already current:     279\n"));
  EXPECT_THAT(bad.out, HasSubstr("failed 1: contacts.phone"));
}

// A compound index is written only where its parts still hold what the job read. The phone
// is pinned to the old key (current: the job rewrites only the surname and the index), and a
// trigger changes row 2's phone when the job updates row 1: after the job has read row 2,
// before it writes it, inside its own transaction. Row 2's update then matches nothing (a
// conflict); the job reads the row again and writes the index of the phone it holds now.
TEST_F(ReencryptSqliteTest, CompoundIndexOfAPartChangedAfterTheReadIsComputedAfresh) {
  const PartChange change = StartPartChange();
  if (HasFatalFailure()) return;
  Exec(absl::StrCat("CREATE TRIGGER change2 AFTER UPDATE ON callers WHEN OLD.id = 1",
                    " BEGIN UPDATE callers SET phone = '", change.stored, "' WHERE id = 2; END"));
  CommandResult r = ReencryptCallers("--verify");
  Exec("DROP TRIGGER change2");
  ExpectPartChangeOutcome(r, change);
}

TEST_F(ReencryptSqliteTest, UsageErrorsExitTwoAndFailuresExitOne) {
  Fill(3);
  Rotate();
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const std::string base = absl::StrCat(" reencrypt --kek ", Q(kek_uri_), " --keyset ",
                                        Q(keyset_path_), " --policy ", Q(policy_path_));
  const std::string db = " --db " + Q("sqlite:" + db_path_);
  const std::vector<Case> cases = {
      {base + db + " --table nosuch --key-column id", 2, "no field of table nosuch"},
      {base + db + " --table 'orders; drop' --key-column id", 2, "--table"},
      {base + db + " --table customers --key-column id", 2, "no such table: customers"},
      {base + db + " --table orders --key-column nosuch", 2, "no such column: orders.nosuch"},
      {base + " --db mysql://localhost/x --table orders --key-column id", 2,
       "expected sqlite:PATH or a postgresql:// URL"},
      {base + db + " --table orders --key-column id --workers 2", 2, "--workers"},
      {base + db + " --table orders --key-column id --workers 0", 2, "--workers"},
      {base + db + " --table orders --key-column id --batch 0", 2, "--batch"},
      {base + db + " --table orders --key-column id --max-rate -1", 2, "--max-rate"},
      {base + db + " --table orders --key-column id --max-rate fast", 2, "--max-rate"},
      {base + db + " --table orders --key-column id --max-rate 0.5", 2, "--max-rate: must be 0"},
      {base + db + " --table orders", 2, "--key-column"},
      {base + " --db " + Q("sqlite:" + dir_.File("missing.db")) + " --table orders --key-column id",
       1, "cannot open the database file"},
      {absl::StrCat(" reencrypt --kek ", Q("file:" + dir_.File("other.key")), " --keyset ",
                    Q(keyset_path_), " --policy ", Q(policy_path_), db,
                    " --table orders --key-column id"),
       1, ""},
      {absl::StrCat(" reencrypt --kek ", Q(kek_uri_), " --keyset ", Q(keyset_path_), " --policy ",
                    Q(dir_.File("missing.textproto")), db, " --table orders --key-column id"),
       2, "missing.textproto"},
  };
  ASSERT_TRUE(Kek::Create("file:" + dir_.File("other.key")).ok());
  for (const Case& c : cases) {
    CommandResult r = RunCommand(CliPath() + c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_THAT(r.err, HasSubstr("piicrypt: ")) << c.args;
  }
  // A table with a missing blind-index column.
  Sqlite sql(db_path_);
  sql.Exec("CREATE TABLE t2 (id INTEGER PRIMARY KEY, email TEXT)");
  // FF1 columns without a key-version column (their key pinned) are refused clearly.
  WritePolicy(R"pb(field {
                     name: "orders.phone"
                     kind: KIND_PHONE
                     mode: MODE_FORMAT_PRESERVING
                     format_preserving {
                       key_id: 7
                       phone {}
                     }
                   })pb");
  CommandResult ff1 = Reencrypt();
  EXPECT_EQ(ff1.exit_code, 2);
  EXPECT_THAT(ff1.err, HasSubstr("an FF1 column is re-encrypted only with a key-version column"));
  WritePolicy(R"pb(field {
                     name: "orders.phone"
                     kind: KIND_PHONE
                     mode: MODE_FORMAT_PRESERVING
                     format_preserving {
                       phone {}
                       key_version_column: "id"
                     }
                   })pb");
  CommandResult ff1_key = Reencrypt();
  EXPECT_EQ(ff1_key.exit_code, 2);
  EXPECT_THAT(ff1_key.err, HasSubstr("key_version_column must be a column of its own"));
  WritePolicy(R"pb(field {
                     name: "t2.email"
                     kind: KIND_EMAIL
                     mode: MODE_RANDOMIZED
                     blind_index { bits: 16 }
                   })pb");
  CommandResult no_idx =
      RunCommand(absl::StrCat(CliPath(), base, db, " --table t2 --key-column id"));
  EXPECT_EQ(no_idx.exit_code, 2);
  EXPECT_THAT(no_idx.err, HasSubstr("no such column: t2.email_idx"));
}

TEST_F(ReencryptSqliteTest, ProgressBarOnATerminal) {
  Fill(300);
  Rotate();
  // script(1) gives the job a pseudo-terminal: the bar is redrawn in place with \r.
  const std::string cmd = CliPath() + Args("--batch 10");
  CommandResult r = RunCommand("script -qec " + Q(cmd) + " /dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\rreencrypt [##############################] 100% 300/300 rows"));
  EXPECT_THAT(r.out, HasSubstr("rows/s"));
  EXPECT_THAT(r.out, HasSubstr("left"));
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        858"));
}

TEST_F(ReencryptSqliteTest, KeyColumnMustBeUniqueAndNotNull) {
  // SQLite's own cases (those both back ends share are in reencrypt_test.cc): a PRIMARY KEY other
  // than INTEGER allows NULL (unless WITHOUT ROWID); INTEGER PRIMARY KEY is the rowid; a unique
  // index's collation is the walk's.
  WritePolicy(R"pb(field { name: "keyed.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED })pb");
  struct Case {
    std::string ddl;
    std::string message;  // "": accepted
  };
  const std::vector<Case> cases = {
      {"CREATE TABLE keyed (cust TEXT PRIMARY KEY, email TEXT)", "keyed.cust allows NULL;"},
      {"CREATE TABLE keyed (cust INTEGER PRIMARY KEY DESC, email TEXT)", "keyed.cust allows NULL;"},
      {"CREATE TABLE keyed (cust INTEGER PRIMARY KEY, email TEXT)", ""},
      {"CREATE TABLE keyed (cust TEXT PRIMARY KEY, email TEXT) WITHOUT ROWID", ""},
      {"CREATE TABLE keyed (cust TEXT NOT NULL UNIQUE COLLATE NOCASE, email TEXT)", ""},
  };
  for (const Case& c : cases) {
    Exec("DROP TABLE IF EXISTS keyed");
    Exec(c.ddl);
    Exec("INSERT INTO keyed (cust, email) VALUES ('1', NULL), ('2', NULL)");
    CommandResult r = RunCommand(
        absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table keyed --key-column cust"));
    if (c.message.empty()) {
      EXPECT_EQ(r.exit_code, 0) << c.ddl << "\n" << r.out << r.err;
      EXPECT_THAT(r.out, HasSubstr("rows read:           2 of 2 in the table")) << c.ddl;
    } else {
      EXPECT_EQ(r.exit_code, 2) << c.ddl << "\n" << r.out << r.err;
      EXPECT_THAT(r.err, HasSubstr("--key-column cust: " + c.message)) << c.ddl;
      EXPECT_THAT(r.err, HasSubstr("declare the column NOT NULL")) << c.ddl;
    }
  }
}

// The walk of a column with two rows per value (which the key column check refuses): the
// job reading it with --batch 1 would skip every second row.
TEST_F(ReencryptSqliteTest, NonUniqueKeyColumnIsRefusedBeforeAnyWrite) {
  Fill(6);
  Rotate();
  Exec("ALTER TABLE orders ADD COLUMN cust TEXT");
  Exec("UPDATE orders SET cust = 'c' || ((id + 1) / 2)");
  const std::vector<std::string> before = Snapshot();
  CommandResult r = RunCommand(absl::StrCat(
      CliPath(), BaseArgs(), DbArgs(), " --table orders --key-column cust --batch 1 --verify"));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("orders.cust has no unique index on it alone and allows NULL"));
  EXPECT_EQ(Snapshot(), before);
}

// The walk compares keys under the unique index's collation: under the column's NOCASE,
// 'a' and 'A' are equal and `key > 'a'` would skip 'A'.
TEST_F(ReencryptSqliteTest, WalkUsesTheUniqueIndexCollation) {
  WritePolicy(R"pb(field { name: "keyed.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED })pb");
  Exec("CREATE TABLE keyed (cust TEXT NOT NULL COLLATE NOCASE, email TEXT)");
  Exec("CREATE UNIQUE INDEX keyed_b ON keyed (cust COLLATE BINARY)");
  Exec("INSERT INTO keyed VALUES ('a', 'x'), ('A', 'y'), ('b', 'z')");
  CommandResult r = RunCommand(absl::StrCat(
      CliPath(), BaseArgs(), DbArgs(), " --table keyed --key-column cust --batch 1 --dry-run"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // plaintext: three failed values
  EXPECT_THAT(r.out, HasSubstr("failed:              3\n"));
  EXPECT_THAT(r.out, HasSubstr("rows read:           3 of 3 in the table"));
}

// A job left running by a version whose piicrypt_jobs had no table_rows: the table gets
// the column, and the job resumes, counted against the table now.
TEST_F(ReencryptSqliteTest, ResumesAJobOfAnEarlierSchema) {
  Fill(50);
  Rotate();
  Exec(
      "CREATE TABLE piicrypt_jobs (job_id TEXT PRIMARY KEY, primary_key_id INTEGER NOT NULL,"
      " encrypt_plaintext INTEGER NOT NULL, state TEXT NOT NULL, last_key,"
      " rows INTEGER NOT NULL, reencrypted INTEGER NOT NULL, encrypted INTEGER NOT NULL,"
      " current_values INTEGER NOT NULL, null_values INTEGER NOT NULL,"
      " conflicts INTEGER NOT NULL, failed INTEGER NOT NULL, updated_at TEXT NOT NULL)");
  Exec(absl::StrCat("INSERT INTO piicrypt_jobs VALUES ('reencrypt:orders:id', ", Primary(),
                    ", 0, 'running', NULL, 0, 0, 0, 0, 0, 0, 0, datetime('now'))"));
  CommandResult r = Reencrypt("--verify");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(resumed)"));
  EXPECT_THAT(r.out, HasSubstr("rows read:           50 of 50 in the table"));
  EXPECT_EQ(QueryInt("SELECT table_rows FROM piicrypt_jobs"), 50);
}

// Plaintext stored as INTEGER or REAL in a column without affinity: the update's condition
// compares with the value as stored, so it is encrypted, not dropped or failed.
TEST_F(ReencryptSqliteTest, EncryptPlaintextOfAnyStoredType) {
  WritePolicy(R"pb(field { name: "legacy.code" kind: KIND_TEXT mode: MODE_DETERMINISTIC })pb");
  Exec("CREATE TABLE legacy (id INTEGER PRIMARY KEY, code)");
  Exec("INSERT INTO legacy VALUES (1, 42), (2, 0.1 + 0.2), (3, 'abc'), (4, ''), (5, NULL)");
  CommandResult r = RunCommand(absl::StrCat(CliPath(), BaseArgs(), DbArgs(),
                                            " --table legacy --key-column id --encrypt-plaintext"
                                            " --verify"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("plaintext encrypted: 4\n"));
  EXPECT_THAT(r.out, HasSubstr("conflicts:           0 "));
  EXPECT_THAT(r.out, HasSubstr("NULL:                1\n"));
  EXPECT_THAT(r.out, HasSubstr("verify: 4 values checked, 0 failed, in 5 of 5 rows"));
  auto c =
      CryptorFor(R"pb(field { name: "legacy.code" kind: KIND_TEXT mode: MODE_DETERMINISTIC })pb");
  Sqlite db(db_path_);
  sqlite3_stmt* s = db.Prepare("SELECT code FROM legacy WHERE id = 1");
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  auto plain = c->Decrypt("legacy.code", Col(s, 0), "1");
  sqlite3_finalize(s);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, std::optional<std::string>("42"));
}

TEST_F(ReencryptSqliteTest, HelpTeaches) {
  CommandResult r = RunCommand(CliPath() + " reencrypt --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s :
       {"--encrypt-plaintext", "--dry-run", "--verify", "--batch", "piicrypt_jobs", "TABLE.COLUMN",
        "Exit status", "sqlite:PATH", "unique and NOT NULL, as the database's catalog proves",
        "a duplicate or NULL key would be skipped", "a walk read fewer rows than the table"}) {
    EXPECT_THAT(r.out, HasSubstr(s));
  }
}

// The database renames columns; the policy follows with `column:` (the field names, which
// are the encryption contexts, stay). The job finds each field's values and index under the
// new names, and the values written under the old names decrypt and rotate.
TEST_F(ReencryptSqliteTest, ColumnsRenamedInThePolicyAreReencrypted) {
  constexpr int64_t kRows = 100;
  Fill(kRows);
  Exec("ALTER TABLE orders RENAME COLUMN email TO email_ct");
  Exec("ALTER TABLE orders RENAME COLUMN email_bidx TO email_hash");
  Exec("ALTER TABLE orders RENAME COLUMN name TO full_name");
  const std::string renamed = R"pb(
    field {
      name: "orders.email"
      kind: KIND_EMAIL
      mode: MODE_RANDOMIZED
      bind_record: true
      column: "email_ct"
      blind_index { bits: 32 column: "email_hash" }
    }
    field {
      name: "orders.name"
      kind: KIND_NAME
      mode: MODE_RANDOMIZED
      bind_record: true
      column: "full_name"
    }
    field { name: "orders.loyalty" kind: KIND_TEXT mode: MODE_DETERMINISTIC }
  )pb";
  // The old policy names columns the table no longer has.
  CommandResult old = Reencrypt();
  EXPECT_EQ(old.exit_code, 2) << old.out << old.err;
  EXPECT_THAT(old.err, HasSubstr("no such column: orders.email"));

  WritePolicy(renamed.c_str());
  Rotate();
  CommandResult r = Reencrypt("--verify");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const int64_t values = 3 * kRows - kRows / 7;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("re-encrypted:        ", values, "\n")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("verify: ", values, " values checked, 0 failed")));

  // Every row reads back through the renamed columns, under the new primary.
  auto keyset = Keyset::Read(keyset_path_, *kek_);
  ASSERT_TRUE(keyset.ok());
  auto policy = Policy::ParseTextProto(renamed);
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto rows = RowCryptor::Create(*keyset, *policy, "orders");
  ASSERT_TRUE(rows.ok()) << rows.status();
  Sqlite db(db_path_);
  sqlite3_stmt* s =
      db.Prepare("SELECT id, email_ct, email_hash, full_name, loyalty FROM orders ORDER BY id");
  int64_t read = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(s, 0);
    const Plain want = Original(id);
    const std::optional<std::string> email = Col(s, 1), hash = Col(s, 2), name = Col(s, 3),
                                     loyalty = Col(s, 4);
    auto plain = (*rows)->Decrypt(
        id, {{"email_ct", email}, {"email_hash", hash}, {"full_name", name}, {"loyalty", loyalty}});
    ASSERT_TRUE(plain.ok()) << id << ": " << plain.status();
    EXPECT_EQ(*plain->Find("email_ct"), want.v[0]) << id;
    EXPECT_EQ(*plain->Find("full_name"), want.v[1]) << id;
    EXPECT_EQ(*plain->Find("loyalty"), want.v[2]) << id;
    auto index = (*rows)->EncryptColumns(id, {{"email_ct", *want.v[0]}});
    ASSERT_TRUE(index.ok());
    EXPECT_EQ(*index->Find("email_hash"), hash) << id;
    ++read;
  }
  sqlite3_finalize(s);
  EXPECT_EQ(read, kRows);
}

}  // namespace
}  // namespace piicrypt
