// pkcs11_uri.h: a strict parser for the PKCS#11 URIs of RFC 7512 that name a KEK.
//
//   pkcs11:token=prod;object=piicrypt-kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin
//
// Path attributes (";"-separated): token (required), object (required), type (must be
// "secret-key" if present), id (the key's CKA_ID, usually percent-encoded bytes).
// Query attributes ("&"-separated): module-path (required, absolute), pin-value,
// pin-source (file:PATH or an absolute path; the PIN is its first line). pin-value and
// pin-source exclude each other; with neither, the PIN comes from PIICRYPT_PKCS11_PIN.
// Values are percent-decoded (RFC 3986); characters outside RFC 7512's grammar, unknown
// or repeated attributes, empty values and NUL bytes are rejected.
#ifndef PIICRYPT_SRC_KEK_PKCS11_URI_H_
#define PIICRYPT_SRC_KEK_PKCS11_URI_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/secret_data.h"

namespace piicrypt::internal {

inline constexpr size_t kMaxPkcs11UriSize = 4096;
inline constexpr size_t kMaxPinSize = 256;
inline constexpr char kPinEnvironmentVariable[] = "PIICRYPT_PKCS11_PIN";

struct Pkcs11Uri {
  std::string token;              // CKA token label
  std::string object;             // CKA_LABEL of the key
  std::optional<std::string> id;  // CKA_ID, if given
  std::string module_path;        // the PKCS#11 module to dlopen
  std::optional<SecretData> pin_value;
  std::optional<std::string> pin_source;  // a file path

  // "pkcs11:token=...;object=..." with the values percent-encoded and no query (no PIN).
  std::string Description() const;
};

// kInvalidArgument naming the problem (never a PIN value).
absl::StatusOr<Pkcs11Uri> ParsePkcs11Uri(absl::string_view uri);

// The PIN: pin-value, else the first line of pin-source, else $PIICRYPT_PKCS11_PIN.
// kInvalidArgument if there is none or it is empty or too long; kNotFound /
// kPermissionDenied if the pin-source file cannot be read; kFailedPrecondition if it
// breaks the rule of OpenSecretFile (a symbolic link, another owner, group or other
// permission bits).
absl::StatusOr<SecretData> ResolvePin(const Pkcs11Uri& uri);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_KEK_PKCS11_URI_H_
