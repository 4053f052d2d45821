// piicrypt subject forget: destroys data subjects' keys (crypto-shredding), and optionally
// clears their rows' blind indexes; piicrypt subject rewrap: moves subject keys under the
// keyset's primary key after a rotation, and verifies them (docs/SUBJECTS.md).
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subject_cryptor.h"
#include "piicrypt/subject_indexes.h"
#include "piicrypt/subject_key_store.h"
#include "piicrypt/subject_rewrap.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

constexpr char kSubjectStoreHelp[] =
    "Subject key store URL: sqlite:PATH (created with mode 0600 if missing; an existing "
    "file must be owned by this user, mode 0600, not a symbolic link) or postgresql://...";

struct ForgetArgs {
  std::string kek;
  std::string keyset;
  std::string store;
  std::vector<std::string> subjects;
  ClearIndexesRequest clear;
};

struct RewrapArgs {
  std::string kek;
  std::string keyset;
  std::string store;
  size_t batch = 500;
  bool verify = false;
  bool verify_only = false;
};

constexpr char kForgetFooter[] =
    "Forgetting a subject (a customer who asked to be erased) deletes the subject's key from\n"
    "the subject key store. Every value encrypted under it, in the live tables and in every\n"
    "dump or backup of them taken before, then stays unreadable for good; every other\n"
    "subject's values decrypt as before. A later write for the same subject id creates a\n"
    "new key, which does not read the old values.\n"
    "\n"
    "Seen elsewhere: application processes keep a subject's key in memory for at most their\n"
    "cache time (SubjectCryptorOptions::cache_ttl, 60 s by default); a forget is complete in\n"
    "every process that much later.\n"
    "Older copies of the subject key store itself (its backups) still hold the wrapped key\n"
    "until the keyset key that wrapped it is destroyed: rotate the keyset, run\n"
    "'piicrypt subject rewrap', then disable and destroy the old key (docs/SUBJECTS.md).\n"
    "\n"
    "Blind indexes stay behind: they are computed under the keyset, not the subject's key.\n"
    "With --db, --table, --key-column, --index-column and --record the same command sets the\n"
    "index columns of the subject's rows to NULL in the live table, in one transaction (all\n"
    "given rows or none), on SQLite (--db sqlite:PATH) or PostgreSQL (--db postgresql://...,\n"
    "a libpq connection URI; the key column may be of any type, BIGINT or TEXT alike).\n"
    "\n"
    "Output: one line per subject, 'erased' or 'no key' (never written, or forgotten before),\n"
    "in the order given; subject ids are not printed.\n"
    "\n"
    "Examples:\n"
    "  piicrypt subject forget --kek file:/etc/piicrypt/kek.key --keyset subjects.keyset \\\n"
    "      --store sqlite:/var/lib/app/subjects.db --subject 4711\n"
    "  piicrypt subject forget ... --subject 4711 --db sqlite:/var/lib/app/orders.db \\\n"
    "      --table orders --key-column id --index-column customer_email_idx \\\n"
    "      --record 1001 --record 1002\n"
    "  piicrypt subject forget ... --subject 4711 --db postgresql://app@db.internal/shop \\\n"
    "      --table orders --key-column id --index-column customer_email_idx --record 1001\n"
    "\n"
    "Exit status: 0 every subject's key is gone (and every --record's indexes cleared), 1 a\n"
    "failed operation (store unavailable, wrong KEK, a --record not in the table), 2 bad\n"
    "usage.";

