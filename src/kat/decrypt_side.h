// decrypt_side.h: the decrypt and verify side of each primitive, as the known-answer
// runners call it.
//
// A runner judges both directions of every case: the forward side (encrypt, compute,
// derive) on the case's input, and the decrypt or verify side on the case's output. An
// invalid AEAD, SIV or MAC case passes only when the decrypt or verify side rejects it,
// so a primitive that encrypts correctly but accepts every tag fails its file. RunFile
// uses piicrypt's own primitives (PiicryptDecryptSide()); the tests hand the runners a
// deliberately broken side (an Open that accepts every tag) to show that they notice.
#ifndef PIICRYPT_SRC_KAT_DECRYPT_SIDE_H_
#define PIICRYPT_SRC_KAT_DECRYPT_SIDE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace piicrypt::kat::internal {

struct DecryptSide {
  // AES-GCM: opens `ct` with `tag`, whose expected length is `tag_size` bytes (the
  // group's tagSize); the plaintext, or an error when the case is rejected.
  std::function<absl::StatusOr<std::string>(absl::string_view key, absl::string_view iv,
                                            absl::string_view aad, absl::string_view ct,
                                            absl::string_view tag, size_t tag_size)>
      gcm_open;
  // AES-SIV (RFC 5297): decrypts siv || ciphertext under the associated-data components.
  std::function<absl::StatusOr<std::string>(absl::string_view key,
                                            absl::Span<const absl::string_view> associated_data,
                                            absl::string_view siv_and_ct)>
      siv_decrypt;
  // HMAC-SHA256: whether `tag`, expected to be `tag_size` bytes, is the MAC of `msg`.
  std::function<bool(absl::string_view key, absl::string_view msg, absl::string_view tag,
                     size_t tag_size)>
      hmac_verify;
  // FF1 (any radix): the numerals `ct` decrypts to, or an error when it is rejected.
  std::function<absl::StatusOr<std::vector<uint16_t>>(absl::string_view key, uint32_t radix,
                                                      absl::string_view tweak,
                                                      absl::Span<const uint16_t> ct)>
      ff1_decrypt;
};

// The decrypt side of piicrypt's own AesGcm, AesSiv, HmacSha256 and Ff1.
const DecryptSide& PiicryptDecryptSide();

}  // namespace piicrypt::kat::internal

#endif  // PIICRYPT_SRC_KAT_DECRYPT_SIDE_H_
