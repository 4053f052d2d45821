#include "src/kek/pkcs11_kek.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/random.h"
#include "src/kek/pkcs11_module.h"
#include "src/kek/pkcs11_uri.h"

namespace piicrypt::internal {
namespace {

constexpr CK_ULONG kKekKeySize = 32;
constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;

// PKCS#11 takes non-const pointers to buffers it only reads.
CK_BYTE_PTR In(const void* p) { return static_cast<CK_BYTE_PTR>(const_cast<void*>(p)); }

struct Connected {
  Pkcs11Uri uri;
  std::unique_ptr<Pkcs11Session> session;
};

absl::StatusOr<Connected> Connect(absl::string_view text) {
  PIICRYPT_ASSIGN_OR_RETURN(Pkcs11Uri uri, ParsePkcs11Uri(text));
  PIICRYPT_ASSIGN_OR_RETURN(SecretData pin, ResolvePin(uri));
  PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<Pkcs11Module> module,
                            Pkcs11Module::Load(uri.module_path));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<Pkcs11Session> session,
                            Pkcs11Session::Open(std::move(module), uri.token, pin));
  return Connected{std::move(uri), std::move(session)};
}

[[nodiscard]] absl::Status CheckKeyObject(Pkcs11Session& session, CK_OBJECT_HANDLE key,
                                          const std::string& name) {
  CK_KEY_TYPE key_type = 0;
  CK_ULONG value_len = 0;
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, encrypt = CK_FALSE, decrypt = CK_FALSE;
  CK_BBOOL always_sensitive = CK_FALSE, never_extractable = CK_FALSE;
  CK_ATTRIBUTE attrs[] = {
      {CKA_KEY_TYPE, &key_type, sizeof(key_type)},
      {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
      {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
      {CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
      {CKA_ALWAYS_SENSITIVE, &always_sensitive, sizeof(always_sensitive)},
      {CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof(never_extractable)},
      {CKA_ENCRYPT, &encrypt, sizeof(encrypt)},
      {CKA_DECRYPT, &decrypt, sizeof(decrypt)},
  };
  const CK_RV rv = session.functions()->C_GetAttributeValue(session.handle(), key, attrs,
                                                            sizeof(attrs) / sizeof(attrs[0]));
  if (rv != CKR_OK) return Pkcs11Error("C_GetAttributeValue", rv);
  if (key_type != CKK_AES || value_len != kKekKeySize) {
    return absl::FailedPreconditionError(
        absl::StrCat("PKCS#11 key ", name, " is not an AES-256 key"));
  }
  if (sensitive != CK_TRUE || extractable != CK_FALSE) {
    return absl::FailedPreconditionError(
        absl::StrCat("PKCS#11 key ", name,
                     " is extractable or not sensitive, so it is not held apart; "
                     "create a KEK with `piicrypt kek create`"));
  }
  // Made sensitive or non-extractable after its creation: its value may have been read
  // out before that, so it is not known to have stayed in the token.
  if (always_sensitive != CK_TRUE || never_extractable != CK_TRUE) {
    return absl::FailedPreconditionError(
        absl::StrCat("PKCS#11 key ", name,
                     " was once extractable or not sensitive (CKA_NEVER_EXTRACTABLE or "
                     "CKA_ALWAYS_SENSITIVE is false), so it may exist outside the token; "
                     "create a KEK with `piicrypt kek create`"));
  }
  if (encrypt != CK_TRUE || decrypt != CK_TRUE) {
    return absl::FailedPreconditionError(
        absl::StrCat("PKCS#11 key ", name, " may not encrypt and decrypt"));
  }
  return absl::OkStatus();
}

class Pkcs11Kek : public Kek {
 public:
  Pkcs11Kek(std::string description, std::unique_ptr<Pkcs11Session> session, CK_OBJECT_HANDLE key)
      : description_(std::move(description)), session_(std::move(session)), key_(key) {}

  KekKind kind() const override { return KekKind::kPkcs11; }
  std::string description() const override { return description_; }

  absl::StatusOr<KekCiphertext> Encrypt(absl::Span<const uint8_t> plaintext,
                                        absl::string_view associated_data) const override {
    KekCiphertext out;
    out.iv.resize(kIvSize);
    PIICRYPT_RETURN_IF_ERROR(
        RandomNonce(absl::MakeSpan(reinterpret_cast<uint8_t*>(out.iv.data()), kIvSize)));
    CK_GCM_PARAMS params = GcmParams(out.iv, associated_data);
    CK_MECHANISM mechanism = {CKM_AES_GCM, &params, sizeof(params)};
    out.ciphertext.resize(plaintext.size() + kTagSize);
    CK_ULONG out_len = static_cast<CK_ULONG>(out.ciphertext.size());
    absl::MutexLock lock(&mu_);
    CK_FUNCTION_LIST_PTR f = session_->functions();
    CK_RV rv = f->C_EncryptInit(session_->handle(), &mechanism, key_);
    if (rv != CKR_OK) return Pkcs11Error("C_EncryptInit", rv);
    rv = f->C_Encrypt(session_->handle(), In(plaintext.data()),
                      static_cast<CK_ULONG>(plaintext.size()), In(out.ciphertext.data()), &out_len);
    if (rv != CKR_OK) return Pkcs11Error("C_Encrypt", rv);
    if (out_len != out.ciphertext.size()) {
      return absl::InternalError("PKCS#11 C_Encrypt returned an unexpected length");
    }
    return out;
  }

  absl::StatusOr<SecretData> Decrypt(const KekCiphertext& in,
                                     absl::string_view associated_data) const override {
    if (in.iv.size() != kIvSize || in.ciphertext.size() < kTagSize) {
      return absl::InvalidArgumentError("KEK decryption failed");
    }
    CK_GCM_PARAMS params = GcmParams(in.iv, associated_data);
    CK_MECHANISM mechanism = {CKM_AES_GCM, &params, sizeof(params)};
    SecretData plaintext(in.ciphertext.size());  // GCM output is never longer than its input
    CK_ULONG out_len = static_cast<CK_ULONG>(plaintext.size());
    absl::MutexLock lock(&mu_);
    CK_FUNCTION_LIST_PTR f = session_->functions();
    CK_RV rv = f->C_DecryptInit(session_->handle(), &mechanism, key_);
    if (rv != CKR_OK) return Pkcs11Error("C_DecryptInit", rv);
    rv = f->C_Decrypt(session_->handle(), In(in.ciphertext.data()),
                      static_cast<CK_ULONG>(in.ciphertext.size()), plaintext.data(), &out_len);
    switch (rv) {
      case CKR_OK:
        break;
      case CKR_ENCRYPTED_DATA_INVALID:
      case CKR_ENCRYPTED_DATA_LEN_RANGE:
      case CKR_GENERAL_ERROR:
      case CKR_FUNCTION_FAILED:
        return absl::InvalidArgumentError("KEK decryption failed");
      default:
        return Pkcs11Error("C_Decrypt", rv);
    }
    if (out_len != in.ciphertext.size() - kTagSize) {
      return absl::InvalidArgumentError("KEK decryption failed");
    }
    plaintext.resize(out_len);
    return plaintext;
  }

 private:
  static CK_GCM_PARAMS GcmParams(const std::string& iv, absl::string_view aad) {
    CK_GCM_PARAMS params;
    params.pIv = In(iv.data());
    params.ulIvLen = iv.size();
    params.ulIvBits = iv.size() * 8;
    params.pAAD = In(aad.data());
    params.ulAADLen = aad.size();
    params.ulTagBits = kTagSize * 8;
    return params;
  }

  std::string description_;
  mutable absl::Mutex mu_;  // one operation at a time on the session
  std::unique_ptr<Pkcs11Session> session_ ABSL_PT_GUARDED_BY(mu_);
  CK_OBJECT_HANDLE key_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kek>> OpenPkcs11Kek(absl::string_view text) {
  PIICRYPT_ASSIGN_OR_RETURN(Connected c, Connect(text));
  const std::string name = c.uri.Description();
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> keys,
                            c.session->FindSecretKeys(c.uri.object, c.uri.id));
  if (keys.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no PKCS#11 secret key ", name, " (create one with `piicrypt kek create`)"));
  }
  if (keys.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("more than one PKCS#11 secret key matches ", name, "; add id= to the URI"));
  }
  PIICRYPT_RETURN_IF_ERROR(CheckKeyObject(*c.session, keys[0], name));
  return std::make_unique<Pkcs11Kek>(name, std::move(c.session), keys[0]);
}

absl::Status CreatePkcs11Kek(absl::string_view text) {
  PIICRYPT_ASSIGN_OR_RETURN(Connected c, Connect(text));
  const std::string name = c.uri.Description();
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> existing,
                            c.session->FindSecretKeys(c.uri.object, std::nullopt));
  if (!existing.empty()) {
    return absl::AlreadyExistsError(absl::StrCat("a PKCS#11 secret key labelled like ", name,
                                                 " already exists; refusing to add another"));
  }
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_AES;
  CK_ULONG value_len = kKekKeySize;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::vector<CK_ATTRIBUTE> tmpl = {
      {CKA_CLASS, &key_class, sizeof(key_class)},
      {CKA_KEY_TYPE, &key_type, sizeof(key_type)},
      {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
      {CKA_TOKEN, &yes, sizeof(yes)},
      {CKA_PRIVATE, &yes, sizeof(yes)},
      {CKA_SENSITIVE, &yes, sizeof(yes)},
      {CKA_EXTRACTABLE, &no, sizeof(no)},
      {CKA_ENCRYPT, &yes, sizeof(yes)},
      {CKA_DECRYPT, &yes, sizeof(yes)},
      {CKA_WRAP, &no, sizeof(no)},
      {CKA_UNWRAP, &no, sizeof(no)},
      {CKA_SIGN, &no, sizeof(no)},
      {CKA_VERIFY, &no, sizeof(no)},
      {CKA_DERIVE, &no, sizeof(no)},
      {CKA_LABEL, In(c.uri.object.data()), static_cast<CK_ULONG>(c.uri.object.size())},
  };
  if (c.uri.id.has_value()) {
    tmpl.push_back({CKA_ID, In(c.uri.id->data()), static_cast<CK_ULONG>(c.uri.id->size())});
  }
  CK_MECHANISM mechanism = {CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  const CK_RV rv = c.session->functions()->C_GenerateKey(
      c.session->handle(), &mechanism, tmpl.data(), static_cast<CK_ULONG>(tmpl.size()), &key);
  if (rv != CKR_OK) return Pkcs11Error("C_GenerateKey", rv);
  return CheckKeyObject(*c.session, key, name);
}

}  // namespace piicrypt::internal
