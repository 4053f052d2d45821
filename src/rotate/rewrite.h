// rewrite.h: what the re-encryption job does to one value, shared by its SQLite and
// PostgreSQL back ends (reencrypt.cc, reencrypt_pg.cc). Internal.
#ifndef PIICRYPT_SRC_ROTATE_REWRITE_H_
#define PIICRYPT_SRC_ROTATE_REWRITE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/policy.h"
#include "src/db/db_names.h"
#include "src/rotate/reencrypt.h"

namespace piicrypt::internal {

// "name", for an identifier that passed IsSqlIdentifier (src/db/db_names.h).
std::string Quote(absl::string_view name);

// An encrypted column of the table.
struct Column {
  std::string field;         // CONTEXT (FieldRule::name)
  std::string name;          // the column (FieldRule::column)
  std::string index_column;  // empty: no blind index
  // FF1 columns: the column holding each row's key id (FormatPreservingRule). Their
  // values are brought under the field's write key (FieldCryptor::WriteKeyId), which is
  // the primary only if the policy says so.
  std::string version_column;
  // A compound index (CompoundIndexRule) instead of a field: `field` is the index's name,
  // `name` its column, and `parts` the positions, in the table's columns, of its parts'
  // fields, in the index's order. Its value is computed from the parts' decrypted values.
  std::vector<size_t> parts;

  bool ff1() const { return !version_column.empty(); }
  bool compound() const { return !parts.empty(); }
};

// The table's columns the job rewrites, validated (kInvalidArgument naming the field for what
// the job cannot handle): the policy's fields stored in it (FieldRule::table), then the
// compound indexes whose parts are all among them. Appended to `skipped`, one line each:
// subject fields (SubjectCryptor's, rewrapped by `piicrypt subject rewrap`) and the compound
// indexes over them or over fields of other tables, which the job leaves as they are.
absl::StatusOr<std::vector<Column>> ColumnsOf(const Policy& policy, const ReencryptOptions& options,
                                              std::vector<std::string>& skipped);

// Checks the options that do not depend on the database (identifiers, batch, workers).
absl::Status CheckOptions(const ReencryptOptions& options);

// The refusal (kInvalidArgument) of a key column the catalog does not prove unique
// (`not_unique`) and NOT NULL (`nullable`): names the table and column, says why the job
// needs both and how to get them on this database.
absl::Status KeyColumnError(absl::string_view table, absl::string_view column, bool not_unique,
                            bool nullable, bool postgres);

// Spaces out batches so that a process reads at most `max_rate` rows per second
// (ReencryptOptions::max_rate; 0: no limit). Thread-safe: the workers of a process share
// one. Each batch reserves its slot before it runs, so the rate holds from the first batch.
class Pacer {
 public:
  explicit Pacer(double max_rate) : max_rate_(max_rate) {}
  // Waits until a batch of `rows` rows may start.
  void Wait(int64_t rows);

 private:
  const double max_rate_;
  absl::Mutex mu_;
  std::chrono::steady_clock::time_point next_ ABSL_GUARDED_BY(mu_){};
};

enum class Outcome { kNull, kCurrent, kReencrypted, kEncrypted, kFailed };

struct Rewrite {
  Outcome outcome = Outcome::kNull;
  std::optional<std::string> value;    // the new value (kReencrypted, kEncrypted)
  std::optional<std::string> index;    // its blind index, if the column has one
  std::optional<std::string> version;  // FF1: the key id of the new value, in text
  std::string reason;                  // kFailed

  bool changes() const {
    return outcome == Outcome::kReencrypted || outcome == Outcome::kEncrypted;
  }
};

class Rewriter {
 public:
  Rewriter(const FieldCryptor& cryptor, uint32_t primary, bool encrypt_plaintext)
      : cryptor_(cryptor), primary_(primary), encrypt_plaintext_(encrypt_plaintext) {}

