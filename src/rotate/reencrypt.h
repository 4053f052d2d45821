// reencrypt.h: the job behind `piicrypt reencrypt` (docs/ROTATION.md).
//
// Streams a table by ranges of its key column, `batch` rows at a time, and brings every
// encrypted column the policy maps to it (FieldRule::table and ::column, by default the
// "TABLE.COLUMN" of the field's name) under the keyset's primary key:
//   - a value under another key is decrypted and encrypted again under the primary, and
//     the column's blind index (BlindIndexRule::column, resolved by the policy) recomputed;
//   - a value under the primary is left untouched, so a second run changes nothing;
//   - each compound index (CompoundIndexRule) whose parts are all fields of the table is
//     recomputed under the primary from the parts' decrypted values (NULL if a part is
//     NULL, as FieldCryptor::CompoundIndex) and written in the same update as the row's
//     values, unless it holds that value already;
//   - subject fields (FieldRule::subject) are skipped and listed in the summary: they are
//     under their subjects' keys, rewrapped by `piicrypt subject rewrap`; a table with
//     nothing else is refused (kInvalidArgument);
//   - with `encrypt_plaintext`, a value that is not a piicrypt ciphertext (its text form
//     does not parse as one) is encrypted; a value that parses but does not decrypt is a
//     failure, never encrypted twice.
// Each batch's updates and the job's checkpoint are written in one transaction, so a job
// killed at any moment resumes after the last committed batch. Each update is conditional
// on the values the job read (`WHERE key = ? AND col IS ?`): a row the application changed
// meanwhile is read again and computed afresh (counted as a conflict), never overwritten
// with a value computed from what it held before.
//
// SQLite (`sqlite:PATH`): one writer; the checkpoint is a row of piicrypt_jobs (one per
// table and key column) holding the last key done.
// PostgreSQL (`postgresql://...`, a libpq URI): the key column is split into ranges, kept
// in piicrypt_job_ranges next to the job's row in piicrypt_jobs; a worker claims a range
// for one batch with `SELECT ... FOR UPDATE SKIP LOCKED`, and that batch's updates, its
// range's checkpoint and the claim end in one transaction. `workers` threads run in this
// process; more processes (on other machines) may join the same job at any time.
//
// The key column must be unique and NOT NULL, proven from the database's catalog (SQLite:
// the rowid alias INTEGER PRIMARY KEY, or a unique index on that column alone with NOT NULL;
// PostgreSQL: a valid unique index or primary key on that column alone, with NOT NULL):
// the walk pages by it (`key > last`), so a duplicate at a page's edge or a NULL key would
// be skipped. Otherwise the job refuses (kInvalidArgument) and writes nothing. Every walk
// (the job over all its runs, the dry run, the verification) is counted against the table
// (Coverage); a walk that read fewer rows than the table holds makes the summary
// incomplete.
//
// Records: fields with bind_record are bound to the key column's value in text form
// (an INTEGER key 42 is the record "42", as
// RecordIdFromInt64 makes it; docs/ROWS.md).
//
// FF1 columns: the key is the row's key-version column (FormatPreservingRule::
// key_version_column) and the target the field's write key; value, blind index and key
// version are written together. Not supported (kInvalidArgument naming the field): FF1
// columns without a key-version column, vault-token columns, and binary values (SQLite
// BLOB, PostgreSQL bytea): the text form only.
#ifndef PIICRYPT_SRC_ROTATE_REENCRYPT_H_
#define PIICRYPT_SRC_ROTATE_REENCRYPT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace piicrypt::internal {

struct ReencryptOptions {
  // "sqlite:PATH" (an existing database file) or "postgresql://..." (a libpq URI).
  std::string db_url;
  // SQL identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes).
  std::string table;
  std::string key_column;
  bool encrypt_plaintext = false;
  // Reads and counts only; writes nothing, not even the checkpoint.
  bool dry_run = false;
  // After the job (or alone, with dry_run), decrypts every value and checks that it is
  // under the primary key and that its blind index and the row's compound indexes are
  // current.
  bool verify = false;
  // Rows per transaction. REQUIRES: 1 to 100000.
  int64_t batch = 1000;
  // PostgreSQL: worker threads of this process (each with its own connection).
  // SQLite: must be 1. REQUIRES: 1 to 64.
  int workers = 1;
  // At most this many rows per second read by this process, all workers together
  // (0: no limit), to spare a database that is serving traffic. REQUIRES: 0, or 1 to 1e9.
  double max_rate = 0;
  // Most failed keys kept for the summary (the counts are always complete).
  int64_t max_listed_failures = 100;
};

struct ReencryptProgress {
  const char* phase = "";  // "reencrypt", "dry-run" or "verify"
  int64_t done = 0;        // rows of this phase done so far (including earlier runs)
  int64_t total = 0;       // rows in the table when the phase started
};

// How much of the table a walk covered. The key column's uniqueness makes the walk read
// every row that is in the table from its start to its end; the counts check it. Rows the
// application inserts behind the walk, or deletes after the walk read them, rule out an
// exact equation, so the rule is
//   walked >= min(table_at_start, table_at_end)
// which holds for a complete walk whenever the table only grew or only shrank meanwhile.
// (If rows were both inserted and deleted it may report a shortfall that is none: run
// again.) For the job, `walked` and `table_at_start` span all its runs: the count is taken
// when the job starts and kept with its checkpoint.
struct Coverage {
  int64_t walked = 0;          // rows read
  int64_t table_at_start = 0;  // rows in the table when the walk started
  int64_t table_at_end = 0;    // rows in the table when it ended

  // Rows the walk fell short by; 0 when it covered the table.
  int64_t Shortfall() const;
};

struct ReencryptSummary {
  bool resumed = false;     // continued a job that was interrupted
  int64_t rows = 0;         // rows scanned by the job (all runs)
  int64_t reencrypted = 0;  // values moved to the primary key
  int64_t encrypted = 0;    // plaintext values encrypted
  int64_t current = 0;      // values already under the primary
  int64_t null_values = 0;  // NULLs, left as they are
  int64_t conflicts = 0;    // rows changed by someone else meanwhile: re-read and redone
  int64_t failed = 0;       // values that could not be processed, left as they are
  // "KEY column: reason" of the first max_listed_failures failed values.
  std::vector<std::string> failures;
  // Columns of the table the policy names that the job leaves as they are, one line each
  // (subject fields: `piicrypt subject rewrap`). Not a failure.
  std::vector<std::string> skipped;
  // Verification (options.verify).
  int64_t verified = 0;
  int64_t verify_failed = 0;
  std::vector<std::string> verify_failures;
  // The walks: the job's (or the dry run's), and the verification's.
  Coverage walk;
  Coverage verify_walk;
  double seconds = 0;

  // True when the job did all it was asked: no value failed, none failed verification, and
  // each walk covered the table. A caller reports success only then (the CLI exits 1
  // otherwise).
  bool Complete() const;
};

// Runs the job. Errors: kInvalidArgument for a bad URL, identifier, table, column or a
// policy with no usable field of the table (usage); kUnavailable, kInternal for the
// database; a key column that is not unique and NOT NULL is kInvalidArgument. Failed
// values and walks that fell short are not errors but counts in the summary: check
// ReencryptSummary::Complete().
absl::StatusOr<ReencryptSummary> RunReencrypt(
    const Keyset& keyset, const Policy& policy, const ReencryptOptions& options,
    const std::function<void(const ReencryptProgress&)>& progress = nullptr);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_ROTATE_REENCRYPT_H_
