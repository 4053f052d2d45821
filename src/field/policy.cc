#include "piicrypt/policy.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/crypto/field_format.h"
#include "src/field/policy_internal.h"
#include "src/field/value_normalizer.h"
#include "src/fpe/utf8.h"
#include "src/token/token_format.h"

namespace piicrypt {
namespace {

absl::Status FieldError(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("policy field \"", name, "\": ", problem));
}

bool IsFreeText(FieldKind kind) {
  return kind == FieldKind::kText || kind == FieldKind::kEmail || kind == FieldKind::kName ||
         kind == FieldKind::kAddress;
}

FieldKind KindOfCodec(FpeCodec codec) {
  switch (codec) {
    case FpeCodec::kPhone:
      return FieldKind::kPhone;
    case FpeCodec::kCard:
      return FieldKind::kCard;
    case FpeCodec::kAlphabet:
      break;
  }
  return FieldKind::kIdentifier;
}

absl::string_view KindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kUnspecified:
      return "KIND_UNSPECIFIED";
    case FieldKind::kText:
      return "KIND_TEXT";
    case FieldKind::kEmail:
      return "KIND_EMAIL";
    case FieldKind::kPhone:
      return "KIND_PHONE";
    case FieldKind::kName:
      return "KIND_NAME";
    case FieldKind::kAddress:
      return "KIND_ADDRESS";
    case FieldKind::kCard:
      return "KIND_CARD";
    case FieldKind::kIdentifier:
      break;
  }
  return "KIND_IDENTIFIER";
}

Normalizer DefaultNormalizer(FieldKind kind) {
  switch (kind) {
    case FieldKind::kEmail:
      return Normalizer::kEmail;
    case FieldKind::kPhone:
      return Normalizer::kPhone;
    case FieldKind::kName:
      return Normalizer::kName;
    default:
      return Normalizer::kExact;
  }
}

// The normalizers that fit a kind (a phone normalizer on an e-mail field finds nothing).
bool NormalizerFits(Normalizer normalizer, FieldKind kind) {
  if (normalizer == Normalizer::kExact) return true;
  switch (kind) {
    case FieldKind::kEmail:
      return normalizer == Normalizer::kEmail;
    case FieldKind::kPhone:
      return normalizer == Normalizer::kPhone;
    case FieldKind::kName:
    case FieldKind::kAddress:
      return normalizer == Normalizer::kName;
    case FieldKind::kText:
      return true;
    default:
      return false;
  }
}

MaskStyle DefaultMask(FieldKind kind) {
  switch (kind) {
    case FieldKind::kEmail:
      return MaskStyle::kEmail;
    case FieldKind::kPhone:
      return MaskStyle::kPhone;
    case FieldKind::kName:
      return MaskStyle::kInitials;
    case FieldKind::kCard:
      return MaskStyle::kLast4;
    default:
      return MaskStyle::kFull;
  }
}

absl::string_view MaskName(MaskStyle mask) {
  switch (mask) {
    case MaskStyle::kDefault:
      return "MASK_UNSPECIFIED";
    case MaskStyle::kFull:
      return "MASK_FULL";
    case MaskStyle::kEmail:
      return "MASK_EMAIL";
    case MaskStyle::kPhone:
      return "MASK_PHONE";
    case MaskStyle::kInitials:
      return "MASK_INITIALS";
    case MaskStyle::kLast4:
      break;
  }
  return "MASK_LAST4";
}

// The masks that fit a kind (docs/FIELDS.md, "Masks"): MASK_FULL fits every kind; the
// others show a part of the value that only has a meaning, and only hides the rest, for
// their kinds (MASK_LAST4 on an address would show its house number).
bool MaskFits(MaskStyle mask, FieldKind kind) {
  switch (mask) {
    case MaskStyle::kDefault:
    case MaskStyle::kFull:
      return true;
    case MaskStyle::kEmail:
      return kind == FieldKind::kEmail;
    case MaskStyle::kPhone:
      return kind == FieldKind::kPhone;
    case MaskStyle::kInitials:
      return kind == FieldKind::kName;
    case MaskStyle::kLast4:
      break;
  }
  return kind == FieldKind::kCard || kind == FieldKind::kPhone || kind == FieldKind::kIdentifier;
}

