// `piicrypt reencrypt`: the cases both back ends share, each run on SQLite and on
// PostgreSQL (a server started by the test, see tests/pg/pg_server.h): rotation and
// idempotence, dry run, SIGKILL at random points, key columns, rows moved or deleted
// behind the walk, values that claim the primary but do not decrypt, updates without
// effect, compound indexes (one with an FF1 part), subject fields. Each back end's own
// cases are in reencrypt_sqlite_test.cc and reencrypt_pg_test.cc.
//
// The fault test's size: PIICRYPT_REENCRYPT_FAULT_ROWS (default 200000) rows and
// PIICRYPT_REENCRYPT_FAULT_KILLS (default 3) kills.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/keyset.h"
#include "piicrypt/lookup.h"
#include "tests/rotate/rotate_db.h"
#include "tests/rotate/rotate_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CallerPhone;
using ::piicrypt::testing::CallersPolicy;
using ::piicrypt::testing::CallerSurname;
using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::DbRow;
using ::piicrypt::testing::ExpectResumedAndCountedOnce;
using ::piicrypt::testing::FaultKills;
using ::piicrypt::testing::FaultRows;
using ::piicrypt::testing::KillAtRandomPoints;
using ::piicrypt::testing::RotateBackend;
using ::piicrypt::testing::RotateDbFixture;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::SpawnCli;
using ::testing::HasSubstr;
using ::testing::Not;

// people: two fields, a compound index over both (bound to the row: the surname), and a
// subject field.
constexpr char kPeoplePolicy[] = R"pb(
  field { name: "people.surname" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field { name: "people.postcode" mode: MODE_DETERMINISTIC }
  index {
    name: "people.sp"
    column: "sp_idx"
    bits: 64
    part { field: "people.surname" transform: TRANSFORM_NORMALIZED }
    part { field: "people.postcode" transform: TRANSFORM_NORMALIZED }
  }
)pb";
constexpr char kPeopleSubject[] = R"pb(
  field {
    name: "people.address"
    mode: MODE_RANDOMIZED
    subject { column: "cust" }
  }
)pb";
// Row i + 1 holds kSurnames[i] and kPostcodes[i] (row 6: no postcode, so a NULL index).
const char* const kSurnames[] = {"Nguyen", "Smith", "Ng", "Li", "Okafor", "Brown"};
const char* const kPostcodes[] = {"2000", "3000", "4000", "5000", "6000", nullptr};

class ReencryptTest : public RotateDbFixture, public ::testing::WithParamInterface<RotateBackend> {
 protected:
  void SetUp() override { SetUpOn(GetParam()); }

