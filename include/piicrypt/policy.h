// policy.h: how each personal field of an application is protected.
//
// A Policy holds one FieldRule per field, named by the field's CONTEXT (for example
// "orders.customer_email"; the name is bound into every ciphertext and selects the derived
// keys). It is usually loaded from a textproto file (proto/piicrypt/policy.proto; a full
// example is examples/policies/orders.textproto, explained in docs/FIELDS.md):
//
//   field {
//     name: "orders.customer_email"
//     kind: KIND_EMAIL
//     mode: MODE_RANDOMIZED
//     bind_record: true
//     blind_index { bits: 32 normalizer: "email" }
//     mask: MASK_EMAIL
//   }
//
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy,
//                             piicrypt::Policy::ReadFile("/etc/piicrypt/orders.textproto"));
//
// Beside the fields, `index { ... }` entries declare compound and transformed blind indexes
// (phone last 4, name + postcode; CompoundIndexRule below).
//
// or built in code, validated the same way:
//
//   piicrypt::FieldRule email;
//   email.name = "orders.customer_email";
//   email.kind = piicrypt::FieldKind::kEmail;
//   email.blind_index = piicrypt::BlindIndexRule{/*bits=*/32};
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::Create({email}));
//
// Validation happens once, when a policy is created or loaded: a rule that makes no sense
// (a blind index of fewer than 8 bits, an FF1 codec on a free-text field, an FF1 or
// vaultless field that does not say where its key is, a mask that does not fit the kind,
// an unknown normalizer, an unknown phone region, two rules for one field, ...) is rejected with
// kInvalidArgument, and the message names the field. Defaults that depend on the field's
// kind (normalizer, mask) are resolved then, so rules() shows what will be applied.
//
// Thread safety: a Policy is an immutable value once created; copy it freely.
#ifndef PIICRYPT_POLICY_H_
#define PIICRYPT_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"
#include "piicrypt/field_options.h"

