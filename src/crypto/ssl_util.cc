#include "src/crypto/ssl_util.h"

#include <openssl/err.h>

#include <array>
#include <string>

#include "absl/strings/str_cat.h"

namespace piicrypt::internal {
namespace {

// Fetched algorithms are intentionally never freed: they live as long as the process.
struct AesTable {
  // [mode][key size index: 16, 24, 32]
  std::array<std::array<EVP_CIPHER*, 3>, 4> ciphers{};
  AesTable() {
    static constexpr const char* kNames[4][3] = {
        {"AES-128-ECB", "AES-192-ECB", "AES-256-ECB"},
        {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"},
        {"AES-128-CTR", "AES-192-CTR", "AES-256-CTR"},
        {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"},
    };
    for (int m = 0; m < 4; ++m) {
      for (int k = 0; k < 3; ++k) ciphers[m][k] = EVP_CIPHER_fetch(nullptr, kNames[m][k], nullptr);
    }
  }
};

}  // namespace

const EVP_CIPHER* AesCipher(AesMode mode, size_t key_size) {
  static const AesTable* const table = new AesTable();
  int index;
  switch (key_size) {
    case 16:
      index = 0;
      break;
    case 24:
      index = 1;
      break;
    case 32:
      index = 2;
      break;
    default:
      return nullptr;
  }
  return table->ciphers[static_cast<int>(mode)][index];
}

const EVP_CIPHER* OpenSslAes256Siv() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-SIV", nullptr);
  return cipher;
}

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

absl::Status OpenSslError(const char* operation) {
  ERR_clear_error();
  return absl::InternalError(absl::StrCat("OpenSSL failed in ", operation));
}

}  // namespace piicrypt::internal
