// Fuzzes field decryption with attacker-controlled ciphertexts: every input either fails
// cleanly or (if it is a real ciphertext) decrypts and re-encrypts deterministically.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/field_cipher.h"

namespace {
struct Ciphers {
  std::unique_ptr<piicrypt::FieldCipher> randomized, deterministic;
  Ciphers() {
    const piicrypt::SecretData root(32, 0x42);
    randomized = *piicrypt::FieldCipher::Create(0x01020304, root, "orders.email",
                                                piicrypt::FieldMode::kRandomized);
    deterministic = *piicrypt::FieldCipher::Create(0x01020304, root, "orders.email",
                                                   piicrypt::FieldMode::kDeterministic);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Ciphers* const ciphers = new Ciphers();
  const std::string in(reinterpret_cast<const char*>(data), size);
  for (const auto* cipher : {ciphers->randomized.get(), ciphers->deterministic.get()}) {
    (void)cipher->Decrypt(in).ok();
    (void)cipher->DecryptText(in).ok();
    (void)cipher->Decrypt(in, "order-1").ok();
  }
  // Round trip of the input as a plaintext, bound and unbound.
  auto ct = ciphers->deterministic->Encrypt(in, size % 2 ? "order-9" : "");
  if (!ct.ok()) __builtin_trap();
  auto pt = ciphers->deterministic->Decrypt(*ct, size % 2 ? "order-9" : "");
  if (!pt.ok() || *pt != in) __builtin_trap();
  auto rct = ciphers->randomized->EncryptText(in);
  if (!rct.ok()) __builtin_trap();
  auto rpt = ciphers->randomized->DecryptText(*rct);
  if (!rpt.ok() || *rpt != in) __builtin_trap();
  return 0;
}
