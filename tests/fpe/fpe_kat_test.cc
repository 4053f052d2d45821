#include "src/kat/fpe_kat.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/fpe/utf8.h"
#include "tests/test_util.h"

namespace piicrypt::kat::internal {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

nlohmann::json LoadWycheproof(const std::string& name) {
  return nlohmann::json::parse(piicrypt::testing::ReadFile(piicrypt::testing::WycheproofFile(name)),
                               nullptr, /*allow_exceptions=*/false);
}

int CountFlag(const nlohmann::json& doc, const std::string& flag) {
  int count = 0;
  for (const auto& group : doc["testGroups"]) {
    for (const auto& test : group["tests"]) {
      for (const auto& f : test["flags"]) count += f == flag;
    }
  }
  return count;
}

FileResult RunDoc(const nlohmann::json& doc) {
  FileResult result;
  if (doc["schema"] == "fpe_str_test_schema.json") {
    RunFpeStrFile(doc, result);
  } else {
    RunFpeListFile(doc, result);
  }
  return result;
}

class FpeKatFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FpeKatFileTest, EveryCasePasses) {
  const nlohmann::json doc = LoadWycheproof(GetParam());
  ASSERT_TRUE(doc.is_object());
  const FileResult result = RunDoc(doc);
  EXPECT_EQ(result.failed, 0);
  for (const auto& f : result.failures) ADD_FAILURE() << "tcId " << f.tc_id << ": " << f.reason;
  EXPECT_EQ(result.passed, doc["numberOfTests"].get<int>());
  EXPECT_EQ(result.algorithm, "AES-FF1");
  const int small = CountFlag(doc, "SmallMessageSize");
  ASSERT_GT(small, 0);
  ASSERT_THAT(result.notes, SizeIs(1));
  EXPECT_THAT(result.notes[0], HasSubstr(absl::StrCat(small, " valid SmallMessageSize cases")));
}

INSTANTIATE_TEST_SUITE_P(AllFiles, FpeKatFileTest,
                         ::testing::Values("aes_ff1_radix10_test.json", "aes_ff1_radix16_test.json",
                                           "aes_ff1_radix26_test.json", "aes_ff1_radix36_test.json",
                                           "aes_ff1_radix62_test.json", "aes_ff1_radix64_test.json",
                                           "aes_ff1_base10_test.json", "aes_ff1_base26_test.json",
                                           "aes_ff1_base36_test.json", "aes_ff1_base62_test.json"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           return name.substr(0, name.find('.'));
                         });

// The string runner takes any alphabet: the base-10 file rewritten over the Devanagari
// digits (U+0966..U+096F, three bytes each in UTF-8) passes exactly as the original.
TEST(FpeKatTest, NonAsciiAlphabet) {
  nlohmann::json doc = LoadWycheproof("aes_ff1_base10_test.json");
  ASSERT_TRUE(doc.is_object());
  std::vector<std::pair<std::string, std::string>> map;
  for (int d = 0; d < 10; ++d) {
    std::string to;
    piicrypt::internal::AppendUtf8(static_cast<char32_t>(0x0966 + d), to);
    map.emplace_back(std::string(1, static_cast<char>('0' + d)), to);
  }
  auto rewrite = [&](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c >= '0' && c <= '9') {
        out += map[c - '0'].second;
      } else {
        out += c;
      }
    }
    return out;
  };
  for (auto& group : doc["testGroups"]) {
    group["alphabet"] = rewrite(group["alphabet"].get<std::string>());
    for (auto& test : group["tests"]) {
      test["msg"] = rewrite(test["msg"].get<std::string>());
      test["ct"] = rewrite(test["ct"].get<std::string>());
    }
  }
  const FileResult result = RunDoc(doc);
  EXPECT_EQ(result.failed, 0);
  EXPECT_EQ(result.passed, doc["numberOfTests"].get<int>());
}

