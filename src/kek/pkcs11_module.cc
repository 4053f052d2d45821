#include "src/kek/pkcs11_module.h"

#include <dlfcn.h>

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

namespace piicrypt::internal {
namespace {

// Modules in use, by path, with their number of users. Guarded by RegistryMutex(), which
// is also held while a module is loaded or unloaded: a module is initialised once, and
// never used while it is being finalised.
struct RegistryEntry {
  Pkcs11Module* module = nullptr;
  int users = 0;
};
absl::Mutex& RegistryMutex() {
  static absl::Mutex* const mu = new absl::Mutex();
  return *mu;
}
absl::flat_hash_map<std::string, RegistryEntry>& Registry() {
  static auto* const registry = new absl::flat_hash_map<std::string, RegistryEntry>();
  return *registry;
}

// A shared handle on a registered module: the last one to go unloads the module.
std::shared_ptr<Pkcs11Module> Share(const std::string& path, RegistryEntry& entry) {
  ++entry.users;
  return std::shared_ptr<Pkcs11Module>(entry.module, [path](Pkcs11Module* m) {
    absl::MutexLock lock(&RegistryMutex());
    auto it = Registry().find(path);
    if (it != Registry().end() && --it->second.users == 0) {
      Registry().erase(it);
      delete m;
    }
  });
}

}  // namespace

absl::Status Pkcs11Error(absl::string_view function, CK_RV rv) {
  const std::string message = absl::StrFormat("PKCS#11 %s failed (CKR 0x%08X)", function, rv);
  switch (rv) {
    case CKR_PIN_INCORRECT:
      return absl::PermissionDeniedError(
          absl::StrFormat("PKCS#11 login failed: incorrect PIN (CKR_PIN_INCORRECT)"));
    case CKR_PIN_LOCKED:
      return absl::FailedPreconditionError("PKCS#11 login failed: the PIN is locked");
    case CKR_PIN_EXPIRED:
      return absl::FailedPreconditionError("PKCS#11 login failed: the PIN has expired");
    case CKR_PIN_LEN_RANGE:
      return absl::PermissionDeniedError("PKCS#11 login failed: PIN of the wrong length");
    case CKR_USER_PIN_NOT_INITIALIZED:
      return absl::FailedPreconditionError(
          "PKCS#11 login failed: the token's user PIN is not initialised");
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
    case CKR_SESSION_COUNT:
      return absl::UnavailableError(message);
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_TOKEN_WRITE_PROTECTED:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::shared_ptr<Pkcs11Module>> Pkcs11Module::Load(const std::string& path) {
  absl::MutexLock lock(&RegistryMutex());
  auto& registry = Registry();
  if (auto it = registry.find(path); it != registry.end()) return Share(path, it->second);
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot load the PKCS#11 module ", path,
                     " (check module-path: it must be the HSM vendor's PKCS#11 library)"));
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR functions = nullptr;
  if (get_function_list == nullptr || get_function_list(&functions) != CKR_OK ||
      functions == nullptr) {
    ::dlclose(handle);
    return absl::UnavailableError(
        absl::StrCat(path, " is not a PKCS#11 module (no usable C_GetFunctionList)"));
  }
  CK_C_INITIALIZE_ARGS args;
  std::memset(&args, 0, sizeof(args));
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    return absl::UnavailableError(absl::StrFormat(
        "cannot initialise the PKCS#11 module %s (CKR 0x%08X; check its configuration)", path, rv));
  }
  const bool finalize = rv == CKR_OK;
  RegistryEntry& entry = registry[path];
  entry.module = new Pkcs11Module(path, handle, functions, finalize);
  return Share(path, entry);
}

Pkcs11Module::~Pkcs11Module() {
  // Runs with RegistryMutex() held (see Share).
  if (finalize_) functions_->C_Finalize(nullptr);
  ::dlclose(handle_);
}

absl::StatusOr<std::unique_ptr<Pkcs11Session>> Pkcs11Session::Open(
    std::shared_ptr<Pkcs11Module> module, absl::string_view token_label, const SecretData& pin) {
  CK_FUNCTION_LIST_PTR f = module->functions();
  CK_ULONG count = 0;
  CK_RV rv = f->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return Pkcs11Error("C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    rv = f->C_GetSlotList(CK_TRUE, slots.data(), &count);
    if (rv != CKR_OK) return Pkcs11Error("C_GetSlotList", rv);
    slots.resize(count);
  }
  std::optional<CK_SLOT_ID> found;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info;
    if (f->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    absl::string_view label(reinterpret_cast<const char*>(info.label), sizeof(info.label));
    while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.remove_suffix(1);
    if (label != token_label) continue;
    if (found.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat("more than one PKCS#11 token is labelled '",
                                                        token_label, "'; labels must be unique"));
    }
    found = slot;
  }
  if (!found.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no PKCS#11 token labelled '", token_label, "' in module ", module->path()));
  }
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  rv = f->C_OpenSession(*found, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &handle);
  if (rv != CKR_OK) return Pkcs11Error("C_OpenSession", rv);
  std::unique_ptr<Pkcs11Session> session(new Pkcs11Session(std::move(module), handle));
  // C_Login takes a non-const pointer but does not write through it.
  rv = f->C_Login(handle, CKU_USER, const_cast<CK_UTF8CHAR_PTR>(pin.data()),
                  static_cast<CK_ULONG>(pin.size()));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return Pkcs11Error("C_Login", rv);
  return session;
}

Pkcs11Session::~Pkcs11Session() { module_->functions()->C_CloseSession(handle_); }

absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> Pkcs11Session::FindSecretKeys(
    absl::string_view label, const std::optional<std::string>& id) {
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  std::vector<CK_ATTRIBUTE> query = {
      {CKA_CLASS, &key_class, sizeof(key_class)},
      {CKA_LABEL, const_cast<char*>(label.data()), static_cast<CK_ULONG>(label.size())},
  };
  if (id.has_value()) {
    query.push_back({CKA_ID, const_cast<char*>(id->data()), static_cast<CK_ULONG>(id->size())});
  }
  CK_FUNCTION_LIST_PTR f = functions();
  CK_RV rv = f->C_FindObjectsInit(handle_, query.data(), static_cast<CK_ULONG>(query.size()));
  if (rv != CKR_OK) return Pkcs11Error("C_FindObjectsInit", rv);
  std::vector<CK_OBJECT_HANDLE> out;
  CK_OBJECT_HANDLE batch[16];
  for (;;) {
    CK_ULONG n = 0;
    rv = f->C_FindObjects(handle_, batch, 16, &n);
    if (rv != CKR_OK) {
      f->C_FindObjectsFinal(handle_);
      return Pkcs11Error("C_FindObjects", rv);
    }
    if (n == 0) break;
    out.insert(out.end(), batch, batch + n);
    if (out.size() > 1024) break;
  }
  rv = f->C_FindObjectsFinal(handle_);
  if (rv != CKR_OK) return Pkcs11Error("C_FindObjectsFinal", rv);
  return out;
}

}  // namespace piicrypt::internal
