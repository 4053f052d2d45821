// ff1.h: FF1 format-preserving encryption (NIST SP 800-38G Rev. 1, section 6.1 of
// SP 800-38G) with AES-128, AES-192 or AES-256.
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto ff1, Ff1::Create(key));        // 16, 24 or 32 bytes
//   std::array<uint16_t, 10> digits = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
//   std::array<uint16_t, 10> ct;
//   PIICRYPT_RETURN_IF_ERROR(ff1->Encrypt(10, tweak, digits, absl::MakeSpan(ct)));
//
// A message is a string of numerals ("digits") in radix 2..65536, each numeral an
// integer in [0, radix). FF1 is a 10-round Feistel network whose round function is an
// AES CBC-MAC of a fixed block P and a per-round block Q; it maps numeral strings of a
// given radix and length onto numeral strings of the same radix and length.
//
// Parameters enforced on every call (kInvalidArgument, with a message that names the
// parameter but never the numerals):
//   - radix in [2, 65536];
//   - radix^length >= 1,000,000 (the minimum domain of Rev. 1; this also implies
//     length >= 2);
//   - length <= kFf1MaxLength numerals (this implementation's maxlen; the standard
//     allows any maxlen < 2^32);
//   - tweak of at most kFf1MaxTweakSize bytes (this implementation's maxTlen);
//   - every numeral < radix; output span as long as the input.
//
// Implementation: integer arithmetic only. The byte length b of NUM_radix of the longer
// half is the exact byte length of radix^v - 1; no logarithms, no floating point.
// When radix^v <= 2^96 (for example up to 28 decimal digits per half, so up to 56
// decimal digits in all) the halves live in 128-bit integers and the call allocates
// nothing; longer messages and large radices use OpenSSL BIGNUMs. AES runs on a keyed
// ECB context leased from a per-object pool, and the CBC-MAC of the fixed block P, of
// the tweak and of the zero padding is computed once per call (the encryption of P is
// further cached per leased context, keyed by radix, length and tweak length), so a
// round costs ceil((1 + b + fill) / 16) AES blocks: a single block whenever b <= 15.
//
// FF1 is not constant-time: the running time depends on the lengths, and the BIGNUM
// path on the values. It hides the value, not its format or length.
//
// Thread safety: every method is const and safe to call from many threads.
#ifndef PIICRYPT_SRC_FPE_FF1_H_
#define PIICRYPT_SRC_FPE_FF1_H_

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/context_pool.h"

namespace piicrypt::internal {

inline constexpr uint32_t kFf1MinRadix = 2;
inline constexpr uint32_t kFf1MaxRadix = 65536;
// radix^length must be at least this (SP 800-38G Rev. 1, section 5.2).
inline constexpr uint32_t kFf1MinDomain = 1000000;
// Longest message, in numerals (maxlen).
inline constexpr size_t kFf1MaxLength = 4096;
// Longest tweak, in bytes (maxTlen).
inline constexpr size_t kFf1MaxTweakSize = 4096;

// True iff radix^length >= 1,000,000, computed exactly. `radix` >= 2.
bool Ff1DomainIsLargeEnough(uint32_t radix, size_t length);

// Checks the parameters of a call without looking at the numerals: radix range, domain,
// maximum length and tweak size. kInvalidArgument names the parameter at fault.
[[nodiscard]] absl::Status CheckFf1Parameters(uint32_t radix, size_t length, size_t tweak_size);

// The keyed AES context of one thread's calls, and the cache of the encrypted P blocks.
struct Ff1Context;

class Ff1 {
 public:
  // `key` is 16, 24 or 32 bytes (AES-128, -192, -256); kInvalidArgument otherwise.
  static absl::StatusOr<std::unique_ptr<Ff1>> Create(absl::Span<const uint8_t> key);

  Ff1(const Ff1&) = delete;
  Ff1& operator=(const Ff1&) = delete;
  ~Ff1();

  // Encrypts the numerals `in` into `out` (same size; `out` may be `in` itself).
  // `out` is written only once every round has succeeded; after a bad-input error it is
  // untouched.
  [[nodiscard]] absl::Status Encrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                                     absl::Span<const uint16_t> in, absl::Span<uint16_t> out) const;
  [[nodiscard]] absl::Status Decrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                                     absl::Span<const uint16_t> in, absl::Span<uint16_t> out) const;

  // Allocating conveniences.
  absl::StatusOr<std::vector<uint16_t>> Encrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                                                absl::Span<const uint16_t> in) const;
  absl::StatusOr<std::vector<uint16_t>> Decrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                                                absl::Span<const uint16_t> in) const;

  size_t key_size() const { return key_.size(); }

 private:
  Ff1(SecretData key, const EVP_CIPHER* cipher);
  // A freshly keyed context for the pool; nullptr if OpenSSL fails.
  std::unique_ptr<Ff1Context> NewContext() const;
  absl::Status Run(bool encrypt, uint32_t radix, absl::Span<const uint8_t> tweak,
                   absl::Span<const uint16_t> in, absl::Span<uint16_t> out) const;

  const SecretData key_;
  const EVP_CIPHER* const cipher_;
  mutable ContextPool<Ff1Context, 8> pool_;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FPE_FF1_H_
