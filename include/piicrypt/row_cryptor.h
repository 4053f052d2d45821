// row_cryptor.h: protects a whole table row in one call, and reads it back in one call.
//
// A RowCryptor serves one table. The policy says which of its columns hold personal fields
// (FieldRule::table and ::column, by default the TABLE.COLUMN of the field's name); from a
// record id and the row's plaintext column values, Encrypt returns every column to store:
// ciphertexts, FF1 values, tokens, every blind index and every FF1 key-version column, each
// under its column name.
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto orders,
//                             piicrypt::RowCryptor::Create(keyset, policy, "orders"));
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Row stored,
//                             orders->Encrypt(order_id, {{"customer_name", name},
//                                                        {"customer_email", email},
//                                                        {"customer_phone", phone},  // may be NULL
//                                                        {"delivery_address", address},
//                                                        {"card_number", card}}));
//   // stored: customer_name, customer_email, customer_email_idx, customer_phone,
//   // customer_phone_idx, delivery_address, card_number (in the policy's order);
//   // INSERT INTO orders (id, <stored.names()>) VALUES (?, ...), each Row::Column's value
//   // bound (std::nullopt as NULL). Ids the database generates: see below.
//
//   // Reading it back (the blind-index columns are not needed):
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Row plain,
//                             orders->Decrypt(order_id, {{"customer_email", NullableText(p)}}));
//   const std::optional<std::string>* email = plain.Find("customer_email");  // NULL: nullopt
//
//   // Logging it: never fails, never shows more than the masks.
//   LOG(INFO) << "order " << order_id << ": " << orders->Mask({{"customer_email", *email}});
//   // order 42: customer_email="j***@example.com"
//
// Values: NULL is std::nullopt (NullableValue, as in field_cryptor.h), and stays NULL in every
// column derived from it (its blind index and key-version column too). As in FieldCryptor, a
// `const char*` value does not compile: pass piicrypt::NullableText(p).
//
// Record ids: `record` is bound into the fields whose rule has bind_record (field_cryptor.h).
// An integer id is turned into record bytes by RecordIdFromInt64 (decimal, no leading zeros:
// 42 is "42", never "042"), the same bytes `piicrypt reencrypt` reads from an INTEGER key
// column; the int64_t overloads do it for you. For ids the database generates
// (AUTOINCREMENT, SERIAL), see docs/ROWS.md: insert the row with its protected columns NULL,
// read the new id, encrypt and UPDATE in the same transaction.
//
// Columns given to Encrypt: every value column of the table's fields, each once (a NULL is
// passed as std::nullopt, not left out: a forgotten column is an error, not a NULL). For an
// UPDATE of some columns use EncryptColumns, which takes any of them. Errors, each naming the
// column (never the value):
//   kNotFound         a column that is no field of the table (a typo, a column renamed in
//                     the database but not in the policy, or a column that is not protected)
//   kInvalidArgument  a column given twice; a blind-index or key-version column given (they
//                     are computed); a column of the table missing (Encrypt); a value the
//                     field refuses (an invalid phone number, no record for a bound field)
// and FieldCryptor's and Tokenizer's errors, prefixed with "column NAME: ".
//
// Columns given to Decrypt: any value columns of the table (the result holds those, in the
// policy's order), the key-version column of each FF1 field that has one (required with
// its value), and blind-index columns, which are ignored. Unknown columns are kNotFound,
// duplicates kInvalidArgument; a value that does not decrypt is kInvalidArgument
// "column NAME: FIELD: decryption failed".
//
// Tokens: a MODE_VAULT_TOKEN field of the table is tokenized by Encrypt and detokenized by
// Decrypt, through its Tokenizer (tokenizer.h); vault tokens need RowOptions::token_store.
// A failing Encrypt may have stored tokens of the columns before the failing one (a
// deterministic field gives the value the same token next time).
//
// Keys: the Keyset form is a snapshot of its keyset, like FieldCryptor. The KeyHandle form
// follows the handle's reloads: each call runs on one snapshot (all columns of a row under
// the same keys and the same policy, so a column renamed in a reloaded policy applies from
// the next call on).
//
// Thread safety: every method is const and safe to call from many threads at once.
#ifndef PIICRYPT_ROW_CRYPTOR_H_
#define PIICRYPT_ROW_CRYPTOR_H_

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
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace piicrypt {

class KeyHandle;   // key_handle.h
class TokenStore;  // token_store.h

// ---- record ids -------------------------------------------------------------------------
// The record bytes of an integer id: its decimal ASCII form, without leading zeros or a
// '+', with a '-' for negative ids: 42 -> "42", 0 -> "0", -7 -> "-7". What SQLite and
// PostgreSQL print for an INTEGER/BIGINT, so `piicrypt reencrypt` binds the same bytes.
PIICRYPT_EXPORT std::string RecordIdFromInt64(int64_t id);
// The inverse, for an id that arrives as text (a URL, a message) and is to be used as an
// integer: exactly the strings RecordIdFromInt64 makes. Every other spelling of a number
// ("042", "+42", " 42", "42 ", "-0", "4.2e1", "", out of range) is kInvalidArgument: it
// would name another record, or the same record by other bytes.
PIICRYPT_EXPORT absl::StatusOr<int64_t> ParseRecordId(absl::string_view text);

// ---- rows ---------------------------------------------------------------------------------
// One column of a row given to RowCryptor: its name and its value (std::nullopt: NULL).
// Both are views: the strings they point into must live for the call.
struct ColumnValue {
  ColumnValue(absl::string_view name, NullableValue v) : column(name), value(v) {}
  // A `const char*` value does not compile (it may be null; see field_cryptor.h): pass
  // piicrypt::NullableText(p), or absl::string_view(p) when `p` is never null.
  template <typename T, internal::RejectCharPointer<T> = 0>
  ColumnValue(absl::string_view name, T&& v) = delete;

  absl::string_view column;
  NullableValue value;
};

// A row RowCryptor returns: columns in order, each with a value or NULL (std::nullopt).
// Copies share the column names, which the row keeps alive.
class PIICRYPT_EXPORT Row {
 public:
  struct Column {
    // Valid while this Row (or a copy of it) lives: copy it into a std::string to keep it
    // longer.
    absl::string_view name;
    std::optional<std::string> value;
  };

  Row() = default;

  // The value of column `name` (exact name), or nullptr if the row has no such column
  // (which is not NULL: NULL is a present std::nullopt).
  const std::optional<std::string>* Find(absl::string_view name) const;
  // The column names, in order (for an INSERT's column list).
  std::vector<std::string> names() const;

  const std::vector<Column>& columns() const { return columns_; }
  size_t size() const { return columns_.size(); }
  std::vector<Column>::const_iterator begin() const { return columns_.begin(); }
  std::vector<Column>::const_iterator end() const { return columns_.end(); }

 private:
  friend class RowCryptor;
  Row(std::vector<Column> columns, std::shared_ptr<const void> names)
      : columns_(std::move(columns)), names_(std::move(names)) {}
  std::vector<Column> columns_;
  std::shared_ptr<const void> names_;  // owns the strings `Column::name` points into
};

struct RowOptions {
  // The token store of the table's vault-token fields (token_store.h). REQUIRED when the
  // table has one (Create fails otherwise); unused for vaultless tokens. Default: none.
  std::shared_ptr<const TokenStore> token_store;
};

class PIICRYPT_EXPORT RowCryptor {
 public:
  // The fields of `table` in `policy`, under the keys of `keyset` (which need not outlive
  // the cryptor). kNotFound if the policy has no field stored in `table`; kInvalidArgument
  // if a vault-token field has no token store; FieldCryptor::Create's errors otherwise.
  static absl::StatusOr<std::unique_ptr<RowCryptor>> Create(const Keyset& keyset,
                                                            const Policy& policy,
                                                            absl::string_view table,
                                                            RowOptions options = {});
  // The same, following the reloads of `keys` (which must outlive the cryptor). The
  // current snapshot is checked now; a later snapshot whose policy has no field of the
  // table (or a vault-token field without a store) fails each call with the error Create
  // would give.
  static absl::StatusOr<std::unique_ptr<RowCryptor>> Create(const KeyHandle& keys,
                                                            absl::string_view table,
                                                            RowOptions options = {});
  ~RowCryptor();
  RowCryptor(const RowCryptor&) = delete;
  RowCryptor& operator=(const RowCryptor&) = delete;

  // Every stored column of the row: for each field of the table (in the policy's order)
  // its value column, then its blind-index column and its key-version column if it has
  // them. Requires every value column of the table, each once.
  absl::StatusOr<Row> Encrypt(absl::string_view record, absl::Span<const ColumnValue> values) const;
  absl::StatusOr<Row> Encrypt(int64_t record, absl::Span<const ColumnValue> values) const;
  // The same for the columns given only (any of the table's value columns, each once), with
  // their blind-index and key-version columns: for an UPDATE of some columns.
  absl::StatusOr<Row> EncryptColumns(absl::string_view record,
                                     absl::Span<const ColumnValue> values) const;
  absl::StatusOr<Row> EncryptColumns(int64_t record, absl::Span<const ColumnValue> values) const;

  // The plaintext of the value columns given, in the policy's order (see the top).
  absl::StatusOr<Row> Decrypt(absl::string_view record, absl::Span<const ColumnValue> stored) const;
  absl::StatusOr<Row> Decrypt(int64_t record, absl::Span<const ColumnValue> stored) const;

  // A log line of the row's plaintext values, masked per their fields' rules, in the order
  // given: `customer_name="J. D.", customer_phone=NULL`. Never fails: a column that is no
  // field of the table is masked in full ("***").
  std::string Mask(absl::Span<const ColumnValue> values) const;

  // The stored columns of Encrypt, in its order (for preparing an INSERT once).
  absl::StatusOr<std::vector<std::string>> StoredColumns() const;
  const std::string& table() const;

 private:
  struct Rep;
  explicit RowCryptor(std::unique_ptr<Rep> rep);
  absl::StatusOr<Row> EncryptImpl(absl::string_view record, absl::Span<const ColumnValue> values,
                                  bool whole_row) const;
  std::unique_ptr<Rep> rep_;
};

}  // namespace piicrypt

#endif  // PIICRYPT_ROW_CRYPTOR_H_
