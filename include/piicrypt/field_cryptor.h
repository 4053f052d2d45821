// field_cryptor.h: encrypts, decrypts, indexes and masks the personal fields of an
// application, each as its Policy says.
//
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Read(path, *kek));
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ReadFile(policy_path));
//   PIICRYPT_ASSIGN_OR_RETURN(auto cryptor, piicrypt::FieldCryptor::Create(keyset, policy));
//
//   // Writing an order: NULL stays NULL (std::nullopt in, std::nullopt out).
//   PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email_ct,
//                             cryptor->Encrypt("orders.customer_email", email, order_id));
//   PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email_idx,
//                             cryptor->BlindIndex("orders.customer_email", email));
//   // INSERT INTO orders (id, customer_email, customer_email_idx) VALUES (?, ?, ?)
//
//   // Finding it again, also while a key rotation is under way:
//   PIICRYPT_ASSIGN_OR_RETURN(std::vector<std::string> idx,
//                             cryptor->LookupIndexes("orders.customer_email", typed_email));
//   // SELECT ... WHERE customer_email_idx IN (idx...)   then decrypt and compare
//
//   // Reading it back, and logging it:
//   PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email,
//                             cryptor->Decrypt("orders.customer_email", email_ct, order_id));
//   LOG(INFO) << *cryptor->Mask("orders.customer_email", email).value();  // "j***@example.com"
//
// Forms: Encrypt/Decrypt use the text form for string columns (base64url of the binary
// form, docs/SPEC.md; FF1 values keep their own format), EncryptBinary/DecryptBinary the
// binary form for BLOB/bytes columns (randomized and deterministic fields only).
//
// Records: `record` (for example the order's primary key) is bound into the ciphertext of
// fields whose rule has bind_record; a value copied into another row then fails to decrypt
// (FF1: decrypts to a wrong value). Such fields require a non-empty record. For fields
// without bind_record, `record` is ignored, so one record id may be passed for a whole row.
//
// Keys: new values are encrypted under the keyset's primary key (FF1 fields: under their
// rule's key, see policy.h and docs/FPE.md); values under any other ENABLED key decrypt.
// An FF1 value names no key and decrypts to *something* under any key, so Decrypt uses
// the rule's pinned key_id; a field with a key-version column is read with
// DecryptWithKey and the row's key id only (Decrypt is kFailedPrecondition).
// The cryptor is a snapshot of the keyset when Create ran: after the keyset file changes
// (rotation, disabling a key), read it again and create a new cryptor.
//
// Errors: a field not in the policy is kNotFound; every failed decryption (tampered,
// truncated, moved to another field or row, wrong mode) is kInvalidArgument with the one
// message "<field>: decryption failed"; a value under a disabled key is
// kFailedPrecondition, under a destroyed or unknown key kNotFound; a value that cannot be
// normalized or encoded (an invalid phone number, a card number failing the Luhn check) is
// kInvalidArgument naming the field and the problem. No message contains a value, a
// plaintext or key material. Batch calls fail as a whole, naming the row ("row 17: ...").
//
// Performance: every per-field object (keyed ciphers for every enabled key, blind indexers,
// FF1 codecs, normalizers) is built in Create; a call costs one hash lookup of the field
// name and no locks (docs/FIELDS.md, performance).
//
// Thread safety: every method is const and safe to call from many threads at once.
#ifndef PIICRYPT_FIELD_CRYPTOR_H_
#define PIICRYPT_FIELD_CRYPTOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace piicrypt {

// A nullable column value, as the API takes it: std::nullopt is SQL NULL.
using NullableValue = std::optional<absl::string_view>;

class PIICRYPT_EXPORT FieldCryptor {
 public:
  // Builds the per-field state of every rule of `policy` under the keys of `keyset`.
  // kFailedPrecondition if the keyset has no usable primary key or an FF1 rule names a
  // key that is not ENABLED; kNotFound if it names a key not in the keyset.
  static absl::StatusOr<std::unique_ptr<FieldCryptor>> Create(const Keyset& keyset,
                                                              const Policy& policy);
  ~FieldCryptor();
  FieldCryptor(const FieldCryptor&) = delete;
  FieldCryptor& operator=(const FieldCryptor&) = delete;

