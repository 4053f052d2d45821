// piicrypt tokenize and piicrypt detokenize: vault and vaultless tokens, one value per line;
// piicrypt rekey-tokens: a field's token store entries moved to the primary key;
// piicrypt tokens erase|delete|purge-expired: tokens removed from a store.
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <functional>
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
#include "piicrypt/subtle/token_store.h"
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
  TokenNormalizer normalizer = TokenNormalizer::kExact;
  std::string phone_region;
  std::string policy;
};

// --normalize's spellings.
const std::map<std::string, TokenNormalizer>& NormalizerNames() {
  static const auto* names =
      new std::map<std::string, TokenNormalizer>{{"exact", TokenNormalizer::kExact},
                                                 {"email", TokenNormalizer::kEmail},
                                                 {"phone", TokenNormalizer::kPhone},
                                                 {"name", TokenNormalizer::kName},
                                                 {"card", TokenNormalizer::kCardDigits}};
  return *names;
}

constexpr char kNormalizeHelp[] =
    "Vault tokens: normalize values before their lookup: exact (default), email, phone, "
    "name or card (digits only); with --policy, the field's kind decides";
constexpr char kPhoneRegionHelp[] =
    "--normalize phone: region (ISO 3166 alpha-2, e.g. AU) of numbers written without '+'";

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
    "Deterministic vault tokens are looked up by the value's normalized form (--normalize,\n"
    "or the kind of the field in --policy: KIND_EMAIL, KIND_PHONE, KIND_NAME, KIND_CARD), so\n"
    "'4111111111111111' and '4111 1111 1111 1111' get one token; the store keeps, and\n"
    "detokenize returns, the value as first given.\n"
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
  CLI::Option* store = sub->add_option("--store", args.store, kStoreHelp);
  CLI::Option* vaultless =
      sub->add_flag("--vaultless", args.vaultless, "FF1 tokens without a store");
  store->excludes(vaultless);
  CLI::Option* policy = sub->add_option(
      "--policy", args.policy,
      "A policy textproto: the token settings of --field come from its MODE_VAULT_TOKEN rule");
  policy->excludes(vaultless);
  std::vector<CLI::Option*> format_options;
  format_options.push_back(
      sub->add_option("--format", args.format, "preserve (default), card or alphanumeric")
          ->transform(CLI::CheckedTransformer(
              std::map<std::string, TokenFormat>{{"preserve", TokenFormat::kPreserve},
                                                 {"card", TokenFormat::kCard},
                                                 {"alphanumeric", TokenFormat::kAlphanumeric}},
              CLI::ignore_case)));
  format_options.push_back(
      sub->add_option("--mode", args.mode, "deterministic (default) or random; vault tokens only")
          ->transform(CLI::CheckedTransformer(
              std::map<std::string, TokenMode>{{"deterministic", TokenMode::kDeterministic},
                                               {"random", TokenMode::kRandom}},
              CLI::ignore_case)));
  format_options.push_back(
      sub->add_flag("--keep-first-six", args.keep_first_six,
                    "card: keep the first 6 digits (issuer) as well as the last 4"));
  format_options.push_back(
      sub->add_option("--luhn", args.luhn, "card: invalid (default) or valid Luhn check digit")
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
  format_options.push_back(
      sub->add_option("--normalize", args.normalizer, kNormalizeHelp)
          ->transform(CLI::CheckedTransformer(NormalizerNames(), CLI::ignore_case)));
  format_options.push_back(sub->add_option("--phone-region", args.phone_region, kPhoneRegionHelp));
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

// The tokenizer the options (or the policy) describe, or nullptr with exit_code set.
std::unique_ptr<Tokenizer> MakeTokenizer(const TokenArgs& args, int& exit_code) {
  std::optional<Policy> policy;
  bool vaultless = args.vaultless;
  if (!args.policy.empty()) {
    absl::StatusOr<Policy> read = Policy::ReadFile(args.policy);
    if (!read.ok()) {
      PrintError(std::string(read.status().message()));
      exit_code = kExitUsage;
      return nullptr;
    }
    const FieldRule* rule = read->Find(args.field);
    if (rule == nullptr || !rule->token.has_value()) {
      PrintError(
          absl::StrCat(args.field, ": not a tokenized field (MODE_VAULT_TOKEN) of ", args.policy));
      exit_code = kExitUsage;
      return nullptr;
    }
    vaultless = rule->token->vaultless;
    policy = *std::move(read);
  }
  if (!vaultless && args.store.empty()) {
    PrintError("vault tokens need --store URL (or use --vaultless)");
    exit_code = kExitUsage;
    return nullptr;
  }
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return nullptr;
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
  options.normalizer = args.normalizer;
  options.phone_region = args.phone_region;
  std::shared_ptr<TokenStore> store;
  if (!vaultless) {
    absl::StatusOr<std::unique_ptr<TokenStore>> opened =
        OpenStore(args.store, args.timeout_seconds);
    if (!opened.ok()) {
      Fail(opened.status(), exit_code);
      return nullptr;
    }
    store = std::move(*opened);
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      policy.has_value() ? Tokenizer::CreateForField(*keyset, *policy, args.field, store)
                         : Tokenizer::Create(*keyset, options, store);
  if (!tokenizer.ok()) {
    Fail(tokenizer.status(), exit_code);
    return nullptr;
  }
  return *std::move(tokenizer);
}

// Calls `each` on every line of stdin and prints its result as one line; the first
// failure stops the run naming its line (exit 1). Sets exit_code.
void ForEachLine(const std::function<absl::StatusOr<std::string>(const std::string&)>& each,
                 int& exit_code) {
  std::string line;
  for (int64_t number = 1; ReadLine(line); ++number) {
    absl::StatusOr<std::string> result = each(line);
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

void Run(const TokenArgs& args, bool tokenize, int& exit_code) {
  std::unique_ptr<Tokenizer> tokenizer = MakeTokenizer(args, exit_code);
  if (tokenizer == nullptr) return;
  ForEachLine(
      [&](const std::string& line) {
        return tokenize ? tokenizer->Tokenize(line) : tokenizer->Detokenize(line);
      },
      exit_code);
}

// What a `tokens` subcommand removes.
enum class Removal { kErase, kDelete, kPurgeExpired };

constexpr char kTokensFooter[] =
    "tokens erase   reads values, one per line on stdin, and deletes every token of each\n"
    "               value in the field (erasure requests, GDPR Art. 17); prints how many\n"
    "               tokens each value had, one line per value. A deterministic field finds\n"
    "               a value's token by its lookup (normalized as the field normalizes:\n"
    "               --normalize or --policy), checking the entry before deleting it; a\n"
    "               random field is scanned and every entry decrypted, in time\n"
    "               proportional to its size. Give the field's --mode and --normalize, or\n"
    "               --policy, as when tokenizing.\n"
    "tokens delete  reads tokens, one per line, and deletes each; prints 1 per token. An\n"
    "               unknown token stops the run (exit 1).\n"
    "tokens purge-expired\n"
    "               deletes the field's expired tokens (by their expires_at column), and\n"
    "               prints 'CONTEXT: N expired tokens deleted'. Run it from a periodic job.\n"
    "\n"
    "A deleted token no longer detokenizes. Copies of the store taken before (backups,\n"
    "dumps) still hold the entries: rotate the field's key and destroy the old one to\n"
    "withdraw those too (docs/TOKENS.md). Vaultless tokens are not stored and cannot be\n"
    "deleted.\n"
    "\n"
    "Examples:\n"
    "  printf 'jane@example.com\\n' | piicrypt tokens erase --kek file:/etc/piicrypt/kek.key \\\n"
    "      --keyset orders.keyset --policy orders.textproto --field orders.customer_email \\\n"
    "      --store sqlite:/var/lib/app/tokens.db\n"
    "  piicrypt tokens purge-expired --kek file:/etc/piicrypt/kek.key --keyset orders.keyset \\\n"
    "      --field orders.card_number --store sqlite:/var/lib/app/tokens.db\n"
    "\n"
    "Exit status: 0 success, 1 failed operation (unknown token, a value the field's\n"
    "normalizer refuses, an entry that does not authenticate, store unavailable, wrong KEK),\n"
    "2 bad usage (also --vaultless).\n"
    "See docs/TOKENS.md.";

void RunRemoval(const TokenArgs& args, Removal removal, int& exit_code) {
  if (args.vaultless) {
    PrintError("vaultless tokens are not stored, so there is nothing to delete");
    exit_code = kExitUsage;
    return;
  }
  std::unique_ptr<Tokenizer> tokenizer = MakeTokenizer(args, exit_code);
  if (tokenizer == nullptr) return;
  if (tokenizer->options().vaultless) {
    PrintError(absl::StrCat(args.field,
                            ": vaultless tokens are not stored, so there is "
                            "nothing to delete"));
    exit_code = kExitUsage;
    return;
  }
  switch (removal) {
    case Removal::kErase:
      return ForEachLine(
          [&](const std::string& value) -> absl::StatusOr<std::string> {
            absl::StatusOr<int64_t> erased = tokenizer->EraseValue(value);
            if (!erased.ok()) return erased.status();
            return absl::StrCat(*erased);
          },
          exit_code);
    case Removal::kDelete:
      return ForEachLine(
          [&](const std::string& token) -> absl::StatusOr<std::string> {
            absl::Status deleted = tokenizer->DeleteToken(token);
            if (!deleted.ok()) return deleted;
            return std::string("1");
          },
          exit_code);
    case Removal::kPurgeExpired:
      break;
  }
  absl::StatusOr<int64_t> purged = tokenizer->DeleteExpired();
  if (!purged.ok()) {
    exit_code = ReportFailure(purged.status());
    return;
  }
  std::printf("%s: %" PRId64 " expired tokens deleted\n", args.field.c_str(), *purged);
  exit_code = std::fflush(stdout) == 0
                  ? kExitOk
                  : ReportFailure(absl::DataLossError("cannot write to stdout"));
}

struct RekeyArgs {
  std::string kek;
  std::string keyset;
  std::string field;
  std::string store;
  size_t batch = 500;
  double timeout_seconds = 5;
  std::string policy;
  TokenNormalizer normalizer = TokenNormalizer::kExact;
  std::string phone_region;
};

constexpr char kRekeyFooter[] =
    "After 'piicrypt keyset rotate', the token store still holds values encrypted under the "
    "older keys, so those keys cannot be disabled or destroyed without losing the tokens. "
    "rekey-tokens re-encrypts every entry of the field under the primary key and moves its "
    "lookup (deterministic fields) to the primary key, in pages of --batch entries. Tokens "
    "and expiry times do not change; entries already under the primary are left alone (with a "
    "normalizer, their lookups are recomputed). "
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
    "Lookups are computed over the value's normalized form: give the field's --policy (its "
    "kind decides) or --normalize, as the application tokenizes. With a normalizer, the "
    "lookups of entries already under the primary key are recomputed too (relooked): run "
    "rekey-tokens once after a field starts to normalize, so that values written before "
    "find their tokens. Values that now normalize alike (written differently before) keep "
    "one lookup; their other tokens still detokenize (counted as duplicates). Values the "
    "normalizer refuses lose their lookup (counted as not normalized).\n"
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
    std::fprintf(stderr,
                 tty_ ? "\rrekey-tokens: %" PRId64 " read, %" PRId64 " re-encrypted "
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
  // moves a lookup only where the entry has one. The normalizer does.
  TokenizerOptions options;
  options.field = args.field;
  options.normalizer = args.normalizer;
  options.phone_region = args.phone_region;
  std::shared_ptr<TokenStore> shared(std::move(*store));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer;
  if (args.policy.empty()) {
    tokenizer = Tokenizer::Create(*keyset, options, shared);
  } else {
    absl::StatusOr<Policy> policy = Policy::ReadFile(args.policy);
    if (!policy.ok()) {
      PrintError(std::string(policy.status().message()));
      exit_code = kExitUsage;
      return;
    }
    tokenizer = Tokenizer::CreateForField(*keyset, *policy, args.field, shared);
  }
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
              " already under it (%" PRId64 " relooked), %" PRId64
              " changed by other writers meanwhile, %" PRId64 " unreadable, %" PRId64
              " not normalized%s\n",
              args.field.c_str(), total.read, total.rekeyed, keyset->primary_key_id(),
              total.duplicates, total.upgraded, total.current, total.relooked, total.changed,
              total.unreadable, total.unnormalized, failure.ok() ? "" : " (stopped early)");
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
  rekey->add_option("--store", rekey_args->store, kStoreHelp)->required();
  rekey
      ->add_option("--batch", rekey_args->batch,
                   "Entries read and rewritten per page (1-100000, default 500)")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  rekey
      ->add_option("--timeout", rekey_args->timeout_seconds,
                   "Seconds to wait for the store before failing (default 5)")
      ->check(CLI::PositiveNumber);
  CLI::Option* rekey_policy = rekey->add_option(
      "--policy", rekey_args->policy,
      "A policy textproto: the kind of --field (a MODE_VAULT_TOKEN rule) gives the normalizer");
  rekey_policy->excludes(
      rekey->add_option("--normalize", rekey_args->normalizer, kNormalizeHelp)
          ->transform(CLI::CheckedTransformer(NormalizerNames(), CLI::ignore_case)));
  rekey_policy->excludes(
      rekey->add_option("--phone-region", rekey_args->phone_region, kPhoneRegionHelp));
  rekey->footer(std::string(kRekeyFooter) + "\n\n" + kKekFooter);
  rekey->callback([rekey_args, &exit_code] { RunRekey(*rekey_args, exit_code); });

  CLI::App* tokens = app.add_subcommand(
      "tokens",
      "Delete vault tokens: every token of a value (erase), single tokens, or the "
      "expired ones of a field.");
  tokens->require_subcommand(1);
  tokens->footer(kTokensFooter);
  const struct {
    const char* name;
    const char* what;
    Removal removal;
  } removals[] = {
      {"erase", "Delete every token of each value (one per line on stdin) in the field.",
       Removal::kErase},
      {"delete", "Delete each token (one per line on stdin) of the field.", Removal::kDelete},
      {"purge-expired", "Delete the field's expired tokens.", Removal::kPurgeExpired},
  };
  for (const auto& r : removals) {
    auto args = std::make_shared<TokenArgs>();
    CLI::App* sub = AddTokenSubcommand(*tokens, r.name, r.what, *args);
    sub->footer(std::string(kTokensFooter) + "\n\n" + kKekFooter);
    const Removal removal = r.removal;
    sub->callback([args, removal, &exit_code] { RunRemoval(*args, removal, exit_code); });
  }
}

}  // namespace piicrypt::cli
