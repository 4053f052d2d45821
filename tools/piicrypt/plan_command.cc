// piicrypt plan-index: how many bits a blind index should keep, from a sample of the
// column's values (src/field/index_planner.h).
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "src/db/sqlite.h"
#include "src/field/index_planner.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

struct PlanArgs {
  std::string values;
  std::string db;  // sqlite:PATH, with table, column, key_column, kek, keyset
  std::string table;
  std::string column;
  std::string key_column;
  std::string kek;
  std::string keyset;
  int64_t rows = 0;
  std::string policy;
  std::string field;
  Normalizer normalizer = Normalizer::kExact;
  std::string region;
  internal::IndexPlanOptions options;
  bool json = false;
  std::string plot;
};

constexpr char kPlanFooter[] =
    "A blind index keeps `bits` bits of an HMAC of the normalized value. Too few bits and a\n"
    "lookup returns many rows of other values (false positives, fetched, decrypted and\n"
    "dropped); too many and a rare value gets an index value of its own, so the index is an\n"
    "exact fingerprint of it: a reader of the database sees which rows share it, and whoever\n"
    "learns one of those rows' values learns them all.\n"
    "\n"
    "plan-index reads a sample of the column (plaintext values, one per line; or, with --db,\n"
    "the column itself, decrypted through the policy and keyset), normalizes it\n"
    "as the index will (--normalize, or the field's blind_index in --policy), projects its\n"
    "distinct values to --rows (the rows expected in a few years) by Heaps' law fitted to\n"
    "the sample, and simulates the index at that size: HMAC-SHA256 under a random key, cut\n"
    "to each length from --min-bits to --max-bits. For each length it prints the expected\n"
    "false positives per lookup and the smallest and median number of distinct values\n"
    "sharing an index value, with the share of values alone on theirs. It recommends the\n"
    "most bits at which every index value in use is still shared by --min-values distinct\n"
    "values, and says when that length's false positives exceed --max-false-positives.\n"
    "\n"
    "--json prints {\"sample_rows\", \"refused\", \"sample_distinct\", \"expected_rows\",\n"
    "\"expected_distinct\", \"growth_exponent\", \"scale_shift\", \"candidates\": [{\"bits\",\n"
    "\"false_positives\", \"min_values\", \"median_values\", \"alone\"}, ...],\n"
    "\"recommended_bits\", \"rule\", \"within_bounds\"}. --plot FILE.png draws both curves\n"
    "against the bits (needs gnuplot). The output holds counts only, never values.\n"
    "\n"
    "Examples:\n"
    "  piicrypt plan-index --values emails.txt --rows 5000000 --normalize email\n"
    "  piicrypt plan-index --values phones.txt --rows 5000000 \\\n"
    "      --policy examples/policies/orders.textproto --field orders.customer_phone \\\n"
    "      --plot phone-bits.png\n"
    "  piicrypt plan-index --db sqlite:/var/lib/shop/orders.db --table orders \\\n"
    "      --column customer_email --key-column id --kek file:/etc/piicrypt/kek.key \\\n"
    "      --keyset orders.keyset --policy orders.textproto --field orders.customer_email \\\n"
    "      --rows 5000000\n"
    "\n"
    "Exit status: 0 success, 1 a failed operation (unreadable values file, no value that\n"
    "normalizes, gnuplot missing or failing), 2 bad usage.\n"
    "See docs/FIELDS.md, \"Choosing blind index bits\".";

// The sample, one value per line ("-": stdin); nullopt with exit_code set.
std::optional<std::vector<std::string>> ReadValues(const std::string& path, int& exit_code) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      PrintError(absl::StrCat(path, ": cannot be read"));
      exit_code = kExitFailed;
      return std::nullopt;
    }
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    values.push_back(line);
  }
  internal::SecureWipe(line.data(), line.size());
  if (in.bad()) {
    PrintError(absl::StrCat(path, ": read error"));
    exit_code = kExitFailed;
    return std::nullopt;
  }
  return values;
}

// The policy, with the normalizer and region of the field's blind index put into `args`;
// nullopt (exit_code set) if the policy cannot be read or the field has no blind index.
std::optional<Policy> NormalizerFromPolicy(PlanArgs& args, int& exit_code) {
  absl::StatusOr<Policy> policy = Policy::ReadFile(args.policy);
  if (!policy.ok()) {
    PrintError(std::string(policy.status().message()));
    exit_code = kExitUsage;
    return std::nullopt;
  }
  const FieldRule* rule = policy->Find(args.field);
  if (rule == nullptr || !rule->blind_index.has_value()) {
    PrintError(absl::StrCat("field \"", args.field, "\" has no blind index in ", args.policy));
    exit_code = kExitUsage;
    return std::nullopt;
  }
  args.normalizer = rule->blind_index->normalizer;
  args.region = rule->blind_index->default_region;
  return *std::move(policy);
}