// A field name is bound into ciphertexts and printed in errors and logs: valid UTF-8
// without control characters (C0, DEL, C1).
bool IsPrintableName(absl::string_view name) {
  auto cps = internal::DecodeUtf8(name);
  if (!cps.ok()) return false;
  for (char32_t cp : *cps) {
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return false;
  }
  return true;
}

// Collects the first syntax error of a textproto with its position.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty())
      error_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::string_view NormalizerName(Normalizer normalizer) {
  switch (normalizer) {
    case Normalizer::kDefault:
      return "default";
    case Normalizer::kExact:
      return "exact";
    case Normalizer::kEmail:
      return "email";
    case Normalizer::kPhone:
      return "phone";
    case Normalizer::kName:
      break;
  }
  return "name";
}

absl::StatusOr<Normalizer> ParseNormalizer(absl::string_view name) {
  for (Normalizer n :
       {Normalizer::kExact, Normalizer::kEmail, Normalizer::kPhone, Normalizer::kName}) {
    if (name == NormalizerName(n)) return n;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown normalizer \"", name, "\" (known: exact, email, phone, name)"));
}

namespace internal {

bool IsSqlIdentifier(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(c >= '0' && c <= '9' && i > 0)) return false;
  }
  return true;
}

absl::Status ValidateAndResolve(FieldRule& rule) {
  const std::string& name = rule.name;
  if (name.empty()) return absl::InvalidArgumentError("policy field without a name");
  if (name.size() > kMaxContextSize) {
    return FieldError(name.substr(0, 64) + "...", "name longer than 1024 bytes");
  }
  if (!IsPrintableName(name)) {
    return FieldError(absl::CHexEscape(name),
                      "a field name must be valid UTF-8 without control characters");
  }

  // Kind, and the format-preserving codec that must fit it.
  if (rule.mode == FieldMode::kFormatPreserving) {
    if (!rule.format_preserving.has_value()) {
      return FieldError(name,
                        "MODE_FORMAT_PRESERVING needs format_preserving { phone|card|alphabet }");
    }
    const FpeCodec codec = rule.format_preserving->codec.codec;
    if (rule.kind == FieldKind::kUnspecified) rule.kind = KindOfCodec(codec);
    if (IsFreeText(rule.kind)) {
      return FieldError(name,
                        absl::StrCat("an FF1 codec on a free-text field (", KindName(rule.kind),
                                     ") makes no sense: FF1 keeps a fixed format; use "
                                     "MODE_RANDOMIZED"));
    }
    if (rule.kind != KindOfCodec(codec)) {
      return FieldError(name, absl::StrCat("the FF1 codec does not fit a ", KindName(rule.kind),
                                           " field (phone: KIND_PHONE, card: KIND_CARD, "
                                           "alphabet: KIND_IDENTIFIER)"));
    }
    rule.format_preserving->codec.context = name;
    if (const std::string& v = rule.format_preserving->key_version_column;
        !v.empty() && !IsSqlIdentifier(v)) {
      return FieldError(name,
                        "key_version_column must be a plain SQL identifier "
                        "([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)");
    }
    if (rule.format_preserving->key_id == 0 && rule.format_preserving->key_version_column.empty()) {
      return FieldError(name,
                        "an FF1 value carries no key id, so the field must say where its key "
                        "is: add format_preserving { key_id: N } (the data key of the column, "
                        "from `piicrypt keyset list`) or a key_version_column (docs/FPE.md)");
    }
    // The codec's own checks (alphabet size, duplicates, kept characters), with a throwaway key.
    const SecretData probe_key(32, 0);
    auto probe = FormatPreservingField::CreateWithKey(rule.format_preserving->codec, probe_key);
    if (!probe.ok()) return FieldError(name, probe.status().message());
  } else if (rule.format_preserving.has_value()) {
    return FieldError(name, "format_preserving is only for MODE_FORMAT_PRESERVING");
  }
  if (rule.kind == FieldKind::kUnspecified) rule.kind = FieldKind::kText;

  if (rule.mode == FieldMode::kVaultToken) {
    if (!rule.token.has_value()) rule.token.emplace();
    rule.token->field = name;
    rule.token->clock = nullptr;
    absl::Status token = internal::ValidateTokenOptions(*rule.token);
    if (!token.ok()) {
      return FieldError(name, absl::StripPrefix(token.message(), absl::StrCat(name, ": ")));
    }
    if (rule.token->vaultless && rule.token->vaultless_key_id == 0) {
      return FieldError(name,
                        "a vaultless token carries no key id, so the field must pin its key: "
                        "add token { key_id: N } (from `piicrypt keyset list`; docs/FPE.md)");
    }
    if (rule.bind_record) {
      return FieldError(name,
                        "bind_record does not apply to MODE_VAULT_TOKEN: a token stands for "
                        "its value in every row; remove bind_record");
    }
  } else if (rule.token.has_value()) {
    return FieldError(name, "token is only for MODE_VAULT_TOKEN");
  }

  if (rule.mode == FieldMode::kVaultToken && rule.blind_index.has_value()) {
    return FieldError(name, "MODE_VAULT_TOKEN is reserved for the token vault; no blind_index");
  }

  if (rule.blind_index.has_value()) {
    BlindIndexRule& bidx = *rule.blind_index;
    if (bidx.bits < 8 || bidx.bits > 256) {
      return FieldError(name, absl::StrCat("blind index bits must be 8 to 256, not ", bidx.bits));
    }
    if (bidx.normalizer == Normalizer::kDefault) bidx.normalizer = DefaultNormalizer(rule.kind);
    if (!NormalizerFits(bidx.normalizer, rule.kind)) {
      return FieldError(name, absl::StrCat("normalizer \"", NormalizerName(bidx.normalizer),
                                           "\" does not fit a ", KindName(rule.kind), " field"));
    }
    if (!bidx.column.empty() && !IsSqlIdentifier(bidx.column)) {
      return FieldError(name,
                        "blind_index column must be a plain SQL identifier "
                        "([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)");
    }
    if (!bidx.default_region.empty() && bidx.normalizer != Normalizer::kPhone) {
      return FieldError(name, "default_region is only for the phone normalizer");
    }
    auto normalizer = internal::ValueNormalizer::Create(bidx.normalizer, bidx.default_region);
    if (!normalizer.ok()) {  // a bad region, or the normalizers component not linked
      const absl::Status error = FieldError(name, normalizer.status().message());
      return absl::Status(normalizer.status().code(), error.message());
    }
    const bool equality_visible =
        (rule.mode == FieldMode::kDeterministic || rule.mode == FieldMode::kFormatPreserving) &&
        !rule.bind_record;
    if (equality_visible && bidx.normalizer == Normalizer::kExact) {
      return FieldError(name,
                        "a blind index with the exact normalizer on a deterministic field adds "
                        "nothing: equal values already have equal ciphertexts");
    }
  }

  if (rule.padding.enabled()) {
    if (rule.mode != FieldMode::kRandomized && rule.mode != FieldMode::kDeterministic) {
      return FieldError(name,
                        "padding is only for MODE_RANDOMIZED and MODE_DETERMINISTIC (FF1 values "
                        "and tokens keep the value's length by design)");
    }
    absl::Status padding = rule.padding.Validate();
    if (!padding.ok()) return FieldError(name, padding.message());
  }

  if (!MaskFits(rule.mask, rule.kind)) {
    return FieldError(name,
                      absl::StrCat(MaskName(rule.mask), " does not fit a ", KindName(rule.kind),
                                   " field (docs/FIELDS.md lists the masks of each kind)"));
  }
  if (rule.mask == MaskStyle::kDefault) rule.mask = DefaultMask(rule.kind);
  return absl::OkStatus();
}

