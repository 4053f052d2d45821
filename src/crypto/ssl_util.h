// ssl_util.h: RAII for OpenSSL objects, and algorithms fetched once per process.
//
// The hot path never calls EVP_CIPHER_fetch or EVP_get_cipherbyname: every algorithm
// piicrypt uses is fetched here on first use and kept for the life of the process.
#ifndef PIICRYPT_SRC_CRYPTO_SSL_UTIL_H_
#define PIICRYPT_SRC_CRYPTO_SSL_UTIL_H_

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/modes.h>

#include <cstddef>
#include <memory>

#include "absl/status/status.h"

namespace piicrypt::internal {

// SslPtr<T>: the one owner of an OpenSSL object of type T in piicrypt; deleters that wipe
// (BN_clear_free, CRYPTO_gcm128_release) are used where the object holds key material.
template <typename T>
struct SslDeleter;
template <>
struct SslDeleter<EVP_CIPHER_CTX> {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
template <>
struct SslDeleter<EVP_MAC_CTX> {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
template <>
struct SslDeleter<EVP_KDF_CTX> {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
template <>
struct SslDeleter<EVP_MD_CTX> {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
template <>
struct SslDeleter<BIGNUM> {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }  // may hold FF1 state: wiped
};
template <>
struct SslDeleter<BN_CTX> {
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
};
template <>
struct SslDeleter<GCM128_CONTEXT> {
  void operator()(GCM128_CONTEXT* p) const { CRYPTO_gcm128_release(p); }  // wipes H, EK0
};
template <typename T>
using SslPtr = std::unique_ptr<T, SslDeleter<T>>;

enum class AesMode { kEcb, kCbc, kCtr, kGcm };

// The AES cipher of `mode` for a key of `key_size` bytes (16, 24 or 32), fetched once.
// Returns nullptr for any other key size.
const EVP_CIPHER* AesCipher(AesMode mode, size_t key_size);

// OpenSSL's AES-256-SIV, fetched once (used only by benchmarks as a baseline).
const EVP_CIPHER* OpenSslAes256Siv();

// HMAC and HKDF implementations, fetched once.
EVP_MAC* HmacAlgorithm();
EVP_KDF* HkdfAlgorithm();

// A kInternal status for a failed OpenSSL call. Clears OpenSSL's error queue and never
// includes its reason strings (they may describe key or input state).
absl::Status OpenSslError(const char* operation);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_SSL_UTIL_H_
