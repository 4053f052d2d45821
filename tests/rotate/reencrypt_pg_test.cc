// `piicrypt reencrypt` on a real PostgreSQL server (started by the test, see
// tests/pg/pg_server.h), the cases of PostgreSQL's own: failures and plaintext migration
// with several workers, a concurrent writer meeting deadlocks, pacing shared by workers,
// two processes sharing one job, FF1 columns, key columns, usage errors, a compound index's
// part changed between the job's read and its write. The cases both back ends share are in
// reencrypt_test.cc.
#include <libpq-fe.h>
#include <signal.h>
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
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/pg/pg_server.h"
#include "tests/rotate/rotate_db.h"
#include "tests/rotate/rotate_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CallersPolicy;
using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::ExpectFf1Rotation;
using ::piicrypt::testing::Ff1Phone;
using ::piicrypt::testing::Ff1Policy;
using ::piicrypt::testing::kRotateFields;
using ::piicrypt::testing::Original;
using ::piicrypt::testing::Pg;
using ::piicrypt::testing::PgRotateDb;
using ::piicrypt::testing::Plain;
using ::piicrypt::testing::Q;
using ::piicrypt::testing::RotateBackend;
using ::piicrypt::testing::RotateDbFixture;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::SpawnCli;
using ::testing::HasSubstr;
using ::testing::Not;

class ReencryptPgTest : public RotateDbFixture {
 protected:
  void SetUp() override {
    SetUpOn(RotateBackend::kPostgres);
    if (HasFatalFailure()) return;
    url_ = static_cast<PgRotateDb&>(*db_).url();
  }

  std::string url_;
};

TEST_F(ReencryptPgTest, FailuresAreListedAndPlaintextIsMigrated) {
  Fill(60);
  Rotate();
  Pg pg(url_);
  // Row 17: a tampered ciphertext; rows 1..10: plaintext (a legacy table), with a quote and
  // a backslash in a value to exercise the array encoding.
  std::string tampered = *pg.Value("SELECT email FROM orders WHERE id = 17");
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  pg.Exec("UPDATE orders SET email = $1 WHERE id = 17", {tampered});
  std::map<int64_t, Plain> overrides;
  for (int64_t id = 1; id <= 10; ++id) {
    Plain p = Original(id);
    if (id == 3) p.v[1] = "O'Brien \"Bob\" \\ {x,y}";
    overrides[id] = p;
    pg.Exec(
        "UPDATE orders SET email = $1, email_bidx = NULL, name = $2, loyalty = $3"
        " WHERE id = $4",
        {p.v[0], p.v[1], p.v[2], absl::StrCat(id)});
  }
  CommandResult no_flag = Reencrypt("--workers 2");
  EXPECT_EQ(no_flag.exit_code, 1) << no_flag.err;
  EXPECT_THAT(no_flag.out, HasSubstr("failed 17: orders.email: decryption failed"));
  EXPECT_THAT(no_flag.out, HasSubstr("failed 1: orders.email: not a piicrypt ciphertext"));
  EXPECT_THAT(no_flag.out + no_flag.err, Not(HasSubstr("Example.com")));
  EXPECT_EQ(pg.Value("SELECT email FROM orders WHERE id = 17"), tampered);

  CommandResult r = Reencrypt("--encrypt-plaintext --workers 2");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("plaintext encrypted: 29\n"));  // 10 + 9 names + 10
  EXPECT_THAT(r.out, HasSubstr("failed 17: orders.email: decryption failed"));
  EXPECT_EQ(pg.Value("SELECT email FROM orders WHERE id = 17"), tampered);
  auto c = Cryptor();
  pg.Exec("UPDATE orders SET email = $1, email_bidx = $2 WHERE id = 17",
          {*c->Encrypt(kRotateFields[0], *Original(17).v[0], "17"),
           *c->BlindIndex(kRotateFields[0], *Original(17).v[0])});
  EXPECT_EQ(CheckAll(60, overrides), 0);
  CommandResult again = Reencrypt("--encrypt-plaintext --verify");
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_THAT(again.out, HasSubstr("plaintext encrypted: 0\n"));
}