constexpr char kRewrapFooter[] =
    "After a rotation ('piicrypt keyset rotate'), moves every subject key of the store under\n"
    "the keyset's new primary key. Only the store changes: the subject keys stay the same,\n"
    "and no application row is read or written. Each row is replaced by one conditional\n"
    "update, so the job may run while applications write and forget, and a job stopped at any\n"
    "moment (even killed) leaves every key readable: run it again to finish (rows already\n"
    "under the primary are skipped).\n"
    "\n"
    "--verify unwraps every row after the job; --verify-only does so without writing. Both\n"
    "fail (exit 1) if a row does not authenticate, is not under the primary, or the walk\n"
    "read fewer rows than the store holds. Once verification passes, the old key may be\n"
    "disabled and destroyed: older copies of the store then no longer yield any key.\n"
    "\n"
    "Example:\n"
    "  piicrypt subject rewrap --kek file:/etc/piicrypt/kek.key --keyset subjects.keyset \\\n"
    "      --store sqlite:/var/lib/app/subjects.db --verify\n"
    "\n"
    "Exit status: 0 every key under the primary (and verified, if asked), 1 failed operation,\n"
    "2 bad usage.";

void RunForget(const ForgetArgs& args, int& exit_code) {
  const bool clear = !args.clear.db_url.empty();
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return;
  absl::StatusOr<std::unique_ptr<SubjectKeyStore>> store = SubjectKeyStore::Open(args.store);
  if (!store.ok()) {
    exit_code = ReportFailure(store.status());
    return;
  }
  absl::StatusOr<Policy> no_fields = Policy::Create({});
  absl::StatusOr<std::unique_ptr<SubjectCryptor>> cryptor =
      no_fields.ok() ? SubjectCryptor::Create(*keyset, *no_fields, *std::move(store))
                     : absl::StatusOr<std::unique_ptr<SubjectCryptor>>(no_fields.status());
  if (!cryptor.ok()) {
    exit_code = ReportFailure(cryptor.status());
    return;
  }
  for (const std::string& subject : args.subjects) {
    absl::StatusOr<bool> erased = (*cryptor)->Forget(subject);
    if (!erased.ok()) {
      exit_code = ReportFailure(erased.status());
      return;
    }
    std::printf("%s\n", *erased ? "erased" : "no key");
  }
  std::fflush(stdout);
  if (!clear) return;
  absl::StatusOr<int64_t> cleared = ClearSubjectIndexes(args.clear);
  if (!cleared.ok()) {
    exit_code = ReportFailure(cleared.status());
    return;
  }
  std::printf("indexes cleared in %" PRId64 " of %zu rows\n", *cleared, args.clear.records.size());
  if (*cleared != static_cast<int64_t>(args.clear.records.size())) {
    PrintError(absl::StrCat(args.clear.records.size() - *cleared,
                            " --record value(s) matched no row of table ", args.clear.table));
    exit_code = kExitFailed;
  }
}

void PrintSummary(const char* what, const SubjectRewrapSummary& s) {
  std::printf("%s: %" PRId64 " rows walked (store held %" PRId64 " at the start, %" PRId64
              " at the end)\n",
              what, s.walked, s.rows_at_start, s.rows_at_end);
  std::printf("  rewrapped:          %" PRId64 "\n", s.rewrapped);
  std::printf("  already current:    %" PRId64 "\n", s.current);
  std::printf("  not under primary:  %" PRId64 "\n", s.not_primary);
  std::printf("  changed meanwhile:  %" PRId64 "\n", s.changed);
  std::printf("  failed:             %" PRId64 "\n", s.failed);
  std::fflush(stdout);
}

