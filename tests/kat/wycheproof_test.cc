// Runs every case of the shared Wycheproof files for the algorithms piicrypt implements.
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/fpe/ff1.h"
#include "src/kat/kat.h"
#include "src/kat/kat_internal.h"
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
  EXPECT_THAT(RunFile("/nonexistent/file.json"), testing::StatusIs(absl::StatusCode::kNotFound));
  testing::TempDir dir;
  {
    std::ofstream(dir.File("notjson.json")) << "{ this is not json";
    std::ofstream(dir.File("unknown.json"))
        << R"({"schema": "rsa_sig_schema.json", "algorithm": "RSA", "testGroups": []})";
    std::ofstream(dir.File("noschema.json")) << R"({"testGroups": []})";
    std::ofstream(dir.File("badtype.json"))
        << R"({"schema": "mac_test_schema_v1.json", "algorithm": ["HMACSHA256"],
              "testGroups": [{"tagSize": 256, "tests": [{"tcId": 1, "key": "00", "msg": "",
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

// ---- Runners fed a deliberately broken decrypt side ----------------------------------
// Each test swaps one member of piicrypt's DecryptSide for a broken one and checks that
// the runner reports every case the breakage lets through, and only those.

using internal::DecryptSide;
using internal::PiicryptDecryptSide;
using internal::RunDocument;

nlohmann::json LoadVectors(const std::string& name) {
  std::ifstream in(testing::WycheproofFile(name));
  return nlohmann::json::parse(in);
}

absl::Span<const uint8_t> U8(absl::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
absl::Span<uint8_t> U8(std::string& s) {
  return absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size());
}

// The tcIds of a file's cases whose result is `result` (and, if given, carry `flag`).
std::set<int> CaseIds(const nlohmann::json& doc, const std::string& result,
                      const std::string& flag = "") {
  std::set<int> ids;
  for (const auto& group : doc["testGroups"]) {
    for (const auto& test : group["tests"]) {
      if (test["result"] != result) continue;
      bool flagged = flag.empty();
      for (const auto& f : test.value("flags", nlohmann::json::array())) flagged |= f == flag;
      if (flagged) ids.insert(test["tcId"].get<int>());
    }
  }
  return ids;
}

std::set<int> FailedIds(const FileResult& result, const std::string& reason) {
  std::set<int> ids;
  for (const auto& failure : result.failures) {
    EXPECT_THAT(failure.reason, ::testing::HasSubstr(reason)) << failure.tc_id;
    ids.insert(failure.tc_id);
  }
  return ids;
}

FileResult MustRun(const std::string& name, const nlohmann::json& doc, const DecryptSide& side) {
  absl::StatusOr<FileResult> result = RunDocument(name, doc, side);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : FileResult();
}

// AES-GCM Open that decrypts without looking at the tag: GCM's keystream is the same both
// ways, so sealing the ciphertext gives back the plaintext.
absl::StatusOr<std::string> OpenIgnoringTag(absl::string_view key, absl::string_view iv,
                                            absl::string_view aad, absl::string_view ct,
                                            absl::string_view, size_t) {
  auto gcm = piicrypt::internal::AesGcm::Create(U8(key));
  if (!gcm.ok()) return gcm.status();
  std::string pt(ct.size(), '\0'), tag(16, '\0');
  absl::Status s = (*gcm)->Seal(iv, aad, ct, U8(pt), U8(tag));
  if (!s.ok()) return s;
  return pt;
}

TEST(KatBrokenDecryptTest, GcmOpenThatIgnoresTheTagFailsEveryModifiedTagCase) {
  const nlohmann::json doc = LoadVectors("aes_gcm_test.json");
  DecryptSide broken = PiicryptDecryptSide();
  broken.gcm_open = OpenIgnoringTag;
  const FileResult result = MustRun("aes_gcm_test.json", doc, broken);
  // It decrypts every valid case right and rejects the empty IV, as Seal does; every
  // modified tag gets through and is reported.
  EXPECT_EQ(FailedIds(result, "invalid case accepted: decryption or verification accepted it"),
            CaseIds(doc, "invalid", "ModifiedTag"));
  EXPECT_EQ(result.failed, 81);
}

TEST(KatBrokenDecryptTest, OpenThatTakesTheTagLengthFromTheTagFailsATruncatedTag) {
  nlohmann::json doc = LoadVectors("aes_gcm_test.json");
  // Every valid case once more with its tag cut to one byte, and marked invalid.
  nlohmann::json truncated = nlohmann::json::array();
  int id = 100000;
  for (const auto& group : doc["testGroups"]) {
    for (auto test : group["tests"]) {
      if (test["result"] != "valid") continue;
      test["tag"] = test["tag"].get<std::string>().substr(0, 2);
      test["result"] = "invalid";
      test["tcId"] = ++id;
      truncated.push_back(test);
    }
  }
  nlohmann::json group = doc["testGroups"][0];
  group["tests"] = truncated;
  doc["testGroups"].push_back(group);
  doc.erase("numberOfTests");
  // piicrypt's Open expects the group's 16 bytes and refuses them all.
  FileResult result = MustRun("truncated.json", doc, PiicryptDecryptSide());
  EXPECT_EQ(result.failed, 0);
  for (const auto& f : result.failures) ADD_FAILURE() << f.tc_id << ": " << f.reason;
  // The old behaviour, an Open that checks as many bytes as the tag has, is caught.
  DecryptSide prefix = PiicryptDecryptSide();
  prefix.gcm_open = [](absl::string_view key, absl::string_view iv, absl::string_view aad,
                       absl::string_view ct, absl::string_view tag, size_t) {
    return PiicryptDecryptSide().gcm_open(key, iv, aad, ct, tag, tag.size());
  };
  result = MustRun("truncated.json", doc, prefix);
  EXPECT_EQ(result.failed, static_cast<int>(truncated.size()));
  EXPECT_GT(truncated.size(), 200u);
}

TEST(KatBrokenDecryptTest, SivDecryptThatAcceptsEverythingFailsEveryInvalidCase) {
  DecryptSide broken = PiicryptDecryptSide();
  // The right plaintext when the SIV checks out, zeros otherwise: never a rejection.
  broken.siv_decrypt = [](absl::string_view key, absl::Span<const absl::string_view> ad,
                          absl::string_view in) -> absl::StatusOr<std::string> {
    auto pt = PiicryptDecryptSide().siv_decrypt(key, ad, in);
    if (pt.ok()) return pt;
    return std::string(in.size() < 16 ? 0 : in.size() - 16, '\0');
  };
  const std::pair<const char*, int> files[] = {{"aes_siv_cmac_test.json", 324},
                                               {"aead_aes_siv_cmac_test.json", 648}};
  for (const auto& [name, invalid] : files) {
    const nlohmann::json doc = LoadVectors(name);
    const FileResult result = MustRun(name, doc, broken);
    EXPECT_EQ(FailedIds(result, "invalid case accepted: decryption or verification accepted it"),
              CaseIds(doc, "invalid"))
        << name;
    EXPECT_EQ(result.failed, invalid) << name;
  }
}

TEST(KatBrokenDecryptTest, HmacVerifyThatAcceptsEverythingFailsEveryInvalidCase) {
  const nlohmann::json doc = LoadVectors("hmac_sha256_test.json");
  DecryptSide broken = PiicryptDecryptSide();
  broken.hmac_verify = [](absl::string_view, absl::string_view, absl::string_view, size_t) {
    return true;
  };
  const FileResult result = MustRun("hmac_sha256_test.json", doc, broken);
  EXPECT_EQ(FailedIds(result, "invalid case accepted"), CaseIds(doc, "invalid"));
  EXPECT_EQ(result.failed, 108);
}

TEST(KatBrokenDecryptTest, HmacTruncatedTagsAreCheckedAtTheGroupsLength) {
  nlohmann::json doc = LoadVectors("hmac_sha256_test.json");
  // The 256-bit groups' valid tags cut to 16 bytes and marked invalid: the 128-bit
  // groups hold exactly such tags as valid, so only the declared length tells them apart.
  int cut = 0;
  for (auto& group : doc["testGroups"]) {
    if (group["tagSize"] != 256) continue;
    for (auto& test : group["tests"]) {
      if (test["result"] != "valid") continue;
      test["tag"] = test["tag"].get<std::string>().substr(0, 32);
      test["result"] = "invalid";
      ++cut;
    }
  }
  ASSERT_EQ(cut, 33);
  FileResult result = MustRun("cut.json", doc, PiicryptDecryptSide());
  EXPECT_EQ(result.failed, 0);
  for (const auto& f : result.failures) ADD_FAILURE() << f.tc_id << ": " << f.reason;
  DecryptSide prefix = PiicryptDecryptSide();
  prefix.hmac_verify = [](absl::string_view key, absl::string_view msg, absl::string_view tag,
                          size_t) {
    return PiicryptDecryptSide().hmac_verify(key, msg, tag, tag.size());
  };
  result = MustRun("cut.json", doc, prefix);
  EXPECT_EQ(result.failed, cut);
}

TEST(KatBrokenDecryptTest, Ff1DecryptThatAcceptsEverythingIsCaught) {
  const nlohmann::json doc = LoadVectors("aes_ff1_radix10_test.json");
  DecryptSide broken = PiicryptDecryptSide();
  // Hands the ciphertext back unchanged, whatever the key, radix or length.
  broken.ff1_decrypt = [](absl::string_view, uint32_t, absl::string_view,
                          absl::Span<const uint16_t> ct) -> absl::StatusOr<std::vector<uint16_t>> {
    return std::vector<uint16_t>(ct.begin(), ct.end());
  };
  const FileResult result = MustRun("aes_ff1_radix10_test.json", doc, broken);
  std::set<int> failed;
  for (const auto& f : result.failures) failed.insert(f.tc_id);
  // Every valid case (a decryption that differs, or a too small domain accepted) and every
  // invalid case whose ciphertext FF1 does not take (a bad key size, an empty message).
  std::set<int> expected = CaseIds(doc, "valid");
  for (const char* flag : {"InvalidKeySize", "InvalidMessageSize"}) {
    const std::set<int> ids = CaseIds(doc, "invalid", flag);
    ASSERT_FALSE(ids.empty()) << flag;
    expected.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(failed, expected);
}

// An invalid HKDF case is one whose parameters must be refused: a derivation that accepts
// them fails the case, whatever the output it gives (here: not the file's okm).
TEST(KatRunnerTest, AnInvalidHkdfCaseMustBeRefusedByTheDerivation) {
  testing::TempDir dir;
  std::ofstream(dir.File("hkdf.json")) << R"({"schema": "hkdf_test_schema_v1.json",
      "algorithm": "HKDF-SHA-256", "testGroups": [{"tests": [
      {"tcId": 1, "ikm": "0b0b", "salt": "", "info": "", "size": 42, "okm": "00",
       "result": "invalid"},
      {"tcId": 2, "ikm": "0b0b", "salt": "", "info": "", "size": 8161, "okm": "00",
       "result": "invalid"}]}]})";
  auto result = RunFile(dir.File("hkdf.json"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->passed, 1);  // 8161 bytes is more than 255 * 32: refused
  ASSERT_EQ(result->failures.size(), 1u);
  EXPECT_EQ(result->failures[0].tc_id, 1);
  EXPECT_THAT(result->failures[0].reason,
              ::testing::HasSubstr("invalid case accepted: derivation accepted the parameters"));
}

// ---- Files with nothing to run ---------------------------------------------------------

TEST(KatRunnerTest, AFileWithNoRunnableCaseIsAnError) {
  testing::TempDir dir;
  const std::string head = R"({"schema": "mac_test_schema_v1.json", "algorithm": "HMACSHA256", )";
  const std::string one_case =
      R"({"tcId": 1, "key": "00", "msg": "", "result": "valid", "tag":
         "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"})";
  const std::pair<const char*, std::string> files[] = {
      {"empty_groups", head + R"("testGroups": []})"},
      {"empty_tests", head + R"("testGroups": [{"tagSize": 256, "tests": []},
                                             {"tagSize": 128, "tests": []}]})"},
      {"no_tests", head + R"("testGroups": [{"tagSize": 256}, {"tagSize": 256, "tests": [)" +
                       one_case + "]}]}"},
      {"tests_not_array", head + R"("testGroups": [{"tagSize": 256, "tests": {}}]})"},
      {"group_not_object", head + R"("testGroups": [7]})"},
      {"test_not_object", head + R"("testGroups": [{"tagSize": 256, "tests": [1]}]})"},
      {"count_differs", head + R"("numberOfTests": 2, "testGroups": [{"tagSize": 256,
                                   "tests": [)" +
                            one_case + "]}]}"},
  };
  for (const auto& [name, text] : files) {
    std::ofstream(dir.File(name)) << text;
    EXPECT_THAT(RunFile(dir.File(name)), testing::StatusIs(absl::StatusCode::kInvalidArgument))
        << name;
  }
  // The same case alone, with its count right, runs and passes.
  std::ofstream(dir.File("one")) << head + R"("numberOfTests": 1, "testGroups": [{"tagSize":
      256, "tests": [)" + one_case + "]}]}";
  auto result = RunFile(dir.File("one"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->passed, 1);
  EXPECT_EQ(result->failed, 0);
}

TEST(KatRunnerTest, AnUnknownResultWordFailsTheCase) {
  testing::TempDir dir;
  std::ofstream(dir.File("f.json")) << R"({"schema": "mac_test_schema_v1.json",
      "algorithm": "HMACSHA256", "testGroups": [{"tagSize": 256, "tests": [
      {"tcId": 4, "key": "00", "msg": "", "result": "valdi", "tag":
       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
      {"tcId": 5, "key": "00", "msg": "", "tag":
       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"}]}]})";
  auto result = RunFile(dir.File("f.json"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->passed, 0);
  EXPECT_EQ(result->failed, 2);
  ASSERT_EQ(result->failures.size(), 2u);
  EXPECT_THAT(result->failures[0].reason, ::testing::HasSubstr("malformed test case"));
}

}  // namespace
}  // namespace piicrypt::kat