namespace piicrypt {

// How a field's values are stored: FieldMode (field_options.h), the `mode` of the policy
// file. Deprecated spelling, kept so that code written against it still compiles:
using FieldProtection = FieldMode;

// What a field holds. It selects the default normalizer and mask, and which FF1 codec (if
// any) makes sense. kUnspecified becomes the kind of the FF1 codec, or kText.
enum class FieldKind {
  kUnspecified,
  kText,        // free text: no FF1
  kEmail,       // default normalizer email, mask kEmail; no FF1
  kPhone,       // default normalizer phone, mask kPhone; FF1 codec kPhone
  kName,        // default normalizer name, mask kInitials; no FF1
  kAddress,     // free text; no FF1
  kCard,        // card numbers or their last digits: mask kLast4; FF1 codec kCard
  kIdentifier,  // postcodes, customer numbers: FF1 codec kAlphabet
};

// How a value is normalized before its blind index is computed, so that equal values
// written differently find each other.
enum class Normalizer {
  kDefault,  // the kind's default (in rules() after validation: never kDefault)
  kExact,    // the bytes as given
  kEmail,    // white space trimmed, lower-cased (ASCII and Unicode)
  kPhone,    // E.164 ("+61255500199") through libphonenumber; invalid numbers are errors
  kName,     // Unicode NFKC case folding, white space collapsed to one space and trimmed
};
// "exact", "email", "phone", "name" (the policy file's and the CLI's spelling).
PIICRYPT_EXPORT absl::string_view NormalizerName(Normalizer normalizer);
// The inverse of NormalizerName; kInvalidArgument naming the known normalizers otherwise.
PIICRYPT_EXPORT absl::StatusOr<Normalizer> ParseNormalizer(absl::string_view name);

// How a plaintext value is shown in logs and on screens (FieldCryptor::Mask, Redact).
enum class MaskStyle {
  kDefault,   // the kind's default (in rules() after validation: never kDefault)
  kFull,      // "***" whatever the value
  kEmail,     // "j***@example.com": first character of the local part, the domain
  kPhone,     // "*** *** 0199": the last four digits only
  kInitials,  // "J. D.": the upper-cased first letter of each word
  kLast4,     // "**** 1234": the last four digits only
};

// A blind index (an HMAC of the normalized value, cut to `bits`) stored beside a
// randomized field, for equality lookups.
struct BlindIndexRule {
  // 8 to 256. Fewer bits mean more rows share each index value (a lookup returns a few
  // false positives to filter after decryption) and less is revealed about equality;
  // below 8 bits an index no longer narrows a lookup at all. docs/FIELDS.md: choosing bits.
  int bits = 32;
  Normalizer normalizer = Normalizer::kDefault;
  // Phone normalizer only: the region (ISO 3166 alpha-2, such as "AU") assumed for
  // numbers written without a leading '+'. Empty: such numbers are errors.
  std::string default_region;
  // The table column that stores the index, for RowCryptor and `piicrypt reencrypt`
  // (docs/ROWS.md): a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes;
  // others are refused). Empty: the field's column (FieldRule::column) followed by "_idx";
  // after validation, set whenever the field has a column.
  std::string column;
};

// Format-preserving (FF1) encryption of a field.
struct FormatPreservingRule {
  // The codec and its options; `codec.context` is ignored (the rule's name is used).
  FpeFieldOptions codec;
  // An FF1 value carries no key id, and any key decrypts it to some value of the right
  // format, so its key is known from outside the value (docs/FPE.md). REQUIRED: key_id,
  // key_version_column, or both; a rule with neither is refused.
  //
  // The data key whose material derives the FF1 key: without a key_version_column, the
  // key of every value of the column (FieldCryptor::Decrypt uses it); with one, the key
  // new values are written under (0: the keyset's primary when the FieldCryptor is
  // created, recorded in the row's key-version column).
  uint32_t key_id = 0;
  // The table column holding each row's key id for this value (docs/FPE.md), written in
  // the same statement as the value (FieldCryptor::WriteKeyId) and read back for
  // FieldCryptor::DecryptWithKey; needed by `piicrypt reencrypt`. Empty: none. A plain
  // SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes).
  std::string key_version_column;
};

// The data subject (customer) a field belongs to (docs/SUBJECTS.md): its values are
// encrypted under the subject's own key, which `SubjectCryptor::Forget` destroys.
struct SubjectRule {
  // The column of the same row holding the subject id; empty: the caller passes it. A
  // plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes).
  std::string column;
};

struct FieldRule {
  // The field's CONTEXT: non-empty, at most 1024 bytes, valid UTF-8 without control
  // characters (C0, DEL, C1), unique within a policy.
  std::string name;
  FieldKind kind = FieldKind::kUnspecified;
  // The policy file's `mode` (MODE_RANDOMIZED is FieldMode::kRandomized, and so on).
  FieldMode mode = FieldMode::kRandomized;
  // Bind values to their record (row) id: a value moved to another row fails to decrypt
  // (or, for FF1, decrypts to a wrong value). Encrypting then requires a record id.
  // Refused for kVaultToken (a token stands for its value wherever it is stored).
  bool bind_record = false;
  std::optional<BlindIndexRule> blind_index;
  // REQUIRED for kFormatPreserving, forbidden otherwise.
  std::optional<FormatPreservingRule> format_preserving;
  // Must fit the kind (kFull fits every kind; kEmail: kEmail; kPhone: kPhone; kInitials:
  // kName; kLast4: kCard, kPhone, kIdentifier); docs/FIELDS.md, "Masks".
  MaskStyle mask = MaskStyle::kDefault;
  // kVaultToken only: the field's token settings (`field` is set to `name`; `clock` is not
  // part of a policy). Absent for kVaultToken: TokenizerOptions' defaults. Create the
  // field's tokenizer with Tokenizer::CreateForField.
  std::optional<TokenizerOptions> token;
  // kRandomized and kDeterministic only: how values are padded before encryption, so that
  // ciphertexts reveal only the size class of a value's length (FieldPadding; docs/FIELDS.md,
  // "Padding"). Default: none.
  FieldPadding padding;

  // ---- where the values are stored (docs/ROWS.md) --------------------------------------
  // The table and column of the field's values, for RowCryptor (row_cryptor.h) and
  // `piicrypt reencrypt`. They are not bound into ciphertexts: when the database renames
  // a column, the policy says so here and the name (the CONTEXT) stays, so stored values
  // still decrypt. Plain SQL identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes).
  // Empty: read from a name of the form "TABLE.COLUMN" (the parts before and after its
  // last '.', when both are plain identifiers); after validation both are set, or both
  // are empty (a field stored nowhere the policy knows, such as a message field). A
  // column without a table (or a table without a column) is refused, and so is a column
  // of a table that two fields (their values, blind indexes or key-version columns) share.
  std::string table;
  std::string column;

