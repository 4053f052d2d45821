// The PKCS#11 KEK against a real SoftHSM2 token, initialised by each test in its own
// temporary directory with its own SOFTHSM2_CONF.
#include <dlfcn.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "src/kek/pkcs11_module.h"
#include "src/keyset/keyset_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "piicrypt-test";
constexpr char kPin[] = "654321";
constexpr char kSoPin[] = "12345678";

std::string SoftHsmModule() {
  if (const char* path = std::getenv("PIICRYPT_SOFTHSM2_MODULE")) return path;
  return "/usr/lib/softhsm/libsofthsm2.so";
}

TEST(Pkcs11ErrorTest, ReturnValuesMapToCanonicalCodes) {
  const struct {
    CK_RV rv;
    absl::StatusCode code;
  } kCases[] = {
      {CKR_PIN_INCORRECT, absl::StatusCode::kPermissionDenied},
      {CKR_PIN_LEN_RANGE, absl::StatusCode::kPermissionDenied},
      {CKR_PIN_LOCKED, absl::StatusCode::kFailedPrecondition},
      {CKR_PIN_EXPIRED, absl::StatusCode::kFailedPrecondition},
      {CKR_USER_PIN_NOT_INITIALIZED, absl::StatusCode::kFailedPrecondition},
      {CKR_DEVICE_REMOVED, absl::StatusCode::kUnavailable},
      {CKR_DEVICE_ERROR, absl::StatusCode::kUnavailable},
      {CKR_TOKEN_NOT_PRESENT, absl::StatusCode::kUnavailable},
      {CKR_SESSION_HANDLE_INVALID, absl::StatusCode::kUnavailable},
      {CKR_CRYPTOKI_NOT_INITIALIZED, absl::StatusCode::kUnavailable},
      {CKR_MECHANISM_INVALID, absl::StatusCode::kFailedPrecondition},
      {CKR_KEY_FUNCTION_NOT_PERMITTED, absl::StatusCode::kFailedPrecondition},
      {CKR_TOKEN_WRITE_PROTECTED, absl::StatusCode::kFailedPrecondition},
      {CKR_HOST_MEMORY, absl::StatusCode::kInternal},
      {CKR_ARGUMENTS_BAD, absl::StatusCode::kInternal},
  };
  for (const auto& c : kCases) {
    absl::Status s = internal::Pkcs11Error("C_Something", c.rv);
    EXPECT_EQ(s.code(), c.code) << c.rv;
    EXPECT_THAT(s.message(), HasSubstr("PKCS#11")) << c.rv;
  }
  EXPECT_THAT(internal::Pkcs11Error("C_Encrypt", CKR_HOST_MEMORY).message(),
              HasSubstr("C_Encrypt failed (CKR 0x00000002)"));
}

class SoftHsmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("SOFTHSM2_CONF")) old_conf_ = old;
    const std::string tokens = dir_.File("tokens");
    ASSERT_EQ(::mkdir(tokens.c_str(), 0700), 0);
    const std::string conf = dir_.File("softhsm2.conf");
    std::ofstream(conf) << "directories.tokendir = " << tokens
                        << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    ASSERT_EQ(::setenv("SOFTHSM2_CONF", conf.c_str(), 1), 0);
    ::unsetenv("PIICRYPT_PKCS11_PIN");
    auto r = RunCommand(absl::StrCat("softhsm2-util --init-token --free --label ", kToken,
                                     " --so-pin ", kSoPin, " --pin ", kPin));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void TearDown() override {
    if (old_conf_.has_value()) {
      ::setenv("SOFTHSM2_CONF", old_conf_->c_str(), 1);
    } else {
      ::unsetenv("SOFTHSM2_CONF");
    }
  }

  static std::string Uri(const std::string& object, const std::string& query_extra = "",
                         const std::string& token = kToken) {
    return absl::StrCat("pkcs11:token=", token, ";object=", object,
                        "?module-path=", SoftHsmModule(), query_extra);
  }
  static std::string UriWithPin(const std::string& object) {
    return Uri(object, absl::StrCat("&pin-value=", kPin));
  }

  std::unique_ptr<Kek> MustOpen(const std::string& uri) {
    auto kek = Kek::Open(uri);
    EXPECT_THAT(kek, IsOk()) << uri;
    return kek.ok() ? std::move(*kek) : nullptr;
  }

  // A raw logged-in session, for looking at the token behind piicrypt's back.
  std::unique_ptr<internal::Pkcs11Session> RawSession() {
    auto module = internal::Pkcs11Module::Load(SoftHsmModule());
    EXPECT_THAT(module, IsOk());
    auto session = internal::Pkcs11Session::Open(*module, kToken, SecretDataFromString(kPin));
    EXPECT_THAT(session, IsOk());
    return session.ok() ? std::move(*session) : nullptr;
  }

  // Generates an AES-256 token key with `label` and the given extractability.
  static CK_RV GenerateRawKey(internal::Pkcs11Session& s, const std::string& label,
                              bool extractable, bool token, CK_OBJECT_HANDLE* key) {
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BBOOL ext = extractable ? CK_TRUE : CK_FALSE;
    CK_BBOOL tok = token ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_VALUE_LEN, &len, sizeof(len)},
        {CKA_TOKEN, &tok, sizeof(tok)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SENSITIVE, extractable ? &no : &yes, sizeof(yes)},
        {CKA_EXTRACTABLE, &ext, sizeof(ext)},
        {CKA_ENCRYPT, &yes, sizeof(yes)},
        {CKA_DECRYPT, &yes, sizeof(yes)},
        {CKA_WRAP, &yes, sizeof(yes)},
        {CKA_LABEL, const_cast<char*>(label.data()), static_cast<CK_ULONG>(label.size())},
    };
    CK_MECHANISM mech = {CKM_AES_KEY_GEN, nullptr, 0};
    return s.functions()->C_GenerateKey(s.handle(), &mech, tmpl, sizeof(tmpl) / sizeof(tmpl[0]),
                                        key);
  }

  TempDir dir_;
  std::optional<std::string> old_conf_;
};

TEST_F(SoftHsmTest, CreateKekKeysetAndRewrapFileToHsmAndBack) {
  const std::string hsm_uri = UriWithPin("piicrypt-kek");
  ASSERT_THAT(Kek::Create(hsm_uri), IsOk());
  EXPECT_THAT(Kek::Create(hsm_uri), StatusIs(absl::StatusCode::kAlreadyExists));
  auto hsm = MustOpen(hsm_uri);
  ASSERT_NE(hsm, nullptr);
  EXPECT_EQ(hsm->kind(), KekKind::kPkcs11);
  EXPECT_EQ(hsm->description(), absl::StrCat("pkcs11:token=", kToken, ";object=piicrypt-kek"));

  // A keyset created directly under the HSM KEK.
  {
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    ASSERT_THAT(keyset->WriteNew(dir_.File("direct.keyset"), *hsm), IsOk());
    auto read = Keyset::Read(dir_.File("direct.keyset"), *hsm);
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(read->primary_key_id(), keyset->primary_key_id());
  }

  // A keyset under a file KEK, moved into the HSM and back.
  const std::string file_uri = "file:" + dir_.File("kek.key");
  ASSERT_THAT(Kek::Create(file_uri), IsOk());
  auto file = MustOpen(file_uri);
  ASSERT_NE(file, nullptr);
  const std::string path = dir_.File("orders.keyset");
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  auto cipher = keyset->FieldCipherFor("orders.phone", FieldMode::kRandomized);
  ASSERT_THAT(cipher, IsOk());
  auto ct = (*cipher)->EncryptText("+61 2 5550 0199", "order-1");
  ASSERT_THAT(ct, IsOk());
  ASSERT_THAT(keyset->WriteNew(path, *file), IsOk());

  ASSERT_THAT(Keyset::Rewrap(path, *file, *hsm), IsOk());
  EXPECT_THAT(Keyset::Read(path, *file), StatusIs(absl::StatusCode::kInvalidArgument));
  auto in_hsm = Keyset::Read(path, *hsm);
  ASSERT_THAT(in_hsm, IsOk());
  auto pt = in_hsm->DecryptText("orders.phone", *ct, "order-1");
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(*pt, "+61 2 5550 0199");
  ASSERT_THAT(Keyset::Update(path, *hsm, [](Keyset& ks) { return ks.Rotate().status(); }), IsOk());

  ASSERT_THAT(Keyset::Rewrap(path, *hsm, *file), IsOk());
  auto back = Keyset::Read(path, *file);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->ListKeys().size(), 2u);
  pt = back->DecryptText("orders.phone", *ct, "order-1");
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(*pt, "+61 2 5550 0199");
}