TEST_F(ReencryptPgTest, ConcurrentWriterUpdatesAllSurvive) {
  constexpr int64_t kRows = 4000;
  Fill(kRows);
  Rotate();
  auto c = Cryptor();  // the application, already on the new primary
  // Paced (both workers together, at least 80 batches, one per 12.5 ms), so that the job
  // lasts at least 1 s however fast or loaded the machine: the writer's transactions
  // overlap its batches many times.
  const pid_t pid = SpawnCli(Args("--batch 50 --workers 2 --max-rate 4000"));
  ASSERT_NE(pid, -1);
  std::map<int64_t, Plain> written;
  std::mt19937_64 rng(42);
  Pg pg(url_);
  int status = 0;
  int updates = 0, deadlocks = 0;
  for (int round = 0;; ++round) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    // Two rows per transaction, in random order: the job's batches and the writer lock
    // rows in different orders, so deadlocks can happen and must be survived.
    pg.Exec("BEGIN");
    std::map<int64_t, Plain> pending;
    std::string failed;
    for (int k = 0; k < 2 && failed.empty(); ++k) {
      const int64_t id = static_cast<int64_t>(rng() % kRows) + 1;
      Plain p = Original(id);
      p.v[0] = absl::StrCat("changed", round, "-", k, "@example.org");
      p.v[1] = absl::StrCat("Changed ", round);
      const std::string rec = absl::StrCat(id);
      failed = pg.TryExec(
          "UPDATE orders SET email = $1, email_bidx = $2, name = $3 WHERE id = $4",
          {*c->Encrypt(kRotateFields[0], p.v[0], rec), *c->BlindIndex(kRotateFields[0], p.v[0]),
           *c->Encrypt(kRotateFields[1], p.v[1], rec), rec});
      pending[id] = p;
    }
    if (failed.empty()) failed = pg.TryExec("COMMIT");
    if (!failed.empty()) {
      // Only a deadlock with the job may abort the application's transaction.
      EXPECT_EQ(failed, "40P01");
      pg.Exec("ROLLBACK");
      ++deadlocks;
      continue;
    }
    for (auto& [id, p] : pending) written[id] = p;
    ++updates;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(updates, 10);
  EXPECT_EQ(CheckAll(kRows, written), 0) << deadlocks << " writer transactions deadlocked";
  RecordProperty("writer_transactions", updates);
  RecordProperty("writer_deadlocks", deadlocks);
  RecordProperty("job_conflicts",
                 static_cast<int>(pg.Int("SELECT sum(conflicts) FROM piicrypt_job_ranges")));
}

// A compound index is written only where its parts still hold what the job read. The phone
// is pinned to the old key (current: the job rewrites only the surname and the index).
// The application changes row 2's phone in a transaction it holds open while the job reads
// the old phone and waits on the row's lock in its UPDATE; when the application commits,
// the UPDATE re-checks its condition on the committed row and skips it (a conflict), and the
// job locks the row, reads it again and writes the index of the phone it holds now.
TEST_F(ReencryptPgTest, CompoundIndexOfAPartChangedAfterTheReadIsComputedAfresh) {
  const PartChange change = StartPartChange();
  if (HasFatalFailure()) return;
  Pg app(url_);
  app.Exec("BEGIN");
  app.Exec("UPDATE callers SET phone = $1 WHERE id = 2", {change.stored});
  CommandResult r;
  std::thread job([&] { r = ReencryptCallers("--verify"); });
  Pg watch(url_);
  bool waiting = false;
  for (int i = 0; i < 3000 && !waiting; ++i) {
    waiting = watch.Int(
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                  " 'piicrypt-reencrypt' AND wait_event = 'transactionid'") > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting) << "the job never waited on the application's row lock";
  app.Exec("COMMIT");
  job.join();
  ExpectPartChangeOutcome(r, change);
}

