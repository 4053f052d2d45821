// `piicrypt tokens erase|delete|purge-expired`, normalized tokens from the command line
// (--normalize and the policy's kinds), and `piicrypt mask`.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/token_cli_fixture.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

class TokensCliTest : public ::piicrypt::testing::TokenCliFixture {
 protected:
  void SetUp() override {
    TokenCliFixture::SetUp();
    if (HasFatalFailure()) return;
    policy_ = dir_.File("policy.textproto");
    std::ofstream f(policy_);
    f << "field { name: \"orders.card\" kind: KIND_CARD mode: MODE_VAULT_TOKEN\n"
         "        token { format: TOKEN_FORMAT_CARD } }\n"
         "field { name: \"orders.email\" kind: KIND_EMAIL mode: MODE_VAULT_TOKEN\n"
         "        token { format: TOKEN_FORMAT_ALPHANUMERIC } }\n"
         "field { name: \"orders.customer_email\" kind: KIND_EMAIL mode: MODE_RANDOMIZED }\n"
         "field { name: \"orders.phone\" kind: KIND_PHONE mode: MODE_RANDOMIZED\n"
         "        blind_index { bits: 16 default_region: \"AU\" } }\n";
  }
  std::string Field(const std::string& field) {
    return absl::StrCat("--field ", field, " --policy '", policy_, "' --store '", store_, "'");
  }
  std::string policy_;
};