  // kRandomized only: the field belongs to a data subject and is encrypted by a
  // SubjectCryptor (subject_cryptor.h), never by FieldCryptor. Default: none.
  std::optional<SubjectRule> subject;
};

// ---- compound and transformed blind indexes ----------------------------------------------
// A blind index over one or more fields, each through a transform: the lookups a support
// desk makes without clear columns (surname + postcode, phone last 4, card last 4, e-mail
// domain). Values come from FieldCryptor::CompoundIndex, lookups from lookup.h.
// docs/FIELDS.md, "Compound and transformed indexes", says what each transform reveals;
// docs/SPEC.md has the format.

// How one part's field value is turned into the index's input. The numbers are part of
// the index's key derivation (docs/SPEC.md): never renumbered.
enum class IndexTransform {
  kNormalized = 1,   // the field's normalizer (its blind_index's, else the kind's default)
  kLastDigits = 2,   // the last n ASCII digits of the value; fewer than n digits: an error
  kFirstChars = 3,   // the first n characters (code points) of the normalized value
  kEmailDomain = 4,  // the domain (after '@') of the e-mail-normalized value; KIND_EMAIL only
  kDigitsOnly = 5,   // every ASCII digit of the value, in order; no digit: an error
};

struct IndexPart {
  // A field of the policy; not kVaultToken (a lookup's filter decrypts each part; an FF1
  // field whose key is in a key-version column takes the row's key id there, lookup.h).
  std::string field;
  IndexTransform transform = IndexTransform::kNormalized;
  // kLastDigits: 1 to 32; kFirstChars: 1 to 64; 0 for the other transforms.
  int n = 0;
  // kNormalized, kFirstChars and kEmailDomain: the normalizer applied first. kDefault: the
  // field's blind_index normalizer and region if it has one, else the kind's default (in
  // indexes() after validation: never kDefault; kExact for the digit transforms, which
  // take no normalizer). kEmailDomain requires kEmail.
  Normalizer normalizer = Normalizer::kDefault;
  std::string default_region;  // phone normalizer only
};

struct CompoundIndexRule {
  // The index's CONTEXT (it keys the index): non-empty, at most 1024 bytes, valid UTF-8
  // without control characters, unique among the policy's fields and indexes.
  std::string name;
  // The table column storing the index: a plain SQL identifier; empty: the part of the name
  // after the last '.' followed by "_idx".
  std::string column;
  // 8 to 256, as for a field's blind index (docs/FIELDS.md, "Choosing blind index bits").
  int bits = 0;
  // 1 to 8 parts, in the order their values are passed.
  std::vector<IndexPart> parts;
};

class PIICRYPT_EXPORT Policy {
 public:
  // Validates `rules` and resolves their defaults.
  static absl::StatusOr<Policy> Create(std::vector<FieldRule> rules);
  // The same with compound indexes, validated against `rules` (unknown fields, n out of
  // range, bits, duplicate names, transforms that do not fit the field).
  static absl::StatusOr<Policy> Create(std::vector<FieldRule> rules,
                                       std::vector<CompoundIndexRule> indexes);
  // Parses a textproto of piicrypt.Policy (proto/piicrypt/policy.proto). Syntax errors
  // name the line and column.
  static absl::StatusOr<Policy> ParseTextProto(absl::string_view text);
  // Reads and parses a textproto file: kNotFound if it does not exist, kPermissionDenied
  // if it cannot be read; errors start with the path.
  static absl::StatusOr<Policy> ReadFile(const std::string& path);

  // The rule of field `name`, or nullptr.
  const FieldRule* Find(absl::string_view name) const;
  // Every rule, in the order given.
  absl::Span<const FieldRule> rules() const { return rules_; }
  // The rule whose values are stored in `table`.`column` (FieldRule::table, ::column), or
  // nullptr (also for blind-index and key-version columns). Exact, case-sensitive names.
  const FieldRule* FindColumn(absl::string_view table, absl::string_view column) const;

  // The compound index `name`, or nullptr; every compound index, in the order given.
  const CompoundIndexRule* FindIndex(absl::string_view name) const;
  absl::Span<const CompoundIndexRule> indexes() const { return indexes_; }

 private:
  Policy(std::vector<FieldRule> rules, std::vector<CompoundIndexRule> indexes)
      : rules_(std::move(rules)), indexes_(std::move(indexes)) {}
  std::vector<FieldRule> rules_;
  std::vector<CompoundIndexRule> indexes_;
};

}  // namespace piicrypt

#endif  // PIICRYPT_POLICY_H_
