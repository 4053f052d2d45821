// pkcs11_module.h: a PKCS#11 module loaded with dlopen, and a logged-in session on a token.
//
// A module is loaded and C_Initialize'd once per process and path, shared by every user,
// and C_Finalize'd and unloaded when the last user lets go (so a later user, for example
// with another SOFTHSM2_CONF, starts afresh). No link-time dependency on any HSM library.
#ifndef PIICRYPT_SRC_KEK_PKCS11_MODULE_H_
#define PIICRYPT_SRC_KEK_PKCS11_MODULE_H_

#include <p11-kit/pkcs11.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

// A status for a failed PKCS#11 call: the function and the CKR_ code, nothing else.
// CKR_PIN_INCORRECT is kPermissionDenied; a locked or expired PIN kFailedPrecondition; a
// removed or failing device kUnavailable; anything unexpected kInternal.
[[nodiscard]] absl::Status Pkcs11Error(absl::string_view function, CK_RV rv);

class Pkcs11Module {
 public:
  // kUnavailable if the module cannot be loaded or initialised.
  static absl::StatusOr<std::shared_ptr<Pkcs11Module>> Load(const std::string& path);
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  CK_FUNCTION_LIST_PTR functions() const { return functions_; }
  const std::string& path() const { return path_; }

 private:
  Pkcs11Module(std::string path, void* handle, CK_FUNCTION_LIST_PTR functions, bool finalize)
      : path_(std::move(path)), handle_(handle), functions_(functions), finalize_(finalize) {}
  std::string path_;
  void* handle_;
  CK_FUNCTION_LIST_PTR functions_;
  bool finalize_;  // we initialised it, so we finalise it
};

// A read-write session on one token, logged in as the normal user. Closing the session
// (the destructor) logs out once no other session of the process is open.
// Not thread-safe: a session runs one operation at a time; callers serialise.
class Pkcs11Session {
 public:
  // kNotFound if no token has `token_label`; kPermissionDenied for a wrong PIN.
  static absl::StatusOr<std::unique_ptr<Pkcs11Session>> Open(std::shared_ptr<Pkcs11Module> module,
                                                             absl::string_view token_label,
                                                             const SecretData& pin);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  CK_FUNCTION_LIST_PTR functions() const { return module_->functions(); }
  CK_SESSION_HANDLE handle() const { return handle_; }

  // Every secret-key object with CKA_LABEL `label` (and CKA_ID `id`, if given).
  absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> FindSecretKeys(
      absl::string_view label, const std::optional<std::string>& id);

 private:
  Pkcs11Session(std::shared_ptr<Pkcs11Module> module, CK_SESSION_HANDLE handle)
      : module_(std::move(module)), handle_(handle) {}
  std::shared_ptr<Pkcs11Module> module_;
  CK_SESSION_HANDLE handle_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_KEK_PKCS11_MODULE_H_
