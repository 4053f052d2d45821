// piicrypt tokenize and piicrypt detokenize: vault and vaultless tokens, one value per line;
// piicrypt rekey-tokens: a field's token store entries moved to the primary key.
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/token_store.h"
#include "piicrypt/tokenizer.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

struct TokenArgs {
  std::string kek;
  std::string keyset;
  std::string field;
  std::string store;
  bool vaultless = false;
  TokenFormat format = TokenFormat::kPreserve;
  TokenMode mode = TokenMode::kDeterministic;
  bool keep_first_six = false;
  LuhnOutput luhn = LuhnOutput::kInvalid;
  size_t length = 16;
  std::string prefix;
  int64_t ttl_seconds = 0;
  double timeout_seconds = 5;
  uint32_t vaultless_key_id = 0;
  std::string policy;
};

constexpr char kTokenFooter[] =
    "Values are read one per line from stdin (a trailing CR is dropped) and the results "
    "written one per line to stdout, in order. The first value that fails stops the run with "
    "a one-line error naming its line number.\n"
    "\n"
    "Vault tokens (--store) are random and kept in a token store with the value's "
    "ciphertext; vaultless tokens (--vaultless) are FF1 encryptions of the value and need "
    "no store. Formats:\n"
    "  preserve      same length and character classes: digits stay digits, letters stay\n"
    "                letters of the same case, everything else stays in place\n"
    "  card          12-19 digit card numbers: last 4 (with --keep-first-six also the first\n"
    "                6) kept, the token fails the Luhn check unless --luhn valid\n"
    "  alphanumeric  vault: --length random [0-9A-Za-z]; vaultless: an alphanumeric value\n"
    "                encrypted over [0-9A-Za-z], same length\n"
    "With --policy FILE the field's token settings come from its MODE_VAULT_TOKEN rule\n"
    "(token { format: TOKEN_FORMAT_CARD ... } in the policy textproto) instead of the options.\n"
    "Modes (vault): deterministic (the same value always gets the same token in a field, so\n"
    "tokens can be joined on) or random (a new token every time).\n"
    "\n"
    "Stores: sqlite:PATH (a file, created if missing) or postgresql://USER@HOST/DB?... (a\n"
    "libpq URI; put a password in ~/.pgpass or PGPASSWORD, not on the command line).\n"
    "\n"
    "Examples:\n"
    "  printf '4111 1111 1111 1111\\n' | piicrypt tokenize --kek file:/etc/piicrypt/kek.key \\\n"
    "      --keyset orders.keyset --field orders.card_number --format card \\\n"
    "      --store sqlite:/var/lib/app/tokens.db\n"
    "  piicrypt detokenize --kek file:/etc/piicrypt/kek.key --keyset orders.keyset \\\n"
    "      --field orders.card_number --store sqlite:/var/lib/app/tokens.db < tokens.txt\n"
    "  piicrypt tokenize ... --field orders.phone --vaultless --vaultless-key-id 2837261 "
    "--prefix T\n"
    "\n"
    "Exit status: 0 success, 1 failed operation (unknown or expired token, a value that does "
    "not fit the format, store unavailable, wrong KEK), 2 bad usage.\n"
    "See docs/TOKENS.md.";

