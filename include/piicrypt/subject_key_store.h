// subject_key_store.h: where the keys of data subjects (customers) are kept, wrapped.
//
// Every data subject whose fields are written gets a random 256-bit key of its own
// (subject_cryptor.h). The store keeps one row per subject, and nothing that can be used
// without the keyset:
//   lookup   64 lower-case hex digits: HMAC-SHA256 of the subject id under the store's
//            lookup key (so the store never holds subject ids in clear, and a dump cannot
//            tell whether a given customer has a key without the keyset)
//   key_id   the subject key's id: random, non-zero, new each time a key is created (a
//            subject forgotten and written again gets another id)
//   wrapped  the subject key encrypted under a keyset data key, bound to the lookup and
//            the key id (docs/SUBJECTS.md, "Subject key store")
// plus one row of its own: the store's lookup key (random, 256 bits), wrapped like a subject
// key, under the lookup kLookupKeyRow, which no subject's lookup can equal.
// Forgetting a subject deletes its row: the key is then gone from the live store, and no
// copy of its fields, in any backup of the application's tables, decrypts again. (Backups
// of the subject key store itself keep the wrapped key: docs/SUBJECTS.md says how to keep
// the store out of long-lived backups.)
//
//   PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<piicrypt::SubjectKeyStore> store,
//                             piicrypt::SubjectKeyStore::Open("sqlite:/var/lib/app/subjects.db"));
//   // or "postgresql://keys@db.internal/subjects?sslmode=verify-full"
//
// Most applications only open a store and hand it to a SubjectCryptor; the methods below
// are its building blocks (and the rewrap job's) and are public so that tools can be
// written against them. A store does not authenticate what it returns: the SubjectCryptor
// does, when it unwraps a key. Rows that are malformed (a lookup that is not 64 hex
// digits, a key id of 0 or above 2^32 - 1, a wrapped key that is not base64url of the
// right size) are refused with kDataLoss.
//
// URLs: `sqlite:PATH` (a file, created if missing; WAL mode, a busy timeout) and
// `postgresql://...` (a libpq connection URI; `postgres://` works too). The store may be
// the application's own database or a separate one. Both create their tables
// (piicrypt_subject_schema_version, piicrypt_subject_keys)
// on first use and refuse a store written by a newer library (kFailedPrecondition).
//
// Errors: a store that cannot be reached or answer within `timeout` is kUnavailable; a
// corrupt SQLite file or row is kDataLoss; a URL that is not understood, or a store whose
// tables do not fit (dropped or altered; the message names what is missing), is
// kInvalidArgument; a PostgreSQL serialization failure or deadlock is kAborted (run it
// again); a back-end that is not linked is kFailedPrecondition. The codes are those of the
// token stores: both come from one mapping of SQLite and PostgreSQL errors. Messages never
// carry lookups, wrapped keys, values or connection passwords.
//
// Thread safety: every method may be called from many threads at once.
#ifndef PIICRYPT_SUBJECT_KEY_STORE_H_
#define PIICRYPT_SUBJECT_KEY_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "piicrypt/export.h"

namespace piicrypt {

struct SubjectKeyStoreOptions {
  // How long one operation may wait for a lock or an answer; past it, kUnavailable.
  // Default: 5 seconds. REQUIRES: positive.
  absl::Duration timeout = absl::Seconds(5);
};

// The lookup of the row holding the store's own lookup key: 64 zeros.
inline constexpr char kLookupKeyRow[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One row of the store.
struct SubjectKeyRow {
  std::string lookup;   // 64 lower-case hex digits
  uint32_t key_id = 0;  // non-zero
  std::string wrapped;  // the wrapped key, base64url (docs/SUBJECTS.md)
};

class PIICRYPT_EXPORT SubjectKeyStore {
 public:
  // Opens (and creates, on first use) the store at `url`.
  static absl::StatusOr<std::unique_ptr<SubjectKeyStore>> Open(
      const std::string& url, const SubjectKeyStoreOptions& options = {});

  virtual ~SubjectKeyStore() = default;

  // The row of `lookup`, or std::nullopt.
  virtual absl::StatusOr<std::optional<SubjectKeyRow>> Find(absl::string_view lookup) const = 0;
  // Inserts `row` unless a row with its lookup exists, and returns the row stored under the
  // lookup afterwards: `row`, or the one another writer inserted first.
  virtual absl::StatusOr<SubjectKeyRow> InsertOrGet(const SubjectKeyRow& row) const = 0;
  // Deletes the row of `lookup`; false if there was none.
  virtual absl::StatusOr<bool> Delete(absl::string_view lookup) const = 0;
  // Replaces the wrapped key of row `lookup` if the row still holds `key_id` and
  // `expected_wrapped`; false (and nothing changed) if it does not, or is gone.
  virtual absl::StatusOr<bool> Replace(absl::string_view lookup, uint32_t key_id,
                                       absl::string_view expected_wrapped,
                                       absl::string_view wrapped) const = 0;
  // Up to `limit` rows whose lookup sorts after `after`, in lookup order ("" for the first).
  virtual absl::StatusOr<std::vector<SubjectKeyRow>> List(absl::string_view after,
                                                          size_t limit) const = 0;
  // The number of rows (subjects with a key).
  virtual absl::StatusOr<int64_t> Count() const = 0;
};

}  // namespace piicrypt

#endif  // PIICRYPT_SUBJECT_KEY_STORE_H_
