// rotate_test_util.h: the table, policy and checks of the re-encryption tests
// (reencrypt_test.cc runs the shared cases on both back ends; reencrypt_sqlite_test.cc and
// reencrypt_pg_test.cc hold each back end's own; rotate_db.h the databases).
//
// The table: orders (id, email, email_bidx, name, loyalty, note); email, name and loyalty
// are encrypted (email with a blind index), note is not. contacts (Ff1Policy) holds an FF1
// column, callers (CallersPolicy) a compound index with an FF1 part.
#ifndef PIICRYPT_TESTS_ROTATE_ROTATE_TEST_UTIL_H_
#define PIICRYPT_TESTS_ROTATE_ROTATE_TEST_UTIL_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "tests/test_util.h"

namespace piicrypt::testing {

inline constexpr char kRotatePolicy[] = R"pb(
  field {
    name: "orders.email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 32 column: "email_bidx" }
  }
  field { name: "orders.name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.loyalty" kind: KIND_TEXT mode: MODE_DETERMINISTIC }
  field { name: "customers.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED }
)pb";

inline const char* const kRotateFields[] = {"orders.email", "orders.name", "orders.loyalty"};
inline const char* const kRotateColumns[] = {"email", "name", "loyalty"};

// A shell-quoted argument.
inline std::string Q(const std::string& s) { return "'" + s + "'"; }

// The plaintexts of row `id`: name is NULL on every 7th row.
struct Plain {
  std::optional<std::string> v[3];
};
inline Plain Original(int64_t id) {
  Plain p;
  p.v[0] = absl::StrCat("User", id, "@Example.com");
  if (id % 7 != 0) p.v[1] = absl::StrCat("Name ", id);
  p.v[2] = absl::StrCat("L-", id % 100);
  return p;
}

// The FF1 table: contacts (id, phone, phone_key, phone_idx); phone is format-preserving
// under the key the policy pins, phone_key the key-version column.
inline std::string Ff1Policy(uint32_t key_id) {
  return absl::StrCat(
      "field { name: \"contacts.phone\" kind: KIND_PHONE mode: MODE_FORMAT_PRESERVING"
      " bind_record: true blind_index { bits: 32 column: \"phone_idx\" }"
      " format_preserving { key_id: ",
      key_id, " key_version_column: \"phone_key\" phone {} } }");
}
inline std::string Ff1Phone(int64_t id) {
  const std::string digits = absl::StrCat(10000 + id % 10000);
  return "+61 2 5550 " + digits.substr(1);
}

// The compound-index table: callers (id, surname, phone, phone_key, sp_idx), rows 1..6.
// surname is randomized; phone is FF1 with each row's key id in phone_key, new values under
// key `write_key` (0: the primary); sp_idx is the compound index callers.sp over the
// surname and the phone's last four digits.
inline std::string CallersPolicy(uint32_t write_key = 0) {
  return absl::StrCat(
      "field { name: \"callers.surname\" kind: KIND_NAME mode: MODE_RANDOMIZED"
      " bind_record: true }"
      " field { name: \"callers.phone\" kind: KIND_PHONE mode: MODE_FORMAT_PRESERVING"
      " bind_record: true format_preserving { key_id: ",
      write_key,
      " key_version_column: \"phone_key\" phone {} } }"
      " index { name: \"callers.sp\" column: \"sp_idx\" bits: 64"
      " part { field: \"callers.surname\" transform: TRANSFORM_NORMALIZED }"
      " part { field: \"callers.phone\" transform: TRANSFORM_LAST_DIGITS n: 4 } }");
}
// Row id's surname, and its phone: Ff1Phone(id), but none on row 6 (so a NULL index).
inline std::string CallerSurname(int64_t id) {
  static const char* const kSurnames[] = {"Nguyen", "Smith", "Ng", "Li", "Okafor", "Brown"};
  return kSurnames[(id - 1) % 6];
}
inline std::optional<std::string> CallerPhone(int64_t id) {
  if (id == 6) return std::nullopt;
  return Ff1Phone(id);
}

// Starts `piicrypt ARGS` in the background (output discarded); the pid is the CLI's own.
inline pid_t SpawnCli(const std::string& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = "exec " + CliPath() + args + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The fault test's size: PIICRYPT_REENCRYPT_FAULT_ROWS rows (default 200,000) and
// PIICRYPT_REENCRYPT_FAULT_KILLS kills (default 3).
inline int64_t FaultRows() {
  const char* env = std::getenv("PIICRYPT_REENCRYPT_FAULT_ROWS");
  return env != nullptr ? std::atoll(env) : 200000;
}
inline int FaultKills() {
  const char* env = std::getenv("PIICRYPT_REENCRYPT_FAULT_KILLS");
  return env != nullptr ? std::atoi(env) : 3;
}

// Starts the job `kills` times with `spawn` and kills it with SIGKILL once its checkpoint
// (`rows_done`: the rows the job has committed so far, over all runs) passed a random point
// of that run's share, plus a random delay, so that each kill lands anywhere in a batch
// (reading, encrypting, committing). Fails the test if a run ends before its kill or the
// checkpoint goes back. `await_killed` returns once a killed run can commit nothing more.
inline void KillAtRandomPoints(int64_t rows, int kills, const std::function<pid_t()>& spawn,
                               const std::function<int64_t()>& rows_done,
                               const std::function<void()>& await_killed) {
  std::mt19937_64 rng(std::random_device{}());
  int64_t progress = 0;
  for (int k = 0; k < kills; ++k) {
    const int64_t share = (rows - progress) / (kills - k + 1);
    const int64_t target =
        progress + 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(share));
    const pid_t pid = spawn();
    ASSERT_NE(pid, -1);
    int status = 0;
    bool exited = false;
    for (;;) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      if (rows_done() >= target) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_FALSE(exited) << "the job ended before kill " << k;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    kill(pid, SIGKILL);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "kill " << k << " came too late";
    ASSERT_NO_FATAL_FAILURE(await_killed());
    progress = rows_done();
    ASSERT_GE(progress, target - 1);
  }
}

// The summary of the run that finishes a job KillAtRandomPoints interrupted: resumed, and
// every value of the `rows`-row orders table counted exactly once over all the runs
// (nothing lost, nothing twice).
inline void ExpectResumedAndCountedOnce(const CommandResult& r, int64_t rows) {
  using ::testing::HasSubstr;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(resumed)"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(rows, " rows in")));
  EXPECT_THAT(r.out, HasSubstr("failed:              0\n"));
  const int64_t names = rows - rows / 7;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("re-encrypted:        ", 2 * rows + names, "\n")));
  EXPECT_THAT(r.out, HasSubstr("already current:     0\n"));
}