  // ---- one value ----------------------------------------------------------------------
  // Text form. kVaultToken fields are kFailedPrecondition (they go through the token vault).
  absl::StatusOr<std::optional<std::string>> Encrypt(absl::string_view field, NullableValue value,
                                                     absl::string_view record = {}) const;
  absl::StatusOr<std::optional<std::string>> Decrypt(absl::string_view field, NullableValue stored,
                                                     absl::string_view record = {}) const;
  // Binary form; kFailedPrecondition for FF1 and token fields.
  absl::StatusOr<std::optional<std::string>> EncryptBinary(absl::string_view field,
                                                           NullableValue value,
                                                           absl::string_view record = {}) const;
  absl::StatusOr<std::optional<std::string>> DecryptBinary(absl::string_view field,
                                                           NullableValue stored,
                                                           absl::string_view record = {}) const;

  // Text form of a value that is not NULL, written into `*out` (its contents replaced,
  // its capacity reused): for a loop that hands each result to something that copies it
  // (a bound statement parameter, an output buffer) and so needs no string of its own per
  // value. The same bytes as Encrypt and the same errors; `*out` is left empty on failure.
  // Threads may share the cryptor, not `*out`.
  //
  //   std::string ct;
  //   for (const Order& o : orders) {
  //     PIICRYPT_RETURN_IF_ERROR(cryptor->EncryptTo("orders.customer_email", o.email, o.id, &ct));
  //     sqlite3_bind_text(insert, 2, ct.data(), ct.size(), SQLITE_TRANSIENT);  // copies
  //     ...
  //   }
  absl::Status EncryptTo(absl::string_view field, absl::string_view value, absl::string_view record,
                         std::string* out) const;

  // FF1 fields only: decrypts under key `key_id` (any ENABLED key), the key id stored in
  // the row's key-version column (docs/FPE.md). Never pass a key id guessed or taken from
  // anywhere else: a wrong key gives a wrong value, not an error.
  absl::StatusOr<std::optional<std::string>> DecryptWithKey(absl::string_view field,
                                                            uint32_t key_id, NullableValue stored,
                                                            absl::string_view record = {}) const;
  // The key new values of `field` are encrypted under (what a key-version column records):
  // FF1 fields, the rule's key_id, or the primary when the rule has a key-version column
  // and no key_id; other fields, the primary.
  absl::StatusOr<uint32_t> WriteKeyId(absl::string_view field) const;

  // ---- blind indexes (fields whose rule has a blind_index) ---------------------------
  // The value normalized as the field's rule says.
  absl::StatusOr<std::string> Normalize(absl::string_view field, absl::string_view value) const;
  // The blind index under the primary key: store it beside the ciphertext.
  absl::StatusOr<std::optional<std::string>> BlindIndex(absl::string_view field,
                                                        NullableValue value) const;
  // The blind indexes under every ENABLED key, the primary's first: query them all
  // (`WHERE idx IN (...)`) so that rows written before a rotation are still found.
  absl::StatusOr<std::vector<std::string>> LookupIndexes(absl::string_view field,
                                                         absl::string_view value) const;

  // ---- display --------------------------------------------------------------------------
  // The value masked per the field's rule, for logs and screens ("j***@example.com").
  absl::StatusOr<std::optional<std::string>> Mask(absl::string_view field,
                                                  NullableValue value) const;

  // ---- a column of values ---------------------------------------------------------------
  // `records` is empty (no record ids) or holds one record id per value. Results are in
  // the order of `values`; the first failing row fails the call ("row N: ...", from 0).
  absl::StatusOr<std::vector<std::optional<std::string>>> EncryptBatch(
      absl::string_view field, absl::Span<const NullableValue> values,
      absl::Span<const absl::string_view> records = {}) const;
  absl::StatusOr<std::vector<std::optional<std::string>>> DecryptBatch(
      absl::string_view field, absl::Span<const NullableValue> stored,
      absl::Span<const absl::string_view> records = {}) const;
  absl::StatusOr<std::vector<std::optional<std::string>>> BlindIndexBatch(
      absl::string_view field, absl::Span<const NullableValue> values) const;

  // The policy this cryptor applies (defaults resolved).
  const Policy& policy() const;

 private:
  struct Rep;
  explicit FieldCryptor(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// Masks `value` in `style` (kDefault acts as kFull). Never fails: a value that does not
// fit the style (an e-mail without '@', fewer than four digits) is masked as "***".
PIICRYPT_EXPORT std::string MaskValue(MaskStyle style, absl::string_view value);

}  // namespace piicrypt

#endif  // PIICRYPT_FIELD_CRYPTOR_H_