void RunRewrap(const RewrapArgs& args, int& exit_code) {
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return;
  absl::StatusOr<std::unique_ptr<SubjectKeyStore>> store = SubjectKeyStore::Open(args.store);
  if (!store.ok()) {
    exit_code = ReportFailure(store.status());
    return;
  }
  SubjectRewrapOptions options;
  options.batch = args.batch;
  const bool tty = isatty(STDERR_FILENO) == 1;
  auto last = std::chrono::steady_clock::now();
  options.progress = [&](const SubjectRewrapSummary& s) {
    const auto now = std::chrono::steady_clock::now();
    if (!tty && now - last < std::chrono::seconds(1)) return;
    last = now;
    std::fprintf(stderr,
                 tty ? "\rsubject rewrap: %" PRId64 " rows, %" PRId64 " rewrapped "
                     : "subject rewrap: %" PRId64 " rows, %" PRId64 " rewrapped\n",
                 s.walked, s.rewrapped);
  };
  bool ok = true;
  if (!args.verify_only) {
    absl::StatusOr<SubjectRewrapSummary> job = RewrapSubjectKeys(*keyset, **store, options);
    if (tty) std::fputc('\n', stderr);
    if (!job.ok()) {
      exit_code = ReportFailure(job.status());
      return;
    }
    PrintSummary("subject rewrap", *job);
    ok = job->Complete();
  }
  if (args.verify || args.verify_only) {
    options.progress = nullptr;
    absl::StatusOr<SubjectRewrapSummary> check = VerifySubjectKeys(*keyset, **store, options);
    if (!check.ok()) {
      exit_code = ReportFailure(check.status());
      return;
    }
    PrintSummary("verify", *check);
    ok = ok && check->Complete();
  }
  if (!ok) {
    PrintError(
        "subject keys are not all under the primary key, or some do not unwrap, or the "
        "walk missed rows (see the counts above)");
    exit_code = kExitFailed;
  }
}

}  // namespace

void AddSubjectCommands(CLI::App& app, int& exit_code) {
  CLI::App* subject = app.add_subcommand(
      "subject", "Per-subject keys: forget a customer everywhere, rewrap keys after a rotation");
  subject->require_subcommand(1);

  auto forget_args = std::make_shared<ForgetArgs>();
  CLI::App* forget = subject->add_subcommand(
      "forget", "Destroy data subjects' keys: their fields stop decrypting everywhere");
  forget->add_option("--kek", forget_args->kek, kKekHelp)->required();
  forget->add_option("--keyset", forget_args->keyset, "The keyset file the store is under")
      ->required();
  forget->add_option("--store", forget_args->store, kSubjectStoreHelp)->required();
  forget->add_option("--subject", forget_args->subjects, "A subject id (repeatable)")->required();
  CLI::Option* db = forget->add_option("--db", forget_args->clear.db_url,
                                       "The application's database (sqlite:PATH or "
                                       "postgresql://...) whose index columns to clear");
  CLI::Option* table = forget->add_option("--table", forget_args->clear.table, "Its table");
  CLI::Option* key = forget->add_option("--key-column", forget_args->clear.key_column,
                                        "The table's unique key column");
  CLI::Option* columns = forget->add_option("--index-column", forget_args->clear.columns,
                                            "A blind-index column to set to NULL (repeatable)");
  CLI::Option* records = forget->add_option("--record", forget_args->clear.records,
                                            "A key of one of the subject's rows (repeatable)");
  for (CLI::Option* o : {table, key, columns, records}) {
    db->needs(o);
    o->needs(db);
  }
  forget->footer(kForgetFooter);
  forget->callback([forget_args, &exit_code] { RunForget(*forget_args, exit_code); });

  auto rewrap_args = std::make_shared<RewrapArgs>();
  CLI::App* rewrap = subject->add_subcommand(
      "rewrap", "Move subject keys under the keyset's primary key after a rotation");
  rewrap->add_option("--kek", rewrap_args->kek, kKekHelp)->required();
  rewrap->add_option("--keyset", rewrap_args->keyset, "The keyset file the store is under")
      ->required();
  rewrap->add_option("--store", rewrap_args->store, kSubjectStoreHelp)->required();
  rewrap->add_option("--batch", rewrap_args->batch, "Rows read per step (1 to 100000)")
      ->check(CLI::Range(1, 100000))
      ->default_val(500);
  CLI::Option* verify =
      rewrap->add_flag("--verify", rewrap_args->verify, "Unwrap every row after the job");
  CLI::Option* verify_only = rewrap->add_flag("--verify-only", rewrap_args->verify_only,
                                              "Only verify: unwrap every row, write nothing");
  verify->excludes(verify_only);
  rewrap->footer(kRewrapFooter);
  rewrap->callback([rewrap_args, &exit_code] { RunRewrap(*rewrap_args, exit_code); });
}

}  // namespace piicrypt::cli
