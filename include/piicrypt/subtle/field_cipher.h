// field_cipher.h: encrypts and decrypts one field (a CONTEXT such as
// "orders.customer_email") under one data key, in the stored format of docs/SPEC.md.
//
// A building block (piicrypt/subtle/): applications encrypt their fields through
// FieldCryptor (field_cryptor.h), which takes each field's mode, padding and key from the
// policy and the keyset. Use FieldCipher for one field under one data key you choose:
// another storage layer over the same format, interoperability tests.
//
//   PIICRYPT_ASSIGN_OR_RETURN(
//       auto cipher, piicrypt::FieldCipher::Create(key_id, root_material, "orders.phone",
//                                                  piicrypt::FieldMode::kRandomized));
//   PIICRYPT_ASSIGN_OR_RETURN(std::string ct, cipher->EncryptText("+61 2 5550 0199", order_id));
//   PIICRYPT_ASSIGN_OR_RETURN(std::string pt, cipher->DecryptText(ct, order_id));
//
// Modes: kRandomized (AES-256-GCM, a fresh 96-bit random nonce per value; reveals only
// the length) and kDeterministic (AES-SIV; equal values give equal ciphertexts, which
// is what makes equality lookups possible and is all it reveals).
//
// Padding: a cipher created with a FieldPadding (or turned into one by WithPadding) pads
// every value before encrypting it, inside the authenticated plaintext, so that its
// ciphertext reveals only the size class of the value's length (formats 0x03 and 0x04 of
// docs/SPEC.md). Every cipher decrypts both the padded and the unpadded forms.
//
// Record binding: a non-empty `record` (for example the order's primary key) is bound
// into the associated data; the ciphertext then fails to decrypt in any other row. A
// ciphertext moved to another field always fails, since the field name is bound too.
// Deterministic fields are normally not row-bound, or equality across rows is lost.
//
// Limits: one field key should encrypt at most 2^32 values in randomized mode (random
// nonces); rotate keys well before that.
//
// Errors: every failed decryption (including malformed padding inside an authentic
// ciphertext) is kInvalidArgument with the one message "<context>: decryption failed"; a
// ciphertext under another key is kNotFound.
// Thread safety: every method is const and safe to call from many threads.
#ifndef PIICRYPT_SUBTLE_FIELD_CIPHER_H_
#define PIICRYPT_SUBTLE_FIELD_CIPHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/field_options.h"
#include "piicrypt/secret_data.h"

namespace piicrypt {

class PIICRYPT_EXPORT FieldCipher {
 public:
  // Derives the field key from the data key's 32-byte `root_material` (HKDF-SHA256,
  // purpose "aead" or "daead"). REQUIRES: key_id != 0, non-empty `context` of at most
  // 1024 bytes, `mode` kRandomized or kDeterministic, a valid `padding`
  // (FieldPadding::Validate); kInvalidArgument otherwise.
  static absl::StatusOr<std::unique_ptr<FieldCipher>> Create(uint32_t key_id,
                                                             const SecretData& root_material,
                                                             absl::string_view context,
                                                             FieldMode mode,
                                                             const FieldPadding& padding = {});
  virtual ~FieldCipher() = default;

  // A cipher of the same key and field that writes values padded as `padding` says (or
  // unpadded, for no padding), sharing this one's keys: no key derivation.
  virtual absl::StatusOr<std::unique_ptr<FieldCipher>> WithPadding(
      const FieldPadding& padding) const = 0;

  // The size of the binary form of a value of `size` bytes in `mode` with `padding` (its
  // text form is base64url of that many bytes). REQUIRES: `mode` kRandomized or
  // kDeterministic. Values longer than kMaxPaddedValueSize are
  // refused by padded ciphers.
  static size_t CiphertextSize(FieldMode mode, const FieldPadding& padding, size_t size);
  static constexpr size_t kMaxPaddedValueSize = size_t{1} << 30;

  // Binary form.
  virtual absl::StatusOr<std::string> Encrypt(absl::string_view plaintext,
                                              absl::string_view record = {}) const = 0;
  virtual absl::StatusOr<std::string> Decrypt(absl::string_view ciphertext,
                                              absl::string_view record = {}) const = 0;
  // Text form: base64url of the binary form, without padding.
  virtual absl::StatusOr<std::string> EncryptText(absl::string_view plaintext,
                                                  absl::string_view record = {}) const = 0;
  virtual absl::StatusOr<std::string> DecryptText(absl::string_view text,
                                                  absl::string_view record = {}) const = 0;
  // The text form written into `*text` (replacing its contents), for callers that already
  // hold the string the result goes into: the same bytes as EncryptText, with no other
  // allocation than growing `*text`. On failure `*text` is left empty.
  [[nodiscard]] virtual absl::Status EncryptTextTo(absl::string_view plaintext,
                                                   absl::string_view record,
                                                   std::string* text) const = 0;
  // The binary form decrypted into `*plaintext` (replacing its contents): the same result
  // and errors as Decrypt, with no other allocation than growing `*plaintext`. On failure
  // `*plaintext` is left empty.
  [[nodiscard]] virtual absl::Status DecryptTo(absl::string_view ciphertext,
                                               absl::string_view record,
                                               std::string* plaintext) const = 0;

  virtual uint32_t key_id() const = 0;
  virtual FieldMode mode() const = 0;
  virtual absl::string_view context() const = 0;
  virtual const FieldPadding& padding() const = 0;

  // The key id in a binary or text ciphertext's header, without decrypting it:
  // kInvalidArgument if the input is not a piicrypt field ciphertext.
  static absl::StatusOr<uint32_t> KeyIdOf(absl::string_view ciphertext);
  static absl::StatusOr<uint32_t> KeyIdOfText(absl::string_view text);
};

}  // namespace piicrypt

#endif  // PIICRYPT_SUBTLE_FIELD_CIPHER_H_
