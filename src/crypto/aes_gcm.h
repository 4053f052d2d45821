// aes_gcm.h: AES-GCM on reusable keyed contexts.
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto gcm, AesGcm::Create(key));   // key: 16, 24 or 32 bytes
//   std::vector<uint8_t> out(plaintext.size() + AesGcm::kOverhead);
//   PIICRYPT_RETURN_IF_ERROR(gcm->EncryptRandomNonce(plaintext, aad, absl::MakeSpan(out)));
//
// The key schedule and GHASH key are computed once per pooled context (see context_pool.h);
// a call costs the IV set-up and the GCM pass itself: no cipher lookup, no allocation, no
// key schedule. Messages up to 1 KiB (fields) run OpenSSL's GCM mode code (modes.h) over an
// AES-ECB context, which skips the EVP AEAD interface's per-call parameter handling (about
// three quarters of the instructions of a 32-byte EVP encryption); longer ones run EVP's
// stitched AES-GCM.
// Thread safety: every method is const and may be called from many threads at once.
#ifndef PIICRYPT_SRC_CRYPTO_AES_GCM_H_
#define PIICRYPT_SRC_CRYPTO_AES_GCM_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/context_pool.h"
#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {

class AesGcm {
 public:
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  // nonce || ciphertext || tag
  static constexpr size_t kOverhead = kNonceSize + kTagSize;

  // `key` must be 16, 24 or 32 bytes.
  static absl::StatusOr<std::unique_ptr<AesGcm>> Create(absl::Span<const uint8_t> key);

  // Writes nonce(12) || ciphertext || tag(16) into `out`, which must be exactly
  // plaintext.size() + kOverhead bytes. The nonce is drawn from the thread's random pool.
  [[nodiscard]] absl::Status EncryptRandomNonce(absl::string_view plaintext, absl::string_view aad,
                                                absl::Span<uint8_t> out) const;

  // Inverse of EncryptRandomNonce: `in` is nonce || ciphertext || tag; `out` must be
  // exactly in.size() - kOverhead bytes. On failure `out` is wiped and the status is
  // kInvalidArgument("decryption failed").
  [[nodiscard]] absl::Status DecryptWithNonce(absl::string_view in, absl::string_view aad,
                                              absl::Span<uint8_t> out) const;

  // Explicit-IV forms, for known-answer tests and golden ciphertexts. Any IV length of
  // at least 1 byte (the 12-byte form is the fast path); tags of 1..16 bytes.
  // Seal writes ciphertext (plaintext.size() bytes) to `ct` and the first tag.size()
  // bytes of the tag to `tag`.
  [[nodiscard]] absl::Status Seal(absl::string_view iv, absl::string_view aad,
                                  absl::string_view plaintext, absl::Span<uint8_t> ct,
                                  absl::Span<uint8_t> tag) const;
  // Open checks `tag` against the first `tag_size` bytes of the computed tag, where
  // `tag_size` (1..16, kTagSize for every piicrypt format) is the length the caller's
  // format fixes, never the length of the tag it was handed: a tag of any other length,
  // a shortened one included, fails like a wrong tag, with kInvalidArgument("decryption
  // failed") and `plaintext` wiped.
  [[nodiscard]] absl::Status Open(absl::string_view iv, absl::string_view aad,
                                  absl::string_view ciphertext, absl::string_view tag,
                                  size_t tag_size, absl::Span<uint8_t> plaintext) const;

  ~AesGcm();

 private:
  struct Contexts;
  explicit AesGcm(SecretData key);
  std::unique_ptr<Contexts> NewContexts() const;
  // Both take the pool's context and return false on any failure (a bad tag included).
  static bool SealWith(Contexts& c, absl::string_view iv, absl::string_view aad,
                       absl::string_view plaintext, uint8_t* ct, uint8_t tag[kTagSize]);
  static bool OpenWith(Contexts& c, absl::string_view iv, absl::string_view aad,
                       absl::string_view ciphertext, absl::string_view tag, uint8_t* plaintext);

  SecretData key_;
  mutable ContextPool<Contexts> pool_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_AES_GCM_H_
