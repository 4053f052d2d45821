// aes_siv.h: AES-SIV (RFC 5297), deterministic authenticated encryption.
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto siv, AesSiv::Create(key));  // key: 32, 48 or 64 bytes
//   std::vector<uint8_t> out(plaintext.size() + AesSiv::kSivSize);
//   PIICRYPT_RETURN_IF_ERROR(siv->Encrypt({aad}, plaintext, absl::MakeSpan(out)));
//
// Built on reusable keyed AES-ECB contexts (CMAC chaining and CTR done here): OpenSSL
// 3.0's own AES-SIV mishandles empty plaintext and cannot be reused across messages.
// The first half of the key (K1) keys S2V, the second half (K2) keys CTR.
// Correct for empty plaintext and empty associated-data components; any number of
// associated-data components up to kMaxComponents (RFC 5297: 126).
// Thread safety: every method is const and may be called from many threads at once.
#ifndef PIICRYPT_SRC_CRYPTO_AES_SIV_H_
#define PIICRYPT_SRC_CRYPTO_AES_SIV_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/context_pool.h"

namespace piicrypt::internal {

class AesSiv {
 public:
  static constexpr size_t kSivSize = 16;
  static constexpr size_t kMaxComponents = 126;
  using Block = std::array<uint8_t, 16>;

  // `key` must be 32, 48 or 64 bytes (AES-128, -192 or -256 in each half).
  static absl::StatusOr<std::unique_ptr<AesSiv>> Create(absl::Span<const uint8_t> key);

  // Writes siv(16) || ciphertext into `out` (plaintext.size() + kSivSize bytes).
  [[nodiscard]] absl::Status Encrypt(absl::Span<const absl::string_view> associated_data,
                                     absl::string_view plaintext, absl::Span<uint8_t> out) const;
  // `in` is siv || ciphertext; `out` must be in.size() - kSivSize bytes. On failure `out`
  // is wiped and the status is kInvalidArgument("decryption failed").
  [[nodiscard]] absl::Status Decrypt(absl::Span<const absl::string_view> associated_data,
                                     absl::string_view in, absl::Span<uint8_t> out) const;

  // The S2V state after the associated data, before the plaintext: lets a caller whose
  // associated data is fixed compute it once (see EncryptWithPrefix).
  [[nodiscard]] absl::StatusOr<Block> S2VPrefix(
      absl::Span<const absl::string_view> associated_data) const;
  [[nodiscard]] absl::Status EncryptWithPrefix(const Block& prefix, absl::string_view plaintext,
                                               absl::Span<uint8_t> out) const;
  [[nodiscard]] absl::Status DecryptWithPrefix(const Block& prefix, absl::string_view in,
                                               absl::Span<uint8_t> out) const;

  ~AesSiv();

 private:
  struct Contexts;
  AesSiv(SecretData key);
  std::unique_ptr<Contexts> NewContexts() const;
  absl::Status Cmac(Contexts& ctx, absl::string_view msg, Block& mac) const;
  absl::Status S2VFinal(Contexts& ctx, const Block& d, absl::string_view plaintext, Block& v) const;
  absl::Status Ctr(Contexts& ctx, const Block& v, absl::string_view in, uint8_t* out) const;

  SecretData key_;   // K1 || K2
  Block k1_sub1_{};  // CMAC subkeys of K1
  Block k1_sub2_{};
  Block cmac_zero_{};  // CMAC(K1, 0^128), the start of S2V
  mutable ContextPool<Contexts> pool_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_CRYPTO_AES_SIV_H_
