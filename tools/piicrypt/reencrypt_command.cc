// piicrypt reencrypt: brings the encrypted columns of a table under the keyset's primary
// key (key rotation) or encrypts a table's plaintext (migration). docs/ROTATION.md.
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "src/rotate/reencrypt.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

constexpr char kReencryptFooter[] =
    "What it does, column by column: the table's encrypted columns are the policy's fields\n"
    "stored in it (table: and column:, by default the TABLE.COLUMN of the field's name;\n"
    "randomized, deterministic, or FF1 with a key_version_column; vault-token fields are\n"
    "refused). FF1 values are moved to the field's write key, the\n"
    "key-version column set with them; a NULL key version marks plaintext (docs/FPE.md).\n"
    "  - a value under an older key is decrypted and encrypted again under the primary key,\n"
    "    and its blind-index column (blind_index { column: ... }, default COLUMN_idx)\n"
    "    recomputed under the primary;\n"
    "  - a value already under the primary is decrypted (to prove it) and left untouched:\n"
    "    a second run changes nothing;\n"
    "  - NULL stays NULL;\n"
    "  - each compound index (index { ... }) whose parts are all fields of the table is\n"
    "    recomputed under the primary from the decrypted parts (NULL if a part is NULL) and\n"
    "    written with the row's values;\n"
    "  - subject fields are skipped, each listed in the summary: they are under their\n"
    "    subjects' keys, rewrapped by 'piicrypt subject rewrap';\n"
    "  - a value that does not decrypt (disabled or destroyed key, tampered, moved from\n"
    "    another row; under the primary too) is left as it is, counted as failed and listed\n"
    "    with its row key; so is a value whose update takes no effect (a trigger);\n"
    "  - with --encrypt-plaintext, a value that is not a piicrypt ciphertext at all (its text\n"
    "    does not parse as one) is taken for plaintext and encrypted. A value that parses but\n"
    "    does not decrypt is a failure, never encrypted twice. Read docs/ROTATION.md first.\n"
    "Fields with bind_record are bound to the key column's value (INTEGER 42 is \"42\").\n"
    "\n"
    "Safety: rows are read by ranges of the key column, --batch at a time (memory stays flat).\n"
    "Each batch's updates and the job's checkpoint (table piicrypt_jobs) commit in one\n"
    "transaction: a job killed at any moment resumes where it stopped when run again with the\n"
    "same options. Each update is conditional on the value read, so a row the application\n"
    "changes meanwhile keeps the application's value: it is read again and, if it is still\n"
    "under an old key, re-encrypted from what the application wrote (counted as a conflict).\n"
    "On a database that is serving traffic, --max-rate caps the rows per second this process\n"
    "reads (all its workers together); batches are spaced out, holding no locks meanwhile.\n"
    "\n"
    "Databases:\n"
    "  sqlite:PATH        one writer; the application may keep writing (it waits for each\n"
    "                     short batch commit).\n"
    "  postgresql://...   a libpq URI. The key column is split into ranges (table\n"
    "                     piicrypt_job_ranges); --workers N threads claim them a batch at a\n"
    "                     time with FOR UPDATE SKIP LOCKED. More processes, on other machines\n"
    "                     too, join the same job by running the same command.\n"
    "The key column must be unique and NOT NULL, as the database's catalog proves (the\n"
    "primary key; SQLite: INTEGER PRIMARY KEY, or a unique index on it alone and NOT NULL;\n"
    "PostgreSQL: a valid unique index on it alone and NOT NULL): the job pages by it, and\n"
    "a duplicate or NULL key would be skipped. Any other column is refused (exit 2) with\n"
    "the statement that fixes it. Encrypted and blind-index columns hold the text form\n"
    "(TEXT, VARCHAR).\n"
    "Every walk (the job over all its runs, the dry run, the verification) counts the\n"
    "table at its start and end; reading fewer rows than the smaller count exits 1\n"
    "(docs/ROTATION.md: rows the application inserts and deletes meanwhile).\n"
    "\n"
    "Progress goes to stderr: a bar with rows/s and time left on a terminal, a plain line\n"
    "every few seconds otherwise. The summary goes to stdout.\n"
    "\n"
    "Examples:\n"
    "  # after 'piicrypt keyset rotate': count, re-encrypt, then check every value\n"
    "  piicrypt reencrypt --kek file:/etc/piicrypt/kek.key --keyset orders.keyset \\\n"
    "      --policy orders.textproto --db sqlite:/var/lib/shop/orders.db \\\n"
    "      --table orders --key-column id --dry-run\n"
    "  piicrypt reencrypt ... --table orders --key-column id --verify\n"
    "  # PostgreSQL, 4 workers here (run the same line on another machine to add more)\n"
    "  piicrypt reencrypt ... --db postgresql://piicrypt@db.internal/shop \\\n"
    "      --table orders --key-column id --workers 4 --verify\n"
    "  # during business hours: at most 5,000 rows a second, in short transactions\n"
    "  piicrypt reencrypt ... --table orders --key-column id --batch 200 --max-rate 5000\n"
    "  # encrypt a table that still holds plaintext\n"
    "  piicrypt reencrypt ... --table customers --key-column id --encrypt-plaintext --verify\n"
    "\n"
    "Exit status: 0 every value is current (and verified, with --verify) and every row was\n"
    "read; 1 a value failed (its keys are listed), a walk read fewer rows than the table\n"
    "holds, or the database failed; 2 bad usage (options, table, columns, a key column that\n"
    "is not unique and NOT NULL, policy).";