TEST_F(SoftHsmTest, TheKekObjectIsSensitiveAndNotExtractable) {
  ASSERT_THAT(Kek::Create(UriWithPin("piicrypt-kek")), IsOk());
  auto session = RawSession();
  ASSERT_NE(session, nullptr);
  auto keys = session->FindSecretKeys("piicrypt-kek", std::nullopt);
  ASSERT_THAT(keys, IsOk());
  ASSERT_EQ(keys->size(), 1u);
  const CK_OBJECT_HANDLE kek = (*keys)[0];
  CK_FUNCTION_LIST_PTR f = session->functions();

  // The value cannot be read.
  uint8_t value[64];
  CK_ATTRIBUTE value_attr = {CKA_VALUE, value, sizeof(value)};
  EXPECT_EQ(f->C_GetAttributeValue(session->handle(), kek, &value_attr, 1),
            static_cast<CK_RV>(CKR_ATTRIBUTE_SENSITIVE));
  EXPECT_EQ(value_attr.ulValueLen, CK_UNAVAILABLE_INFORMATION);

  // Its attributes say so, for good.
  CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE, never_extractable = CK_FALSE,
           always_sensitive = CK_FALSE, token = CK_FALSE, wrap = CK_TRUE;
  CK_ULONG len = 0;
  CK_ATTRIBUTE attrs[] = {
      {CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
      {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
      {CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof(never_extractable)},
      {CKA_ALWAYS_SENSITIVE, &always_sensitive, sizeof(always_sensitive)},
      {CKA_TOKEN, &token, sizeof(token)},
      {CKA_WRAP, &wrap, sizeof(wrap)},
      {CKA_VALUE_LEN, &len, sizeof(len)},
  };
  ASSERT_EQ(f->C_GetAttributeValue(session->handle(), kek, attrs, sizeof(attrs) / sizeof(attrs[0])),
            static_cast<CK_RV>(CKR_OK));
  EXPECT_EQ(extractable, CK_FALSE);
  EXPECT_EQ(sensitive, CK_TRUE);
  EXPECT_EQ(never_extractable, CK_TRUE);
  EXPECT_EQ(always_sensitive, CK_TRUE);
  EXPECT_EQ(token, CK_TRUE);
  EXPECT_EQ(wrap, CK_FALSE);
  EXPECT_EQ(len, 32u);
  // CKA_EXTRACTABLE can never be turned on again.
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE make_extractable = {CKA_EXTRACTABLE, &yes, sizeof(yes)};
  EXPECT_NE(f->C_SetAttributeValue(session->handle(), kek, &make_extractable, 1),
            static_cast<CK_RV>(CKR_OK));

  // Wrapping it out of the token under another key fails.
  CK_OBJECT_HANDLE wrapping = CK_INVALID_HANDLE;
  ASSERT_EQ(GenerateRawKey(*session, "wrapping", /*extractable=*/true, /*token=*/false, &wrapping),
            static_cast<CK_RV>(CKR_OK));
  for (CK_MECHANISM_TYPE mech_type : {CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD}) {
    CK_MECHANISM mech = {mech_type, nullptr, 0};
    uint8_t wrapped[128];
    CK_ULONG wrapped_len = sizeof(wrapped);
    const CK_RV rv = f->C_WrapKey(session->handle(), &mech, wrapping, kek, wrapped, &wrapped_len);
    EXPECT_NE(rv, static_cast<CK_RV>(CKR_OK)) << mech_type;
    if (mech_type == CKM_AES_KEY_WRAP) {
      EXPECT_EQ(rv, static_cast<CK_RV>(CKR_KEY_UNEXTRACTABLE));
    }
  }
  // The same wrap of an extractable key works, so the failure above is the KEK's doing.
  CK_OBJECT_HANDLE weak = CK_INVALID_HANDLE;
  ASSERT_EQ(GenerateRawKey(*session, "weak", /*extractable=*/true, /*token=*/false, &weak),
            static_cast<CK_RV>(CKR_OK));
  CK_MECHANISM mech = {CKM_AES_KEY_WRAP, nullptr, 0};
  uint8_t wrapped[128];
  CK_ULONG wrapped_len = sizeof(wrapped);
  EXPECT_EQ(f->C_WrapKey(session->handle(), &mech, wrapping, weak, wrapped, &wrapped_len),
            static_cast<CK_RV>(CKR_OK));
  EXPECT_EQ(wrapped_len, 40u);
}

TEST_F(SoftHsmTest, ExtractableOrAmbiguousKeysAreRefused) {
  auto session = RawSession();
  ASSERT_NE(session, nullptr);
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_EQ(GenerateRawKey(*session, "weak", /*extractable=*/true, /*token=*/true, &key),
            static_cast<CK_RV>(CKR_OK));
  auto weak = Kek::Open(UriWithPin("weak"));
  EXPECT_THAT(weak, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(weak.status().message(), HasSubstr("extractable"));
  // `kek create` refuses a label that is taken.
  EXPECT_THAT(Kek::Create(UriWithPin("weak")), StatusIs(absl::StatusCode::kAlreadyExists));

  ASSERT_EQ(GenerateRawKey(*session, "twice", false, true, &key), static_cast<CK_RV>(CKR_OK));
  ASSERT_EQ(GenerateRawKey(*session, "twice", false, true, &key), static_cast<CK_RV>(CKR_OK));
  auto twice = Kek::Open(UriWithPin("twice"));
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(twice.status().message(), HasSubstr("more than one"));
}

// A key made sensitive and non-extractable after its creation may have been read out
// before: its CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE stay false, and it is refused.
TEST_F(SoftHsmTest, KeysOnceExtractableAreRefused) {
  auto session = RawSession();
  ASSERT_NE(session, nullptr);
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_EQ(GenerateRawKey(*session, "laundered", /*extractable=*/true, /*token=*/true, &key),
            static_cast<CK_RV>(CKR_OK));
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ATTRIBUTE lock[] = {{CKA_SENSITIVE, &yes, sizeof(yes)}, {CKA_EXTRACTABLE, &no, sizeof(no)}};
  ASSERT_EQ(session->functions()->C_SetAttributeValue(session->handle(), key, lock, 2),
            static_cast<CK_RV>(CKR_OK));
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, never_extractable = CK_TRUE;
  CK_ATTRIBUTE now[] = {{CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
                        {CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
                        {CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof(never_extractable)}};
  ASSERT_EQ(session->functions()->C_GetAttributeValue(session->handle(), key, now, 3),
            static_cast<CK_RV>(CKR_OK));
  ASSERT_EQ(sensitive, CK_TRUE);  // looks locked now...
  ASSERT_EQ(extractable, CK_FALSE);
  ASSERT_EQ(never_extractable, CK_FALSE);  // ...but was not always
  auto laundered = Kek::Open(UriWithPin("laundered"));
  ASSERT_THAT(laundered, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(laundered.status().message(), HasSubstr("was once extractable or not sensitive"));

  // An extractable key added beside a good KEK under its label: refused, never chosen.
  ASSERT_THAT(Kek::Create(UriWithPin("kek")), IsOk());
  ASSERT_NE(MustOpen(UriWithPin("kek")), nullptr);
  ASSERT_EQ(GenerateRawKey(*session, "kek", /*extractable=*/true, /*token=*/true, &key),
            static_cast<CK_RV>(CKR_OK));
  EXPECT_THAT(Kek::Open(UriWithPin("kek")), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SoftHsmTest, WrongKeyAndTamperingAreCleanErrors) {
  ASSERT_THAT(Kek::Create(UriWithPin("kek-a")), IsOk());
  ASSERT_THAT(Kek::Create(UriWithPin("kek-b")), IsOk());
  auto a = MustOpen(UriWithPin("kek-a"));
  auto b = MustOpen(UriWithPin("kek-b"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  auto encrypted = keyset->ToEncryptedBytes(*a);
  ASSERT_THAT(encrypted, IsOk());
  EXPECT_THAT(Keyset::FromEncryptedBytes(*encrypted, *a), IsOk());
  auto wrong = Keyset::FromEncryptedBytes(*encrypted, *b);
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(wrong.status().message(), HasSubstr("kek-b"));
  // Every byte of the HSM-wrapped keyset flipped: always a clean error.
  for (size_t i = 0; i < encrypted->size(); ++i) {
    std::string bytes = *encrypted;
    bytes[i] = static_cast<char>(bytes[i] ^ 0x01);
    auto read = Keyset::FromEncryptedBytes(bytes, *a);
    ASSERT_FALSE(read.ok()) << i;
    EXPECT_TRUE(read.status().code() == absl::StatusCode::kDataLoss ||
                read.status().code() == absl::StatusCode::kInvalidArgument)
        << i << ": " << read.status();
  }
  // The session is still usable after failed decryptions.
  EXPECT_THAT(Keyset::FromEncryptedBytes(*encrypted, *a), IsOk());
  // Raw KEK operations reject a bad IV size and short ciphertexts.
  auto ct = a->Encrypt(testing::Bytes("x"), "ad");
  ASSERT_THAT(ct, IsOk());
  KekCiphertext bad = *ct;
  bad.iv.resize(8);
  EXPECT_THAT(a->Decrypt(bad, "ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = *ct;
  bad.ciphertext.resize(10);
  EXPECT_THAT(a->Decrypt(bad, "ad"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(a->Decrypt(*ct, "other"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SoftHsmTest, LoginTokenObjectAndModuleErrors) {
  ASSERT_THAT(Kek::Create(UriWithPin("kek")), IsOk());
  // Wrong PIN.
  auto wrong_pin = Kek::Open(Uri("kek", "&pin-value=000000"));
  EXPECT_THAT(wrong_pin, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(wrong_pin.status().message(), Not(HasSubstr("000000")));
  // No PIN anywhere; then the environment variable; then a PIN file.
  EXPECT_THAT(Kek::Open(Uri("kek")), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(::setenv("PIICRYPT_PKCS11_PIN", kPin, 1), 0);
  EXPECT_THAT(Kek::Open(Uri("kek")), IsOk());
  ::unsetenv("PIICRYPT_PKCS11_PIN");
  std::ofstream(dir_.File("pin")) << kPin << "\n";
  ASSERT_EQ(::chmod(dir_.File("pin").c_str(), 0600), 0);  // PIN files are mode 0600
  EXPECT_THAT(Kek::Open(Uri("kek", "&pin-source=file:" + dir_.File("pin"))), IsOk());
  // Unknown token and object.
  auto no_token = Kek::Open(Uri("kek", absl::StrCat("&pin-value=", kPin), "no-such-token"));
  EXPECT_THAT(no_token, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(no_token.status().message(), HasSubstr("no-such-token"));
  EXPECT_THAT(Kek::Open(UriWithPin("no-such-key")), StatusIs(absl::StatusCode::kNotFound));
  // A module that does not exist, and a library that is not a PKCS#11 module.
  auto missing = Kek::Open(absl::StrCat("pkcs11:token=", kToken, ";object=kek?module-path=",
                                        dir_.File("none.so"), "&pin-value=", kPin));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kUnavailable));
  Dl_info info;
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&EVP_CIPHER_fetch), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  auto not_pkcs11 = Kek::Open(absl::StrCat(
      "pkcs11:token=", kToken, ";object=kek?module-path=", info.dli_fname, "&pin-value=", kPin));
  EXPECT_THAT(not_pkcs11, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(not_pkcs11.status().message(), HasSubstr("not a PKCS#11 module"));
  // Creating under a wrong PIN creates nothing.
  EXPECT_THAT(Kek::Create(Uri("other", "&pin-value=000000")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Kek::Open(UriWithPin("other")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SoftHsmTest, AnIdSelectsAmongKeysWithOneLabel) {
  ASSERT_THAT(Kek::Create(UriWithPin("kek")), IsOk());
  // A second key with the same label but an explicit id is refused by create (label taken)...
  EXPECT_THAT(Kek::Create(absl::StrCat("pkcs11:token=", kToken, ";object=kek;id=%02?module-path=",
                                       SoftHsmModule(), "&pin-value=", kPin)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // ...and a new label with an id can be opened by label and id.
  const std::string with_id =
      absl::StrCat("pkcs11:token=", kToken, ";object=kek2;id=%01%02?module-path=", SoftHsmModule(),
                   "&pin-value=", kPin);
  ASSERT_THAT(Kek::Create(with_id), IsOk());
  EXPECT_THAT(Kek::Open(with_id), IsOk());
  EXPECT_THAT(Kek::Open(absl::StrCat("pkcs11:token=", kToken, ";object=kek2;id=%09?module-path=",
                                     SoftHsmModule(), "&pin-value=", kPin)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SoftHsmTest, CliCreatesAnHsmKekAndRewrapsFileToHsmAndBack) {
  const auto cli = [](const std::string& args) {
    return RunCommand(
        absl::StrCat("PIICRYPT_PKCS11_PIN=", kPin, " '", testing::CliPath(), "' ", args));
  };
  const std::string hsm = "'" + Uri("cli-kek") + "'";  // PIN from the environment
  const std::string file = "'file:" + dir_.File("kek.key") + "'";
  const std::string keyset = "'" + dir_.File("ks") + "'";
  auto r = cli("kek create " + hsm);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli("kek create " + hsm);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  ASSERT_EQ(cli("kek create " + file).exit_code, 0);
  r = cli("keyset create --kek " + file + " --out " + keyset);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string first = r.out;

  r = cli("keyset rewrap --kek " + file + " --new-kek " + hsm + " " + keyset);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cli("keyset list --kek " + file + " " + keyset).exit_code, 1);
  r = cli("keyset rotate --kek " + hsm + " " + keyset);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli("keyset list --json --kek " + hsm + " " + keyset);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StripTrailingAsciiWhitespace(first)));

  r = cli("keyset rewrap --kek " + hsm + " --new-kek " + file + " " + keyset);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli("keyset list --kek " + file + " " + keyset);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header + 2 keys

  // A wrong PIN: exit 1, one line, no PIN in it.
  r = RunCommand(absl::StrCat("PIICRYPT_PKCS11_PIN=999999 '", testing::CliPath(),
                              "' keyset list --kek ", hsm, " ", keyset));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("incorrect PIN"));
  EXPECT_THAT(r.err, Not(HasSubstr("999999")));
}

}  // namespace
}  // namespace piicrypt