TEST_F(ReencryptPgTest, MaxRateHoldsForAllWorkersTogether) {
  Fill(800);
  Rotate();
  // At least 16 batches of 50 at 2,000 rows/s shared by both workers: the last starts at
  // least 15 x 25 ms after the first (each worker alone would allow half that).
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = Reencrypt("--batch 50 --workers 2 --max-rate 2000");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_GE(elapsed, std::chrono::milliseconds(375));
  EXPECT_THAT(r.out, HasSubstr("failed:              0\n"));
  EXPECT_EQ(CheckAll(800), 0);
}

TEST_F(ReencryptPgTest, TwoProcessesShareOneJob) {
  constexpr int64_t kRows = 20000;
  Fill(kRows);
  Rotate();
  std::vector<pid_t> pids;
  for (int p = 0; p < 2; ++p) {
    const pid_t pid = SpawnCli(Args("--batch 100"));
    ASSERT_NE(pid, -1);
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  Pg pg(url_);
  // Every value exactly once, by both processes.
  const int64_t names = kRows - kRows / 7;
  EXPECT_EQ(pg.Int("SELECT sum(reencrypted) FROM piicrypt_job_ranges"), 2 * kRows + names);
  EXPECT_EQ(pg.Int("SELECT sum(rows) FROM piicrypt_job_ranges"), kRows);
  EXPECT_EQ(pg.Int("SELECT count(DISTINCT split_part(worker, '/', 1)) FROM piicrypt_job_ranges"),
            2);
  EXPECT_EQ(CheckAll(kRows), 0);
}

TEST_F(ReencryptPgTest, Ff1ColumnIsRotatedThroughItsKeyVersionColumn) {
  const uint32_t old_key = Primary();
  Pg pg(url_);
  pg.Exec(
      "CREATE TABLE contacts (id INTEGER PRIMARY KEY, phone TEXT, phone_key BIGINT,"
      " phone_idx TEXT)");
  {
    auto c = CryptorFor(Ff1Policy(old_key));
    std::string data;
    for (int64_t id = 1; id <= 300; ++id) {
      if (id <= 250) {
        absl::StrAppend(&data, id, "\t",
                        **c->Encrypt("contacts.phone", Ff1Phone(id), absl::StrCat(id)), "\t",
                        old_key, "\t", **c->BlindIndex("contacts.phone", Ff1Phone(id)), "\n");
      } else if (id <= 280) {
        absl::StrAppend(&data, id, "\t", Ff1Phone(id), "\t\\N\t\\N\n");
      } else {
        absl::StrAppend(&data, id, "\t\\N\t\\N\t\\N\n");
      }
    }
    pg.Copy("contacts", data);
  }
  Rotate();
  const uint32_t new_key = Primary();
  WritePolicy(Ff1Policy(new_key).c_str());
  const std::string args =
      BaseArgs() + " --db " + Q(url_) + " --table contacts --key-column id --batch 64 --workers 2";
  CommandResult r = RunCommand(CliPath() + args);
  CommandResult m = RunCommand(CliPath() + args + " --encrypt-plaintext --verify");
  ExpectFf1Rotation(r, m);
  if (HasFatalFailure()) return;

  auto c = CryptorFor(Ff1Policy(new_key));
  int problems = 0, reported = 0;
  for (const auto& row :
       pg.Rows("SELECT id, phone, phone_key, phone_idx FROM contacts ORDER BY id")) {
    const int64_t id = std::atoll(row[0]->c_str());
    if (id > 280) {
      EXPECT_EQ(row[1], std::nullopt) << id;
      continue;
    }
    problems += CheckFf1Row(*c, new_key, id, row[1], row[2], row[3], reported);
  }
  EXPECT_EQ(problems, 0);

  // A key-version column that cannot hold every key id is refused.
  pg.Exec("ALTER TABLE contacts ALTER COLUMN phone_key TYPE INTEGER USING NULL");
  CommandResult narrow = RunCommand(CliPath() + args);
  EXPECT_EQ(narrow.exit_code, 2);
  EXPECT_THAT(narrow.err,
              HasSubstr("contacts.phone_key is integer; a key-version column must be bigint"));
}

TEST_F(ReencryptPgTest, KeyColumnMustBeUniqueAndNotNull) {
  // PostgreSQL's own (those both back ends share are in reencrypt_test.cc): the fix names ALTER ...
  // SET NOT NULL; an index left invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY proves
  // nothing.
  WritePolicy(R"pb(field { name: "keyed.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED })pb");
  Pg pg(url_);
  pg.Exec("CREATE TABLE keyed (id BIGINT NOT NULL, cust TEXT, email TEXT)");
  pg.Exec("CREATE UNIQUE INDEX keyed_u ON keyed (cust)");
  CommandResult nullable =
      RunCommand(absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table keyed --key-column cust"));
  EXPECT_EQ(nullable.exit_code, 2) << nullable.err;
  EXPECT_THAT(nullable.err, HasSubstr("ALTER TABLE keyed ALTER COLUMN cust SET NOT NULL"));
  pg.Exec("DROP INDEX keyed_u");
  pg.Exec("ALTER TABLE keyed ALTER COLUMN cust SET NOT NULL");
  pg.Exec("INSERT INTO keyed VALUES (1, 'a', NULL), (2, 'a', NULL)");
  EXPECT_EQ(pg.TryExec("CREATE UNIQUE INDEX CONCURRENTLY keyed_c ON keyed (cust)"), "23505");
  EXPECT_EQ(pg.Int("SELECT count(*) FROM pg_index WHERE NOT indisvalid"
                   " AND indrelid = 'keyed'::regclass"),
            1);
  CommandResult invalid =
      RunCommand(absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table keyed --key-column cust"));
  EXPECT_EQ(invalid.exit_code, 2) << invalid.out << invalid.err;
  EXPECT_THAT(invalid.err, HasSubstr("keyed.cust has no unique index on it alone;"));
}

TEST_F(ReencryptPgTest, UsageErrorsExitTwo) {
  Fill(3);
  Pg pg(url_);
  pg.Exec("CREATE TABLE nokey (id BIGINT, email TEXT)");
  pg.Exec("CREATE TABLE binary_email (id BIGINT PRIMARY KEY, email BYTEA)");
  struct Case {
    std::string table;
    std::string extra;
    std::string message;
  };
  WritePolicy(R"pb(
    field { name: "orders.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED }
    field { name: "nokey.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED }
    field { name: "binary_email.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED }
    field { name: "Orders.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED }
  )pb");
  const std::vector<Case> cases = {
      {"nokey", "--key-column id", "nokey.id has no unique index on it alone and allows NULL"},
      {"binary_email", "--key-column id", "binary_email.email is bytea"},
      {"Orders", "--key-column id", "no such table: Orders (PostgreSQL names are matched exactly"},
      {"orders", "--key-column nosuch", "no such column: orders.nosuch"},
      {"orders", "--key-column id --workers 65", "--workers"},
  };
  for (const Case& c : cases) {
    CommandResult r = RunCommand(
        absl::StrCat(CliPath(), BaseArgs(), " --db ", Q(url_), " --table ", c.table, " ", c.extra));
    EXPECT_EQ(r.exit_code, 2) << c.table << " " << c.extra << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.table << " " << c.extra;
  }
  // A server that is not there: exit 1, and no password in the message.
  CommandResult down = RunCommand(absl::StrCat(
      CliPath(), BaseArgs(),
      " --db 'postgresql://u:hunter2secret@/x?host=/nonexistent-dir&port=5' --table orders"
      " --key-column id"));
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_THAT(down.err, HasSubstr("cannot connect"));
  EXPECT_THAT(down.err, Not(HasSubstr("hunter2secret")));
}

}  // namespace
}  // namespace piicrypt
