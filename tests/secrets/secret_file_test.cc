// Files that hold or guard secrets (KEK files, PIN files, token databases) are refused when
// they are reached through a symbolic link, owned by another user, or open to group or
// others; the refusal names the path and the rule.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/subtle/token_store.h"
#include "src/kek/pkcs11_uri.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

absl::Status OpenKek(const std::string& path) { return Kek::Open("file:" + path).status(); }

absl::Status ReadPin(const std::string& path) {
  auto uri =
      internal::ParsePkcs11Uri("pkcs11:token=t;object=k?module-path=/m.so&pin-source=" + path);
  if (!uri.ok()) return uri.status();
  return internal::ResolvePin(*uri).status();
}

absl::Status OpenTokenDb(const std::string& path) {
  return TokenStore::Open("sqlite:" + path).status();
}

struct SecretFileKind {
  const char* name;
  std::function<void(const std::string&)> create;  // a valid file of mode 0600
  std::function<absl::Status(const std::string&)> open;
};

void PrintTo(const SecretFileKind& kind, std::ostream* os) { *os << kind.name; }

std::vector<SecretFileKind> Kinds() {
  return {
      {"KekFile", [](const std::string& p) { ASSERT_THAT(Kek::Create("file:" + p), IsOk()); },
       OpenKek},
      {"PinFile",
       [](const std::string& p) {
         std::ofstream(p) << "1234\n";
         ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
       },
       ReadPin},
      {"TokenDatabase", [](const std::string& p) { ASSERT_THAT(OpenTokenDb(p), IsOk()); },
       OpenTokenDb},
  };
}

class SecretFileTest : public ::testing::TestWithParam<SecretFileKind> {
 protected:
  void SetUp() override {
    path_ = dir_.File("secret");
    GetParam().create(path_);
    ASSERT_THAT(GetParam().open(path_), IsOk());
  }
  TempDir dir_;
  std::string path_;
};

TEST_P(SecretFileTest, GroupOrOtherPermissionBitsAreRefused) {
  for (mode_t mode : {0640, 0604, 0620, 0602, 0610, 0601, 0660, 0644}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    absl::Status s = GetParam().open(path_);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition)) << std::oct << mode;
    EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("chmod 600"))) << s;
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  EXPECT_THAT(GetParam().open(path_), IsOk());
}

TEST_P(SecretFileTest, SymbolicLinkIsRefused) {
  const std::string link = dir_.File("link");
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  absl::Status s = GetParam().open(link);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(link), HasSubstr("symbolic link"))) << s;
}

TEST_P(SecretFileTest, FileOfAnotherUserIsRefused) {
  const uid_t other = ::geteuid() == 65534 ? 65533 : 65534;
  if (::chown(path_.c_str(), other, static_cast<gid_t>(-1)) != 0) {
    // Only root can give a file away; CI runs the tests as root.
    GTEST_FAIL() << "cannot chown a test file to uid " << other << " (run the tests as root)";
  }
  absl::Status s = GetParam().open(path_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), AllOf(HasSubstr(path_), HasSubstr("owned by uid"), HasSubstr("chown")))
      << s;
}

INSTANTIATE_TEST_SUITE_P(AllKinds, SecretFileTest, ::testing::ValuesIn(Kinds()),
                         [](const auto& p) { return std::string(p.param.name); });

// The CLI refuses too, with one line naming the rule, and its help says so.
TEST(SecretFileCliTest, CliRefusesAnOpenKekFileAndHelpStatesTheRule) {
  TempDir dir;
  const std::string kek = "file:" + dir.File("kek.key");
  ASSERT_EQ(RunCommand(CliPath() + " kek create '" + kek + "'").exit_code, 0);
  CommandResult created =
      RunCommand(CliPath() + " keyset create --kek '" + kek + "' --out '" + dir.File("ks") + "'");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_EQ(::chmod(dir.File("kek.key").c_str(), 0640), 0);
  CommandResult r = RunCommand(CliPath() + " encrypt --kek '" + kek + "' --keyset '" +
                                   dir.File("ks") + "' --field t.c --mode randomized",
                               "x\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
  for (const char* command : {"keyset create", "encrypt", "tokenize", "reencrypt"}) {
    CommandResult help = RunCommand(CliPath() + " " + command + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, HasSubstr("symbolic link")) << command;
  }
}

}  // namespace
}  // namespace piicrypt