// A plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes), so that it can be
// quoted into a statement.
bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    const bool ok =
        c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

// The plaintext values of `--column` of `--table` in the SQLite database, decrypted
// through the field policy (each row's `--key-column` is the record of bound fields);
// NULLs are skipped. nullopt with exit_code set; a value that does not decrypt stops the
// run naming its row.
std::optional<std::vector<std::string>> ReadColumn(const PlanArgs& args, const Policy& policy,
                                                   int& exit_code) {
  if (!absl::StartsWith(args.db, "sqlite:") || args.kek.empty() || args.keyset.empty() ||
      args.policy.empty() || !IsIdentifier(args.table) || !IsIdentifier(args.column) ||
      !IsIdentifier(args.key_column)) {
    PrintError(
        "--db sqlite:PATH needs --kek, --keyset, --policy, --field and --table, "
        "--column, --key-column (plain SQL identifiers)");
    exit_code = kExitUsage;
    return std::nullopt;
  }
  std::optional<Keyset> keyset = ReadKeyset(args.kek, args.keyset, exit_code);
  if (!keyset.has_value()) return std::nullopt;
  absl::StatusOr<std::unique_ptr<FieldCryptor>> cryptor = FieldCryptor::Create(*keyset, policy);
  if (!cryptor.ok()) {
    exit_code = ReportFailure(cryptor.status());
    return std::nullopt;
  }
  sqlite3* db = nullptr;
  const std::string path = args.db.substr(std::string("sqlite:").size());
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  const internal::SqliteDbPtr closer(db);
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = absl::StrCat("SELECT \"", args.key_column, "\", \"", args.column,
                                       "\" FROM \"", args.table, "\"");
  // DQS off: a misspelt "column" fails to prepare instead of reading as a string literal.
  if (rc != SQLITE_OK || sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    exit_code = ReportFailure(absl::UnavailableError(
        absl::StrCat("cannot read column ", args.column, " of table ", args.table, " in ", path)));
    return std::nullopt;
  }
  const internal::SqliteStmtPtr finalizer(stmt);
  std::vector<std::string> values;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (sqlite3_column_type(stmt, 1) == SQLITE_NULL) continue;
    const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const std::string record = key == nullptr ? "" : key;
    const auto* stored = static_cast<const char*>(sqlite3_column_blob(stmt, 1));
    absl::StatusOr<std::optional<std::string>> plain =
        (*cryptor)->Decrypt(args.field,
                            absl::string_view(stored == nullptr ? "" : stored,
                                              static_cast<size_t>(sqlite3_column_bytes(stmt, 1))),
                            record);
    if (!plain.ok()) {
      for (std::string& v : values) internal::SecureWipe(v.data(), v.size());
      exit_code = ReportFailure(absl::InvalidArgumentError(
          absl::StrCat("row ", args.key_column, " = ", record, ": ", plain.status().message())));
      return std::nullopt;
    }
    if (plain->has_value()) values.push_back(**std::move(plain));
  }
  if (step != SQLITE_DONE) {
    for (std::string& v : values) internal::SecureWipe(v.data(), v.size());
    exit_code = ReportFailure(
        absl::UnavailableError(absl::StrCat("reading table ", args.table, " failed")));
    return std::nullopt;
  }
  return values;
}

void PrintText(const internal::IndexPlan& plan) {
  std::printf("%lld values read (%lld refused by the normalizer), %lld distinct\n",
              static_cast<long long>(plan.sample_rows), static_cast<long long>(plan.refused),
              static_cast<long long>(plan.sample_distinct));
  std::printf(
      "at %lld rows: about %lld distinct values (growth exponent %.2f), %.2f rows per value\n\n",
      static_cast<long long>(plan.expected_rows), static_cast<long long>(plan.expected_distinct),
      plan.growth_exponent,
      static_cast<double>(plan.expected_rows) / static_cast<double>(plan.expected_distinct));
  std::printf("bits  false positives  values per index value     values alone\n");
  std::printf("      per lookup       smallest        median\n");
  for (const internal::BitsEstimate& e : plan.estimates) {
    std::printf("%4d  %15.4g  %8lld  %12g  %14.2f%%\n", e.bits, e.false_positives,
                static_cast<long long>(e.min_values), e.median_values, 100 * e.alone);
  }
  std::printf("\nrecommended: %d bits\nrule: %s\n", plan.recommended_bits, plan.rule.c_str());
}