TEST_F(TokensCliTest, PolicyKindNormalizesDeterministicTokens) {
  CommandResult t = Run("tokenize", Field("orders.card"),
                        "4111 1111 1111 1111\n4111111111111111\n4111-1111-1111-1111\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> tokens = absl::StrSplit(t.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0], tokens[1]);
  EXPECT_EQ(tokens[0], tokens[2]);
  CommandResult d = Run("detokenize", Field("orders.card"), tokens[0] + "\n");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "4111 1111 1111 1111\n") << "the value as first given";
  // The same with --normalize, without a policy.
  const std::string opts = "--field f.mail --normalize email --store '" + store_ + "'";
  CommandResult e = Run("tokenize", opts, "Jane@Example.com\n jane@example.com\n");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  std::vector<std::string> mail = absl::StrSplit(e.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(mail.size(), 2u);
  EXPECT_EQ(mail[0], mail[1]);
  CommandResult refused = Run("tokenize", opts, "not-an-address\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("line 1"));
  EXPECT_THAT(refused.err, Not(HasSubstr("not-an-address")));
  EXPECT_EQ(Run("tokenize", opts + " --normalize nope", "x\n").exit_code, 2);
  EXPECT_EQ(Run("tokenize", Field("orders.card") + " --normalize card", "x\n").exit_code, 2);
}

TEST_F(TokensCliTest, EraseDeletesEveryTokenOfEachValue) {
  CommandResult t = Run("tokenize", Field("orders.email"), "jane@example.com\nbob@example.com\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> tokens = absl::StrSplit(t.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(tokens.size(), 2u);
  // Another spelling of the value erases its token; an unknown value has none.
  CommandResult erase =
      Run("tokens erase", Field("orders.email"), "JANE@example.com\nnobody@example.com\n");
  ASSERT_EQ(erase.exit_code, 0) << erase.err;
  EXPECT_EQ(erase.out, "1\n0\n");
  EXPECT_EQ(Run("detokenize", Field("orders.email"), tokens[0] + "\n").exit_code, 1);
  CommandResult bob = Run("detokenize", Field("orders.email"), tokens[1] + "\n");
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  EXPECT_EQ(bob.out, "bob@example.com\n");
  // Random tokens: the field is scanned, every token of the value goes.
  const std::string random = "--field f.rnd --mode random --store '" + store_ + "'";
  ASSERT_EQ(Run("tokenize", random, "ann\nann\neve\n").exit_code, 0);
  CommandResult scan = Run("tokens erase", random, "ann\n");
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  EXPECT_EQ(scan.out, "2\n");
  // A value the field's normalizer refuses stops the run, not echoed.
  CommandResult bad = Run("tokens erase", Field("orders.email"), "bob@example.com\nno-at\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "1\n");
  EXPECT_THAT(bad.err, HasSubstr("line 2"));
  EXPECT_THAT(bad.err, Not(HasSubstr("no-at")));
}

TEST_F(TokensCliTest, DeleteAndPurgeExpired) {
  const std::string opts = "--field f.card --format card --store '" + store_ + "'";
  CommandResult t = Run("tokenize", opts, "4111 1111 1111 1111\n5500 0000 0000 0004\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> tokens = absl::StrSplit(t.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(tokens.size(), 2u);
  CommandResult del = Run("tokens delete", opts, tokens[0] + "\n");
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out, "1\n");
  CommandResult gone = Run("detokenize", opts, tokens[0] + "\n");
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("unknown token"));
  CommandResult again = Run("tokens delete", opts, tokens[1] + "\n" + tokens[0] + "\n");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out, "1\n");
  EXPECT_THAT(again.err, HasSubstr("line 2"));

  const std::string ttl = "--field f.ttl --mode random --ttl 1 --store '" + store_ + "'";
  ASSERT_EQ(Run("tokenize", ttl, "a1\na2\n").exit_code, 0);
  ASSERT_EQ(
      Run("tokenize", "--field f.ttl --mode random --store '" + store_ + "'", "a3\n").exit_code, 0);
  sleep(2);
  CommandResult purge = Run("tokens purge-expired", ttl);
  ASSERT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_EQ(purge.out, "f.ttl: 2 expired tokens deleted\n");
  CommandResult none = Run("tokens purge-expired", ttl);
  EXPECT_EQ(none.out, "f.ttl: 0 expired tokens deleted\n");
  // Usage: vaultless tokens are not stored; a missing store; no subcommand.
  EXPECT_EQ(Run("tokens purge-expired", "--field f --vaultless").exit_code, 2);
  EXPECT_EQ(Run("tokens erase", "--field f", "x\n").exit_code, 2);
  EXPECT_EQ(RunCommand(CliPath() + " tokens").exit_code, 2);
  // The store is unreachable: a failed operation.
  EXPECT_EQ(Run("tokens purge-expired", "--field f --store sqlite:/nonexistent-dir/t.db").exit_code,
            1);
}

TEST_F(TokensCliTest, MaskByPolicyOrStyle) {
  CommandResult m = RunCommand(
      absl::StrCat(CliPath(), " mask --policy '", policy_, "' --field orders.customer_email"),
      "jane.doe@example.com\nnot an address\r\n");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_EQ(m.out, "j***@example.com\n***\n");
  CommandResult p = RunCommand(CliPath() + " mask --style phone", "+61 2 5550 0199\n");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, "*** *** 0199\n");
  CommandResult i = RunCommand(CliPath() + " mask --style initials", "jane doe\n");
  EXPECT_EQ(i.out, "J. D.\n");
  EXPECT_EQ(RunCommand(CliPath() + " mask", "x\n").exit_code, 2);
  EXPECT_EQ(RunCommand(CliPath() + " mask --style nope", "x\n").exit_code, 2);
  EXPECT_EQ(
      RunCommand(absl::StrCat(CliPath(), " mask --policy '", policy_, "' --field nope"), "x\n")
          .exit_code,
      2);
  EXPECT_EQ(RunCommand(absl::StrCat(CliPath(), " mask --policy '", policy_,
                                    "' --field orders.phone --style full"),
                       "x\n")
                .exit_code,
            2);
}

TEST_F(TokensCliTest, HelpTeaches) {
  for (const char* command : {"tokens erase", "tokens delete", "tokens purge-expired"}) {
    CommandResult h = RunCommand(absl::StrCat(CliPath(), " ", command, " --help"));
    EXPECT_EQ(h.exit_code, 0) << command;
    for (const char* text : {"--store", "--field", "--policy", "--normalize", "GDPR", "Examples",
                             "Exit status", "backups"}) {
      EXPECT_THAT(h.out, HasSubstr(text)) << command;
    }
  }
  CommandResult h = RunCommand(CliPath() + " mask --help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* text : {"--policy", "--style", "j***@example.com", "*** *** 0199", "J. D.",
                           "**** 1234", "Examples", "Exit status"}) {
    EXPECT_THAT(h.out, HasSubstr(text)) << "mask";
  }
  CommandResult r = RunCommand(CliPath() + " rekey-tokens --help");
  EXPECT_THAT(r.out, HasSubstr("--normalize"));
  EXPECT_THAT(r.out, HasSubstr("normalized form"));
}

}  // namespace
}  // namespace piicrypt
