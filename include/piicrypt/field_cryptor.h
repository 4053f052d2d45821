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
//   // Finding it again, also while a key rotation is under way: lookup.h does it in one
//   // call each (the index values, the SQL IN list, the filter that decrypts and compares).
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Lookup lookup,
//       piicrypt::Lookup::Create(*cryptor, "orders.customer_email", typed_email));
//
//   // Reading it back, and logging it:
//   PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email,
//                             cryptor->Decrypt("orders.customer_email", email_ct, order_id));
//   if (email) LOG(INFO) << cryptor->MaskValue("orders.customer_email", *email);  // "j***@..."
//
//   // A value that cannot be NULL (a NOT NULL column): a plain result, nothing to unwrap.
//   PIICRYPT_ASSIGN_OR_RETURN(std::string name_ct,
//                             cryptor->EncryptValue("orders.customer_name", name, order_id));
//
// NULL: std::nullopt in, std::nullopt out. A `const char*` value does not compile: C APIs
// (sqlite3_column_text) return a null pointer for SQL NULL, which as a string view would be
// "" and be encrypted as a value. Pass piicrypt::NullableText(p) (nullptr is NULL) or
// absl::string_view(p) (never null); literals, std::string and string views are taken.
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
// (rotation, disabling a key), read it again and create a new cryptor, or serve through a
// KeyHandle (key_handle.h), which reloads the files and swaps cryptors while calls go on.
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
#include <type_traits>
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

// A C string that may be a null pointer (what sqlite3_column_text and PQgetvalue-style
// APIs return for SQL NULL) as a NullableValue: nullptr is std::nullopt. The value
// parameters of FieldCryptor do not take a `const char*` at all (a compile error, see
// below): convert with NullableText, or with absl::string_view when the pointer can never
// be null.
//
//   auto text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
//   PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email,
//                             cryptor->Decrypt("orders.customer_email",
//                                              piicrypt::NullableText(text), order_id));
inline NullableValue NullableText(const char* text) {
  if (text == nullptr) return std::nullopt;
  return absl::string_view(text);
}
// The same with a length (sqlite3_column_bytes), for values that may hold NUL bytes.
inline NullableValue NullableText(const char* text, size_t size) {
  if (text == nullptr) return std::nullopt;
  return absl::string_view(text, size);
}