absl::StatusOr<FieldRule> RuleFromProto(const policy::FieldRule& proto,
                                        absl::string_view fallback_name) {
  FieldRule rule;
  rule.name = proto.name().empty() ? std::string(fallback_name) : proto.name();
  const std::string& name = rule.name;
  switch (proto.mode()) {
    case policy::MODE_RANDOMIZED:
      rule.mode = FieldMode::kRandomized;
      break;
    case policy::MODE_DETERMINISTIC:
      rule.mode = FieldMode::kDeterministic;
      break;
    case policy::MODE_FORMAT_PRESERVING:
      rule.mode = FieldMode::kFormatPreserving;
      break;
    case policy::MODE_VAULT_TOKEN:
      rule.mode = FieldMode::kVaultToken;
      break;
    default:
      return FieldError(name,
                        "mode is required (MODE_RANDOMIZED, MODE_DETERMINISTIC, "
                        "MODE_FORMAT_PRESERVING or MODE_VAULT_TOKEN)");
  }
  switch (proto.kind()) {
    case policy::KIND_TEXT:
      rule.kind = FieldKind::kText;
      break;
    case policy::KIND_EMAIL:
      rule.kind = FieldKind::kEmail;
      break;
    case policy::KIND_PHONE:
      rule.kind = FieldKind::kPhone;
      break;
    case policy::KIND_NAME:
      rule.kind = FieldKind::kName;
      break;
    case policy::KIND_ADDRESS:
      rule.kind = FieldKind::kAddress;
      break;
    case policy::KIND_CARD:
      rule.kind = FieldKind::kCard;
      break;
    case policy::KIND_IDENTIFIER:
      rule.kind = FieldKind::kIdentifier;
      break;
    default:
      rule.kind = FieldKind::kUnspecified;
      break;
  }
  switch (proto.mask()) {
    case policy::MASK_FULL:
      rule.mask = MaskStyle::kFull;
      break;
    case policy::MASK_EMAIL:
      rule.mask = MaskStyle::kEmail;
      break;
    case policy::MASK_PHONE:
      rule.mask = MaskStyle::kPhone;
      break;
    case policy::MASK_INITIALS:
      rule.mask = MaskStyle::kInitials;
      break;
    case policy::MASK_LAST4:
      rule.mask = MaskStyle::kLast4;
      break;
    default:
      rule.mask = MaskStyle::kDefault;
      break;
  }
  rule.bind_record = proto.bind_record();
  if (proto.has_blind_index()) {
    BlindIndexRule bidx;
    bidx.bits =
        proto.blind_index().bits() > 1024 ? 1024 : static_cast<int>(proto.blind_index().bits());
    if (!proto.blind_index().normalizer().empty()) {
      auto normalizer = ParseNormalizer(proto.blind_index().normalizer());
      if (!normalizer.ok()) return FieldError(name, normalizer.status().message());
      bidx.normalizer = *normalizer;
    }
    bidx.default_region = proto.blind_index().default_region();
    bidx.column = proto.blind_index().column();
    rule.blind_index = std::move(bidx);
  }
  if (proto.has_format_preserving()) {
    const policy::FormatPreserving& fp = proto.format_preserving();
    FormatPreservingRule fpe;
    fpe.key_id = fp.key_id();
    fpe.key_version_column = fp.key_version_column();
    switch (fp.codec_case()) {
      case policy::FormatPreserving::kPhone:
        fpe.codec.codec = FpeCodec::kPhone;
        break;
      case policy::FormatPreserving::kCard:
        fpe.codec.codec = FpeCodec::kCard;
        fpe.codec.card_keep_first_six = fp.card().keep_first_six();
        fpe.codec.card_luhn =
            fp.card().luhn() == policy::LUHN_VALID ? LuhnOutput::kValid : LuhnOutput::kInvalid;
        break;
      case policy::FormatPreserving::kAlphabet:
        fpe.codec.codec = FpeCodec::kAlphabet;
        if (!fp.alphabet().alphabet().empty()) fpe.codec.alphabet = fp.alphabet().alphabet();
        fpe.codec.keep_characters = fp.alphabet().keep_characters();
        break;
      default:
        return FieldError(name,
                          "format_preserving needs a codec: phone {}, card {} or alphabet {}");
    }
    rule.format_preserving = std::move(fpe);
  }
  if (proto.has_token()) {
    const policy::Token& t = proto.token();
    TokenizerOptions token;
    switch (t.format()) {
      case policy::TOKEN_FORMAT_CARD:
        token.format = TokenFormat::kCard;
        break;
      case policy::TOKEN_FORMAT_ALPHANUMERIC:
        token.format = TokenFormat::kAlphanumeric;
        break;
      default:
        token.format = TokenFormat::kPreserve;
        break;
    }
    token.mode = t.random() ? TokenMode::kRandom : TokenMode::kDeterministic;
    token.vaultless = t.vaultless();
    token.card_keep_first_six = t.keep_first_six();
    token.card_luhn = t.luhn() == policy::LUHN_VALID ? LuhnOutput::kValid : LuhnOutput::kInvalid;
    if (t.length() != 0) token.alphanumeric_length = t.length();
    token.prefix = t.prefix();
    if (t.ttl_seconds() > static_cast<uint64_t>(INT32_MAX) * 366) {
      return FieldError(name, "token ttl_seconds is too large");
    }
    token.ttl = absl::Seconds(static_cast<int64_t>(t.ttl_seconds()));
    token.vaultless_key_id = t.key_id();
    rule.token = std::move(token);
  }
  if (proto.has_padding()) {
    if (proto.padding().multiple() == 0 && proto.padding().buckets().empty()) {
      return FieldError(name, "padding needs a multiple or buckets");
    }
    rule.padding.multiple = proto.padding().multiple();
    rule.padding.buckets.assign(proto.padding().buckets().begin(), proto.padding().buckets().end());
  }
  return rule;
}

}  // namespace internal

