// Encrypts and decrypts one field through the installed piicrypt package.
#include <cstdio>
#include <string>

#include "piicrypt/field_cipher.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"

namespace {

absl::Status Run() {
  // In production the root material comes from a keyset under a KEK; a fixed one here.
  const piicrypt::SecretData root(32, 0x5a);
  PIICRYPT_ASSIGN_OR_RETURN(
      auto cipher, piicrypt::FieldCipher::Create(/*key_id=*/42, root, "orders.customer_email",
                                                 piicrypt::FieldMode::kRandomized));
  PIICRYPT_ASSIGN_OR_RETURN(std::string ct, cipher->EncryptText("jane@example.com", "order-1"));
  PIICRYPT_ASSIGN_OR_RETURN(std::string pt, cipher->DecryptText(ct, "order-1"));
  if (pt != "jane@example.com") return absl::InternalError("round trip mismatch");
  if (cipher->DecryptText(ct, "order-2").ok()) {
    return absl::InternalError("a ciphertext moved to another row decrypted");
  }
  std::printf("consumer: encrypted and decrypted a field through the installed package (%zu "
              "characters of ciphertext)\n", ct.size());
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status s = Run();
  if (!s.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
