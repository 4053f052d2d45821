// `piicrypt tokenize` and `piicrypt detokenize`: the command line of docs/CLI.md;
// `piicrypt rekey-tokens`' help (its runs are in tests/token/tokenizer_test.cc).
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
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

using TokenCliTest = ::piicrypt::testing::TokenCliFixture;

TEST_F(TokenCliTest, TokenizeThenDetokenizeInAnotherProcess) {
  const std::string input = "4111 1111 1111 1111\n5500-0000-0000-0004\n4111 1111 1111 1111\n";
  const std::string args = "--field orders.card --format card --store '" + store_ + "'";
  CommandResult t = Run("tokenize", args, input);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> tokens = absl::StrSplit(t.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0], tokens[2]);  // deterministic by default
  EXPECT_NE(tokens[0], tokens[1]);
  EXPECT_THAT(tokens[0], ::testing::EndsWith("1111"));
  EXPECT_THAT(t.out, Not(HasSubstr("4111 1111 1111 1111")));
  CommandResult d = Run("detokenize", "--field orders.card --store '" + store_ + "'", t.out);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, input);
}

TEST_F(TokenCliTest, VaultlessNeedsNoStore) {
  // A vaultless token names no key: the key is pinned, never the primary of the moment.
  CommandResult unpinned = Run("tokenize", "--field orders.phone --vaultless", "+61 2 5550 0199\n");
  EXPECT_EQ(unpinned.exit_code, 2);
  EXPECT_THAT(unpinned.err, HasSubstr("orders.phone: vaultless tokens carry no key id"));
  EXPECT_EQ(unpinned.out, "");
  auto kek = Kek::Open(kek_).value();
  const uint32_t key = Keyset::Read(keyset_, *kek).value().primary_key_id();
  const std::string args =
      absl::StrCat("--field orders.phone --vaultless --vaultless-key-id ", key, " --prefix T");
  CommandResult t = Run("tokenize", args, "+61 2 5550 0199\r\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  ASSERT_EQ(t.out.size(), std::string("T+61 2 5550 0199\n").size());
  EXPECT_EQ(t.out[0], 'T');
  CommandResult d = Run("detokenize", args, t.out);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "+61 2 5550 0199\n");
}

TEST_F(TokenCliTest, RandomModeAndPrefix) {
  const std::string args =
      "--field orders.email --mode random --format alphanumeric --length 20 "
      "--prefix tok_ --store '" +
      store_ + "'";
  CommandResult t = Run("tokenize", args, "jane@example.com\njane@example.com\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> tokens = absl::StrSplit(t.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_NE(tokens[0], tokens[1]);
  EXPECT_EQ(tokens[0].size(), 24u);
  EXPECT_THAT(tokens[0], ::testing::StartsWith("tok_"));
}

TEST_F(TokenCliTest, FailuresAndUsageHaveTheirExitCodes) {
  // Unknown token: a failed operation, reported with its line number, output so far kept.
  CommandResult t = Run("tokenize", "--field f --store '" + store_ + "'", "alice\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  CommandResult d = Run("detokenize", "--field f --store '" + store_ + "'", t.out + "zzzzz\n");
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_EQ(d.out, "alice\n");
  EXPECT_THAT(d.err, HasSubstr("line 2"));
  EXPECT_THAT(d.err, HasSubstr("unknown token"));
  // A value that does not fit the format: exit 1, the value not echoed.
  CommandResult bad =
      Run("tokenize", "--field c --format card --store '" + store_ + "'", "1234 5678\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, Not(HasSubstr("1234 5678")));
  // Usage: no store, an unknown format, an unknown store scheme, both store and vaultless.
  EXPECT_EQ(Run("tokenize", "--field f", "x\n").exit_code, 2);
  EXPECT_EQ(Run("tokenize", "--field f --format nope --store '" + store_ + "'", "x\n").exit_code,
            2);
  EXPECT_EQ(Run("tokenize", "--field f --store mysql://x", "x\n").exit_code, 2);
  EXPECT_EQ(Run("tokenize", "--field f --vaultless --store '" + store_ + "'", "x\n").exit_code, 2);
  EXPECT_EQ(Run("tokenize", "--field f --prefix 'a b' --store '" + store_ + "'", "x\n").exit_code,
            2);
  // The store is unreachable: a failed operation.
  CommandResult down = Run("tokenize", "--field f --store sqlite:/nonexistent-dir/t.db", "x\n");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_THAT(down.err, HasSubstr("token store"));
}

TEST_F(TokenCliTest, TokenSettingsFromThePolicy) {
  const std::string policy = dir_.File("policy.textproto");
  {
    std::ofstream f(policy);
    f << "field { name: \"orders.card\" mode: MODE_VAULT_TOKEN\n"
         "        token { format: TOKEN_FORMAT_CARD prefix: \"C\" } }\n"
         "field { name: \"orders.name\" mode: MODE_RANDOMIZED }\n";
  }
  const std::string args = "--field orders.card --policy '" + policy + "' --store '" + store_ + "'";
  CommandResult t = Run("tokenize", args, "4111 1111 1111 1111\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_THAT(t.out, ::testing::StartsWith("C"));
  EXPECT_THAT(t.out, ::testing::EndsWith("1111\n"));
  CommandResult d = Run("detokenize", args, t.out);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "4111 1111 1111 1111\n");
  // The policy's settings and format options exclude each other; a field not tokenized by
  // the policy is bad usage.
  EXPECT_EQ(Run("tokenize", args + " --format card", "x\n").exit_code, 2);
  EXPECT_EQ(Run("tokenize",
                "--field orders.name --policy '" + policy + "' --store '" + store_ + "'", "x\n")
                .exit_code,
            2);
  EXPECT_EQ(
      Run("tokenize", "--field f --policy /nonexistent.textproto --store '" + store_ + "'", "x\n")
          .exit_code,
      2);
}

TEST_F(TokenCliTest, HelpTeaches) {
  for (const char* command : {"tokenize", "detokenize"}) {
    CommandResult h = RunCommand(absl::StrCat(CliPath(), " ", command, " --help"));
    EXPECT_EQ(h.exit_code, 0);
    for (const char* text :
         {"--store", "--vaultless", "--format", "preserve", "card", "alphanumeric", "sqlite:PATH",
          "postgresql://", "Exit status", "Luhn", "--ttl", "--policy", "Examples"}) {
      EXPECT_THAT(h.out, HasSubstr(text)) << command;
    }
  }
  CommandResult h = RunCommand(absl::StrCat(CliPath(), " rekey-tokens --help"));
  EXPECT_EQ(h.exit_code, 0);
  for (const char* text : {"--store", "--batch", "--field", "primary key", "keyset rotate",
                           "keyset disable", "enable the key", "Exit status", "Example"}) {
    EXPECT_THAT(h.out, HasSubstr(text)) << "rekey-tokens";
  }
}

}  // namespace
}  // namespace piicrypt
