// Fuzzes the policy loader (Policy::ParseTextProto, src/field/policy.cc); the input is
// the textproto.
// - Errors are kInvalidArgument, and a rule's error names it ("policy field ...").
// - A loaded policy is resolved: every rule has a name, a kind, a mask and (with a blind
//   index) a normalizer; names are unique; FF1 rules make a field, blind indexes a
//   normalizer; tokens belong to vault-token rules only.
// - Resolving is a fixed point: Policy::Create of the loaded rules gives the same rules.
// - Parse, print (protobuf's canonical text format), load again: the same policy, or the
//   same error.
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/policy.h"
#include "piicrypt/policy.pb.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/field/normalizers.h"

namespace {

using piicrypt::FieldRule;

bool SameToken(const piicrypt::TokenizerOptions& a, const piicrypt::TokenizerOptions& b) {
  return a.field == b.field && a.format == b.format && a.mode == b.mode &&
         a.vaultless == b.vaultless && a.card_keep_first_six == b.card_keep_first_six &&
         a.card_luhn == b.card_luhn && a.alphanumeric_length == b.alphanumeric_length &&
         a.prefix == b.prefix && a.ttl == b.ttl && a.max_attempts == b.max_attempts &&
         a.vaultless_key_id == b.vaultless_key_id;
}

bool SameFpe(const piicrypt::FormatPreservingRule& a, const piicrypt::FormatPreservingRule& b) {
  return a.codec.context == b.codec.context && a.codec.codec == b.codec.codec &&
         a.codec.card_keep_first_six == b.codec.card_keep_first_six &&
         a.codec.card_luhn == b.codec.card_luhn && a.codec.alphabet == b.codec.alphabet &&
         a.codec.keep_characters == b.codec.keep_characters && a.key_id == b.key_id &&
         a.key_version_column == b.key_version_column;
}

bool SameIndex(const piicrypt::BlindIndexRule& a, const piicrypt::BlindIndexRule& b) {
  return a.bits == b.bits && a.normalizer == b.normalizer && a.default_region == b.default_region &&
         a.column == b.column;
}

template <typename T, typename Same>
bool SameOptional(const std::optional<T>& a, const std::optional<T>& b, Same same) {
  return a.has_value() == b.has_value() && (!a.has_value() || same(*a, *b));
}

bool SameRule(const FieldRule& a, const FieldRule& b) {
  return a.name == b.name && a.kind == b.kind && a.mode == b.mode &&
         a.bind_record == b.bind_record && a.mask == b.mask &&
         SameOptional(a.blind_index, b.blind_index, SameIndex) &&
         SameOptional(a.format_preserving, b.format_preserving, SameFpe) &&
         SameOptional(a.token, b.token, SameToken);
}

bool SameRules(absl::Span<const FieldRule> a, absl::Span<const FieldRule> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameRule(a[i], b[i])) return false;
  }
  return true;
}

void CheckResolved(const FieldRule& rule) {
  if (rule.name.empty() || rule.kind == piicrypt::FieldKind::kUnspecified ||
      rule.mask == piicrypt::MaskStyle::kDefault) {
    __builtin_trap();
  }
  const bool fpe = rule.mode == piicrypt::FieldMode::kFormatPreserving;
  const bool vault = rule.mode == piicrypt::FieldMode::kVaultToken;
  if (fpe != rule.format_preserving.has_value()) __builtin_trap();
  if (vault != rule.token.has_value()) __builtin_trap();
  if (fpe && !piicrypt::FormatPreservingField::CreateWithKey(rule.format_preserving->codec,
                                                             piicrypt::SecretData(32, 1))
                  .ok()) {
    __builtin_trap();
  }
  if (vault && rule.token->field != rule.name) __builtin_trap();
  if (rule.blind_index.has_value()) {
    const piicrypt::BlindIndexRule& index = *rule.blind_index;
    if (vault || index.bits < 8 || index.bits > 256 ||
        index.normalizer == piicrypt::Normalizer::kDefault) {
      __builtin_trap();
    }
    if (!piicrypt::internal::ValueNormalizer::Create(index.normalizer, index.default_region).ok()) {
      __builtin_trap();
    }
  }
}

// Keeps protobuf's parser from logging every syntax error of the fuzzer's inputs.
class Silent : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
};

void CheckError(const absl::Status& status) {
  if (!absl::IsInvalidArgument(status)) __builtin_trap();
  if (!absl::StartsWith(status.message(), "policy")) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = piicrypt::Policy::ParseTextProto(text);
  if (policy.ok()) {
    std::vector<std::string> names;
    for (const FieldRule& rule : policy->rules()) {
      CheckResolved(rule);
      for (const std::string& name : names) {
        if (name == rule.name) __builtin_trap();
      }
      names.push_back(rule.name);
    }
    auto again = piicrypt::Policy::Create(
        std::vector<FieldRule>(policy->rules().begin(), policy->rules().end()));
    if (!again.ok() || !SameRules(again->rules(), policy->rules())) __builtin_trap();
  } else {
    CheckError(policy.status());
  }

  piicrypt::policy::Policy proto;
  google::protobuf::TextFormat::Parser parser;
  Silent silent;
  parser.RecordErrorsTo(&silent);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    if (policy.ok()) __builtin_trap();  // the loader accepted what protobuf refuses
    return 0;
  }
  std::string printed;
  if (!google::protobuf::TextFormat::PrintToString(proto, &printed)) __builtin_trap();
  auto reloaded = piicrypt::Policy::ParseTextProto(printed);
  if (reloaded.ok() != policy.ok()) __builtin_trap();
  if (policy.ok() && !SameRules(reloaded->rules(), policy->rules())) __builtin_trap();
  if (!policy.ok() && reloaded.status().message() != policy.status().message()) __builtin_trap();
  return 0;
}