struct ReencryptArgs {
  std::string kek;
  std::string keyset;
  std::string policy;
  internal::ReencryptOptions options;
};

// Progress on stderr: a redrawn bar on a terminal, a line every 5 s otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}

  void Update(const internal::ReencryptProgress& p) {
    const auto now = Clock::now();
    if (p.phase != phase_) {
      Finish();
      phase_ = p.phase;
      phase_start_ = now;
      first_done_ = p.done;
      last_ = now - std::chrono::hours(1);
    }
    const bool complete = p.done >= p.total;
    const auto interval = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
    if (!complete && now - last_ < interval) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - phase_start_).count();
    const double rate = seconds > 0 ? static_cast<double>(p.done - first_done_) / seconds : 0;
    const int64_t left_rows = p.total > p.done ? p.total - p.done : 0;
    const std::string left =
        rate > 0 ? Duration(static_cast<double>(left_rows) / rate) : std::string("?");
    const int percent =
        p.total > 0 ? static_cast<int>(100 * std::min(p.done, p.total) / p.total) : 100;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = percent * kWidth / 100;
      std::fprintf(stderr, "\r%-9s [%s%s] %3d%% %" PRId64 "/%" PRId64 " rows %.0f rows/s %s left ",
                   phase_.c_str(), std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, '.').c_str(), percent, p.done, p.total, rate,
                   left.c_str());
      drawn_ = true;
    } else {
      std::fprintf(stderr, "%s: %" PRId64 "/%" PRId64 " rows (%d%%), %.0f rows/s, %s left\n",
                   phase_.c_str(), p.done, p.total, percent, rate, left.c_str());
    }
    std::fflush(stderr);
  }

  void Finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static std::string Duration(double s) {
    const int64_t t = static_cast<int64_t>(s + 0.5);
    if (t >= 3600) return absl::StrCat(t / 3600, "h", (t / 60) % 60, "m");
    if (t >= 60) return absl::StrCat(t / 60, "m", t % 60, "s");
    return absl::StrCat(t, "s");
  }
  const bool tty_;
  const Clock::time_point start_;
  std::string phase_;
  Clock::time_point phase_start_;
  Clock::time_point last_;
  int64_t first_done_ = 0;
  bool drawn_ = false;
};

// A walk that read fewer rows than the table holds (ReencryptSummary::Complete()).
void PrintShortfall(const char* who, const std::string& table, const internal::Coverage& c) {
  if (c.Shortfall() == 0) return;
  PrintError(absl::StrCat(
      who, " read ", c.walked, " rows of table ", table, ", which held ", c.table_at_start,
      " when it started and ", c.table_at_end, " at the end: ", c.Shortfall(),
      " row(s) not read (a key changed meanwhile?); run again, then check with --verify"));
}

