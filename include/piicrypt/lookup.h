// lookup.h: finding rows by a personal value, in one call each: the blind-index values to
// query, the SQL condition that queries them, and the filter that keeps exactly the rows
// whose decrypted value matches.
//
//   // A customer types their e-mail at the help desk, in their own way:
//   PIICRYPT_ASSIGN_OR_RETURN(
//       piicrypt::Lookup lookup,
//       piicrypt::Lookup::Create(*cryptor, "orders.customer_email", "  Jane.Doe@Example.COM "));
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SqlInList in,
//                             lookup.SqlIn(piicrypt::SqlPlaceholders::kQuestionMark));
//   // in.sql: "customer_email_idx" IN (?,?)   (one value per enabled key, primary first)
//   std::string sql = absl::StrCat("SELECT id, customer_email FROM orders WHERE ", in.sql);
//   ... prepare; bind in.bindings[i] as parameter i + 1 ...
//   while (sqlite3_step(stmt) == SQLITE_ROW) {
//     PIICRYPT_ASSIGN_OR_RETURN(
//         std::optional<std::string> email,
//         lookup.MatchValue(IdText(stmt, 0), piicrypt::NullableText(Text(stmt, 1))));
//     if (!email) continue;  // another value sharing the truncated index: dropped
//     ...                    // a match; *email is its decrypted value
//   }
//
// Names: a field whose rule has a blind_index (one value), or a compound index of the
// policy (`index { ... }`, policy.h: one value per part, in the index's order).
//
// Index values: the value normalized (or transformed) as the policy says, under every
// ENABLED key, the primary's first, so rows written before a key rotation are found too.
// A blind index is truncated on purpose (docs/FIELDS.md, "Choosing blind index bits"):
// other values share it, and the query returns their rows as well.
//
// The filter: each candidate row's stored value (for a compound index, one per part: the
// part's field's stored value, in the index's order, even when two parts name one field)
// is decrypted with the row's record id, normalized or transformed the same way, and
// compared in constant time with what was looked up. Only rows equal in every part match,
// so rows that merely share an index value never reach the application. A candidate whose
// stored value is NULL does not match.
//
// Fail closed: a candidate that does not decrypt (tampered, truncated, copied from another
// row or column, under a disabled or destroyed key) is an error, never a silent drop and
// never a match: the call returns the cryptor's error (kInvalidArgument "<field>:
// decryption failed", kFailedPrecondition for a disabled key, kNotFound for a destroyed
// one); Filter names the row ("row 3: ..."). A lookup over rows an attacker may have
// written therefore either proves each returned row authentic or fails. Disable a key
// only once no row is left under it (`piicrypt reencrypt`, docs/ROTATION.md).
//
// Lifetime: a Lookup made from a FieldCryptor refers to it: REQUIRES the cryptor outlives
// the lookup. One made from a KeyHandle holds the handle's current snapshot, so its index
// values and its filter use the same keys even if a reload happens meanwhile.
//
// Thread safety: a Lookup is immutable once made; its methods are const and safe to call
// from many threads. The value looked up is kept, wiped on destruction; it never appears
// in an error message.
#ifndef PIICRYPT_LOOKUP_H_
#define PIICRYPT_LOOKUP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/key_handle.h"
#include "piicrypt/secret_data.h"

namespace piicrypt {

// ---- the SQL side ------------------------------------------------------------------------

// How the SQL text marks its parameters.
enum class SqlPlaceholders {
  kQuestionMark,    // "?" (SQLite; parameters numbered by position)
  kDollarNumbered,  // "$1", "$2", ... (PostgreSQL: PQexecParams, PQprepare)
};

// A condition `"column" IN (?,?,...)` and the values to bind to it.
struct SqlInList {
  std::string sql;                    // such as "email_idx" IN ($3,$4)
  std::vector<std::string> bindings;  // in placeholder order
  int first_parameter = 1;            // the number of bindings[0]
  int next_parameter = 1;             // the number after the last binding

  // Pointers to the bindings (NUL-terminated), as PQexecParams' paramValues takes them;
  // valid while this object is unchanged.
  std::vector<const char*> ParamValues() const;
};

// Builds `column IN (...)` with one placeholder per value. `column` is a plain identifier
// ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes), optionally qualified ("o.email_idx"); it is
// written double-quoted ("o"."email_idx"), so it must match the column's name exactly
// (PostgreSQL folds unquoted names to lower case: use lower-case names). On SQLite, turn off
// double-quoted string literals on the connection first
// (`sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr)`): otherwise SQLite reads a
// quoted name that is not a column of the table as a string, and a misspelt column finds no
// rows instead of failing to prepare. Anything else is
// kInvalidArgument and no SQL is built. `first_parameter` (1 to 32766) is the number of the
// first placeholder: with kDollarNumbered it is written ($3); with kQuestionMark the
// condition must follow exactly first_parameter - 1 earlier parameters. kInvalidArgument
// for no values (SQL has no empty IN list).
PIICRYPT_EXPORT absl::StatusOr<SqlInList> SqlIn(absl::string_view column,
                                                absl::Span<const std::string> values,
                                                SqlPlaceholders placeholders,
                                                int first_parameter = 1);

// ---- lookups -----------------------------------------------------------------------------

// One row returned by a lookup's query.
struct LookupCandidate {
  LookupCandidate() = default;
  LookupCandidate(absl::string_view record_id, std::vector<NullableValue> stored_values,
                  std::vector<uint32_t> part_key_ids = {})
      : record(record_id), stored(std::move(stored_values)), key_ids(std::move(part_key_ids)) {}

