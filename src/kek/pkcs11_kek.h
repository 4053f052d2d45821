// pkcs11_kek.h: the `pkcs11:` KEK, a non-extractable AES-256 key object inside an HSM.
//
// Wrapping runs CKM_AES_GCM inside the token, with a 96-bit IV drawn on the host (stored
// with the ciphertext) and a 128-bit tag; the key bytes never leave the token.
#ifndef PIICRYPT_SRC_KEK_PKCS11_KEK_H_
#define PIICRYPT_SRC_KEK_PKCS11_KEK_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/kek.h"

namespace piicrypt::internal {

// Loads the module, finds the token, logs in and finds exactly one AES-256 secret key
// labelled `object`. kFailedPrecondition if that key is extractable or not sensitive
// (it would not be a KEK held apart), or cannot encrypt and decrypt.
absl::StatusOr<std::unique_ptr<Kek>> OpenPkcs11Kek(absl::string_view uri);

// Generates the key object in the token: CKK_AES, 32 bytes, CKA_TOKEN, CKA_PRIVATE,
// CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_ENCRYPT and CKA_DECRYPT only.
// kAlreadyExists if a secret key with that label (and id) is already there.
[[nodiscard]] absl::Status CreatePkcs11Kek(absl::string_view uri);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_KEK_PKCS11_KEK_H_
