// Encrypts and decrypts one field through the installed piicrypt package, with every
// component linked (piicrypt::piicrypt): normalizers and token stores are available.
#include <cstdio>
#include <string>

#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/field_cipher.h"
#include "piicrypt/subtle/token_store.h"

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
  std::printf(
      "consumer: encrypted and decrypted a field through the installed package (%zu "
      "characters of ciphertext)\n",
      ct.size());

  // The field API with a policy: ICU (e-mail normalizer) and libphonenumber (phone) linked.
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ParseTextProto(R"pb(
                              field {
                                name: "orders.customer_email"
                                kind: KIND_EMAIL
                                mode: MODE_RANDOMIZED
                                bind_record: true
                                blind_index { bits: 32 }
                              }
                              field {
                                name: "orders.customer_phone"
                                kind: KIND_PHONE
                                mode: MODE_RANDOMIZED
                                bind_record: true
                                blind_index { bits: 32 default_region: "AU" }
                              }
                            )pb"));
  PIICRYPT_ASSIGN_OR_RETURN(auto cryptor, piicrypt::FieldCryptor::Create(keyset, policy));
  PIICRYPT_ASSIGN_OR_RETURN(auto stored,
                            cryptor->Encrypt("orders.customer_email", "jane@example.com", "o-1"));
  PIICRYPT_ASSIGN_OR_RETURN(auto back, cryptor->Decrypt("orders.customer_email", stored, "o-1"));
  PIICRYPT_ASSIGN_OR_RETURN(auto a, cryptor->BlindIndex("orders.customer_phone", "(02) 5550 0199"));
  PIICRYPT_ASSIGN_OR_RETURN(auto b, cryptor->BlindIndex("orders.customer_phone", "+61255500199"));
  if (back != std::optional<std::string>("jane@example.com") || a != b) {
    return absl::InternalError("field API round trip mismatch");
  }
  std::printf("consumer: FieldCryptor with a policy, e-mail and phone blind indexes: ok\n");

  // The SQLite token store registered itself: opening a bad path fails on the file, not for
  // a missing component.
  const absl::Status store =
      piicrypt::TokenStore::Open("sqlite:/nonexistent/dir/tokens.db").status();
  if (store.ok() || absl::IsFailedPrecondition(store)) {
    return absl::InternalError("sqlite: token store: " + store.ToString());
  }
  std::printf("consumer: sqlite: token store back-end linked\n");
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
