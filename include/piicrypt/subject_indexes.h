// subject_indexes.h: clears the blind indexes of a forgotten subject's rows.
//
// Forgetting a subject (SubjectCryptor::Forget) makes its encrypted fields unreadable, but
// the blind indexes stored beside them are computed under the keyset, not the subject's
// key: they still tell which rows hold equal values (the same e-mail address in two
// orders) and still match a lookup of a known value by anyone holding the keyset. So after
// a forget, an application clears the index columns of that subject's rows:
//
//   PIICRYPT_ASSIGN_OR_RETURN(bool had_key, subjects->Forget(customer_id));
//   piicrypt::ClearIndexesRequest clear;
//   clear.db_url = "sqlite:/var/lib/app/orders.db";  // or "postgresql://app@db/shop"
//   clear.table = "orders";
//   clear.key_column = "id";
//   clear.columns = {"customer_email_idx", "customer_phone_idx"};
//   clear.records = order_ids_of_the_customer;   // the rows the application knows are theirs
//   PIICRYPT_ASSIGN_OR_RETURN(int64_t cleared, piicrypt::ClearSubjectIndexes(clear));
//
// What an older dump still reveals is in docs/SUBJECTS.md ("Blind indexes"): clearing the
// live columns does not reach copies taken before.
//
// Databases, by `db_url`:
//   sqlite:PATH       an existing SQLite file; needs the piicrypt::sqlite component;
//   postgresql://...  (or postgres://...) a libpq connection URI; needs the
//                     piicrypt::postgres component. The connection's application_name is
//                     "piicrypt" unless the URI sets one. Each record is passed untyped, so
//                     the server reads it in the key column's type (BIGINT, TEXT, ...) and
//                     uses the column's index.
// A URL of another scheme is kInvalidArgument; one whose component is not linked,
// kFailedPrecondition naming the component.
//
// One transaction: all given rows are cleared, or none. Identifiers must be plain SQL
// identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes; PostgreSQL matches them exactly, as
// if quoted), else kInvalidArgument; an unknown table or column is kInvalidArgument naming it,
// and so is a record that is not a value of the key column's type (PostgreSQL: "abc" for a
// BIGINT key), or that holds a NUL byte. A database that cannot be reached or opened, a row
// locked by another transaction past 5 seconds, or (PostgreSQL) a statement running past 60
// seconds is kUnavailable; the server refusing the credentials or the UPDATE is
// kPermissionDenied; a corrupt SQLite file is kDataLoss, a full disk kResourceExhausted.
// Messages never show a record or a password.
#ifndef PIICRYPT_SUBJECT_INDEXES_H_
#define PIICRYPT_SUBJECT_INDEXES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "piicrypt/export.h"

namespace piicrypt {

struct ClearIndexesRequest {
  std::string db_url;                // "sqlite:PATH" or "postgresql://..."
  std::string table;                 // the application's table
  std::string key_column;            // the column the records are ids of (unique)
  std::vector<std::string> columns;  // the blind-index columns to set to NULL; at least one
  std::vector<std::string> records;  // key column values, in text form ("42"); at least one
};

// Sets `columns` to NULL in the rows of `table` whose `key_column` is one of `records`.
// Returns the number of rows changed (rows that do not exist are not counted).
PIICRYPT_EXPORT absl::StatusOr<int64_t> ClearSubjectIndexes(const ClearIndexesRequest& request);

}  // namespace piicrypt

#endif  // PIICRYPT_SUBJECT_INDEXES_H_
