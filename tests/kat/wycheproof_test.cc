// Runs every case of the shared Wycheproof files for the algorithms piicrypt implements.
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/kat/kat.h"
#include "tests/test_util.h"

namespace piicrypt::kat {
namespace {

class WycheproofFileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WycheproofFileTest, EveryCasePasses) {
  const std::string path = testing::WycheproofFile(GetParam());
  auto result = RunFile(path);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const auto& failure : result->failures) {
    ADD_FAILURE() << GetParam() << " tcId " << failure.tc_id << ": " << failure.reason;
  }
  EXPECT_EQ(result->failed, 0);
  // Every case was counted: compare with the file's own count.
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(result->passed, doc["numberOfTests"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(Core, WycheproofFileTest,
                         ::testing::Values("aes_gcm_test.json", "aes_siv_cmac_test.json",
                                           "aead_aes_siv_cmac_test.json", "hmac_sha256_test.json",
                                           "hkdf_sha256_test.json"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           name = name.substr(0, name.find('.'));
                           return name;
                         });

TEST(KatRunnerTest, UnreadableAndUnknownFilesAreErrors) {
  EXPECT_THAT(RunFile("/nonexistent/file.json"),
              testing::StatusIs(absl::StatusCode::kNotFound));
  testing::TempDir dir;
  {
    std::ofstream(dir.File("notjson.json")) << "{ this is not json";
    std::ofstream(dir.File("unknown.json"))
        << R"({"schema": "rsa_sig_schema.json", "algorithm": "RSA", "testGroups": []})";
    std::ofstream(dir.File("noschema.json")) << R"({"testGroups": []})";
    std::ofstream(dir.File("badtype.json"))
        << R"({"schema": "mac_test_schema_v1.json", "algorithm": "HMACSHA256",
              "testGroups": [{"tagSize": "x", "tests": [{"tcId": 1, "key": "00", "msg": "",
              "tag": "00", "result": "valid"}]}]})";
  }
  EXPECT_THAT(RunFile(dir.File("notjson.json")),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RunFile(dir.File("noschema.json")),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RunFile(dir.File("unknown.json")),
              testing::StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(RunFile(dir.File("badtype.json")),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KatRunnerTest, AWrongExpectedValueIsCountedAsFailed) {
  testing::TempDir dir;
  // RFC 4231 case 2 with a corrupted expected tag marked valid, and the right tag marked
  // invalid: both must be counted as failures.
  std::ofstream(dir.File("bad.json")) << R"({"schema": "mac_test_schema_v1.json",
      "algorithm": "HMACSHA256", "testGroups": [{"tagSize": 256, "tests": [
      {"tcId": 1, "key": "4a656665", "msg": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "tag": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3844", "result": "valid"},
      {"tcId": 2, "key": "4a656665", "msg": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "tag": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "result": "invalid"},
      {"tcId": 3, "key": "4a656665", "msg": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "tag": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "result": "acceptable"}
      ]}]})";
  auto result = RunFile(dir.File("bad.json"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->passed, 1);
  EXPECT_EQ(result->failed, 2);
  ASSERT_EQ(result->failures.size(), 2u);
  EXPECT_EQ(result->failures[0].tc_id, 1);
  EXPECT_EQ(result->failures[1].tc_id, 2);
}

}  // namespace
}  // namespace piicrypt::kat