  // The people table, rows 1..6 written under the current primary as an application does.
  void FillPeople() {
    Exec(
        "CREATE TABLE people (id BIGINT NOT NULL PRIMARY KEY, surname TEXT, postcode TEXT,"
        " sp_idx TEXT, address TEXT, cust TEXT)");
    auto c = CryptorFor(kPeoplePolicy);
    for (int i = 0; i < 6; ++i) {
      const std::string id = absl::StrCat(i + 1);
      const NullableValue postcode =
          kPostcodes[i] ? NullableValue(kPostcodes[i]) : NullableValue(std::nullopt);
      auto surname = c->Encrypt("people.surname", absl::string_view(kSurnames[i]), id);
      auto pc = c->Encrypt("people.postcode", postcode);
      auto idx = c->CompoundIndex("people.sp", {absl::string_view(kSurnames[i]), postcode});
      ASSERT_TRUE(surname.ok() && pc.ok() && idx.ok());
      Exec(absl::StrCat("INSERT INTO people VALUES (", id, ", ", Lit(*surname), ", ", Lit(*pc),
                        ", ", Lit(*idx), ", 'sealed-", id, "', 'c", id, "')"));
    }
  }
  static std::string Lit(const std::optional<std::string>& v) {
    return v.has_value() ? absl::StrCat("'", *v, "'") : "NULL";
  }
  CommandResult ReencryptPeople(const std::string& extra = "") {
    return RunCommand(
        absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table people --key-column id ", extra));
  }
  // The ids of the rows a Lookup through people.sp finds for row i + 1's values.
  std::vector<int64_t> FindPeople(const FieldCryptor& c, int i) {
    std::vector<int64_t> found;
    const std::vector<absl::string_view> values = {kSurnames[i], kPostcodes[i]};
    auto lookup = Lookup::Create(c, "people.sp", values);
    EXPECT_TRUE(lookup.ok()) << lookup.status();
    if (!lookup.ok()) return found;
    std::vector<std::string> in;
    for (const std::string& v : lookup->index_values()) in.push_back(Lit(v));
    const std::vector<DbRow> rows =
        db_->Rows(absl::StrCat("SELECT id, surname, postcode FROM people WHERE ", lookup->column(),
                               " IN (", absl::StrJoin(in, ", "), ")"));
    for (const DbRow& row : rows) {
      auto match = lookup->Matches(LookupCandidate(*row[0], {row[1], row[2]}));
      EXPECT_TRUE(match.ok()) << match.status();
      if (match.ok() && *match) found.push_back(std::atoll(row[0]->c_str()));
    }
    return found;
  }
  // The ids of the rows a Lookup through callers.sp finds for callers row `id`'s values,
  // each candidate's phone decrypted with the key its phone_key names.
  std::vector<int64_t> FindCallers(const FieldCryptor& c, int64_t id) {
    std::vector<int64_t> found;
    const std::string surname = CallerSurname(id), phone = *CallerPhone(id);
    const std::vector<absl::string_view> values = {surname, phone};
    auto lookup = Lookup::Create(c, "callers.sp", values);
    EXPECT_TRUE(lookup.ok()) << lookup.status();
    if (!lookup.ok()) return found;
    std::vector<std::string> in;
    for (const std::string& v : lookup->index_values()) in.push_back(Lit(v));
    const std::vector<DbRow> rows =
        db_->Rows(absl::StrCat("SELECT id, surname, phone, phone_key FROM callers WHERE ",
                               lookup->column(), " IN (", absl::StrJoin(in, ", "), ")"));
    for (const DbRow& row : rows) {
      const uint32_t key = static_cast<uint32_t>(std::atoll(row[3].value_or("0").c_str()));
      auto match = lookup->Matches(LookupCandidate(*row[0], {row[1], row[2]}, {0, key}));
      EXPECT_TRUE(match.ok()) << match.status();
      if (match.ok() && *match) found.push_back(std::atoll(row[0]->c_str()));
    }
    return found;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, ReencryptTest,
                         ::testing::Values(RotateBackend::kSqlite, RotateBackend::kPostgres),
                         [](const auto& p) {
                           return p.param == RotateBackend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST_P(ReencryptTest, RotatesEveryValueAndASecondRunChangesNothing) {
  Fill(500);
  Rotate();
  CommandResult r = Reencrypt("--batch 16 --verify" + db_->ParallelArgs());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // 500 e-mails + 500 loyalty + 500 - 71 names.
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        1429\n"));
  EXPECT_THAT(r.out, HasSubstr("NULL:                71\n"));
  EXPECT_THAT(r.out, HasSubstr("failed:              0\n"));
  EXPECT_THAT(r.out, HasSubstr("verify: 1429 values checked, 0 failed"));
  EXPECT_EQ(CheckAll(500), 0);
  // Plain progress lines on a pipe, never a bar.
  EXPECT_THAT(r.err, HasSubstr("reencrypt: 500/500 rows (100%)"));
  EXPECT_THAT(r.err, Not(HasSubstr("\r")));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("Example.com")));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM piicrypt_jobs WHERE state = 'done'"), 1);
  if (GetParam() == RotateBackend::kPostgres) {
    // Both workers took ranges (32 ranges of 16 rows).
    EXPECT_EQ(QueryInt("SELECT count(*) FROM piicrypt_job_ranges WHERE NOT done"), 0);
    EXPECT_EQ(QueryInt("SELECT count(DISTINCT worker) FROM piicrypt_job_ranges"), 2);
  }

  const std::vector<std::string> before = Snapshot();
  CommandResult again = Reencrypt("--batch 16" + db_->ParallelArgs());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("re-encrypted:        0\n"));
  EXPECT_THAT(again.out, HasSubstr("already current:     1429\n"));
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(ReencryptTest, DryRunCountsAndWritesNothingAndVerifyFindsOldValues) {
  Fill(100);
  Rotate();
  const std::vector<std::string> before = Snapshot();
  CommandResult r = Reencrypt("--dry-run --batch 7");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dry run: table orders"));
  EXPECT_THAT(r.out, HasSubstr("would re-encrypt:    286\n"));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(db_->HasJobTables());
  // --dry-run --verify reports the values not yet under the primary, and fails.
  CommandResult v = Reencrypt("--dry-run --verify");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.out, HasSubstr("verify: 286 values checked, 286 failed"));
  EXPECT_THAT(v.out, HasSubstr("not the primary"));
}

TEST_P(ReencryptTest, SurvivesSigkillAtRandomPointsAndResumesExactly) {
  const int64_t rows = FaultRows();
  Fill(rows);
  Rotate();
  const std::string args = "--batch 500" + db_->ParallelArgs();
  KillAtRandomPoints(
      rows, FaultKills(), [&] { return SpawnCli(Args(args)); }, [&] { return RowsDone(); },
      [&] { AwaitKilledJob(); });
  if (HasFatalFailure()) return;
  CommandResult r = Reencrypt(args + " --verify");
  ExpectResumedAndCountedOnce(r, rows);
  if (HasFatalFailure()) return;
  EXPECT_EQ(CheckAll(rows), 0);
}

// The key column must be unique and NOT NULL, proven from the catalog; the refusal names
// the table and column, says why and how to fix it. (Each back end's own cases are in
// its suite.)
TEST_P(ReencryptTest, KeyColumnMustBeUniqueAndNotNull) {
  WritePolicy(R"pb(field { name: "keyed.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED })pb");
  struct Case {
    std::vector<std::string> ddl;
    std::string message;  // "": accepted
  };
  const std::string nullable = "CREATE TABLE keyed (id INTEGER NOT NULL, cust TEXT, email TEXT)";
  const std::string not_null =
      "CREATE TABLE keyed (id INTEGER NOT NULL, cust TEXT NOT NULL, email TEXT)";
  const std::string no_index = "keyed.cust has no unique index on it alone";
  const std::vector<Case> cases = {
      {{nullable}, "keyed.cust has no unique index on it alone and allows NULL"},
      {{not_null}, no_index + ";"},
      {{nullable, "CREATE UNIQUE INDEX keyed_u ON keyed (cust)"}, "keyed.cust allows NULL;"},
      {{not_null, "CREATE INDEX keyed_i ON keyed (cust)"}, no_index},
      {{not_null, "CREATE UNIQUE INDEX keyed_u ON keyed (cust, id)"}, no_index},
      {{not_null, "CREATE UNIQUE INDEX keyed_u ON keyed (cust) WHERE cust <> ''"}, no_index},
      {{not_null, "CREATE UNIQUE INDEX keyed_u ON keyed (cust)"}, ""},
  };
  for (const Case& c : cases) {
    Exec("DROP TABLE IF EXISTS keyed");
    for (const std::string& sql : c.ddl) Exec(sql);
    Exec("INSERT INTO keyed (id, cust, email) VALUES (1, 'a', NULL), (2, 'b', NULL)");
    CommandResult r = RunCommand(
        absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table keyed --key-column cust"));
    const std::string what = absl::StrJoin(c.ddl, "; ");
    if (c.message.empty()) {
      EXPECT_EQ(r.exit_code, 0) << what << "\n" << r.out << r.err;
      EXPECT_THAT(r.out, HasSubstr("rows read:           2 of 2 in the table")) << what;
      continue;
    }
    EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("--key-column cust: " + c.message)) << what;
    EXPECT_THAT(r.err, HasSubstr("rows with a duplicate or NULL key would be skipped")) << what;
    if (c.message.find("no unique index") != std::string::npos) {
      EXPECT_THAT(r.err, HasSubstr("CREATE UNIQUE INDEX keyed_cust_key ON keyed (cust)")) << what;
    }
  }
}

