// `piicrypt encrypt | decrypt | blind-index`: the command line of docs/CLI.md.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliCreateKeyset;
using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::Quote;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

class FieldCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = "file:" + dir_.File("kek.key");
    keyset_ = dir_.File("orders.keyset");
    ASSERT_TRUE(CliCreateKeyset(kek_, keyset_));
  }
  // Runs `piicrypt ARGS` with --kek (and --keyset for field commands) added.
  CommandResult Run(const std::string& args, const std::string& in = "", bool field = true) {
    std::vector<std::string> words = absl::StrSplit(args, absl::MaxSplits(' ', 1));
    std::string cmd = CliPath() + " " + words[0] + (words[0] == "keyset" ? " " + words[1] : "") +
                      " --kek " + Quote(kek_);
    if (field) cmd += " --keyset " + Quote(keyset_);
    if (words[0] != "keyset" && words.size() > 1) cmd += " " + words[1];
    return RunCommand(cmd, in);
  }
  std::string Policy() const {
    return Quote(std::string(PIICRYPT_SOURCE_DIR) + "/examples/policies/orders.textproto");
  }

  TempDir dir_;
  std::string kek_, keyset_;
};

TEST_F(FieldCliTest, EncryptDecryptRoundTripLineByLine) {
  const std::string in =
      "jane@example.com\n\nJ\xC3\xB6rg M\xC3\xBCller\ncrlf\r\nlast-without-newline";
  CommandResult enc =
      Run("encrypt --field orders.customer_email --mode randomized --record 1001", in);
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  const std::vector<std::string> cts = Lines(enc.out);
  ASSERT_EQ(cts.size(), 5u);
  for (const std::string& ct : cts) EXPECT_THAT(ct, StartsWith("A"));  // 0x01 header
  EXPECT_THAT(enc.out, Not(HasSubstr("jane")));

  CommandResult dec =
      Run("decrypt --field orders.customer_email --mode randomized --record 1001", enc.out);
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  EXPECT_THAT(Lines(dec.out), ElementsAre("jane@example.com", "", "J\xC3\xB6rg M\xC3\xBCller",
                                          "crlf", "last-without-newline"));
  EXPECT_EQ(Run("encrypt --field f --mode randomized", "").out, "");  // no input, no output
}

TEST_F(FieldCliTest, CliOutputIsWhatTheLibraryReads) {
  CommandResult enc =
      Run("encrypt --field orders.loyalty_number --mode deterministic", "L-1\nL-1\n");
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  const auto cts = Lines(enc.out);
  ASSERT_EQ(cts.size(), 2u);
  EXPECT_EQ(cts[0], cts[1]);  // deterministic
  auto kek = Kek::Open(kek_).value();
  Keyset keyset = Keyset::Read(keyset_, *kek).value();
  EXPECT_EQ(keyset.DecryptText("orders.loyalty_number", cts[0]).value(), "L-1");
}

TEST_F(FieldCliTest, FailedLineIsNamedNeverShownAndStopsTheRun) {
  CommandResult enc =
      Run("encrypt --field orders.customer_email --mode randomized --record 1", "a\nb\n");
  ASSERT_EQ(enc.exit_code, 0);
  const auto cts = Lines(enc.out);
  const std::string in = cts[0] + "\nnot-a-ciphertext-secret\n" + cts[1] + "\n";
  CommandResult dec = Run("decrypt --field orders.customer_email --mode randomized --record 1", in);
  EXPECT_EQ(dec.exit_code, 1);
  EXPECT_EQ(dec.out, "a\n");  // results before the failure are written
  EXPECT_EQ(dec.err, "piicrypt: line 2: orders.customer_email: decryption failed\n");
  EXPECT_THAT(dec.err, Not(HasSubstr("secret")));
  // Another record: every line fails, the first is reported.
  CommandResult moved =
      Run("decrypt --field orders.customer_email --mode randomized --record 2", enc.out);
  EXPECT_EQ(moved.exit_code, 1);
  EXPECT_THAT(moved.err, HasSubstr("line 1: "));
}

TEST_F(FieldCliTest, PolicyDrivesModeBindingAndFormat) {
  // An FF1 field whose policy pins its key (an FF1 value names none).
  auto kek = Kek::Open(kek_).value();
  const std::string pinned = dir_.File("pinned.textproto");
  std::ofstream(pinned) << "field { name: \"bookings.customer_phone\" kind: KIND_PHONE "
                           "mode: MODE_FORMAT_PRESERVING bind_record: true format_preserving { "
                        << "key_id: " << Keyset::Read(keyset_, *kek).value().primary_key_id()
                        << " phone {} } }\n";
  CommandResult enc =
      Run("encrypt --policy " + Quote(pinned) + " --field bookings.customer_phone --record B-1",
          "+61 2 5550 0199\n");
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  ASSERT_EQ(enc.out.size(), std::string("+61 2 5550 0199\n").size());
  EXPECT_EQ(enc.out[0], '+');
  CommandResult dec =
      Run("decrypt --policy " + Quote(pinned) + " --field bookings.customer_phone --record B-1",
          enc.out);
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  EXPECT_EQ(dec.out, "+61 2 5550 0199\n");
  // The example policy keeps the field's key per row in a key-version column, which the
  // commands neither read nor write: they refuse rather than guess the key (decrypt) or
  // write under the primary of the moment without saying which (encrypt).
  for (const char* command : {"decrypt", "encrypt"}) {
    CommandResult guessed = Run(absl::StrCat(command, " --policy ", Policy(),
                                             " --field bookings.customer_phone --record B-1"),
                                enc.out);
    EXPECT_EQ(guessed.exit_code, 2) << command;
    EXPECT_THAT(guessed.err, HasSubstr("key-version column customer_phone_key")) << command;
    EXPECT_EQ(guessed.out, "") << command;
  }
  // A bound field without --record: line 1 fails.
  CommandResult unbound =
      Run("encrypt --policy " + Policy() + " --field orders.customer_email", "x@y.z\n");
  EXPECT_EQ(unbound.exit_code, 1);
  EXPECT_THAT(unbound.err, HasSubstr("line 1: orders.customer_email: the field is bound"));
}

