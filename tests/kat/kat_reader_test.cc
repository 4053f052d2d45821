// The kat reader on hostile documents (numbers out of range, documents in memory); the
// fuzz target fuzz/kat_fuzz.cc explores the same reader at random.
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/kat/kat.h"

namespace piicrypt::kat {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// HMAC-SHA256 under the key 00 of the empty message.
constexpr char kTagOfEmpty[] = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";

// An HMAC-SHA256 document with one valid case of `tag` (hex), in a group of `tag_size`
// bits (no tagSize member when null).
nlohmann::json MacDoc(const nlohmann::json& tc_id, const std::string& tag,
                      const nlohmann::json& tag_size) {
  nlohmann::json test = {{"tcId", tc_id},
                         {"comment", ""},
                         {"key", "00"},
                         {"msg", ""},
                         {"tag", tag},
                         {"result", "valid"},
                         {"flags", nlohmann::json::array()}};
  nlohmann::json group = {{"type", "MacTest"}, {"tests", nlohmann::json::array({test})}};
  if (!tag_size.is_null()) group["tagSize"] = tag_size;
  return {{"algorithm", "HMACSHA256"},
          {"schema", "mac_test_schema_v1.json"},
          {"testGroups", nlohmann::json::array({group})}};
}

// The same with a wrong tag: the case fails.
nlohmann::json FailingMacDoc(const nlohmann::json& tc_id) { return MacDoc(tc_id, "0000", nullptr); }

TEST(KatReaderTest, CaseIdsOutsideIntAreReportedAsUnknown) {
  // 1e300 once overflowed a float-to-int conversion (undefined behaviour); 2^40 + 5 was
  // reported as case 5.
  for (const nlohmann::json& id :
       {nlohmann::json(1e300), nlohmann::json(1099511627781LL), nlohmann::json(-1099511627781LL)}) {
    SCOPED_TRACE(id.dump());
    auto result = RunText(FailingMacDoc(id).dump(), "mac.json");
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->failed, 1);
    ASSERT_THAT(result->failures, SizeIs(1));
    EXPECT_EQ(result->failures[0].tc_id, 0);
  }
  auto result = RunText(FailingMacDoc(42).dump(), "mac.json");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->failures, SizeIs(1));
  EXPECT_EQ(result->failures[0].tc_id, 42);
}

TEST(KatReaderTest, AnUnusableTagSizeFailsTheCase) {
  auto good = RunText(MacDoc(1, kTagOfEmpty, 256).dump(), "mac.json");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->passed, 1);
  // 2^32 + 256 once wrapped to 256 and passed; 1e300 overflowed a float-to-int conversion.
  for (const nlohmann::json& size : {nlohmann::json(4294967552LL), nlohmann::json(1e300)}) {
    SCOPED_TRACE(size.dump());
    auto result = RunText(MacDoc(1, kTagOfEmpty, size).dump(), "mac.json");
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->passed, 0);
    EXPECT_EQ(result->failed, 1);
  }
}

TEST(KatReaderTest, TextIsReadAsAFileWouldBe) {
  auto not_json = RunText("{\"schema\": ", "broken.json");
  EXPECT_TRUE(absl::IsInvalidArgument(not_json.status()));
  EXPECT_THAT(not_json.status().message(), HasSubstr("broken.json"));
  auto unknown = RunText(R"({"schema": "x.json", "testGroups": []})", "x.json");
  EXPECT_TRUE(absl::IsUnimplemented(unknown.status()));
}

}  // namespace
}  // namespace piicrypt::kat
