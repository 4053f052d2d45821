// piicrypt encrypt | decrypt | blind-index: field values, one per line, from stdin to stdout.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

struct FieldArgs {
  std::string kek;
  std::string keyset;
  std::string field;
  std::string mode;
  std::string policy;
  std::string record;
  std::string normalize;
  std::string region;
  int bits = 0;
  bool all_keys = false;
};

enum class Op { kEncrypt, kDecrypt, kBlindIndex };

constexpr char kIoFooter[] =
    "Input and output: one value per line on stdin (a trailing \\r is dropped, so CRLF files "
    "work; values cannot contain line breaks), one result per line on stdout, in the same "
    "order. An empty line is the empty string, a value like any other. On the first value "
    "that fails, the results before it have been written; the error names its line number "
    "(never the value) and the exit status is 1.\n";

constexpr char kFieldExitFooter[] =
    "Exit status: 0 every line succeeded, 1 a line failed (bad ciphertext, wrong or disabled "
    "key, invalid value) or the keyset could not be read, 2 bad usage (options, policy "
    "file, field not in the policy).";

// Usage error: prints it and sets exit code 2.
void Usage(const std::string& message, int& exit_code) {
  PrintError(message);
  exit_code = kExitUsage;
}

// The policy to apply: the file given, or one rule built from the options.
std::optional<Policy> LoadPolicy(Op op, const FieldArgs& args, int& exit_code) {
  if (!args.policy.empty()) {
    if (!args.mode.empty() || args.bits != 0 || !args.normalize.empty() || !args.region.empty()) {
      Usage(
          "--policy takes the field's mode, bits and normalizer from the policy file; "
          "do not combine it with --mode, --bits, --normalize or --region",
          exit_code);
      return std::nullopt;
    }
    auto policy = Policy::ReadFile(args.policy);
    if (!policy.ok()) {
      Usage(std::string(policy.status().message()), exit_code);
      return std::nullopt;
    }
    const FieldRule* rule = policy->Find(args.field);
    if (rule == nullptr) {
      Usage(absl::StrCat("field \"", args.field, "\" is not in ", args.policy), exit_code);
      return std::nullopt;
    }
    // An FF1 value names no key; a field whose key is kept per row in a key-version
    // column needs that column, which lines on stdin do not carry.
    if (op != Op::kBlindIndex && rule->format_preserving.has_value() &&
        !rule->format_preserving->key_version_column.empty()) {
      Usage(absl::StrCat("field \"", args.field,
                         "\" keeps each value's key in the key-version "
                         "column ",
                         rule->format_preserving->key_version_column,
                         ", which encrypt and decrypt do not read or write; use the library "
                         "(docs/FPE.md) or a policy that pins the field's key_id"),
            exit_code);
      return std::nullopt;
    }
    if (op == Op::kBlindIndex && !rule->blind_index.has_value()) {
      Usage(absl::StrCat("field \"", args.field, "\" has no blind index in ", args.policy),
            exit_code);
      return std::nullopt;
    }
    return *std::move(policy);
  }

  FieldRule rule;
  rule.name = args.field;
  rule.kind = FieldKind::kText;
  rule.bind_record = !args.record.empty();
  if (op == Op::kBlindIndex) {
    if (!args.mode.empty()) {
      Usage("blind-index takes no --mode", exit_code);
      return std::nullopt;
    }
    if (args.bits == 0) {
      Usage("blind-index needs --bits N (8 to 256) or --policy FILE", exit_code);
      return std::nullopt;
    }
    BlindIndexRule bidx;
    bidx.bits = args.bits;
    bidx.normalizer = Normalizer::kExact;
    if (!args.normalize.empty()) {
      auto normalizer = ParseNormalizer(args.normalize);
      if (!normalizer.ok()) {
        Usage(absl::StrCat("--normalize: ", normalizer.status().message()), exit_code);
        return std::nullopt;
      }
      bidx.normalizer = *normalizer;
    }
    bidx.default_region = args.region;
    rule.blind_index = bidx;
  } else {
    if (args.mode.empty()) {
      Usage("give --mode randomized|deterministic or --policy FILE", exit_code);
      return std::nullopt;
    }
    rule.mode = args.mode == "deterministic" ? FieldMode::kDeterministic : FieldMode::kRandomized;
  }
  auto policy = Policy::Create({rule});
  if (!policy.ok()) {
    Usage(std::string(policy.status().message()), exit_code);
    return std::nullopt;
  }
  return *std::move(policy);
}

