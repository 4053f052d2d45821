// `piicrypt kat` and the CLI's general contract: output, exit codes, help.
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::Quote;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::WycheproofFile;
using ::testing::HasSubstr;

TEST(KatCliTest, AllCoreFilesPass) {
  std::string cmd = Quote(CliPath()) + " kat";
  for (const char* f :
       {"aes_gcm_test.json", "aes_siv_cmac_test.json", "aead_aes_siv_cmac_test.json",
        "hmac_sha256_test.json", "hkdf_sha256_test.json"}) {
    cmd += " " + Quote(WycheproofFile(f));
  }
  auto r = RunCommand(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\n1918 passed, 0 failed\n"));
  EXPECT_THAT(r.out, HasSubstr("aes_gcm_test.json (AES-GCM): 316 cases, 0 failed"));
}

TEST(KatCliTest, AllFf1FilesPassWithTheSmallDomainNote) {
  std::string cmd = Quote(CliPath()) + " kat";
  for (const char* f :
       {"aes_ff1_radix10_test.json", "aes_ff1_radix16_test.json", "aes_ff1_radix26_test.json",
        "aes_ff1_radix36_test.json", "aes_ff1_radix62_test.json", "aes_ff1_radix64_test.json",
        "aes_ff1_base10_test.json", "aes_ff1_base26_test.json", "aes_ff1_base36_test.json",
        "aes_ff1_base62_test.json"}) {
    cmd += " " + Quote(WycheproofFile(f));
  }
  auto r = RunCommand(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\n30787 passed, 0 failed\n"));
  EXPECT_THAT(r.out, HasSubstr("SmallMessageSize cases (radix^len < 1000000) rejected by the "
                               "minimum domain of SP 800-38G Rev. 1 and counted as passed"));
}

TEST(KatCliTest, AFailedCaseExitsOne) {
  testing::TempDir dir;
  std::ofstream(dir.File("bad.json")) << R"({"schema": "hkdf_test_schema_v1.json",
      "algorithm": "HKDF-SHA-256", "testGroups": [{"tests": [
      {"tcId": 7, "ikm": "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "salt": "", "info": "",
       "size": 42, "okm": "00a4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
       "result": "valid"}]}]})";
  auto r = RunCommand(Quote(CliPath()) + " kat " + Quote(dir.File("bad.json")));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("tcId 7: valid case failed"));
  EXPECT_THAT(r.out, HasSubstr("\n0 passed, 1 failed\n"));
}

TEST(KatCliTest, UnreadableOrUnknownExitsTwo) {
  auto r = RunCommand(Quote(CliPath()) + " kat /nonexistent.json " +
                      Quote(WycheproofFile("hmac_sha256_test.json")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.json: cannot open file"));
  EXPECT_THAT(r.out, HasSubstr("174 passed, 0 failed"));  // the readable file still ran
  r = RunCommand(Quote(CliPath()) + " kat " + Quote(WycheproofFile("aes_wrap_test.json")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown schema \"keywrap_test_schema_v1.json\""));
  r = RunCommand(Quote(CliPath()) + " kat " + Quote(WycheproofFile("aes_cmac_test.json")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("algorithm \"AES-CMAC\" of schema"));
}

TEST(KatCliTest, AFileWithNoCaseToRunExitsTwo) {
  testing::TempDir dir;
  std::ofstream(dir.File("empty.json"))
      << R"({"schema": "aead_test_schema_v1.json", "algorithm": "AES-GCM", "testGroups": []})";
  std::ofstream(dir.File("empty_groups.json"))
      << R"({"schema": "aead_test_schema_v1.json", "algorithm": "AES-GCM", "numberOfTests": 0,
            "testGroups": [{"tagSize": 128, "tests": []}, {"tagSize": 128}]})";
  for (const char* name : {"empty.json", "empty_groups.json"}) {
    auto r = RunCommand(Quote(CliPath()) + " kat " + Quote(dir.File(name)));
    EXPECT_EQ(r.exit_code, 2) << name << r.out << r.err;
    EXPECT_EQ(r.out, "0 passed, 0 failed\n") << name;
  }
  auto r = RunCommand(Quote(CliPath()) + " kat " + Quote(dir.File("empty.json")));
  EXPECT_THAT(r.err, HasSubstr("empty.json: no test cases to run"));
}

TEST(CliTest, UsageErrorsExitTwoWithOneLine) {
  for (const char* args : {"", "kat", "no-such-command", "kat --no-such-flag x"}) {
    auto r = RunCommand(Quote(CliPath()) + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_THAT(r.err, ::testing::StartsWith("piicrypt: ")) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

TEST(CliTest, HelpTeachesAndExitsZero) {
  auto r = RunCommand(Quote(CliPath()) + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("kat"));
  EXPECT_THAT(r.out, HasSubstr("Exit status"));
  r = RunCommand(Quote(CliPath()) + " kat --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Example: piicrypt kat"));
}

}  // namespace
}  // namespace piicrypt
