// KEKs: the file KEK, the PKCS#11 URI parser and PIN sources.
#include "piicrypt/kek.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/kek/file_kek.h"
#include "src/kek/pkcs11_uri.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::Bytes;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::ReadFile;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(FileKekTest, CreateMakesA32ByteMode0600FileAndNeverOverwrites) {
  TempDir dir;
  const std::string path = dir.File("kek.key");
  const mode_t old_umask = ::umask(0);  // even with a permissive umask
  absl::Cleanup restore = [old_umask] { ::umask(old_umask); };
  ASSERT_THAT(Kek::Create("file:" + path), IsOk());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const std::string key = ReadFile(path);
  auto again = Kek::Create("file:" + path);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReadFile(path), key);
  // Two KEKs are never the same.
  ASSERT_THAT(Kek::Create("file://" + dir.File("other.key")), IsOk());
  EXPECT_NE(ReadFile(dir.File("other.key")), key);
  EXPECT_THAT(Kek::Create("file:" + dir.File("missing/kek.key")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(FileKekTest, EncryptDecryptBindsTheAssociatedData) {
  TempDir dir;
  ASSERT_THAT(Kek::Create("file:" + dir.File("k")), IsOk());
  auto kek = Kek::Open("file:" + dir.File("k"));
  ASSERT_THAT(kek, IsOk());
  EXPECT_EQ((*kek)->kind(), KekKind::kFile);
  EXPECT_EQ((*kek)->description(), "file:" + dir.File("k"));
  auto ct = (*kek)->Encrypt(Bytes("secret keyset"), "ad");
  ASSERT_THAT(ct, IsOk());
  EXPECT_EQ(ct->iv.size(), 12u);
  EXPECT_EQ(ct->ciphertext.size(), 13u + 16u);
  auto pt = (*kek)->Decrypt(*ct, "ad");
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(std::string(pt->begin(), pt->end()), "secret keyset");
  auto ct2 = (*kek)->Encrypt(Bytes("secret keyset"), "ad");
  ASSERT_THAT(ct2, IsOk());
  EXPECT_NE(ct2->iv, ct->iv);
  EXPECT_THAT((*kek)->Decrypt(*ct, "other ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  KekCiphertext bad = *ct;
  bad.iv[0] ^= 1;
  EXPECT_THAT((*kek)->Decrypt(bad, "ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = *ct;
  bad.ciphertext.back() ^= 1;
  EXPECT_THAT((*kek)->Decrypt(bad, "ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = *ct;
  bad.iv.resize(11);
  EXPECT_THAT((*kek)->Decrypt(bad, "ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = *ct;
  bad.ciphertext.resize(15);
  EXPECT_THAT((*kek)->Decrypt(bad, "ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  // An empty plaintext round-trips too.
  auto empty = (*kek)->Encrypt({}, "ad");
  ASSERT_THAT(empty, IsOk());
  auto empty_pt = (*kek)->Decrypt(*empty, "ad");
  ASSERT_THAT(empty_pt, IsOk());
  EXPECT_TRUE(empty_pt->empty());
}

TEST(FileKekTest, UnsafeModesSizesAndKindsAreRefused) {
  TempDir dir;
  const std::string path = dir.File("kek.key");
  ASSERT_THAT(Kek::Create("file:" + path), IsOk());
  for (mode_t mode : {0640, 0604, 0620, 0602, 0660, 0644, 0610}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto kek = Kek::Open("file:" + path);
    EXPECT_THAT(kek, StatusIs(absl::StatusCode::kFailedPrecondition)) << std::oct << mode;
    EXPECT_THAT(kek.status().message(), HasSubstr("group or others"));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_THAT(Kek::Open("file:" + path), IsOk());
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_THAT(Kek::Open("file:" + path), IsOk());

  // Wrong sizes.
  for (size_t size : {0, 16, 31, 33, 64}) {
    const std::string p = dir.File("size" + std::to_string(size));
    std::ofstream(p, std::ios::binary) << std::string(size, 'k');
    ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
    EXPECT_THAT(Kek::Open("file:" + p), StatusIs(absl::StatusCode::kDataLoss)) << size;
  }
  EXPECT_THAT(Kek::Open("file:" + dir.File("missing")), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  EXPECT_THAT(Kek::Open("file:" + dir.path()), Not(IsOk()));  // a directory
}

TEST(FileKekTest, UnreadableKeyFileIsPermissionDenied) {
  TempDir dir;
  const std::string path = dir.File("kek.key");
  ASSERT_THAT(Kek::Create("file:" + path), IsOk());
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // root reads any file: check as an unprivileged user.
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    ::_exit(Kek::Open("file:" + path).status().code() == absl::StatusCode::kPermissionDenied ? 0
                                                                                             : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(KekUriTest, BadUrisAreInvalidArgument) {
  const char* const kBad[] = {
      "",
      "kek.key",
      "/etc/kek.key",
      "http://example.com/kek",
      "file:",
      "file://host/etc/kek.key",
      "file:/etc/",
      "pkcs11",
      "pkcs11:",
      "pkcs11:object=k?module-path=/m.so",                       // no token
      "pkcs11:token=t?module-path=/m.so",                        // no object
      "pkcs11:token=t;object=k",                                 // no module
      "pkcs11:token=t;object=k?",                                // empty query
      "pkcs11:token=t;object=k?module-path=m.so",                // relative module
      "pkcs11:token=t;object=k?module-name=softhsm2",            // unsupported
      "pkcs11:token=t;object=k;object=j?module-path=/m.so",      // repeated
      "pkcs11:token=t;;object=k?module-path=/m.so",              // empty attribute
      "pkcs11:token=t;object=k;?module-path=/m.so",              // trailing ;
      "pkcs11:token;object=k?module-path=/m.so",                 // no value
      "pkcs11:=t;object=k?module-path=/m.so",                    // no name
      "pkcs11:token=;object=k?module-path=/m.so",                // empty value
      "pkcs11:token=t;object=k;serial=1?module-path=/m.so",      // unsupported attribute
      "pkcs11:token=t;object=k;type=private?module-path=/m.so",  // not a secret key
      "pkcs11:token=t;object=k?module-path=/m.so&x-vendor=1",    // unknown query attribute
      "pkcs11:token=t;object=k?module-path=/m.so&pin-value=1&pin-source=/p",
      "pkcs11:token=t;object=k?module-path=/m.so&pin-value=",
      "pkcs11:token=t;object=k?module-path=/m.so&pin-source=relative",
      "pkcs11:token=t;object=k?module-path=/m.so&module-path=/n.so",
      "pkcs11:token=t%;object=k?module-path=/m.so",    // truncated escape
      "pkcs11:token=t%4;object=k?module-path=/m.so",   // truncated escape
      "pkcs11:token=t%zz;object=k?module-path=/m.so",  // bad escape
      "pkcs11:token=t%00;object=k?module-path=/m.so",  // NUL
      "pkcs11:token=a b;object=k?module-path=/m.so",   // raw space
      "pkcs11:token=a/b;object=k?module-path=/m.so",   // raw / in the path part
      "pkcs11:token=t;object=k\"?module-path=/m.so",   // raw quote
      "pkcs11:token=t;object=k?module-path=/m so",
      "pkcs11:token=t;object=k;id=?module-path=/m.so",
      "pkcs11:token=0123456789012345678901234567890123;object=k?module-path=/m.so",
  };
  for (const char* uri : kBad) {
    absl::Status s = Kek::ValidateUri(uri);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << uri;
    EXPECT_FALSE(s.message().empty());
    // Opening and creating refuse the same URIs before touching anything.
    EXPECT_THAT(Kek::Open(uri), StatusIs(absl::StatusCode::kInvalidArgument)) << uri;
    EXPECT_THAT(Kek::Create(uri), StatusIs(absl::StatusCode::kInvalidArgument)) << uri;
  }
  EXPECT_THAT(Kek::ValidateUri(std::string("pkcs11:token=t;object=k?module-path=/") +
                               std::string(internal::kMaxPkcs11UriSize, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KekUriTest, ErrorsNeverContainThePin) {
  for (const char* uri :
       {"pkcs11:token=t;object=k?module-path=/m.so&pin-value=s3cr3t%zz",
        "pkcs11:token=t;object=k?module-path=/m.so&pin-value=s3cr3t&pin-source=/p",
        "pkcs11:token=t;object=k?pin-value=s3cr3t"}) {
    absl::Status s = Kek::ValidateUri(uri);
    ASSERT_FALSE(s.ok()) << uri;
    EXPECT_THAT(s.message(), Not(HasSubstr("s3cr3t"))) << s;
  }
}

TEST(KekUriTest, GoodUrisParseWithPercentDecoding) {
  auto uri = internal::ParsePkcs11Uri(
      "pkcs11:token=My%20Token;object=kek%3Bone;type=secret-key;id=%01%02"
      "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634");
  ASSERT_THAT(uri, IsOk());
  EXPECT_EQ(uri->token, "My Token");
  EXPECT_EQ(uri->object, "kek;one");
  ASSERT_TRUE(uri->id.has_value());
  EXPECT_EQ(*uri->id, std::string("\x01\x02"));
  EXPECT_EQ(uri->module_path, "/usr/lib/softhsm/libsofthsm2.so");
  ASSERT_TRUE(uri->pin_value.has_value());
  EXPECT_EQ(std::string(uri->pin_value->begin(), uri->pin_value->end()), "12&34");
  EXPECT_EQ(uri->Description(), "pkcs11:token=My%20Token;object=kek%3Bone;id=%01%02");

  auto minimal = internal::ParsePkcs11Uri("PKCS11:object=k;token=t?module-path=/m.so");
  ASSERT_THAT(minimal, IsOk());
  EXPECT_EQ(minimal->token, "t");
  EXPECT_FALSE(minimal->pin_value.has_value());
  EXPECT_FALSE(minimal->pin_source.has_value());

  auto source = internal::ParsePkcs11Uri(
      "pkcs11:token=t;object=k?pin-source=file:/run/pin&module-path=/m.so");
  ASSERT_THAT(source, IsOk());
  EXPECT_EQ(*source->pin_source, "/run/pin");
  EXPECT_THAT(Kek::ValidateUri("file:relative/kek.key"), IsOk());
  EXPECT_THAT(Kek::ValidateUri("file:///etc/kek.key"), IsOk());
  auto path = internal::ParseFileKekUri("file:///etc/kek.key");
  ASSERT_THAT(path, IsOk());
  EXPECT_EQ(*path, "/etc/kek.key");
}

TEST(KekUriTest, PinSources) {
  TempDir dir;
  ::unsetenv(internal::kPinEnvironmentVariable);
  auto no_pin = internal::ParsePkcs11Uri("pkcs11:token=t;object=k?module-path=/m.so");
  ASSERT_THAT(no_pin, IsOk());
  auto missing = internal::ResolvePin(*no_pin);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(missing.status().message(), HasSubstr("PIICRYPT_PKCS11_PIN"));

  ASSERT_EQ(::setenv(internal::kPinEnvironmentVariable, "from-env", 1), 0);
  absl::Cleanup unset = [] { ::unsetenv(internal::kPinEnvironmentVariable); };
  auto env_pin = internal::ResolvePin(*no_pin);
  ASSERT_THAT(env_pin, IsOk());
  EXPECT_EQ(std::string(env_pin->begin(), env_pin->end()), "from-env");
  ASSERT_EQ(::setenv(internal::kPinEnvironmentVariable, "", 1), 0);
  EXPECT_THAT(internal::ResolvePin(*no_pin), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(::setenv(internal::kPinEnvironmentVariable, "from-env", 1), 0);

  // pin-value wins over the environment.
  auto value = internal::ParsePkcs11Uri("pkcs11:token=t;object=k?module-path=/m.so&pin-value=v");
  ASSERT_THAT(value, IsOk());
  auto value_pin = internal::ResolvePin(*value);
  ASSERT_THAT(value_pin, IsOk());
  EXPECT_EQ(std::string(value_pin->begin(), value_pin->end()), "v");

  // pin-source: the first line of the file, without its line ending.
  std::ofstream(dir.File("pin")) << "from-file\r\nsecond line\n";
  ASSERT_EQ(::chmod(dir.File("pin").c_str(), 0600), 0);  // a PIN file's rule
  auto source = internal::ParsePkcs11Uri(
      "pkcs11:token=t;object=k?module-path=/m.so&pin-source=file:" + dir.File("pin"));
  ASSERT_THAT(source, IsOk());
  auto source_pin = internal::ResolvePin(*source);
  ASSERT_THAT(source_pin, IsOk());
  EXPECT_EQ(std::string(source_pin->begin(), source_pin->end()), "from-file");

  std::ofstream(dir.File("empty")) << "\n";
  ASSERT_EQ(::chmod(dir.File("empty").c_str(), 0600), 0);  // a PIN file's rule
  auto empty = internal::ParsePkcs11Uri("pkcs11:token=t;object=k?module-path=/m.so&pin-source=" +
                                        dir.File("empty"));
  ASSERT_THAT(empty, IsOk());
  EXPECT_THAT(internal::ResolvePin(*empty), StatusIs(absl::StatusCode::kInvalidArgument));

  std::ofstream(dir.File("long")) << std::string(internal::kMaxPinSize + 1, '1');
  ASSERT_EQ(::chmod(dir.File("long").c_str(), 0600), 0);  // a PIN file's rule
  auto too_long = internal::ParsePkcs11Uri("pkcs11:token=t;object=k?module-path=/m.so&pin-source=" +
                                           dir.File("long"));
  ASSERT_THAT(too_long, IsOk());
  EXPECT_THAT(internal::ResolvePin(*too_long), Not(IsOk()));

  auto absent = internal::ParsePkcs11Uri("pkcs11:token=t;object=k?module-path=/m.so&pin-source=" +
                                         dir.File("absent"));
  ASSERT_THAT(absent, IsOk());
  EXPECT_THAT(internal::ResolvePin(*absent), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace piicrypt