void Run(Op op, const FieldArgs& args, int& exit_code) {
  std::optional<Policy> policy = LoadPolicy(op, args, exit_code);
  if (!policy.has_value()) return;
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return;
  auto cryptor = FieldCryptor::Create(*keyset, *policy);
  if (!cryptor.ok()) {
    exit_code = ReportFailure(cryptor.status());
    return;
  }
  const FieldCryptor& fc = **cryptor;

  std::string line, out;
  size_t line_number = 0;
  char buf[65536];
  bool more = true;
  std::string pending;
  while (more) {
    const size_t n = std::fread(buf, 1, sizeof(buf), stdin);
    if (n < sizeof(buf)) more = false;
    pending.append(buf, n);
    size_t start = 0;
    for (;;) {
      size_t nl = pending.find('\n', start);
      if (nl == std::string::npos) {
        if (more || start == pending.size()) break;
        nl = pending.size();  // the last line has no newline
      }
      absl::string_view value(pending.data() + start, nl - start);
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      ++line_number;
      absl::StatusOr<std::optional<std::string>> result;
      switch (op) {
        case Op::kEncrypt:
          result = fc.Encrypt(args.field, value, args.record);
          break;
        case Op::kDecrypt:
          result = fc.Decrypt(args.field, value, args.record);
          break;
        case Op::kBlindIndex:
          if (args.all_keys) {
            auto all = fc.LookupIndexes(args.field, value);
            if (all.ok()) {
              result = std::optional<std::string>(absl::StrJoin(*all, " "));
            } else {
              result = all.status();
            }
          } else {
            result = fc.BlindIndex(args.field, value);
          }
          break;
      }
      if (!result.ok()) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
        internal::SecureWipe(out.data(), out.size());
        internal::SecureWipe(pending.data(), pending.size());
        PrintError(absl::StrCat("line ", line_number, ": ", result.status().message()));
        exit_code = kExitFailed;
        return;
      }
      out.append(**result);
      out.push_back('\n');
      if (op == Op::kDecrypt) internal::SecureWipe((*result)->data(), (*result)->size());
      start = nl + 1;
      if (nl == pending.size()) start = nl;
    }
    pending.erase(0, start);
    if (out.size() >= sizeof(buf)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      internal::SecureWipe(out.data(), out.size());
      out.clear();
    }
  }
  if (std::ferror(stdin)) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    PrintError(absl::StrCat("reading stdin failed after line ", line_number));
    exit_code = kExitFailed;
    return;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  internal::SecureWipe(out.data(), out.size());
  internal::SecureWipe(pending.data(), pending.size());
  exit_code = std::fflush(stdout) == 0 ? kExitOk : kExitFailed;
}

CLI::App* AddCommon(CLI::App& app, const std::string& name, const std::string& description,
                    FieldArgs& args) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->add_option("--kek", args.kek, kKekHelp)->required();
  sub->add_option("--keyset", args.keyset, "The keyset file (piicrypt keyset create)")->required();
  sub->add_option("--field", args.field,
                  "The field's CONTEXT, such as orders.customer_email: bound into every "
                  "ciphertext and selects the derived keys")
      ->required();
  sub->add_option("--policy", args.policy,
                  "A policy textproto (docs/FIELDS.md) whose rule for --field says how the "
                  "field is protected");
  return sub;
}

}  // namespace

void AddFieldCommands(CLI::App& app, int& exit_code) {
  for (const Op op : {Op::kEncrypt, Op::kDecrypt}) {
    const bool enc = op == Op::kEncrypt;
    auto args = std::make_shared<FieldArgs>();
    CLI::App* sub = AddCommon(
        app, enc ? "encrypt" : "decrypt",
        enc ? "Encrypt field values, one per line, into the text form of docs/SPEC.md "
              "(base64url; format-preserving fields keep their format)."
            : "Decrypt field values, one per line, under whichever enabled key each names.",
        *args);
    sub->add_option("--mode", args->mode,
                    "randomized (AES-256-GCM: reveals length only) or deterministic (AES-SIV: "
                    "equal values give equal ciphertexts); or use --policy")
        ->check(CLI::IsMember({"randomized", "deterministic"}));
    sub->add_option("--record", args->record,
                    "Record (row) id bound into each value: it decrypts only with the same "
                    "id. With --policy, only fields whose rule has bind_record use it");
    sub->footer(std::string(kIoFooter) +
                "Examples:\n"
                "  printf 'jane@example.com\\n' | piicrypt encrypt --kek file:/etc/piicrypt/kek.key"
                " \\\n      --keyset orders.keyset --field orders.customer_email --mode randomized"
                " --record 1001\n"
                "  piicrypt decrypt --kek file:/etc/piicrypt/kek.key --keyset orders.keyset \\\n"
                "      --field orders.customer_email --mode randomized --record 1001 < ct.txt\n"
                "  piicrypt encrypt --kek file:kek.key --keyset orders.keyset \\\n"
                "      --policy examples/policies/orders.textproto --field orders.customer_phone"
                " --record 1001 < phones.txt\n" +
                kKekFooter + kFieldExitFooter);
    sub->callback([args, op, &exit_code] { Run(op, *args, exit_code); });
  }

  auto args = std::make_shared<FieldArgs>();
  CLI::App* sub = AddCommon(
      app, "blind-index",
      "Compute blind indexes (HMAC-SHA256 of the normalized value, cut to --bits, lower-case "
      "hex) of values, one per line: what a lookup by e-mail or phone searches for.",
      *args);
  sub->add_option("--bits", args->bits,
                  "Length of the index, 8 to 256: fewer bits, more rows share an index "
                  "(false positives filtered after decryption) and less equality is revealed");
  sub->add_option("--normalize", args->normalize,
                  "exact (default), email (trim, lower case), phone (E.164), name (NFKC case "
                  "fold, white space collapsed)");
  sub->add_option("--region", args->region,
                  "With --normalize phone: the region of numbers written without '+' "
                  "(ISO 3166 alpha-2, such as AU)");
  sub->add_flag("--all-keys", args->all_keys,
                "Print the indexes under every enabled key, the primary's first, separated "
                "by spaces: during a key rotation query them all");
  sub->footer(std::string(kIoFooter) +
              "Examples:\n"
              "  printf ' Jane@Example.COM\\n' | piicrypt blind-index --kek file:kek.key "
              "--keyset orders.keyset \\\n      --field orders.customer_email --bits 32 "
              "--normalize email\n"
              "  piicrypt blind-index --kek file:kek.key --keyset orders.keyset --policy "
              "orders.textproto \\\n      --field orders.customer_phone --all-keys < phones.txt\n" +
              kKekFooter + kFieldExitFooter);
  sub->callback([args, &exit_code] { Run(Op::kBlindIndex, *args, exit_code); });
}

}  // namespace piicrypt::cli