  // The new value of `stored` (NULL: std::nullopt) in column `c` of the row `record`;
  // `stored_version` is the row's key-version column for FF1 columns (else ignored).
  // FF1 values are told apart from plaintext by that column alone: NULL is plaintext.
  Rewrite Apply(const Column& c, const std::optional<std::string>& stored,
                const std::optional<std::string>& stored_version, absl::string_view record) const;

  // The new value of compound index column `columns[c]` of a row whose columns hold
  // `values` and `versions` (per column, as Apply takes them): the parts are decrypted (as
  // Apply reads them) and the index computed under the primary (FieldCryptor::CompoundIndex:
  // NULL if a part is NULL). kCurrent if the column holds it already, else kReencrypted with
  // the new value (NULL included); kFailed if a part does not decrypt or a transform refuses.
  Rewrite ApplyCompound(const std::vector<Column>& columns, size_t c,
                        const std::vector<std::optional<std::string>>& values,
                        const std::vector<std::optional<std::string>>& versions,
                        absl::string_view record) const;

  // The verification of one value: "" if it is under the primary, decrypts, and its blind
  // index (if any) is current; the reason otherwise.
  std::string Verify(const Column& c, const std::optional<std::string>& stored,
                     const std::optional<std::string>& stored_index,
                     const std::optional<std::string>& stored_version,
                     absl::string_view record) const;

  // The verification of compound index column `columns[c]`: "" if it holds the value
  // ApplyCompound computes (NULL for a row with a NULL part); the reason otherwise.
  std::string VerifyCompound(const std::vector<Column>& columns, size_t c,
                             const std::vector<std::optional<std::string>>& values,
                             const std::vector<std::optional<std::string>>& versions,
                             absl::string_view record) const;

 private:
  // A stored value read: its plaintext, and the key it was under (none: it was plaintext,
  // accepted with encrypt_plaintext). Errors name the field.
  struct Opened {
    std::string plain;
    std::optional<uint32_t> key_id;
    // A decryption's result under key `key_id`.
    static absl::StatusOr<Opened> From(absl::StatusOr<std::optional<std::string>> decrypted,
                                       uint32_t key_id);
  };
  absl::StatusOr<Opened> Open(const Column& c, const std::string& stored,
                              const std::optional<std::string>& stored_version,
                              absl::string_view record) const;
  absl::StatusOr<std::optional<std::string>> CompoundOf(
      const std::vector<Column>& columns, const Column& c,
      const std::vector<std::optional<std::string>>& values,
      const std::vector<std::optional<std::string>>& versions, absl::string_view record) const;

  const FieldCryptor& cryptor_;
  const uint32_t primary_;
  const bool encrypt_plaintext_;
};

// Turns the changes in `rewrites` (of the columns `columns`) into failures: the row's
// conditional update matched nothing although the row is there and locked by the job (a
// trigger that cancels updates, or a value the database compares differently from how it
// was read). Such a value is left as it is and must not be counted as done.
void MarkNotWritten(const std::vector<Column>& columns, std::vector<Rewrite>& rewrites);

// Adds the outcomes of one row's rewrites to `delta`; failed ones are appended to
// `failures` as (row key, reason).
void Tally(const std::string& row_key, const std::vector<Rewrite>& rewrites,
           ReencryptSummary& delta, std::vector<std::pair<std::string, std::string>>& failures);

// to += d (the counts only), and `rows` more rows scanned.
void AddCounts(ReencryptSummary& to, const ReencryptSummary& d, int64_t rows);

// The PostgreSQL back end (reencrypt_pg.cc): options.workers threads, each on its own
// connection, sharing the job through the database. `progress` is called from one thread
// at a time.
absl::StatusOr<ReencryptSummary> RunPostgresReencrypt(
    const Rewriter& rewriter, const std::vector<Column>& columns, uint32_t primary,
    const ReencryptOptions& options, const std::function<void(const ReencryptProgress&)>& progress);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_ROTATE_REWRITE_H_