// `s` as a JSON string (the rule: ASCII without control characters).
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

void PrintJson(const internal::IndexPlan& plan) {
  std::string out = absl::StrFormat(
      "{\"sample_rows\": %d, \"refused\": %d, \"sample_distinct\": %d, \"expected_rows\": %d, "
      "\"expected_distinct\": %d, \"growth_exponent\": %.4g, \"scale_shift\": %d, "
      "\"candidates\": [",
      plan.sample_rows, plan.refused, plan.sample_distinct, plan.expected_rows,
      plan.expected_distinct, plan.growth_exponent, plan.scale_shift);
  for (size_t i = 0; i < plan.estimates.size(); ++i) {
    const internal::BitsEstimate& e = plan.estimates[i];
    absl::StrAppendFormat(&out,
                          "%s{\"bits\": %d, \"false_positives\": %.6g, \"min_values\": %d, "
                          "\"median_values\": %g, \"alone\": %.6g}",
                          i == 0 ? "" : ", ", e.bits, e.false_positives, e.min_values,
                          e.median_values, e.alone);
  }
  absl::StrAppendFormat(&out, "], \"recommended_bits\": %d, \"rule\": %s, \"within_bounds\": %s}\n",
                        plan.recommended_bits, JsonString(plan.rule),
                        plan.within_bounds ? "true" : "false");
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// Whether an executable `name` is on $PATH.
bool OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "" : path, ':')) {
    if (!dir.empty() && access(absl::StrCat(dir, "/", name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Draws both curves into `png` with gnuplot; a one-line error otherwise.
absl::Status Plot(const internal::IndexPlan& plan, const std::string& png) {
  if (!OnPath("gnuplot")) {
    return absl::FailedPreconditionError(
        "--plot needs gnuplot, which is not installed (Debian: apt-get install gnuplot-nox)");
  }
  char data_path[] = "/tmp/piicrypt-plan-XXXXXX";
  const int fd = mkstemp(data_path);
  if (fd < 0) return absl::InternalError("cannot create a temporary file for the plot");
  close(fd);
  {
    std::ofstream data(data_path);
    for (const internal::BitsEstimate& e : plan.estimates) {
      data << e.bits << ' ' << std::max(e.false_positives, 1e-12) << ' ' << e.min_values << ' '
           << e.median_values << '\n';
    }
  }
  std::string script = absl::StrFormat(
      "set terminal pngcairo size 900,560\nset output %s\n"
      "set title 'blind index at %d rows (%d distinct values)'\n"
      "set xlabel 'bits'\nset logscale y\nset format y '10^{%%L}'\n"
      "set ylabel 'false positives per lookup'\nset y2label 'distinct values per index value'\n"
      "set logscale y2\nset y2tics\nset ytics nomirror\nset key bottom left\n"
      "set arrow from %d, graph 0 to %d, graph 1 nohead dashtype 2\n"
      "set label 'recommended: %d bits' at %d, graph 0.95 offset 1,0\n"
      "plot %s using 1:2 with lines lw 2 title 'false positives per lookup', "
      "%s using 1:4 axes x1y2 with lines lw 2 title 'values per index value (median)', "
      "%s using 1:3 axes x1y2 with lines lw 2 title 'values per index value (smallest)'\n",
      JsonString(png), plan.expected_rows, plan.expected_distinct, plan.recommended_bits,
      plan.recommended_bits, plan.recommended_bits, plan.recommended_bits, JsonString(data_path),
      JsonString(data_path), JsonString(data_path));
  FILE* gnuplot = popen("gnuplot 2>/dev/null", "w");
  if (gnuplot == nullptr) {
    unlink(data_path);
    return absl::InternalError("cannot start gnuplot");
  }
  // A gnuplot that exits early must not kill this process with SIGPIPE.
  void (*previous)(int) = std::signal(SIGPIPE, SIG_IGN);
  std::fwrite(script.data(), 1, script.size(), gnuplot);
  const int status = pclose(gnuplot);
  std::signal(SIGPIPE, previous);
  unlink(data_path);
  if (status != 0) return absl::InternalError(absl::StrCat("gnuplot could not write ", png));
  return absl::OkStatus();
}

void RunPlan(PlanArgs& args, int& exit_code) {
  if (args.values.empty() == args.db.empty()) {
    PrintError("give --values FILE or --db sqlite:PATH (one of them)");
    exit_code = kExitUsage;
    return;
  }
  std::optional<Policy> policy;
  if (!args.policy.empty()) {
    policy = NormalizerFromPolicy(args, exit_code);
    if (!policy.has_value()) return;
  }
  if (!args.db.empty() && !policy.has_value()) {
    PrintError("--db needs --policy FILE --field NAME");
    exit_code = kExitUsage;
    return;
  }
  std::optional<std::vector<std::string>> values =
      args.db.empty() ? ReadValues(args.values, exit_code) : ReadColumn(args, *policy, exit_code);
  if (!values.has_value()) return;
  args.options.expected_rows = args.rows;
  absl::StatusOr<internal::IndexPlan> plan =
      internal::PlanBlindIndex(*values, args.normalizer, args.region, args.options);
  for (std::string& v : *values) internal::SecureWipe(v.data(), v.size());
  if (!plan.ok()) {
    exit_code = ReportFailure(plan.status());
    return;
  }
  if (args.json) {
    PrintJson(*plan);
  } else {
    PrintText(*plan);
  }
  if (std::fflush(stdout) != 0) {
    exit_code = ReportFailure(absl::DataLossError("cannot write to stdout"));
    return;
  }
  if (!args.plot.empty()) {
    absl::Status plotted = Plot(*plan, args.plot);
    if (!plotted.ok()) {
      exit_code = ReportFailure(plotted);
      return;
    }
  }
  exit_code = kExitOk;
}

}  // namespace

void AddPlanCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* plan = app.add_subcommand(
      "plan-index",
      "Recommend a blind index's bits from a sample of the column's values and the rows "
      "expected.");
  plan->add_option("--values", args->values,
                   "A file of the column's plaintext values, one per line ('-': stdin)");
  plan->add_option("--db", args->db,
                   "Or read the column from a table: sqlite:PATH, decrypting each value "
                   "through --policy (with --kek, --keyset, --table, --column, --key-column)");
  plan->add_option("--table", args->table, "--db: the table");
  plan->add_option("--column", args->column, "--db: the column holding --field's ciphertexts");
  plan->add_option("--key-column", args->key_column,
                   "--db: the row's key, the record of fields with bind_record");
  plan->add_option("--kek", args->kek, std::string("--db: ") + kKekHelp);
  plan->add_option("--keyset", args->keyset, "--db: the keyset file");
  plan->add_option("--rows", args->rows, "Rows the column is expected to hold in a few years")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));
  CLI::Option* policy = plan->add_option(
      "--policy", args->policy, "A policy textproto: --field's blind_index gives the normalizer");
  CLI::Option* field = plan->add_option("--field", args->field, "The field's CONTEXT in --policy");
  policy->needs(field);
  field->needs(policy);
  policy->excludes(
      plan->add_option("--normalize", args->normalizer, "exact (default), email, phone or name")
          ->transform(CLI::CheckedTransformer(
              std::map<std::string, Normalizer>{{"exact", Normalizer::kExact},
                                                {"email", Normalizer::kEmail},
                                                {"phone", Normalizer::kPhone},
                                                {"name", Normalizer::kName}},
              CLI::ignore_case)));
  policy->excludes(plan->add_option(
      "--region", args->region,
      "Phone normalizer: region (ISO 3166 alpha-2, e.g. AU) of numbers without '+'"));
  plan->add_option("--min-values", args->options.min_values,
                   "Distinct values every index value should be shared by (default 2)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  plan->add_option("--max-false-positives", args->options.max_false_positives,
                   "Bound on the rows of other values per lookup (default 100)")
      ->check(CLI::PositiveNumber);
  plan->add_option("--min-bits", args->options.min_bits, "Fewest bits considered (default 8)")
      ->check(CLI::Range(8, 64));
  plan->add_option("--max-bits", args->options.max_bits, "Most bits considered (default 64)")
      ->check(CLI::Range(8, 64));
  plan->add_flag("--json", args->json, "Print the plan as JSON");
  plan->add_option("--plot", args->plot, "Also draw both curves into this PNG file (gnuplot)");
  plan->footer(kPlanFooter);
  plan->callback([args, &exit_code] {
    if (args->options.min_bits > args->options.max_bits) {
      PrintError("--min-bits must not exceed --max-bits");
      exit_code = kExitUsage;
      return;
    }
    RunPlan(*args, exit_code);
  });
}

}  // namespace piicrypt::cli
