// `piicrypt reencrypt`: the cases both back ends share, each run on SQLite and on
// PostgreSQL (a server started by the test, see tests/pg/pg_server.h): rotation and
// idempotence, dry run, SIGKILL at random points, key columns, rows moved or deleted
// behind the walk, values that claim the primary but do not decrypt, updates without
// effect. Each back end's own cases are in reencrypt_sqlite_test.cc and
// reencrypt_pg_test.cc.
//
// The fault test's size: PIICRYPT_REENCRYPT_FAULT_ROWS (default 200000) rows and
// PIICRYPT_REENCRYPT_FAULT_KILLS (default 3) kills.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rotate/rotate_db.h"
#include "tests/rotate/rotate_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::ExpectResumedAndCountedOnce;
using ::piicrypt::testing::FaultKills;
using ::piicrypt::testing::FaultRows;
using ::piicrypt::testing::KillAtRandomPoints;
using ::piicrypt::testing::RotateBackend;
using ::piicrypt::testing::RotateDbFixture;
using ::piicrypt::testing::SpawnCli;
using ::testing::HasSubstr;
using ::testing::Not;

class ReencryptTest : public RotateDbFixture, public ::testing::WithParamInterface<RotateBackend> {
 protected:
  void SetUp() override { SetUpOn(GetParam()); }
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
      rows, FaultKills(), [&] { return SpawnCli(Args(args)); }, [&] { return RowsDone(); });
  if (HasFatalFailure()) return;
  CommandResult r = Reencrypt(args + " --verify");
  ExpectResumedAndCountedOnce(r, rows);
  if (HasFatalFailure()) return;
  EXPECT_EQ(CheckAll(rows), 0);
}

TEST_P(ReencryptTest, KeyColumnMustBeUniqueAndNotNull) { CaseKeyColumnMustBeUniqueAndNotNull(); }

TEST_P(ReencryptTest, RowMovedBehindTheWalkFailsTheJob) { CaseRowMovedBehindTheWalkFailsTheJob(); }

TEST_P(ReencryptTest, ResumesPastDeletedCheckpointWithRowsInsertedBehind) {
  CaseResumesPastDeletedCheckpointWithRowsInsertedBehind();
}

TEST_P(ReencryptTest, CurrentValueThatDoesNotDecryptFails) {
  CaseCurrentValueThatDoesNotDecryptFails();
}

TEST_P(ReencryptTest, UpdateWithoutEffectFails) {
  CaseUpdateWithoutEffectFails(db_->IgnoreUpdatesOfRow5());
}

}  // namespace
}  // namespace piicrypt
