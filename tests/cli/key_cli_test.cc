// `piicrypt kek ...` and `piicrypt keyset ...`: the command line of docs/CLI.md.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::Quote;
using ::piicrypt::testing::ReadFile;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC, whole seconds) with plausible field values.
bool IsRfc3339Utc(const std::string& s) {
  static constexpr char kPattern[] = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != sizeof(kPattern) - 1) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kPattern[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i]))
                           : s[i] != kPattern[i]) {
      return false;
    }
  }
  const int month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  const int hour = std::stoi(s.substr(11, 2)), minute = std::stoi(s.substr(14, 2));
  const int second = std::stoi(s.substr(17, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 &&
         second < 61;
}

class KeyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = "file:" + dir_.File("kek.key");
    keyset_ = dir_.File("orders.keyset");
    CommandResult r = Run("kek create " + Quote(kek_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  CommandResult Run(const std::string& args) { return RunCommand(Quote(CliPath()) + " " + args); }
  // `keyset SUB [ARGS] --kek KEK FILE`.
  CommandResult Keyset(const std::string& sub, const std::string& args = "") {
    return Run(
        absl::StrCat("keyset ", sub, " ", args, " --kek ", Quote(kek_), " ", Quote(keyset_)));
  }
  uint32_t CreateKeyset() {
    CommandResult r =
        Run(absl::StrCat("keyset create --kek ", Quote(kek_), " --out ", Quote(keyset_)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ParseId(r.out);
  }
  static uint32_t ParseId(const std::string& out) {
    uint32_t id = 0;
    EXPECT_TRUE(absl::SimpleAtoi(absl::StripTrailingAsciiWhitespace(out), &id)) << out;
    EXPECT_NE(id, 0u);
    return id;
  }
  nlohmann::json ListJson() {
    CommandResult r = Keyset("list", "--json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  }
  std::string StatusOf(uint32_t id) {
    const nlohmann::json list = ListJson();
    for (const auto& key : list["keys"]) {
      if (key["id"] == id) return key["status"];
    }
    return "absent";
  }
  // The API's view of the same file: does `ct` still decrypt?
  absl::StatusOr<std::string> DecryptWithApi(const std::string& ct) {
    auto kek = Kek::Open(kek_);
    if (!kek.ok()) return kek.status();
    auto keyset = Keyset::Read(keyset_, **kek);
    if (!keyset.ok()) return keyset.status();
    return keyset->DecryptText("orders.customer_email", ct, "order-1");
  }
  std::string EncryptWithApi() {
    auto kek = Kek::Open(kek_);
    EXPECT_THAT(kek, IsOk());
    auto keyset = Keyset::Read(keyset_, **kek);
    EXPECT_THAT(keyset, IsOk());
    auto cipher = keyset->FieldCipherFor("orders.customer_email", FieldMode::kRandomized);
    EXPECT_THAT(cipher, IsOk());
    auto ct = (*cipher)->EncryptText("jane@example.com", "order-1");
    EXPECT_THAT(ct, IsOk());
    return *ct;
  }
  static void ExpectOneLineError(const CommandResult& r) {
    EXPECT_THAT(r.err, StartsWith("piicrypt: "));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  TempDir dir_;
  std::string kek_;
  std::string keyset_;
};

TEST_F(KeyCliTest, WholeLifecycleThroughTheCli) {
  const uint32_t first = CreateKeyset();
  nlohmann::json list = ListJson();
  EXPECT_EQ(list["primary_key_id"], first);
  const std::string before = EncryptWithApi();

  // rotate: prints the new primary; the old value still decrypts.
  CommandResult r = Keyset("rotate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const uint32_t second = ParseId(r.out);
  EXPECT_NE(second, first);
  EXPECT_EQ(ListJson()["primary_key_id"], second);
  ASSERT_THAT(DecryptWithApi(before), IsOk());

  // disable: no longer decrypts, with a clear error; enable: decrypts again.
  r = Keyset("disable " + std::to_string(first));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(StatusOf(first), "DISABLED");
  auto disabled = DecryptWithApi(before);
  EXPECT_THAT(disabled, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(disabled.status().message(), HasSubstr("disabled"));
  r = Keyset("enable " + std::to_string(first));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(StatusOf(first), "ENABLED");
  auto enabled = DecryptWithApi(before);
  ASSERT_THAT(enabled, IsOk());
  EXPECT_EQ(*enabled, "jane@example.com");

  // destroy needs disable first, and then it is for good.
  r = Keyset("destroy " + std::to_string(first));
  EXPECT_EQ(r.exit_code, 1);
  ExpectOneLineError(r);
  EXPECT_THAT(r.err, HasSubstr("disable it first"));
  ASSERT_EQ(Keyset("disable " + std::to_string(first)).exit_code, 0);
  ASSERT_EQ(Keyset("destroy " + std::to_string(first)).exit_code, 0);
  EXPECT_EQ(StatusOf(first), "DESTROYED");
  EXPECT_THAT(DecryptWithApi(before), StatusIs(absl::StatusCode::kNotFound));
  r = Keyset("enable " + std::to_string(first));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("destroyed"));
  EXPECT_THAT(DecryptWithApi(before), StatusIs(absl::StatusCode::kNotFound));

  // add + promote, the careful rotation.
  r = Keyset("add");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const uint32_t third = ParseId(r.out);
  EXPECT_EQ(ListJson()["primary_key_id"], second);
  EXPECT_EQ(StatusOf(third), "ENABLED");
  ASSERT_EQ(Keyset("promote " + std::to_string(third)).exit_code, 0);
  EXPECT_EQ(ListJson()["primary_key_id"], third);

  // The primary can be neither disabled nor destroyed; unknown ids fail.
  for (const char* sub : {"disable", "destroy"}) {
    r = Keyset(absl::StrCat(sub, " ", third));
    EXPECT_EQ(r.exit_code, 1) << sub;
    ExpectOneLineError(r);
    EXPECT_THAT(r.err, HasSubstr("primary"));
  }
  const uint32_t unknown = third == 1 ? 2 : third - 1;
  for (const char* sub : {"promote", "enable", "disable", "destroy"}) {
    r = Keyset(absl::StrCat(sub, " ", unknown));
    EXPECT_EQ(r.exit_code, 1) << sub;
    EXPECT_THAT(r.err, HasSubstr("not in the keyset"));
  }
  EXPECT_EQ(ListJson()["keys"].size(), 3u);
}

TEST_F(KeyCliTest, ListPrintsTheDocumentedJsonAndATable) {
  const uint32_t first = CreateKeyset();
  ASSERT_EQ(Keyset("rotate").exit_code, 0);
  nlohmann::json list = ListJson();
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list.size(), 2u);  // primary_key_id and keys, nothing else
  ASSERT_TRUE(list["primary_key_id"].is_number_unsigned());
  ASSERT_TRUE(list["keys"].is_array());
  ASSERT_EQ(list["keys"].size(), 2u);
  for (const auto& key : list["keys"]) {
    EXPECT_EQ(key.size(), 3u) << key.dump();  // id, status, created: never material
    EXPECT_TRUE(key["id"].is_number_unsigned());
    EXPECT_EQ(key["status"], "ENABLED");
    const std::string created = key["created"];
    EXPECT_TRUE(IsRfc3339Utc(created)) << created;
  }
  EXPECT_EQ(list["keys"][0]["id"], first);

  CommandResult table = Keyset("list");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("ID"));
  EXPECT_THAT(table.out, HasSubstr(std::to_string(first)));
  EXPECT_THAT(table.out, HasSubstr("ENABLED"));
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 3);
}

TEST_F(KeyCliTest, ExportCleartextRefusesWithoutItsFlagAndMatchesTheKeys) {
  CreateKeyset();
  ASSERT_EQ(Keyset("add").exit_code, 0);
  CommandResult r = Keyset("rotate");
  ASSERT_EQ(r.exit_code, 0);
  const uint32_t doomed = ListJson()["keys"][1]["id"];
  ASSERT_EQ(Keyset(absl::StrCat("disable ", doomed)).exit_code, 0);
  ASSERT_EQ(Keyset(absl::StrCat("destroy ", doomed)).exit_code, 0);

  r = Keyset("export-cleartext");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  ExpectOneLineError(r);
  EXPECT_THAT(r.err, HasSubstr("--i-understand-this-reveals-keys"));

  r = Keyset("export-cleartext", "--i-understand-this-reveals-keys");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json exported = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(exported.is_object()) << r.out;
  EXPECT_EQ(exported["primary_key_id"], ListJson()["primary_key_id"]);
  auto kek = Kek::Open(kek_);
  ASSERT_THAT(kek, IsOk());
  auto keyset = Keyset::Read(keyset_, **kek);
  ASSERT_THAT(keyset, IsOk());
  ASSERT_EQ(exported["keys"].size(), 3u);
  for (const auto& key : exported["keys"]) {
    const uint32_t id = key["id"];
    if (id == doomed) {
      EXPECT_EQ(key["status"], "DESTROYED");
      EXPECT_FALSE(key.contains("material_hex"));
      continue;
    }
    auto material = keyset->KeyMaterial(id, InsecureSecretKeyAccess::Get());
    ASSERT_THAT(material, IsOk());
    EXPECT_EQ(key["material_hex"],
              testing::HexEncode(std::string(material->begin(), material->end())));
    // ...and `list` shows none of it.
    CommandResult list = Keyset("list", "--json");
    EXPECT_THAT(list.out, Not(HasSubstr(key["material_hex"].get<std::string>())));
  }
}

TEST_F(KeyCliTest, UsageErrorsExitTwo) {
  CreateKeyset();
  const std::vector<std::string> bad_usage = {
      "keyset",  // no subcommand
      "keyset frobnicate --kek " + Quote(kek_) + " " + Quote(keyset_),
      "keyset list " + Quote(keyset_),                              // no --kek
      "keyset list --kek " + Quote(kek_),                           // no FILE
      "keyset create --kek " + Quote(kek_),                         // no --out
      "keyset list --kek bogus:thing " + Quote(keyset_),            // bad URI
      "keyset list --kek 'pkcs11:token=t' " + Quote(keyset_),       // bad URI
      "keyset rewrap --kek " + Quote(kek_) + " " + Quote(keyset_),  // no --new-kek
      "keyset rewrap --kek " + Quote(kek_) + " --new-kek nope " + Quote(keyset_),
      "kek create",
      "kek create not-a-uri",
      "kek create 'pkcs11:token=t;object=o'",
  };
  for (const std::string& args : bad_usage) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_THAT(r.err, StartsWith("piicrypt: ")) << args;
  }
  for (const char* id : {"0", "-1", "4294967296", "abc", "12x", "99999999999", "+5", ""}) {
    CommandResult r = Keyset(absl::StrCat("promote '", id, "'"));
    EXPECT_EQ(r.exit_code, 2) << id << "\n" << r.err;
    ExpectOneLineError(r);
  }
}

TEST_F(KeyCliTest, FailedOperationsExitOneWithOneLineAndNoSecrets) {
  CreateKeyset();
  const std::string material_hex = [&] {
    CommandResult r = Keyset("export-cleartext", "--i-understand-this-reveals-keys");
    return nlohmann::json::parse(r.out, nullptr, false)["keys"][0]["material_hex"]
        .get<std::string>();
  }();
  const std::string kek_bytes = ReadFile(dir_.File("kek.key"));
  const std::string kek_hex = testing::HexEncode(kek_bytes);

  ASSERT_EQ(Run("kek create " + Quote("file:" + dir_.File("other.key"))).exit_code, 0);
  std::vector<std::string> failing = {
      // wrong KEK
      "keyset list --kek " + Quote("file:" + dir_.File("other.key")) + " " + Quote(keyset_),
      // missing KEK and missing keyset
      "keyset list --kek " + Quote("file:" + dir_.File("none.key")) + " " + Quote(keyset_),
      "keyset list --kek " + Quote(kek_) + " " + Quote(dir_.File("none.keyset")),
      "keyset rotate --kek " + Quote(kek_) + " " + Quote(dir_.File("none.keyset")),
      // never overwrite
      "keyset create --kek " + Quote(kek_) + " --out " + Quote(keyset_),
      "kek create " + Quote(kek_),
      // an unreachable HSM
      "keyset list --kek 'pkcs11:token=t;object=o?module-path=/nonexistent/module.so"
      "&pin-value=s3cr3t' " +
          Quote(keyset_),
  };
  for (const std::string& args : failing) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    ExpectOneLineError(r);
    EXPECT_THAT(r.err, Not(HasSubstr(material_hex)));
    EXPECT_THAT(r.err, Not(HasSubstr(kek_hex)));
    EXPECT_THAT(r.err, Not(HasSubstr("s3cr3t")));
    EXPECT_TRUE(r.out.empty()) << args;
  }
  // A KEK file others can read.
  ASSERT_EQ(::chmod(dir_.File("kek.key").c_str(), 0644), 0);
  CommandResult r = Keyset("list");
  EXPECT_EQ(r.exit_code, 1);
  ExpectOneLineError(r);
  EXPECT_THAT(r.err, HasSubstr("group or others"));
  ASSERT_EQ(::chmod(dir_.File("kek.key").c_str(), 0600), 0);
  // A corrupt keyset file.
  std::ofstream(keyset_, std::ios::binary | std::ios::trunc) << "garbage";
  r = Keyset("list");
  EXPECT_EQ(r.exit_code, 1);
  ExpectOneLineError(r);
  EXPECT_THAT(r.err, HasSubstr("corrupt"));
}

TEST_F(KeyCliTest, RewrapMovesTheKeysetToAnotherKek) {
  const uint32_t first = CreateKeyset();
  const std::string other = "file:" + dir_.File("other.key");
  ASSERT_EQ(Run("kek create " + Quote(other)).exit_code, 0);
  CommandResult r = Run(absl::StrCat("keyset rewrap --kek ", Quote(kek_), " --new-kek ",
                                     Quote(other), " ", Quote(keyset_)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Keyset("list").exit_code, 1);
  kek_ = other;
  EXPECT_EQ(ListJson()["primary_key_id"], first);
}

TEST_F(KeyCliTest, HelpTeaches) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"kek --help", "create"},
      {"kek create --help", "Example"},
      {"keyset --help", "rotate"},
      {"keyset create --help", "Example"},
      {"keyset list --help", "--json"},
      {"keyset rotate --help", "primary"},
      {"keyset add --help", "promote"},
      {"keyset promote --help", "ID"},
      {"keyset enable --help", "ID"},
      {"keyset disable --help", "primary"},
      {"keyset destroy --help", "for good"},
      {"keyset rewrap --help", "--new-kek"},
      {"keyset export-cleartext --help", "--i-understand-this-reveals-keys"},
  };
  for (const auto& [args, expected] : cases) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args;
    EXPECT_THAT(r.out, HasSubstr(expected)) << args;
    EXPECT_THAT(r.out, HasSubstr("Exit status")) << args;
  }
  CommandResult r = Run("--help");
  EXPECT_THAT(r.out, HasSubstr("keyset"));
  EXPECT_THAT(r.out, HasSubstr("kek"));
}

// Two processes rotating one keyset at once, many times: no update lost.
TEST_F(KeyCliTest, ConcurrentRotationsLoseNothing) {
  CreateKeyset();
  constexpr int kEach = 12;
  const std::string rotate = absl::StrCat(Quote(CliPath()), " keyset rotate --kek ", Quote(kek_),
                                          " ", Quote(keyset_), " >/dev/null");
  const std::string loop =
      absl::StrCat("for i in $(seq ", kEach, "); do ", rotate, " || exit 1; done");
  const std::string list = absl::StrCat(Quote(CliPath()), " keyset list --kek ", Quote(kek_), " ",
                                        Quote(keyset_), " >/dev/null");
  const std::string reader =
      absl::StrCat("for i in $(seq ", kEach, "); do ", list, " || exit 1; done");
  CommandResult r = RunCommand(absl::StrCat("(", loop, ") & a=$!; (", loop, ") & b=$!; (", reader,
                                            ") & c=$!; wait $a || exit 1; ",
                                            "wait $b || exit 1; wait $c || exit 1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ListJson()["keys"].size(), 1u + 2 * kEach);
}

}  // namespace
}  // namespace piicrypt