// The runner is not a rubber stamp.
TEST(FpeKatTest, DetectsWrongCiphertextsAndAcceptedInvalidCases) {
  nlohmann::json doc = LoadWycheproof("aes_ff1_radix10_test.json");
  ASSERT_TRUE(doc.is_object());
  int changed_valid = 0, changed_invalid = 0;
  for (auto& group : doc["testGroups"]) {
    for (auto& test : group["tests"]) {
      const int id = test["tcId"].get<int>();
      if (id == 19) {  // a valid NormalMessageSize case: break its ciphertext
        test["ct"][0] = (test["ct"][0].get<int>() + 1) % 10;
        ++changed_valid;
      }
      if (id == 55) {  // an InvalidPlaintext case made valid input: must now be "accepted"
        test["msg"][0] = 1;
        ++changed_invalid;
      }
    }
  }
  ASSERT_EQ(changed_valid, 1);
  ASSERT_EQ(changed_invalid, 1);
  const FileResult result = RunDoc(doc);
  EXPECT_EQ(result.failed, 2);
  ASSERT_THAT(result.failures, SizeIs(2));
  EXPECT_EQ(result.failures[0].tc_id, 19);
  EXPECT_THAT(result.failures[0].reason, HasSubstr("ciphertext differs"));
  EXPECT_EQ(result.failures[1].tc_id, 55);
  EXPECT_THAT(result.failures[1].reason, HasSubstr("invalid case accepted"));
}

TEST(FpeKatTest, SmallCasesCountOnlyWhenRejectedForTheirDomain) {
  // A SmallMessageSize case whose domain is in fact large enough must be computed.
  nlohmann::json doc = nlohmann::json::parse(R"({
    "algorithm": "AES-FF1", "schema": "fpe_list_test_schema.json",
    "testGroups": [{"radix": 10, "type": "FpeListTest", "tests": [
      {"tcId": 1, "flags": ["SmallMessageSize"], "key": "2b7e151628aed2a6abf7158809cf4f3c",
       "tweak": "", "msg": [0,1,2,3,4,5,6,7,8,9], "ct": [0,0,0,0,0,0,0,0,0,0],
       "result": "valid"},
      {"tcId": 2, "flags": ["SmallMessageSize"], "key": "2b7e151628aed2a6abf7158809cf4f3c",
       "tweak": "", "msg": [0,1,2,3,4], "ct": [0,0,0,0,0], "result": "valid"}]}]})");
  const FileResult result = RunDoc(doc);
  EXPECT_EQ(result.passed, 1);
  EXPECT_EQ(result.failed, 1);
  ASSERT_THAT(result.failures, SizeIs(1));
  EXPECT_EQ(result.failures[0].tc_id, 1);
  ASSERT_THAT(result.notes, SizeIs(1));
  EXPECT_THAT(result.notes[0], HasSubstr("1 valid SmallMessageSize case "));
}

TEST(FpeKatTest, MalformedGroupsFailEveryCase) {
  nlohmann::json doc = nlohmann::json::parse(R"({
    "algorithm": "AES-FF1", "schema": "fpe_str_test_schema.json",
    "testGroups": [{"radix": 11, "alphabet": "0123456789", "tests": [
      {"tcId": 1, "flags": [], "key": "2b7e151628aed2a6abf7158809cf4f3c",
       "tweak": "", "msg": "0123456789", "ct": "2433477484", "result": "valid"},
      {"tcId": 2, "flags": [], "key": "2b7e151628aed2a6abf7158809cf4f3c",
       "tweak": "", "msg": "01234567x9", "ct": "", "result": "invalid"}]},
      {"radix": 10, "alphabet": "0123456789", "tests": [
      {"tcId": 3, "flags": [], "key": "zz", "tweak": "", "msg": "0123456789",
       "ct": "2433477484", "result": "invalid"},
      {"tcId": 4, "flags": [], "key": "2b7e151628aed2a6abf7158809cf4f3c",
       "tweak": "", "msg": "0123456789", "ct": "2433477484", "result": "valid"}]}]})");
  const FileResult result = RunDoc(doc);
  EXPECT_EQ(result.passed, 1);  // tcId 4, NIST sample 1
  EXPECT_EQ(result.failed, 3);
  ASSERT_THAT(result.failures, SizeIs(3));
  EXPECT_THAT(result.failures[0].reason, HasSubstr("11"));
  EXPECT_THAT(result.notes, IsEmpty());
}

}  // namespace
}  // namespace piicrypt::kat::internal