// A row whose key the application moves from ahead of the walk to behind it is not read:
// the job must say so (exit 1), not report success.
TEST_P(ReencryptTest, RowMovedBehindTheWalkFailsTheJob) {
  constexpr int64_t kRows = 600;
  Fill(kRows);
  Rotate();
  // Paced: 60 batches of 10 at 200 rows/s, about 3 s.
  const pid_t pid = SpawnCli(absl::StrCat(BaseArgs(), DbArgs(),
                                          " --table orders --key-column id --batch 10"
                                          " --max-rate 200"));
  ASSERT_NE(pid, -1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (RowsDone() < 30 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_LT(RowsDone(), kRows) << "the job ended before the row moved";
  Exec(absl::StrCat("UPDATE orders SET id = 0 WHERE id = ", kRows));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  // The next run reads the row (and fails it: its values are bound to record 300).
  CommandResult again = RunJob();
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr(absl::StrCat("rows read:           ", kRows, " of ", kRows)));
  EXPECT_THAT(again.out, HasSubstr("failed 0: orders.email: decryption failed"));
}

// A job killed, then the row of its checkpoint's key deleted and 50 rows inserted behind
// it: the resumed job continues after the deleted key and counts every value once; the
// rows it read over both runs are checked against the table at the job's start (kept with
// the checkpoint), so the rows inserted behind it are no shortfall.
TEST_P(ReencryptTest, ResumesPastDeletedCheckpointWithRowsInsertedBehind) {
  constexpr int64_t kRows = 600;
  Fill(kRows);
  Rotate();
  const pid_t pid = SpawnCli(absl::StrCat(BaseArgs(), DbArgs(),
                                          " --table orders --key-column id --batch 10"
                                          " --max-rate 200"));
  ASSERT_NE(pid, -1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (RowsDone() < 30 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ExpectJobConnected();
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the job ended before it was killed";
  ASSERT_NO_FATAL_FAILURE(AwaitKilledJob());
  const int64_t done = RowsDone();
  ASSERT_GE(done, 30);
  ASSERT_LT(done, kRows);
  Exec(absl::StrCat("DELETE FROM orders WHERE id = ", done));  // the checkpoint's key
  std::vector<std::string> rows;
  for (int i = 1; i <= 50; ++i) rows.push_back(absl::StrCat("(", -i, ", 'not encrypted')"));
  Exec("INSERT INTO orders (id, note) VALUES " + absl::StrJoin(rows, ", "));
  const int64_t now = kRows - 1 + 50;
  CommandResult r = RunJob("--verify");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(resumed)"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("re-encrypted:        ", 3 * kRows - kRows / 7, "\n")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("rows read:           ", kRows, " of ", kRows,
                                            " in the table (", now, " at the end)")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("0 failed, in ", now, " of ", now, " rows")));
}

