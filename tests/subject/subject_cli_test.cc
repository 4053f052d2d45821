// `piicrypt subject forget` and `piicrypt subject rewrap`: the command line of docs/CLI.md
// (forget clearing indexes on SQLite and on PostgreSQL), and a rewrap job killed with SIGKILL
// in the middle, then resumed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subject_cryptor.h"
#include "piicrypt/subject_key_store.h"
#include "piicrypt/subject_rewrap.h"
#include "tests/pg/pg_server.h"
#include "tests/subject/subject_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::IsOkAndHolds;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.customer_name"
    mode: MODE_RANDOMIZED
    bind_record: true
    subject {}
  }
)pb";

class SubjectCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = "file:" + dir_.File("kek.key");
    keyset_ = dir_.File("subjects.keyset");
    store_ = "sqlite:" + dir_.File("subjects.db");
    ASSERT_EQ(RunCommand(CliPath() + " kek create '" + kek_ + "'").exit_code, 0);
    CommandResult r =
        RunCommand(CliPath() + " keyset create --kek '" + kek_ + "' --out '" + keyset_ + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  Keyset ReadKeyset() { return Keyset::Read(keyset_, *Kek::Open(kek_).value()).value(); }
  std::unique_ptr<SubjectCryptor> Cryptor(std::shared_ptr<const SubjectKeyStore> store) {
    Keyset keyset = ReadKeyset();
    auto c = SubjectCryptor::Create(keyset, Policy::ParseTextProto(kPolicy).value(), store);
    EXPECT_THAT(c, IsOk());
    return c.ok() ? *std::move(c) : nullptr;
  }
  // Fills the store, rotates, kills a rewrap job with SIGKILL in the middle, resumes it.
  void RunKilledRewrap();
  // The store URL the killed job is given, and the wait for what it left running (a
  // server-side session that may still commit its last batch); SQLite has neither.
  virtual std::string KilledJobStore() const { return store_; }
  virtual void AwaitKilledJob() {}
  // Checks, before the kill, that the wait above would see the job (PostgreSQL).
  virtual void ExpectJobConnected() {}
  std::string Args() const {
    return absl::StrCat(" --kek '", kek_, "' --keyset '", keyset_, "' --store '", store_, "'");
  }
  TempDir dir_;
  std::string kek_, keyset_, store_;
};

