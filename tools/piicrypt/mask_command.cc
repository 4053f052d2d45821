// piicrypt mask: the display masks of a field (FieldCryptor's MaskValue), one value per line.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

struct MaskArgs {
  std::string policy;
  std::string field;
  MaskStyle style = MaskStyle::kDefault;
};

constexpr char kMaskFooter[] =
    "Values are read one per line from stdin (a trailing CR is dropped) and their masks\n"
    "written one per line to stdout, in order, for logs, support screens and test data.\n"
    "The style is the field's mask in --policy (its mask, or its kind's default), or --style:\n"
    "  full      ***                whatever the value\n"
    "  email     j***@example.com   first character of the local part, and the domain\n"
    "  phone     *** *** 0199       the last four digits\n"
    "  initials  J. D.              the upper-cased first letter of each word\n"
    "  last4     **** 1234          the last four digits\n"
    "A value that does not fit its style (an e-mail without '@', fewer than four digits) is\n"
    "masked as ***. Masking needs no keys: a mask is computed from the plaintext; decrypt\n"
    "first (piicrypt decrypt) to mask stored values.\n"
    "\n"
    "Examples:\n"
    "  printf 'jane.doe@example.com\\n' | piicrypt mask --policy orders.textproto \\\n"
    "      --field orders.customer_email                          # j***@example.com\n"
    "  printf '+61 2 5550 0199\\n' | piicrypt mask --style phone    # *** *** 0199\n"
    "\n"
    "Exit status: 0 success, 1 stdout could not be written, 2 bad usage (neither or both of\n"
    "--policy and --style, a field not in the policy, an unreadable policy).\n"
    "See docs/FIELDS.md.";

// The style to apply, or nullopt with exit_code set (bad usage).
std::optional<MaskStyle> StyleOf(const MaskArgs& args, int& exit_code) {
  if (args.policy.empty() == (args.style == MaskStyle::kDefault)) {
    PrintError("give --policy FILE --field NAME, or --style STYLE");
    exit_code = kExitUsage;
    return std::nullopt;
  }
  if (args.policy.empty()) return args.style;
  absl::StatusOr<Policy> policy = Policy::ReadFile(args.policy);
  if (!policy.ok()) {
    PrintError(std::string(policy.status().message()));
    exit_code = kExitUsage;
    return std::nullopt;
  }
  const FieldRule* rule = args.field.empty() ? nullptr : policy->Find(args.field);
  if (rule == nullptr) {
    PrintError(absl::StrCat("field \"", args.field, "\" is not in ", args.policy));
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return rule->mask;
}

void RunMask(const MaskArgs& args, int& exit_code) {
  std::optional<MaskStyle> style = StyleOf(args, exit_code);
  if (!style.has_value()) return;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string masked = MaskValue(*style, line);
    internal::SecureWipe(line.data(), line.size());
    masked.push_back('\n');
    std::fwrite(masked.data(), 1, masked.size(), stdout);
  }
  if (std::fflush(stdout) != 0) {
    PrintError("cannot write to stdout");
    exit_code = kExitFailed;
    return;
  }
  exit_code = kExitOk;
}

}  // namespace

void AddMaskCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MaskArgs>();
  CLI::App* mask = app.add_subcommand(
      "mask", "Mask values (one per line on stdin) for display, one per line on stdout.");
  CLI::Option* policy = mask->add_option(
      "--policy", args->policy, "A policy textproto whose rule for --field gives the mask");
  CLI::Option* field =
      mask->add_option("--field", args->field, "The field's CONTEXT, e.g. orders.customer_email");
  field->needs(policy);
  policy->needs(field);
  mask->add_option("--style", args->style, "full, email, phone, initials or last4")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, MaskStyle>{{"full", MaskStyle::kFull},
                                           {"email", MaskStyle::kEmail},
                                           {"phone", MaskStyle::kPhone},
                                           {"initials", MaskStyle::kInitials},
                                           {"last4", MaskStyle::kLast4}},
          CLI::ignore_case))
      ->excludes(policy);
  mask->footer(kMaskFooter);
  mask->callback([args, &exit_code] { RunMask(*args, exit_code); });
}

}  // namespace piicrypt::cli