// The FF1 scenario (contacts: rows 1..250 under the old key, 251..280 plaintext with no
// key version, 281..300 NULL): `first` is the run without --encrypt-plaintext, `then` the
// run with it and --verify.
inline void ExpectFf1Rotation(const CommandResult& first, const CommandResult& then) {
  using ::testing::HasSubstr;
  EXPECT_EQ(first.exit_code, 1) << first.out << first.err;
  EXPECT_THAT(first.out, HasSubstr("re-encrypted:        250\n"));
  EXPECT_THAT(first.out, HasSubstr("NULL:                20\n"));
  EXPECT_THAT(first.out, HasSubstr("failed:              30\n"));
  EXPECT_THAT(first.out, HasSubstr("failed 251: contacts.phone: phone_key is NULL"));
  ASSERT_EQ(then.exit_code, 0) << then.out << then.err;
  EXPECT_THAT(then.out, HasSubstr("plaintext encrypted: 30\n"));
  EXPECT_THAT(then.out, HasSubstr("already current:     250\n"));
  EXPECT_THAT(then.out, HasSubstr("verify: 280 values checked, 0 failed"));
  // No phone number in the output.
  EXPECT_THAT(first.out + first.err + then.out + then.err, ::testing::Not(HasSubstr("5550")));
}

// A KEK, a keyset and the policy in a temporary directory, and the back end's hooks.
class RotateFixture : public ::testing::Test {
 protected:
  // The back end's hooks: run one SQL statement (it must succeed), read one integer, the
  // `--db URL` argument, fill orders rows 1..n under the current primary, and the rows the
  // running job has committed so far (over all its runs).
  virtual void Exec(const std::string& sql) = 0;
  virtual int64_t QueryInt(const std::string& sql) = 0;
  virtual std::string DbArgs() const = 0;
  virtual void Fill(int64_t n) = 0;
  virtual int64_t RowsDone() = 0;
  // Returns once a job killed with SIGKILL can commit nothing more.
  virtual void AwaitKilledJob() = 0;

  // "piicrypt reencrypt ... --db URL --table orders --key-column id EXTRA".
  CommandResult RunJob(const std::string& extra = "") {
    return RunCommand(
        absl::StrCat(CliPath(), BaseArgs(), DbArgs(), " --table orders --key-column id ", extra));
  }

  void SetUp() override {
    kek_uri_ = "file:" + dir_.File("kek.key");
    keyset_path_ = dir_.File("k.keyset");
    policy_path_ = dir_.File("policy.textproto");
    ASSERT_TRUE(Kek::Create(kek_uri_).ok());
    auto kek = Kek::Open(kek_uri_);
    ASSERT_TRUE(kek.ok());
    kek_ = *std::move(kek);
    auto ks = Keyset::Generate();
    ASSERT_TRUE(ks.ok());
    ASSERT_TRUE(ks->WriteNew(keyset_path_, *kek_).ok());
    WritePolicy(kRotatePolicy);
    auto policy = Policy::ParseTextProto(kRotatePolicy);
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_.emplace(*std::move(policy));
  }