TEST_F(SubjectCliTest, ForgetErasesTheKeyAndClearsIndexes) {
  std::shared_ptr<const SubjectKeyStore> store = *SubjectKeyStore::Open(store_);
  auto cryptor = Cryptor(store);
  const std::string ct = *cryptor->EncryptValue("orders.customer_name", "4711", "Jane", "1001");
  const std::string other = *cryptor->EncryptValue("orders.customer_name", "4712", "Bo", "1002");
  const std::string db = dir_.File("orders.db");
  ASSERT_EQ(RunCommand("sqlite3 '" + db + "' \"CREATE TABLE orders (id INTEGER PRIMARY KEY, " +
                       "email_idx TEXT, phone_idx TEXT); INSERT INTO orders VALUES " +
                       "(1001, 'ab', 'cd'), (1002, 'ef', 'gh');\"")
                .exit_code,
            0);
  CommandResult r = RunCommand(absl::StrCat(
      CliPath(), " subject forget", Args(), " --subject 4711 --subject 9999 --db 'sqlite:", db,
      "' --table orders --key-column id --index-column email_idx --index-column phone_idx",
      " --record 1001"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "erased\nno key\nindexes cleared in 1 of 1 rows\n");
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr("4711")));
  EXPECT_EQ(RunCommand("sqlite3 '" + db + "' 'SELECT id, email_idx, phone_idx FROM orders'").out,
            "1001||\n1002|ef|gh\n");
  auto fresh = Cryptor(store);
  EXPECT_THAT(fresh->DecryptValue("orders.customer_name", "4711", ct, "1001"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(fresh->DecryptValue("orders.customer_name", "4712", other, "1002"),
              IsOkAndHolds(std::string("Bo")));
  // A record that is not in the table: less was done than asked.
  CommandResult missing = RunCommand(
      absl::StrCat(CliPath(), " subject forget", Args(), " --subject 4712 --db 'sqlite:", db,
                   "' --table orders --key-column id --index-column email_idx --record 5555"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("matched no row"));
  // Usage errors.
  EXPECT_EQ(RunCommand(CliPath() + " subject forget" + Args()).exit_code, 2);
  EXPECT_EQ(
      RunCommand(CliPath() + " subject forget" + Args() + " --subject 1 --db 'sqlite:" + db + "'")
          .exit_code,
      2);
  CommandResult help = RunCommand(CliPath() + " subject forget --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("a forget is complete in\nevery process"));
  EXPECT_THAT(help.out, HasSubstr("PostgreSQL (--db postgresql://...,"));
}

// The rewrap job killed with SIGKILL in the middle leaves every key readable; run again, it
// finishes, and --verify passes.
void SubjectCliTest::RunKilledRewrap() {
  constexpr int kSubjects = 300;
  std::shared_ptr<const SubjectKeyStore> store = *SubjectKeyStore::Open(store_);
  std::vector<std::string> cts;
  {
    auto cryptor = Cryptor(store);
    for (int i = 0; i < kSubjects; ++i) {
      cts.push_back(*cryptor->EncryptValue("orders.customer_name", absl::StrCat("c", i),
                                           absl::StrCat("name ", i), "1"));
    }
  }
  ASSERT_EQ(
      RunCommand(CliPath() + " keyset rotate --kek '" + kek_ + "' '" + keyset_ + "'").exit_code, 0);
  Keyset keyset = ReadKeyset();
  auto under_primary = [&] {
    auto v = VerifySubjectKeys(keyset, *store, {});
    EXPECT_THAT(v, IsOk());
    EXPECT_EQ(v->failed, 0);
    return v.ok() ? v->current : -1;
  };
  ASSERT_EQ(under_primary(), 0);
  const pid_t pid = fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    const std::string cli = CliPath(), kek = "--kek=" + kek_, keyset_arg = "--keyset=" + keyset_,
                      store_arg = "--store=" + KilledJobStore();
    execl(cli.c_str(), cli.c_str(), "subject", "rewrap", "--batch", "1", kek.c_str(),
          keyset_arg.c_str(), store_arg.c_str(), nullptr);
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (under_primary() < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Frozen first, so that its session is still open when the test looks for it.
  kill(pid, SIGSTOP);
  ExpectJobConnected();
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the job ended before it was killed";
  ASSERT_NO_FATAL_FAILURE(AwaitKilledJob());
  const int64_t done = under_primary();  // every row unwraps (checked inside)
  ASSERT_GE(done, 20);
  ASSERT_LT(done, kSubjects + 1);

  CommandResult again = RunCommand(CliPath() + " subject rewrap --verify" + Args());
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr(absl::StrCat("rewrapped:          ", kSubjects + 1 - done)));
  EXPECT_THAT(again.out, HasSubstr("failed:             0"));
  EXPECT_EQ(under_primary(), kSubjects + 1);
  auto cryptor = Cryptor(store);
  for (int i = 0; i < kSubjects; ++i) {
    EXPECT_THAT(cryptor->DecryptValue("orders.customer_name", absl::StrCat("c", i), cts[i], "1"),
                IsOkAndHolds(absl::StrCat("name ", i)));
  }
  // --verify-only fails while rows are under another key than the primary.
  ASSERT_EQ(
      RunCommand(CliPath() + " keyset rotate --kek '" + kek_ + "' '" + keyset_ + "'").exit_code, 0);
  CommandResult pending = RunCommand(CliPath() + " subject rewrap --verify-only" + Args());
  EXPECT_EQ(pending.exit_code, 1);
  EXPECT_THAT(pending.out, HasSubstr(absl::StrCat("not under primary:  ", kSubjects + 1)));
}

TEST_F(SubjectCliTest, RewrapKilledMidJobResumes) { RunKilledRewrap(); }

// The same on a PostgreSQL store (a database of its own on the shared server).
class PostgresSubjectCliTest : public SubjectCliTest {
 protected:
  void SetUp() override {
    SubjectCliTest::SetUp();
    std::string error;
    testing::PgServer* server = testing::SharedPgServer(&error);
    ASSERT_NE(server, nullptr) << error;
    ASSERT_THAT(server->CreateDatabase(kDatabase), IsOk());
    store_ = server->Url(kDatabase);
    server_ = server;
  }
  std::string KilledJobStore() const override { return store_ + "&application_name=" + kKilledJob; }
  void AwaitKilledJob() override {
    ASSERT_THAT(server_->AwaitSessionsEnded(kDatabase, kKilledJob), IsOk());
  }
  void ExpectJobConnected() override {
    EXPECT_THAT(server_->Sessions(kDatabase, kKilledJob), IsOkAndHolds(::testing::Ge(1)));
  }
  static constexpr char kDatabase[] = "subject_cli_rewrap";
  static constexpr char kKilledJob[] = "piicrypt-killed-rewrap";
  testing::PgServer* server_ = nullptr;
};

TEST_F(PostgresSubjectCliTest, RewrapKilledMidJobResumes) { RunKilledRewrap(); }

// `subject forget --db postgresql://...`: the application's table on PostgreSQL (a database
// of its own on the shared server), the subject key store on SQLite.
class PostgresSubjectForgetCliTest : public SubjectCliTest {};

TEST_F(PostgresSubjectForgetCliTest, ForgetClearsIndexesOnPostgres) {
  std::string error;
  testing::PgServer* server = testing::SharedPgServer(&error);
  ASSERT_NE(server, nullptr) << error;
  constexpr char kDatabase[] = "subject_cli_forget";
  ASSERT_THAT(server->CreateDatabase(kDatabase), IsOk());
  ASSERT_THAT(server->Psql("CREATE TABLE orders (id BIGINT PRIMARY KEY, email_idx TEXT, "
                           "phone_idx TEXT); INSERT INTO orders VALUES "
                           "(1001, 'ab', 'cd'), (1002, 'ef', 'gh');",
                           kDatabase),
              IsOk());
  std::shared_ptr<const SubjectKeyStore> store = *SubjectKeyStore::Open(store_);
  const std::string ct =
      *Cryptor(store)->EncryptValue("orders.customer_name", "4711", "Jane", "1001");
  const std::string clear =
      absl::StrCat(" --db '", server->Url(kDatabase), "' --table orders --key-column id");
  CommandResult r = RunCommand(
      absl::StrCat(CliPath(), " subject forget", Args(), " --subject 4711", clear,
                   " --index-column email_idx --index-column phone_idx", " --record 1001"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "erased\nindexes cleared in 1 of 1 rows\n");
  EXPECT_THAT(server->Psql("SELECT id, email_idx, phone_idx FROM orders ORDER BY id", kDatabase),
              IsOkAndHolds(std::string("1001||\n1002|ef|gh\n")));
  EXPECT_THAT(Cryptor(store)->DecryptValue("orders.customer_name", "4711", ct, "1001"),
              StatusIs(absl::StatusCode::kNotFound));
  // A record that is not in the table: less was done than asked.
  CommandResult missing =
      RunCommand(absl::StrCat(CliPath(), " subject forget", Args(), " --subject 4712", clear,
                              " --index-column email_idx --record 1002", " --record 5555"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "no key\nindexes cleared in 1 of 2 rows\n");
  EXPECT_THAT(missing.err, HasSubstr("1 --record value(s) matched no row of table orders"));
  // An unknown column: named, nothing changed.
  CommandResult unknown =
      RunCommand(absl::StrCat(CliPath(), " subject forget", Args(), " --subject 4712", clear,
                              " --index-column phone_idx --index-column nope", " --record 1002"));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no such column: orders.nope"));
  EXPECT_THAT(server->Psql("SELECT id, email_idx, phone_idx FROM orders ORDER BY id", kDatabase),
              IsOkAndHolds(std::string("1001||\n1002||gh\n")));
}

}  // namespace
}  // namespace piicrypt