  // The row's record id (what its values were bound to when written; "" for fields
  // without bind_record).
  absl::string_view record;
  // The stored values: one per part (a field lookup: the field's stored value).
  std::vector<NullableValue> stored;
  // FF1 fields whose key is in a key-version column: the row's key id for each part (0 for
  // the other parts); empty when no part needs one.
  std::vector<uint32_t> key_ids;
};

class PIICRYPT_EXPORT Lookup {
 public:
  // A lookup of `value` (as the user typed it) in field `name` (which has a blind index) or
  // in compound index `name` of one part. kNotFound for a name in neither; kFailedPrecondition
  // for a field without a blind index; kInvalidArgument for a value its normalizer or
  // transform refuses (naming the field, never the value).
  static absl::StatusOr<Lookup> Create(const FieldCryptor& cryptor, absl::string_view name,
                                       absl::string_view value);
  // A lookup in compound index `name` of `values` (one per part, in the index's order; a
  // field takes one value).
  static absl::StatusOr<Lookup> Create(const FieldCryptor& cryptor, absl::string_view name,
                                       absl::Span<const absl::string_view> values);
  // The same on a KeyHandle's current snapshot, which the lookup keeps.
  static absl::StatusOr<Lookup> Create(const KeyHandle& keys, absl::string_view name,
                                       absl::string_view value);
  static absl::StatusOr<Lookup> Create(const KeyHandle& keys, absl::string_view name,
                                       absl::Span<const absl::string_view> values);
  // As on FieldCryptor, a `const char*` value does not compile (NULL is no value to look
  // up): pass absl::string_view(p) when `p` is never null.
  template <typename T, internal::RejectCharPointer<T> = 0>
  static void Create(const FieldCryptor&, absl::string_view, T&&) = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  static void Create(const KeyHandle&, absl::string_view, T&&) = delete;

  // The field or compound index looked up.
  const std::string& name() const { return name_; }
  // The column holding the index values (the policy's, or its default).
  const std::string& column() const { return column_; }
  // The fields whose stored values the filter takes, one per part, in order.
  const std::vector<std::string>& fields() const { return fields_; }
  // The index values to query: one per ENABLED key, the primary's first.
  const std::vector<std::string>& index_values() const { return index_values_; }

  // `column() IN (...)` over index_values(), as SqlIn (above) builds it; `column` names
  // another spelling of the column (a qualified one, "o.email_idx").
  absl::StatusOr<SqlInList> SqlIn(SqlPlaceholders placeholders, int first_parameter = 1) const;
  absl::StatusOr<SqlInList> SqlIn(absl::string_view column, SqlPlaceholders placeholders,
                                  int first_parameter = 1) const;

  // Whether one candidate row matches in every part. Errors: see "Fail closed" above.
  absl::StatusOr<bool> Matches(const LookupCandidate& row) const;
  // A lookup of one part (a field, or a one-part index): the decrypted value of a row that
  // matches, std::nullopt for a row that does not (or whose stored value is NULL). `key_id`:
  // as LookupCandidate::key_ids.
  absl::StatusOr<std::optional<std::string>> MatchValue(absl::string_view record,
                                                        NullableValue stored,
                                                        uint32_t key_id = 0) const;
  // The positions (from 0, ascending) of the candidates that match. The first candidate
  // that fails to decrypt fails the call, naming its position ("row 3: ...").
  absl::StatusOr<std::vector<size_t>> Filter(absl::Span<const LookupCandidate> rows) const;

 private:
  Lookup() = default;
  static absl::StatusOr<Lookup> Make(const FieldCryptor& cryptor,
                                     std::shared_ptr<const KeySnapshot> snapshot,
                                     absl::string_view name,
                                     absl::Span<const absl::string_view> values);
  // Decrypts part `i` of a row and compares it; `*plain` receives the decrypted value.
  absl::StatusOr<bool> MatchPart(size_t i, absl::string_view record, absl::string_view stored,
                                 uint32_t key_id, std::string* plain) const;

  const FieldCryptor* cryptor_ = nullptr;
  std::shared_ptr<const KeySnapshot> snapshot_;  // KeyHandle lookups: keeps cryptor_ alive
  bool compound_ = false;
  std::string name_;
  std::string column_;
  std::vector<std::string> fields_;
  std::vector<std::string> index_values_;
  std::vector<ScratchData> wanted_;  // each part's normalized or transformed value
};

}  // namespace piicrypt

#endif  // PIICRYPT_LOOKUP_H_