CLI::App* AddTokenSubcommand(CLI::App& app, const std::string& name, const std::string& what,
                             TokenArgs& args) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->add_option("--kek", args.kek, kKekHelp)->required();
  sub->add_option("--keyset", args.keyset, "The keyset file")->required();
  sub->add_option("--field", args.field, "The field's CONTEXT, e.g. orders.card_number")
      ->required();
  CLI::Option* store =
      sub->add_option("--store", args.store, kStoreHelp);
  CLI::Option* vaultless =
      sub->add_flag("--vaultless", args.vaultless, "FF1 tokens without a store");
  store->excludes(vaultless);
  CLI::Option* policy = sub->add_option(
      "--policy", args.policy,
      "A policy textproto: the token settings of --field come from its MODE_VAULT_TOKEN rule");
  policy->excludes(vaultless);
  std::vector<CLI::Option*> format_options;
  format_options.push_back(sub->add_option("--format", args.format, "preserve (default), card or alphanumeric")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, TokenFormat>{{"preserve", TokenFormat::kPreserve},
                                             {"card", TokenFormat::kCard},
                                             {"alphanumeric", TokenFormat::kAlphanumeric}},
          CLI::ignore_case)));
  format_options.push_back(sub->add_option("--mode", args.mode, "deterministic (default) or random; vault tokens only")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, TokenMode>{{"deterministic", TokenMode::kDeterministic},
                                           {"random", TokenMode::kRandom}},
          CLI::ignore_case)));
  format_options.push_back(sub->add_flag("--keep-first-six", args.keep_first_six,
                "card: keep the first 6 digits (issuer) as well as the last 4"));
  format_options.push_back(sub->add_option("--luhn", args.luhn, "card: invalid (default) or valid Luhn check digit")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, LuhnOutput>{{"invalid", LuhnOutput::kInvalid},
                                            {"valid", LuhnOutput::kValid}},
          CLI::ignore_case)));
  format_options.push_back(sub->add_option(
      "--length", args.length,
      "alphanumeric vault tokens: random characters per token (4-256, default 16)"));
  format_options.push_back(sub->add_option("--prefix", args.prefix,
                                           "A fixed prefix marking tokens as tokens, e.g. tok_ "
                                           "(printable ASCII, at most 32 bytes)"));
  format_options.push_back(
      sub->add_option("--ttl", args.ttl_seconds,
                      "Vault tokens: seconds until a new token stops detokenizing (default: "
                      "never)")
          ->check(CLI::NonNegativeNumber));
  sub->add_option("--timeout", args.timeout_seconds,
                  "Seconds to wait for the store before failing (default 5)")
      ->check(CLI::PositiveNumber);
  format_options.push_back(
      sub->add_option("--vaultless-key-id", args.vaultless_key_id,
                      "Vaultless, required there: the key whose FF1 key makes the tokens "
                      "(FF1 tokens carry no key id, so the key is pinned; keyset list)"));
  for (CLI::Option* option : format_options) policy->excludes(option);
  sub->footer(std::string(kTokenFooter) + "\n\n" + kKekFooter);
  return sub;
}