// A value that claims the primary key but does not decrypt (here: moved from another row
// of a bound field) is a failure, not "already current".
TEST_P(ReencryptTest, CurrentValueThatDoesNotDecryptFails) {
  Fill(20);
  Exec("UPDATE orders SET email = (SELECT email FROM orders WHERE id = 6) WHERE id = 5");
  CommandResult r = RunJob();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("already current:     57\n"));
  EXPECT_THAT(r.out, HasSubstr("failed 5: orders.email: decryption failed"));
}

// An update the database takes without effect (a trigger that cancels updates of row 5)
// leaves the row under the old key: a failure, never counted as done.
TEST_P(ReencryptTest, UpdateWithoutEffectFails) {
  Fill(20);
  Rotate();
  for (const std::string& sql : db_->IgnoreUpdatesOfRow5()) Exec(sql);
  CommandResult r = RunJob("--batch 8");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        55\n"));  // 58 less row 5's three
  EXPECT_THAT(r.out, HasSubstr("failed:              3\n"));
  EXPECT_THAT(r.out, HasSubstr("failed 5: orders.email: the update of this row took no effect"));
}

// A compound index is recomputed under the new primary with the row's values: once the old
// key is disabled, a lookup through it still finds every row written before the rotation.
TEST_P(ReencryptTest, CompoundIndexIsRecomputedSoLookupsSurviveDisablingTheOldKey) {
  WritePolicy(kPeoplePolicy);
  FillPeople();
  if (HasFatalFailure()) return;
  const uint32_t old_key = Primary();
  Rotate();
  // 6 surnames, 5 postcodes, 5 indexes; row 6's postcode and index are NULL.
  CommandResult dry = ReencryptPeople("--dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would re-encrypt:    16\n"));
  EXPECT_THAT(dry.out, HasSubstr("NULL:                2\n"));
  CommandResult r = ReencryptPeople("--batch 4 --verify" + db_->ParallelArgs());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        16\n"));
  EXPECT_THAT(r.out, HasSubstr("verify: 16 values checked, 0 failed"));
  ASSERT_TRUE(
      Keyset::Update(keyset_path_, *kek_, [&](Keyset& k) { return k.Disable(old_key); }).ok());
  auto c = CryptorFor(kPeoplePolicy);
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(FindPeople(*c, i), ::testing::ElementsAre(i + 1)) << kSurnames[i];
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM people WHERE sp_idx IS NULL"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM people WHERE id = 6 AND sp_idx IS NULL"), 1);
  CommandResult again = ReencryptPeople();
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("already current:     16\n"));
}

