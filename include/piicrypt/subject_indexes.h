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
//   clear.db_url = "sqlite:/var/lib/app/orders.db";
//   clear.table = "orders";
//   clear.key_column = "id";
//   clear.columns = {"customer_email_idx", "customer_phone_idx"};
//   clear.records = order_ids_of_the_customer;   // the rows the application knows are theirs
//   PIICRYPT_ASSIGN_OR_RETURN(int64_t cleared, piicrypt::ClearSubjectIndexes(clear));
//
// What an older dump still reveals is in docs/SUBJECTS.md ("Blind indexes"): clearing the
// live columns does not reach copies taken before.
//
// SQLite databases only (`sqlite:PATH`, an existing file), in the piicrypt::sqlite component.
// One transaction: all given rows are cleared, or none. Identifiers must be plain SQL
// identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes), else kInvalidArgument; an unknown
// table or column is kInvalidArgument naming it; a database that cannot be opened or is
// locked past the busy timeout (5 seconds) is kUnavailable, a corrupt one kDataLoss, a full
// disk kResourceExhausted.
#ifndef PIICRYPT_SUBJECT_INDEXES_H_
#define PIICRYPT_SUBJECT_INDEXES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "piicrypt/export.h"

namespace piicrypt {

struct ClearIndexesRequest {
  std::string db_url;                // "sqlite:PATH"
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