// Prints a failure and sets the exit code: kInvalidArgument (bad options, an unknown store
// scheme) is bad usage, anything else a failed operation.
void Fail(const absl::Status& status, int& exit_code) {
  PrintError(std::string(status.message()));
  exit_code = status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

// The token store of one command: a single connection.
absl::StatusOr<std::unique_ptr<TokenStore>> OpenStore(const std::string& url,
                                                      double timeout_seconds) {
  TokenStoreOptions options;
  options.timeout = absl::Seconds(timeout_seconds);
  options.max_connections = 1;
  return TokenStore::Open(url, options);
}

// One line of stdin at a time; false at the end.
bool ReadLine(std::string& line) {
  if (!std::getline(std::cin, line)) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void Run(const TokenArgs& args, bool tokenize, int& exit_code) {
  std::optional<Policy> policy;
  bool vaultless = args.vaultless;
  if (!args.policy.empty()) {
    absl::StatusOr<Policy> read = Policy::ReadFile(args.policy);
    if (!read.ok()) {
      PrintError(std::string(read.status().message()));
      exit_code = kExitUsage;
      return;
    }
    const FieldRule* rule = read->Find(args.field);
    if (rule == nullptr || !rule->token.has_value()) {
      PrintError(absl::StrCat(args.field, ": not a tokenized field (MODE_VAULT_TOKEN) of ",
                              args.policy));
      exit_code = kExitUsage;
      return;
    }
    vaultless = rule->token->vaultless;
    policy = *std::move(read);
  }
  if (!vaultless && args.store.empty()) {
    PrintError("vault tokens need --store URL (or use --vaultless)");
    exit_code = kExitUsage;
    return;
  }
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return;
  TokenizerOptions options;
  options.field = args.field;
  options.format = args.format;
  options.mode = args.mode;
  options.vaultless = args.vaultless;
  options.card_keep_first_six = args.keep_first_six;
  options.card_luhn = args.luhn;
  options.alphanumeric_length = args.length;
  options.prefix = args.prefix;
  options.ttl = absl::Seconds(args.ttl_seconds);
  options.vaultless_key_id = args.vaultless_key_id;
  std::shared_ptr<TokenStore> store;
  if (!vaultless) {
    absl::StatusOr<std::unique_ptr<TokenStore>> opened =
        OpenStore(args.store, args.timeout_seconds);
    if (!opened.ok()) return Fail(opened.status(), exit_code);
    store = std::move(*opened);
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      policy.has_value() ? Tokenizer::CreateForField(*keyset, *policy, args.field, store)
                         : Tokenizer::Create(*keyset, options, store);
  if (!tokenizer.ok()) return Fail(tokenizer.status(), exit_code);
  std::string line;
  for (int64_t number = 1; ReadLine(line); ++number) {
    absl::StatusOr<std::string> result =
        tokenize ? (*tokenizer)->Tokenize(line) : (*tokenizer)->Detokenize(line);
    internal::SecureWipe(line.data(), line.size());
    if (!result.ok()) {
      std::fflush(stdout);
      PrintError(absl::StrCat("line ", number, ": ", result.status().message()));
      exit_code = kExitFailed;
      return;
    }
    result->push_back('\n');
    std::fwrite(result->data(), 1, result->size(), stdout);
    internal::SecureWipe(result->data(), result->size());
  }
  if (std::fflush(stdout) != 0) {
    PrintError("cannot write to stdout");
    exit_code = kExitFailed;
    return;
  }
  exit_code = kExitOk;
}

struct RekeyArgs {
  std::string kek;
  std::string keyset;
  std::string field;
  std::string store;
  size_t batch = 500;
  double timeout_seconds = 5;
};

constexpr char kRekeyFooter[] =
    "After 'piicrypt keyset rotate', the token store still holds values encrypted under the "
    "older keys, so those keys cannot be disabled or destroyed without losing the tokens. "
    "rekey-tokens re-encrypts every entry of the field under the primary key and moves its "
    "lookup (deterministic fields) to the primary key, in pages of --batch entries. Tokens "
    "and expiry times do not change; entries already under the primary are left alone. "
    "Each entry is rewritten only if nobody changed it meanwhile, so the application may "
    "keep tokenizing, detokenizing and deleting while it runs, and a run stopped at any "
    "point can simply be started again.\n"
    "\n"
    "Entries under a disabled, destroyed or unknown key are counted and left as they are; "
    "then the exit status is 1: enable the key (keyset enable ID), run again, then disable "
    "it. A value tokenized again while its old key was disabled got a second token; both "
    "keep detokenizing, and the newer one stays the value's token (counted as "
    "duplicates).\n"
    "\n"
    "Every entry is decrypted and authenticated with its token and expiry time first. "
    "Entries of entry format version 1 (written by older libraries; their expiry time is "
    "not authenticated, so their tokens do not detokenize) are rewritten in version 2, "
    "also when already under the primary key (counted as upgraded). Entries that do not "
    "authenticate (altered in the database) are counted as unreadable and left alone.\n"
    "\n"
    "Prints one summary line on stdout; progress goes to stderr.\n"
    "\n"
    "Example (rotation of a field's keys):\n"
    "  piicrypt keyset rotate --kek file:/etc/piicrypt/kek.key orders.keyset\n"
    "  piicrypt rekey-tokens --kek file:/etc/piicrypt/kek.key --keyset orders.keyset \\\n"
    "      --field orders.card_number --store sqlite:/var/lib/app/tokens.db\n"
    "  piicrypt keyset disable OLD_ID --kek file:/etc/piicrypt/kek.key orders.keyset\n"
    "\n"
    "Exit status: 0 every entry is under the primary key, 1 some are not (see above) or a "
    "failed operation (store unavailable, wrong KEK), 2 bad usage.\n"
    "See docs/TOKENS.md.";

// Progress on stderr after each page: redrawn on a terminal, a line every 5 s otherwise.
class RekeyProgress {
 public:
  RekeyProgress() : tty_(isatty(STDERR_FILENO) == 1) {}
  ~RekeyProgress() {
    if (drawn_) std::fputc('\n', stderr);
  }
  void Update(int64_t read, int64_t rekeyed) {
    const auto now = std::chrono::steady_clock::now();
    if (!tty_ && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    std::fprintf(stderr, tty_ ? "\rrekey-tokens: %" PRId64 " read, %" PRId64 " re-encrypted "
                              : "rekey-tokens: %" PRId64 " read, %" PRId64 " re-encrypted\n",
                 read, rekeyed);
    std::fflush(stderr);
    drawn_ = tty_;
  }

 private:
  const bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void RunRekey(const RekeyArgs& args, int& exit_code) {
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return;
  absl::StatusOr<std::unique_ptr<TokenStore>> store = OpenStore(args.store, args.timeout_seconds);
  if (!store.ok()) return Fail(store.status(), exit_code);
  // The entries' format and mode do not matter here: Rekey keeps tokens as they are and
  // moves a lookup only where the entry has one.
  TokenizerOptions options;
  options.field = args.field;
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::Create(*keyset, options, std::shared_ptr<TokenStore>(std::move(*store)));
  if (!tokenizer.ok()) return Fail(tokenizer.status(), exit_code);
  RekeyStats total;
  absl::Status failure;
  {
    RekeyProgress progress;
    while (!total.done) {
      absl::StatusOr<RekeyStats> page = (*tokenizer)->Rekey(total.last_token, args.batch);
      if (!page.ok()) {
        failure = page.status();
        break;
      }
      total += *page;
      progress.Update(total.read, total.rekeyed);
    }
  }
  // The summary of what was done, also when a page failed (running again resumes).
  std::printf("%s: %" PRId64 " entries: %" PRId64 " re-encrypted under key %u (%" PRId64
              " duplicates, %" PRId64 " upgraded from entry format 1), %" PRId64
              " already under it, %" PRId64 " changed by other writers meanwhile, %" PRId64
              " unreadable%s\n",
              args.field.c_str(), total.read, total.rekeyed, keyset->primary_key_id(),
              total.duplicates, total.upgraded, total.current, total.changed, total.unreadable,
              failure.ok() ? "" : " (stopped early)");
  if (std::fflush(stdout) != 0) {
    PrintError("cannot write to stdout");
    exit_code = kExitFailed;
    return;
  }
  if (!failure.ok()) {
    exit_code = ReportFailure(failure);
    return;
  }
  if (total.unreadable > 0) {
    PrintError(absl::StrCat(total.unreadable,
                            " entries are under a disabled, destroyed or unknown key, or do "
                            "not authenticate (corrupt or altered), and were left as they "
                            "are; enable their key and run again"));
    exit_code = kExitFailed;
    return;
  }
  exit_code = kExitOk;
}

}  // namespace

void AddTokenCommands(CLI::App& app, int& exit_code) {
  auto tokenize_args = std::make_shared<TokenArgs>();
  CLI::App* tokenize = AddTokenSubcommand(
      app, "tokenize",
      "Replace values (one per line on stdin) with tokens of a field, one per line on stdout.",
      *tokenize_args);
  tokenize->callback([tokenize_args, &exit_code] { Run(*tokenize_args, true, exit_code); });

  auto detokenize_args = std::make_shared<TokenArgs>();
  CLI::App* detokenize = AddTokenSubcommand(
      app, "detokenize",
      "Turn tokens of a field (one per line on stdin) back into values, one per line on "
      "stdout. Give the field's token options as for tokenize.",
      *detokenize_args);
  detokenize->callback([detokenize_args, &exit_code] { Run(*detokenize_args, false, exit_code); });

  auto rekey_args = std::make_shared<RekeyArgs>();
  CLI::App* rekey = app.add_subcommand(
      "rekey-tokens",
      "Re-encrypt a field's token store entries under the keyset's primary key, keeping "
      "every token, so that older keys can be disabled and destroyed.");
  rekey->add_option("--kek", rekey_args->kek, kKekHelp)->required();
  rekey->add_option("--keyset", rekey_args->keyset, "The keyset file")->required();
  rekey->add_option("--field", rekey_args->field, "The field's CONTEXT, e.g. orders.card_number")
      ->required();
  rekey->add_option("--store", rekey_args->store, kStoreHelp)
      ->required();
  rekey->add_option("--batch", rekey_args->batch,
                    "Entries read and rewritten per page (1-100000, default 500)")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  rekey->add_option("--timeout", rekey_args->timeout_seconds,
                    "Seconds to wait for the store before failing (default 5)")
      ->check(CLI::PositiveNumber);
  rekey->footer(std::string(kRekeyFooter) + "\n\n" + kKekFooter);
  rekey->callback([rekey_args, &exit_code] { RunRekey(*rekey_args, exit_code); });
}

}  // namespace piicrypt::cli