// A compound index with an FF1 part: the job decrypts the part under the key its row's
// key-version column names, re-encrypts it under the new write key (the primary) and
// recomputes the index under the new primary in the same update; once the old key is
// disabled, a lookup through the index still finds every row written before the rotation.
TEST_P(ReencryptTest, CompoundIndexWithAnFf1PartIsRecomputedUnderTheNewPrimary) {
  const std::string policy = CallersPolicy();
  WritePolicy(policy.c_str());
  FillCallers(policy);
  if (HasFatalFailure()) return;
  const uint32_t old_key = Primary();
  Rotate();
  const uint32_t new_key = Primary();
  ASSERT_NE(old_key, new_key);
  CommandResult r = ReencryptCallers("--batch 4 --verify" + db_->ParallelArgs());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // 6 surnames, 5 phones, 5 indexes; row 6's phone and index are NULL.
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        16\n"));
  EXPECT_THAT(r.out, HasSubstr("NULL:                2\n"));
  EXPECT_THAT(r.out, HasSubstr("verify: 16 values checked, 0 failed"));
  ASSERT_TRUE(
      Keyset::Update(keyset_path_, *kek_, [&](Keyset& k) { return k.Disable(old_key); }).ok());
  auto c = CryptorFor(policy);
  EXPECT_EQ(CheckCallers(*c, new_key), 0);
  for (int64_t id = 1; id <= 5; ++id) {
    EXPECT_THAT(FindCallers(*c, id), ::testing::ElementsAre(id)) << id;
  }
  CommandResult again = ReencryptCallers("--verify");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("already current:     16\n"));
}

// --verify recomputes each compound index from the row's decrypted parts: an index copied
// from another row, or set where a part is NULL, is reported; the job rewrites both.
TEST_P(ReencryptTest, VerifyReportsATamperedCompoundIndex) {
  WritePolicy(kPeoplePolicy);
  FillPeople();
  if (HasFatalFailure()) return;
  Exec("UPDATE people SET sp_idx = (SELECT sp_idx FROM people WHERE id = 2) WHERE id = 1");
  Exec("UPDATE people SET sp_idx = (SELECT sp_idx FROM people WHERE id = 3) WHERE id = 6");
  CommandResult v = ReencryptPeople("--dry-run --verify");
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  EXPECT_THAT(v.out, HasSubstr("verify: 17 values checked, 2 failed"));
  EXPECT_THAT(v.out, HasSubstr("not verified 1: people.sp: compound index is not current"));
  EXPECT_THAT(v.out, HasSubstr("not verified 6: people.sp: compound index is not current"));
  CommandResult r = ReencryptPeople("--verify");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        2\n"));
  EXPECT_THAT(r.out, HasSubstr("verify: 16 values checked, 0 failed"));
}

// Subject fields are under their subjects' keys (SubjectCryptor): the job leaves them as they
// are and says which command rewraps them; a table with nothing else is refused.
TEST_P(ReencryptTest, SubjectFieldsAreSkippedWithAdvice) {
  WritePolicy((std::string(kPeoplePolicy) + kPeopleSubject).c_str());
  FillPeople();
  if (HasFatalFailure()) return;
  Rotate();
  CommandResult r = ReencryptPeople("--verify");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("re-encrypted:        16\n"));
  EXPECT_THAT(r.out, HasSubstr("skipped people.address (address): a subject field, under its "
                               "subject's key: rewrapped by `piicrypt subject rewrap`"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM people WHERE address = 'sealed-' || id"), 6);

  WritePolicy(kPeopleSubject);
  CommandResult only = ReencryptPeople();
  EXPECT_EQ(only.exit_code, 2) << only.out << only.err;
  EXPECT_THAT(only.err, HasSubstr("the policy has only subject fields in table people"));
  EXPECT_THAT(only.err, HasSubstr("`piicrypt subject rewrap`"));
}

}  // namespace
}  // namespace piicrypt