namespace internal {
// True for the argument types a value parameter refuses: a pointer to characters, which
// may be null and would otherwise turn into an empty string (absl::string_view(nullptr)
// is ""), and nullptr itself. String literals (arrays), std::string, absl::string_view,
// NullableValue and std::nullopt are taken. `T` is a forwarding-reference deduction.
template <typename T>
constexpr bool kIsCharPointer =
    std::is_same_v<std::decay_t<std::remove_reference_t<T>>, std::nullptr_t> ||
    (std::is_pointer_v<std::remove_reference_t<T>> &&
     std::is_same_v<std::remove_cv_t<std::remove_pointer_t<std::remove_reference_t<T>>>, char>);
template <typename T>
using RejectCharPointer = std::enable_if_t<kIsCharPointer<T>, int>;
}  // namespace internal

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
  // The plaintext of a stored text-form value that is not NULL, written into `*out` in the
  // same way: the inverse of EncryptTo, for a loop that reads many rows. The same result
  // and errors as Decrypt; `*out` is left empty on failure.
  //
  //   std::string email;
  //   while (sqlite3_step(select) == SQLITE_ROW) {
  //     PIICRYPT_RETURN_IF_ERROR(cryptor->DecryptTo("orders.customer_email", Text(select, 1),
  //                                                 Text(select, 0), &email));
  //     ...
  //   }
  absl::Status DecryptTo(absl::string_view field, absl::string_view stored,
                         absl::string_view record, std::string* out) const;

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
  // The blind index of a value that is not NULL, written into `*out` (its contents
  // replaced, its capacity reused), as EncryptTo does for ciphertexts: for a loop that
  // binds each index to a statement. The same bytes and errors as BlindIndex; `*out` is
  // left empty on failure. Threads may share the cryptor, not `*out`.
  //
  //   std::string idx;
  //   for (const Order& o : orders) {
  //     PIICRYPT_RETURN_IF_ERROR(cryptor->BlindIndexTo("orders.customer_email", o.email, &idx));
  //     sqlite3_bind_text(insert, 3, idx.data(), idx.size(), SQLITE_TRANSIENT);  // copies
  //     ...
  //   }
  absl::Status BlindIndexTo(absl::string_view field, absl::string_view value,
                            std::string* out) const;
  // The blind indexes under every ENABLED key, the primary's first: query them all
  // (`WHERE idx IN (...)`) so that rows written before a rotation are still found.
  absl::StatusOr<std::vector<std::string>> LookupIndexes(absl::string_view field,
                                                         absl::string_view value) const;

  // ---- compound and transformed indexes (the policy's `index` entries, policy.h) -------
  // The value of compound index `index` for one row, under the primary key: `values` holds
  // the parts' field values (as the application has them; each part transforms its own),
  // in the index's order; std::nullopt if any of them is NULL. kNotFound for an index not
  // in the policy; kInvalidArgument for the wrong number of values or a value a transform
  // refuses (too few digits, not an e-mail address), naming the index and the part's field.
  //
  //   PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> idx,
  //       cryptor->CompoundIndex("orders.surname_postcode", {surname, postcode}));
  absl::StatusOr<std::optional<std::string>> CompoundIndex(
      absl::string_view index, absl::Span<const NullableValue> values) const;
  // The values under every ENABLED key, the primary's first, for a lookup (lookup.h builds
  // the query and filters the rows).
  absl::StatusOr<std::vector<std::string>> CompoundLookupIndexes(
      absl::string_view index, absl::Span<const absl::string_view> values) const;
  // `value` of part `part` (from 0) of `index` through the part's transform: what the index
  // is computed over, and what a lookup compares after decryption.
  absl::StatusOr<std::string> CompoundIndexPart(absl::string_view index, size_t part,
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

  // ---- values that cannot be NULL ------------------------------------------------------
  // The same bytes and errors as Encrypt, Decrypt and BlindIndex, for a value the
  // application knows is present (a NOT NULL column, a form field): no std::optional to
  // unwrap.
  //
  //   PIICRYPT_ASSIGN_OR_RETURN(std::string name_ct,
  //                             cryptor->EncryptValue("orders.customer_name", name, order_id));
  absl::StatusOr<std::string> EncryptValue(absl::string_view field, absl::string_view value,
                                           absl::string_view record = {}) const;
  absl::StatusOr<std::string> DecryptValue(absl::string_view field, absl::string_view stored,
                                           absl::string_view record = {}) const;
  absl::StatusOr<std::string> BlindIndexValue(absl::string_view field,
                                              absl::string_view value) const;
  // The value masked per the field's rule, as Mask does, for logs: never fails. A field
  // not in the policy is masked in full ("***"), so a misspelt field name in a log
  // statement hides the value instead of failing or leaking it.
  //
  //   LOG(INFO) << "order for " << cryptor->MaskValue("orders.customer_email", email);
  std::string MaskValue(absl::string_view field, absl::string_view value) const;

  // ---- what the value parameters refuse -----------------------------------------------
  // A `const char*` (or `char*`, or nullptr) does not compile as a value: a null pointer,
  // which is how C APIs such as sqlite3_column_text report SQL NULL, would otherwise become
  // an empty string and be encrypted, indexed or masked as one. Pass
  // piicrypt::NullableText(p) (nullptr is NULL), or absl::string_view(p) when `p` is never
  // null. String literals, std::string and absl::string_view are taken as they are.
  template <typename T, internal::RejectCharPointer<T> = 0>
  void Encrypt(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void Decrypt(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void EncryptBinary(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void DecryptBinary(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void EncryptTo(absl::string_view, T&&, absl::string_view, std::string*) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void DecryptWithKey(absl::string_view, uint32_t, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void Normalize(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void BlindIndex(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void BlindIndexTo(absl::string_view, T&&, std::string*) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void LookupIndexes(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void Mask(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void EncryptValue(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void DecryptValue(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void BlindIndexValue(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void MaskValue(absl::string_view, T&&) const = delete;

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