  void WritePolicy(const char* text) {
    FILE* f = std::fopen(policy_path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(text, f);
    std::fclose(f);
  }

  std::unique_ptr<FieldCryptor> Cryptor() {
    auto ks = Keyset::Read(keyset_path_, *kek_);
    EXPECT_TRUE(ks.ok());
    auto c = FieldCryptor::Create(*ks, *policy_);
    EXPECT_TRUE(c.ok());
    return *std::move(c);
  }
  uint32_t Primary() { return Keyset::Read(keyset_path_, *kek_)->primary_key_id(); }

  // A cryptor of the keyset file for another policy.
  std::unique_ptr<FieldCryptor> CryptorFor(const std::string& policy_text) {
    auto ks = Keyset::Read(keyset_path_, *kek_);
    EXPECT_TRUE(ks.ok());
    auto policy = Policy::ParseTextProto(policy_text);
    EXPECT_TRUE(policy.ok()) << policy.status();
    auto c = FieldCryptor::Create(*ks, *policy);
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }

  // The problems of one stored FF1 row: 0 if it holds Ff1Phone(id) under `key` (FF1
  // cryptor `c` of Ff1Policy(key)), with phone_key = key and a current phone_idx.
  static int CheckFf1Row(const FieldCryptor& c, uint32_t key, int64_t id,
                         const std::optional<std::string>& phone,
                         const std::optional<std::string>& phone_key,
                         const std::optional<std::string>& phone_idx, int& reported) {
    auto report = [&](const std::string& what) {
      if (++reported <= 10) ADD_FAILURE() << "contacts row " << id << ": " << what;
      return 1;
    };
    if (!phone.has_value()) return report("phone is NULL");
    if (phone_key != std::optional<std::string>(absl::StrCat(key))) {
      return report(absl::StrCat("phone_key is ", phone_key.value_or("NULL")));
    }
    auto plain = c.DecryptWithKey("contacts.phone", key, *phone, absl::StrCat(id));
    if (!plain.ok() || **plain != Ff1Phone(id)) return report("does not decrypt to its value");
    if (*phone == Ff1Phone(id)) return report("still plaintext");
    if (phone_idx != *c.BlindIndex("contacts.phone", Ff1Phone(id))) {
      return report("blind index not current");
    }
    return 0;
  }

  void Rotate() {
    ASSERT_TRUE(
        Keyset::Update(keyset_path_, *kek_, [](Keyset& k) { return k.Rotate().status(); }).ok());
  }

  // " reencrypt --kek ... --keyset ... --policy ..." (no database, table or key column).
  std::string BaseArgs() const {
    return absl::StrCat(" reencrypt --kek ", Q(kek_uri_), " --keyset ", Q(keyset_path_),
                        " --policy ", Q(policy_path_));
  }

  // The problems of one stored row (0: it holds `want` under `primary`, its blind index is
  // current and its note untouched); each is reported as a test failure, the first few
  // in detail.
  static int CheckRow(const FieldCryptor& c, uint32_t primary, int64_t id,
                      const std::optional<std::string> (&stored)[3],
                      const std::optional<std::string>& bidx,
                      const std::optional<std::string>& note, const Plain& want, int& reported) {
    int problems = 0;
    auto report = [&](const std::string& what) {
      ++problems;
      if (++reported <= 10) ADD_FAILURE() << "row " << id << ": " << what;
    };
    const std::string rec = absl::StrCat(id);
    for (int k = 0; k < 3; ++k) {
      if (!want.v[k].has_value() || !stored[k].has_value()) {
        if (want.v[k].has_value() != stored[k].has_value()) {
          report(absl::StrCat(kRotateColumns[k], " NULL where it should not be"));
        }
        continue;
      }
      auto key = FieldCipher::KeyIdOfText(*stored[k]);
      auto plain = c.Decrypt(kRotateFields[k], *stored[k], rec);
      if (!key.ok() || *key != primary) {
        report(absl::StrCat(kRotateColumns[k], " not under the primary"));
      } else if (!plain.ok() || **plain != *want.v[k]) {
        report(absl::StrCat(kRotateColumns[k], " does not decrypt to its value"));
      }
    }
    if (bidx != *c.BlindIndex(kRotateFields[0], *want.v[0])) report("blind index not current");
    if (note != std::optional<std::string>("not encrypted")) report("note changed");
    return problems;
  }

  TempDir dir_;
  std::string kek_uri_, keyset_path_, policy_path_;
  std::unique_ptr<Kek> kek_;
  std::optional<Policy> policy_;
};

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_ROTATE_ROTATE_TEST_UTIL_H_