absl::StatusOr<Policy> Policy::Create(std::vector<FieldRule> rules) {
  absl::flat_hash_set<std::string> names;
  for (FieldRule& rule : rules) {
    absl::Status s = internal::ValidateAndResolve(rule);
    if (!s.ok()) return s;
    if (!names.insert(rule.name).second) {
      return FieldError(rule.name, "appears twice in the policy");
    }
  }
  return Policy(std::move(rules));
}

absl::StatusOr<Policy> Policy::ParseTextProto(absl::string_view text) {
  policy::Policy proto;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy: ", errors.error().empty() ? "syntax error" : errors.error()));
  }
  std::vector<FieldRule> rules;
  rules.reserve(proto.field_size());
  for (const policy::FieldRule& field : proto.field()) {
    auto rule = internal::RuleFromProto(field);
    if (!rule.ok()) return rule.status();
    rules.push_back(*std::move(rule));
  }
  return Create(std::move(rules));
}

absl::StatusOr<Policy> Policy::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such policy file"));
    if (err == EACCES)
      return absl::PermissionDeniedError(absl::StrCat(path, ": permission denied"));
    return absl::UnavailableError(absl::StrCat(path, ": cannot be read"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrCat(path, ": cannot be read"));
  auto policy = ParseTextProto(text.str());
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

const FieldRule* Policy::Find(absl::string_view name) const {
  for (const FieldRule& rule : rules_) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

}  // namespace piicrypt
