// format_preserving.h: encrypts field values so that they keep their shape.
//
// A building block (piicrypt/subtle/): a policy's MODE_FORMAT_PRESERVING fields are
// encrypted by FieldCryptor (field_cryptor.h), under the key the rule names. Use
// FormatPreservingField for FF1 under a key you manage outside piicrypt's keysets.
//
// A legacy system may insist that a phone number still looks like a phone number, or a
// receipt may need the last four digits of a card. A FormatPreservingField encrypts
// such a value with FF1 (NIST SP 800-38G Rev. 1) into a value of the same format:
//
//   piicrypt::FpeFieldOptions options;
//   options.context = "orders.phone";
//   options.codec = piicrypt::FpeCodec::kPhone;
//   PIICRYPT_ASSIGN_OR_RETURN(
//       auto phone, piicrypt::FormatPreservingField::CreateFromRoot(options, root_material));
//   PIICRYPT_ASSIGN_OR_RETURN(std::string ct, phone->Encrypt("+61 2 5550 0199", order_id));
//   // ct is, say, "+38 0 1742 6630": same length, same '+' and spaces, other digits.
//   PIICRYPT_ASSIGN_OR_RETURN(std::string pt, phone->Decrypt(ct, order_id));
//
// Codecs (what is encrypted, what is kept):
//   kPhone     ASCII digits are encrypted (radix 10); a leading '+', spaces and the
//              punctuation ( ) - . / stay where they are. Anything else is an error.
//   kCard      A payment card number of 12 to 19 digits, optionally grouped with spaces
//              or '-'. The last 4 digits (and, with card_keep_first_six, the first 6)
//              stay; the digits between are encrypted. The input must pass the Luhn
//              check. The output fails it on purpose by default (LuhnOutput::kInvalid:
//              the Luhn sum of every output is 5 mod 10, so a token is never mistaken
//              for a card), or passes it (LuhnOutput::kValid). See docs/FPE.md.
//   kAlphabet  Every character (Unicode code point, UTF-8 in and out) must be in
//              `alphabet` or in `keep_characters`; the former are encrypted as numerals
//              of radix alphabet-size, the latter stay in place. For postcodes,
//              customer numbers and other identifiers.
//
// Limits: what is encrypted must have a domain of at least 1,000,000 values
// (radix^count, e.g. 6 digits or 4 upper-case alphanumerics); values are at most
// kMaxFpeValueSize bytes. FF1 hides the value, not its format or length, and it is
// deterministic: equal values (under the same record) give equal ciphertexts.
//
// Record binding: a non-empty `record` is the FF1 tweak. The same value in another row
// then encrypts differently, and a ciphertext moved to another row decrypts to a wrong
// value (FF1 has no integrity check: decryption never "fails" on a moved value).
//
// Keys: an FF1 value carries no key id. The field's key version must be known from
// outside the value (the field policy or a key-version column); docs/FPE.md explains
// how such a column is rotated.
//
// Errors: kInvalidArgument with "<context>: <reason>", for a value that does not match
// its codec or whose domain is too small. The message never contains the value, and
// nothing is ever passed through unencrypted.
//
// Thread safety: every method is const and safe to call from many threads.
#ifndef PIICRYPT_SUBTLE_FORMAT_PRESERVING_H_
#define PIICRYPT_SUBTLE_FORMAT_PRESERVING_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/field_options.h"
#include "piicrypt/secret_data.h"

namespace piicrypt {

// Longest value accepted by Encrypt and Decrypt, in bytes.
inline constexpr size_t kMaxFpeValueSize = 4096;

class PIICRYPT_EXPORT FormatPreservingField {
 public:
  // With an FF1 key of 16, 24 or 32 bytes (AES-128, -192, -256), held by the caller.
  static absl::StatusOr<std::unique_ptr<FormatPreservingField>> CreateWithKey(
      const FpeFieldOptions& options, const SecretData& ff1_key);
  // With the FF1 key derived from a data key's 32-byte root material (docs/SPEC.md: HKDF-
  // SHA256, purpose "ff1", the field's context; AES-256).
  static absl::StatusOr<std::unique_ptr<FormatPreservingField>> CreateFromRoot(
      const FpeFieldOptions& options, const SecretData& root_material);

  virtual ~FormatPreservingField() = default;

  virtual absl::StatusOr<std::string> Encrypt(absl::string_view value,
                                              absl::string_view record = {}) const = 0;
  virtual absl::StatusOr<std::string> Decrypt(absl::string_view value,
                                              absl::string_view record = {}) const = 0;

  virtual absl::string_view context() const = 0;
  virtual FpeCodec codec() const = 0;
};

}  // namespace piicrypt

#endif  // PIICRYPT_SUBTLE_FORMAT_PRESERVING_H_
