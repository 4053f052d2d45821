#include "piicrypt/kek.h"

#include "absl/strings/match.h"
#include "src/kek/file_kek.h"
#include "src/kek/pkcs11_kek.h"
#include "src/kek/pkcs11_uri.h"

namespace piicrypt {
namespace {

enum class Scheme { kFile, kPkcs11, kUnknown };

Scheme SchemeOf(absl::string_view uri) {
  if (absl::StartsWithIgnoreCase(uri, "file:")) return Scheme::kFile;
  if (absl::StartsWithIgnoreCase(uri, "pkcs11:")) return Scheme::kPkcs11;
  return Scheme::kUnknown;
}

absl::Status UnknownScheme() {
  return absl::InvalidArgumentError(
      "unknown KEK URI: expected file:PATH or pkcs11:token=...;object=...?module-path=...");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kek>> Kek::Open(absl::string_view uri) {
  switch (SchemeOf(uri)) {
    case Scheme::kFile:
      return internal::OpenFileKek(uri);
    case Scheme::kPkcs11:
      return internal::OpenPkcs11Kek(uri);
    case Scheme::kUnknown:
      break;
  }
  return UnknownScheme();
}

absl::Status Kek::Create(absl::string_view uri) {
  switch (SchemeOf(uri)) {
    case Scheme::kFile:
      return internal::CreateFileKek(uri);
    case Scheme::kPkcs11:
      return internal::CreatePkcs11Kek(uri);
    case Scheme::kUnknown:
      break;
  }
  return UnknownScheme();
}

absl::Status Kek::ValidateUri(absl::string_view uri) {
  switch (SchemeOf(uri)) {
    case Scheme::kFile:
      return internal::ParseFileKekUri(uri).status();
    case Scheme::kPkcs11:
      return internal::ParsePkcs11Uri(uri).status();
    case Scheme::kUnknown:
      break;
  }
  return UnknownScheme();
}

}  // namespace piicrypt
