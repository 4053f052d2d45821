// subject_rewrap.h: moves the subject keys of a SubjectKeyStore under the keyset's
// primary key after a rotation (`piicrypt subject rewrap`), and verifies them.
//
//   // After `piicrypt keyset rotate` and a reload everywhere:
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SubjectRewrapSummary s,
//                             piicrypt::RewrapSubjectKeys(keyset, *store, {}));
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SubjectRewrapSummary v,
//                             piicrypt::VerifySubjectKeys(keyset, *store, {}));
//   // v.failed == 0 && v.not_primary == 0: the old key may now be disabled.
//
// The job walks the store's rows in lookup order, `batch` rows at a time. A row whose key
// is wrapped under another key is unwrapped (checked: a row that does not authenticate is
// counted as failed and left as it is) and wrapped again under the primary, bound to the
// same lookup and subject key id; the subject key itself, and every application row
// encrypted under it, stay as they are. Each row is replaced by one conditional update
// (`WHERE lookup = ? AND key_id = ? AND wrapped = <what was read>`), so a row forgotten or
// rewrapped by someone else meanwhile is left alone (counted as changed), and a job killed
// at any moment leaves every row either as it was or rewrapped, both of which unwrap.
// Rows already under the primary are skipped without a write, so running the job again
// resumes it: only the rows it had not reached are written (rows are small; the walk
// itself is cheap).
//
// Walks are counted: the walk reads every row from its start to its end in lookup order,
// and the summary checks `walked >= min(rows at start, rows at end)` (Shortfall()).
//
// Thread safety: the functions may run while applications use the store.
#ifndef PIICRYPT_SUBJECT_REWRAP_H_
#define PIICRYPT_SUBJECT_REWRAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "piicrypt/export.h"
#include "piicrypt/keyset.h"
#include "piicrypt/subject_key_store.h"

namespace piicrypt {

struct SubjectRewrapSummary {
  int64_t walked = 0;       // rows read
  int64_t rewrapped = 0;    // rows moved under the primary
  int64_t current = 0;      // rows already under the primary
  int64_t not_primary = 0;  // VerifySubjectKeys: rows that unwrap but are not under the primary
  int64_t changed = 0;      // rows changed or deleted by someone else meanwhile
  int64_t failed = 0;       // rows that do not unwrap (tampered, or under a disabled key)
  int64_t rows_at_start = 0;
  int64_t rows_at_end = 0;

  // Rows the walk fell short by; 0 when it covered the store.
  int64_t Shortfall() const;
  // True when the job left nothing to do: no failure, full coverage (and, for a
  // verification, every row under the primary).
  bool Complete() const { return failed == 0 && not_primary == 0 && Shortfall() == 0; }
};

struct SubjectRewrapOptions {
  // Rows read per step. REQUIRES: 1 to 100000.
  size_t batch = 500;
  // Called after each batch with the summary so far.
  std::function<void(const SubjectRewrapSummary&)> progress;
};

PIICRYPT_EXPORT absl::StatusOr<SubjectRewrapSummary> RewrapSubjectKeys(
    const Keyset& keyset, const SubjectKeyStore& store, const SubjectRewrapOptions& options);
// Unwraps every row (writes nothing): failed counts rows that do not authenticate,
// not_primary those under another key than the primary.
PIICRYPT_EXPORT absl::StatusOr<SubjectRewrapSummary> VerifySubjectKeys(
    const Keyset& keyset, const SubjectKeyStore& store, const SubjectRewrapOptions& options);

}  // namespace piicrypt

#endif  // PIICRYPT_SUBJECT_REWRAP_H_