void Run(const ReencryptArgs& args, int& exit_code) {
  absl::StatusOr<Policy> policy = Policy::ReadFile(args.policy);
  if (!policy.ok()) {
    PrintError(std::string(policy.status().message()));
    exit_code = kExitUsage;
    return;
  }
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return;
  ProgressPrinter printer;
  absl::StatusOr<internal::ReencryptSummary> summary =
      internal::RunReencrypt(*keyset, *policy, args.options,
                             [&](const internal::ReencryptProgress& p) { printer.Update(p); });
  printer.Finish();
  if (!summary.ok()) {
    PrintError(std::string(summary.status().message()));
    exit_code =
        summary.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
    return;
  }
  const internal::ReencryptSummary& s = *summary;
  const bool dry = args.options.dry_run;
  std::printf("%s%s: table %s, primary key %u, %" PRId64 " rows in %.1f s (%.0f rows/s)\n",
              dry ? "dry run" : "reencrypt", s.resumed ? " (resumed)" : "",
              args.options.table.c_str(), keyset->primary_key_id(), s.rows, s.seconds,
              s.seconds > 0 ? static_cast<double>(s.rows) / s.seconds : 0.0);
  std::printf("  %s %" PRId64 "\n",
              dry ? "would re-encrypt:   " : "re-encrypted:       ", s.reencrypted);
  std::printf("  %s %" PRId64 "\n",
              dry ? "would encrypt:      " : "plaintext encrypted:", s.encrypted);
  std::printf("  already current:     %" PRId64 "\n", s.current);
  std::printf("  NULL:                %" PRId64 "\n", s.null_values);
  if (!dry) {
    std::printf("  conflicts:           %" PRId64
                " (rows the application changed meanwhile: its values kept, re-read, redone)\n",
                s.conflicts);
  }
  std::printf("  failed:              %" PRId64 "\n", s.failed);
  for (const std::string& k : s.skipped) std::printf("  skipped %s\n", k.c_str());
  std::printf("  rows read:           %" PRId64 " of %" PRId64 " in the table (%" PRId64
              " at the end)\n",
              s.walk.walked, s.walk.table_at_start, s.walk.table_at_end);

  for (const std::string& f : s.failures) std::printf("    failed %s\n", f.c_str());
  if (s.failed > static_cast<int64_t>(s.failures.size())) {
    std::printf("    ... and %" PRId64 " more\n",
                s.failed - static_cast<int64_t>(s.failures.size()));
  }
  if (args.options.verify) {
    std::printf("verify: %" PRId64 " values checked, %" PRId64 " failed, in %" PRId64 " of %" PRId64
                " rows in the table (%" PRId64 " at the end)\n",
                s.verified, s.verify_failed, s.verify_walk.walked, s.verify_walk.table_at_start,
                s.verify_walk.table_at_end);
    for (const std::string& f : s.verify_failures) std::printf("    not verified %s\n", f.c_str());
    if (s.verify_failed > static_cast<int64_t>(s.verify_failures.size())) {
      std::printf("    ... and %" PRId64 " more\n",
                  s.verify_failed - static_cast<int64_t>(s.verify_failures.size()));
    }
  }
  std::fflush(stdout);
  exit_code = s.Complete() ? kExitOk : kExitFailed;
  if (s.failed > 0 || s.verify_failed > 0) {
    PrintError(absl::StrCat(s.failed + s.verify_failed, " value(s) failed; see the list above"));
  }
  PrintShortfall(dry ? "the dry run" : "the job", args.options.table, s.walk);
  if (args.options.verify) PrintShortfall("the verification", args.options.table, s.verify_walk);
}

}  // namespace

void AddReencryptCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReencryptArgs>();
  CLI::App* sub = app.add_subcommand(
      "reencrypt",
      "Re-encrypt a table's encrypted columns under the keyset's primary key (key rotation), "
      "or encrypt its plaintext (--encrypt-plaintext); resumable, safe on a live database.");
  sub->add_option("--kek", args->kek, kKekHelp)->required();
  sub->add_option("--keyset", args->keyset, "The keyset file")->required();
  sub->add_option("--policy", args->policy,
                  "Policy textproto: the table's columns are its fields stored in it (table:, "
                  "column:; default TABLE.COLUMN of the name)")
      ->required();
  sub->add_option("--db", args->options.db_url,
                  "Database URL: sqlite:PATH or postgresql://... (libpq URI)")
      ->required();
  sub->add_option("--table", args->options.table, "The table")->required();
  sub->add_option(
         "--key-column", args->options.key_column,
         "Its key column, unique and NOT NULL (the primary key): the job walks it in order")
      ->required();
  sub->add_flag("--encrypt-plaintext", args->options.encrypt_plaintext,
                "Encrypt values that are not piicrypt ciphertexts (plaintext migration)");
  sub->add_flag("--dry-run", args->options.dry_run,
                "Count what would change; write nothing (not even the checkpoint)");
  sub->add_flag(
      "--verify", args->options.verify,
      "Afterwards read every row, decrypt every value and check key, blind and compound indexes; "
      "failures, and rows not read, exit 1");
  sub->add_option("--batch", args->options.batch, "Rows per transaction (default 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  sub->add_option("--workers", args->options.workers,
                  "PostgreSQL: worker threads, each with its own connection (default 1)")
      ->check(CLI::Range(1, 64));
  sub->add_option("--max-rate", args->options.max_rate,
                  "At most this many rows per second, all workers together (default 0: no limit)")
      ->check(CLI::Range(0.0, 1e9));
  sub->footer(std::string(kReencryptFooter) + "\n\n" + kKekFooter);
  sub->callback([args, &exit_code] { Run(*args, exit_code); });
}

}  // namespace piicrypt::cli