TEST_F(FieldCliTest, BlindIndexNormalizesAndCoversEveryKey) {
  CommandResult idx = Run("blind-index --field orders.customer_email --bits 16 --normalize email",
                          " Jane@Example.COM\njane@example.com\n");
  ASSERT_EQ(idx.exit_code, 0) << idx.err;
  const auto lines = Lines(idx.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], lines[1]);
  EXPECT_EQ(lines[0].size(), 4u);

  // The same through the policy file, then under every key after a rotation.
  CommandResult by_policy = Run(
      "blind-index --policy " + Policy() + " --field orders.customer_email", "jane@example.com\n");
  ASSERT_EQ(by_policy.exit_code, 0) << by_policy.err;
  EXPECT_EQ(by_policy.out, lines[0] + "\n");
  ASSERT_EQ(Run("keyset rotate " + Quote(keyset_), "", false).exit_code, 0);
  CommandResult all =
      Run("blind-index --policy " + Policy() + " --field orders.customer_email --all-keys",
          "jane@example.com\n");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::vector<std::string> both = absl::StrSplit(Lines(all.out)[0], ' ');
  ASSERT_EQ(both.size(), 2u);
  EXPECT_NE(both[0], lines[0]);  // the new primary's first
  EXPECT_EQ(both[1], lines[0]);

  CommandResult phone = Run("blind-index --field p --bits 16 --normalize phone --region AU",
                            "(02) 5550 0199\n+61 2 5550 0199\n12345\n");
  EXPECT_EQ(phone.exit_code, 1);
  ASSERT_EQ(Lines(phone.out).size(), 2u);
  EXPECT_EQ(Lines(phone.out)[0], Lines(phone.out)[1]);
  EXPECT_EQ(phone.err, "piicrypt: line 3: p: not a valid phone number for its country\n");
}

struct UsageCase {
  const char* name;
  const char* args;
  const char* message;
};

const UsageCase kUsageCases[] = {
    {"NoMode", "encrypt --field f", "--mode"},
    {"BadMode", "encrypt --field f --mode shuffled", "--mode"},
    {"ModeAndPolicy", "encrypt --field f --mode randomized --policy x.textproto", "--policy"},
    {"MissingPolicy", "decrypt --field f --policy /nonexistent.textproto", "no such policy file"},
    {"FieldNotInPolicy", "encrypt --field orders.nope --policy POLICY", "not in"},
    {"NoBits", "blind-index --field f", "--bits"},
    {"TwoBits", "blind-index --field f --bits 2", "bits must be 8 to 256"},
    {"BadNormalizer", "blind-index --field f --bits 16 --normalize soundex", "unknown normalizer"},
    {"BadRegion", "blind-index --field f --bits 16 --normalize phone --region XX",
     "unknown phone region"},
    {"BitsWithEncrypt", "encrypt --field f --mode randomized --bits 16", "not expected"},
    {"BitsWithPolicy", "blind-index --field orders.customer_email --policy POLICY --bits 16",
     "do not combine"},
    {"NoBlindIndexInPolicy", "blind-index --field orders.customer_name --policy POLICY",
     "no blind index"},
    {"ModeWithBlindIndex", "blind-index --field f --bits 16 --mode randomized",
     "The following argument"},
    {"BadKekUri", "encrypt --field f --mode randomized --kek nope:x", ""},
};

class FieldCliUsageTest : public FieldCliTest, public ::testing::WithParamInterface<UsageCase> {};

TEST_P(FieldCliUsageTest, ExitsTwoWithOneLine) {
  std::string args = GetParam().args;
  const size_t p = args.find("POLICY");
  if (p != std::string::npos) args.replace(p, 6, Policy());
  CommandResult r = Run(args, "value\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, StartsWith("piicrypt: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(AllCases, FieldCliUsageTest, ::testing::ValuesIn(kUsageCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_F(FieldCliTest, KeysetProblemsAreFailedOperations) {
  CommandResult r =
      RunCommand(CliPath() + " encrypt --kek " + Quote(kek_) + " --keyset " +
                     Quote(dir_.File("missing.keyset")) + " --field f --mode randomized",
                 "x\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("piicrypt: "));
}

TEST_F(FieldCliTest, HelpTeachesWithExamples) {
  for (const char* cmd : {"encrypt", "decrypt", "blind-index"}) {
    CommandResult r = RunCommand(CliPath() + " " + cmd + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_THAT(r.out, HasSubstr("Examples:")) << cmd;
    EXPECT_THAT(r.out, HasSubstr("one value per line")) << cmd;
    EXPECT_THAT(r.out, HasSubstr("Exit status")) << cmd;
  }
  EXPECT_THAT(RunCommand(CliPath() + " blind-index --help").out, HasSubstr("--all-keys"));
}

}  // namespace
}  // namespace piicrypt
