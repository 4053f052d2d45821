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

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/crypto/field_format.h"
#include "src/db/db_names.h"
#include "src/field/compound_index.h"
#include "src/field/policy_internal.h"
#include "src/field/token_options.h"
#include "src/field/value_normalizer.h"
#include "src/fpe/utf8.h"

namespace piicrypt {
namespace {

absl::Status FieldError(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("policy field \"", name, "\": ", problem));
}
absl::Status IndexError(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("policy index \"", name, "\": ", problem));
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

// Each public enum value and its value in policy.proto; names come from the generated
// *_Name functions, so messages use the names a policy file uses.
constexpr std::pair<FieldMode, policy::Mode> kModes[] = {
    {FieldMode::kRandomized, policy::MODE_RANDOMIZED},
    {FieldMode::kDeterministic, policy::MODE_DETERMINISTIC},
    {FieldMode::kFormatPreserving, policy::MODE_FORMAT_PRESERVING},
    {FieldMode::kVaultToken, policy::MODE_VAULT_TOKEN},
};
constexpr std::pair<FieldKind, policy::Kind> kKinds[] = {
    {FieldKind::kUnspecified, policy::KIND_UNSPECIFIED},
    {FieldKind::kText, policy::KIND_TEXT},
    {FieldKind::kEmail, policy::KIND_EMAIL},
    {FieldKind::kPhone, policy::KIND_PHONE},
    {FieldKind::kName, policy::KIND_NAME},
    {FieldKind::kAddress, policy::KIND_ADDRESS},
    {FieldKind::kCard, policy::KIND_CARD},
    {FieldKind::kIdentifier, policy::KIND_IDENTIFIER},
};
constexpr std::pair<MaskStyle, policy::Mask> kMasks[] = {
    {MaskStyle::kDefault, policy::MASK_UNSPECIFIED}, {MaskStyle::kFull, policy::MASK_FULL},
    {MaskStyle::kEmail, policy::MASK_EMAIL},         {MaskStyle::kPhone, policy::MASK_PHONE},
    {MaskStyle::kInitials, policy::MASK_INITIALS},   {MaskStyle::kLast4, policy::MASK_LAST4},
};
constexpr std::pair<TokenFormat, policy::TokenFormat> kTokenFormats[] = {
    {TokenFormat::kPreserve, policy::TOKEN_FORMAT_PRESERVE},
    {TokenFormat::kCard, policy::TOKEN_FORMAT_CARD},
    {TokenFormat::kAlphanumeric, policy::TOKEN_FORMAT_ALPHANUMERIC},
};

// The public value of `value` in `table`, or nullopt for a value the table lacks.
template <typename Public, typename Proto, size_t N>
std::optional<Public> FromProto(const std::pair<Public, Proto> (&table)[N], Proto value) {
  for (const auto& [pub, proto] : table) {
    if (proto == value) return pub;
  }
  return std::nullopt;
}

absl::string_view KindName(FieldKind kind) {
  for (const auto& [pub, proto] : kKinds) {
    if (pub == kind) return policy::Kind_Name(proto);
  }
  return "KIND_UNSPECIFIED";
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
  for (const auto& [pub, proto] : kMasks) {
    if (pub == mask) return policy::Mask_Name(proto);
  }
  return "MASK_UNSPECIFIED";
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

// FieldRule::table and ::column, defaulting to the name's "TABLE.COLUMN" reading, and the
// blind index's column, defaulting to COLUMN_idx.
absl::Status ResolveColumns(FieldRule& rule) {
  const std::string& name = rule.name;
  for (const std::string* id : {&rule.table, &rule.column}) {
    if (!id->empty() && !IsSqlIdentifier(*id)) {
      return FieldError(name, absl::StrCat(id == &rule.table ? "table" : "column",
                                           " must be a plain SQL identifier "
                                           "([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)"));
    }
  }
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos) {
    const absl::string_view table = absl::string_view(name).substr(0, dot);
    const absl::string_view column = absl::string_view(name).substr(dot + 1);
    if (IsSqlIdentifier(table) && IsSqlIdentifier(column)) {
      if (rule.table.empty()) rule.table = std::string(table);
      if (rule.column.empty()) rule.column = std::string(column);
    }
  }
  if (rule.table.empty() != rule.column.empty()) {
    return FieldError(name, rule.table.empty()
                                ? "column needs a table: the name is not TABLE.COLUMN, so add "
                                  "table: \"...\""
                                : "table needs a column: the name is not TABLE.COLUMN, so add "
                                  "column: \"...\"");
  }
  if (rule.blind_index.has_value() && rule.blind_index->column.empty() && !rule.column.empty()) {
    rule.blind_index->column = absl::StrCat(rule.column, "_idx");
    if (!IsSqlIdentifier(rule.blind_index->column)) {
      return FieldError(name,
                        "the default blind index column (COLUMN_idx) is longer than 63 "
                        "bytes: set blind_index { column: \"...\" }");
    }
  }
  return absl::OkStatus();
}

// Refuses two fields or compound indexes (or one field twice) storing into one column of a
// table: values, blind indexes, compound indexes and key-version columns each need a
// column of their own. Tables are told apart exactly, as PostgreSQL does with the quoted
// names piicrypt uses ("Orders" and "orders" are two tables there); the columns of a table
// without regard to case, as SQLite does with any name (two columns differing only in case
// are one there).
absl::Status CheckColumnsUnique(absl::Span<const FieldRule> rules,
                                absl::Span<const CompoundIndexRule> indexes) {
  // "table.column" (the table as written, the column in lower case) -> its owner, such as
  // field "orders.email".
  absl::flat_hash_map<std::string, std::string> owner;
  auto claim = [&](const std::string& table, const std::string& column, const std::string& name,
                   bool is_index) -> absl::Status {
    std::string who = absl::StrCat(is_index ? "index" : "field", " \"", name, "\"");
    auto [it, inserted] =
        owner.try_emplace(absl::StrCat(table, ".", absl::AsciiStrToLower(column)), who);
    if (inserted) return absl::OkStatus();
    const std::string message = absl::StrCat(
        "column ", table, ".", column,
        it->second == who ? " is used twice by this field"
                          : absl::StrCat(" is already a column of ", it->second),
        " (each value, blind index, compound index and key-version column needs a column of "
        "its own)");
    return is_index ? IndexError(name, message) : FieldError(name, message);
  };
  absl::flat_hash_map<absl::string_view, const FieldRule*> by_name;
  for (const FieldRule& rule : rules) {
    by_name[rule.name] = &rule;
    if (rule.table.empty()) continue;
    PIICRYPT_RETURN_IF_ERROR(claim(rule.table, rule.column, rule.name, false));
    if (rule.blind_index.has_value()) {
      PIICRYPT_RETURN_IF_ERROR(claim(rule.table, rule.blind_index->column, rule.name, false));
    }
    if (rule.format_preserving.has_value() && !rule.format_preserving->key_version_column.empty()) {
      PIICRYPT_RETURN_IF_ERROR(
          claim(rule.table, rule.format_preserving->key_version_column, rule.name, false));
    }
  }
  // A compound index is stored in the table of its first part's field.
  for (const CompoundIndexRule& index : indexes) {
    auto first = by_name.find(index.parts.empty() ? "" : index.parts[0].field);
    if (first == by_name.end() || first->second->table.empty()) continue;
    PIICRYPT_RETURN_IF_ERROR(claim(first->second->table, index.column, index.name, true));
  }
  return absl::OkStatus();
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

  if (rule.subject.has_value()) {
    if (rule.mode != FieldMode::kRandomized) {
      return FieldError(name, "subject is only for MODE_RANDOMIZED (docs/SUBJECTS.md)");
    }
    if (!rule.subject->column.empty() && !IsSqlIdentifier(rule.subject->column)) {
      return FieldError(name,
                        "subject column must be a plain SQL identifier "
                        "([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)");
    }
  }

  if (!MaskFits(rule.mask, rule.kind)) {
    return FieldError(name,
                      absl::StrCat(MaskName(rule.mask), " does not fit a ", KindName(rule.kind),
                                   " field (docs/FIELDS.md lists the masks of each kind)"));
  }
  if (rule.mask == MaskStyle::kDefault) rule.mask = DefaultMask(rule.kind);
  return ResolveColumns(rule);
}

namespace {

absl::StatusOr<BlindIndexRule> BlindIndexFromProto(const policy::BlindIndex& proto,
                                                   absl::string_view name) {
  BlindIndexRule bidx;
  bidx.bits = proto.bits() > 1024 ? 1024 : static_cast<int>(proto.bits());
  if (!proto.normalizer().empty()) {
    auto normalizer = ParseNormalizer(proto.normalizer());
    if (!normalizer.ok()) return FieldError(name, normalizer.status().message());
    bidx.normalizer = *normalizer;
  }
  bidx.default_region = proto.default_region();
  bidx.column = proto.column();
  return bidx;
}

LuhnOutput LuhnFromProto(policy::Luhn luhn) {
  return luhn == policy::LUHN_VALID ? LuhnOutput::kValid : LuhnOutput::kInvalid;
}

absl::StatusOr<FormatPreservingRule> FpeFromProto(const policy::FormatPreserving& fp,
                                                  absl::string_view name) {
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
      fpe.codec.card_luhn = LuhnFromProto(fp.card().luhn());
      break;
    case policy::FormatPreserving::kAlphabet:
      fpe.codec.codec = FpeCodec::kAlphabet;
      if (!fp.alphabet().alphabet().empty()) fpe.codec.alphabet = fp.alphabet().alphabet();
      fpe.codec.keep_characters = fp.alphabet().keep_characters();
      break;
    default:
      return FieldError(name, "format_preserving needs a codec: phone {}, card {} or alphabet {}");
  }
  return fpe;
}

absl::StatusOr<TokenizerOptions> TokenFromProto(const policy::Token& t, absl::string_view name) {
  TokenizerOptions token;
  token.format = FromProto(kTokenFormats, t.format()).value_or(TokenFormat::kPreserve);
  token.mode = t.random() ? TokenMode::kRandom : TokenMode::kDeterministic;
  token.vaultless = t.vaultless();
  token.card_keep_first_six = t.keep_first_six();
  token.card_luhn = LuhnFromProto(t.luhn());
  if (t.length() != 0) token.alphanumeric_length = t.length();
  token.prefix = t.prefix();
  if (t.ttl_seconds() > static_cast<uint64_t>(INT32_MAX) * 366) {
    return FieldError(name, "token ttl_seconds is too large");
  }
  token.ttl = absl::Seconds(static_cast<int64_t>(t.ttl_seconds()));
  token.vaultless_key_id = t.key_id();
  return token;
}

}  // namespace

absl::StatusOr<FieldRule> RuleFromProto(const policy::FieldRule& proto,
                                        absl::string_view fallback_name) {
  FieldRule rule;
  rule.name = proto.name().empty() ? std::string(fallback_name) : proto.name();
  const std::string& name = rule.name;
  const std::optional<FieldMode> mode = FromProto(kModes, proto.mode());
  if (!mode.has_value()) {
    return FieldError(name,
                      "mode is required (MODE_RANDOMIZED, MODE_DETERMINISTIC, "
                      "MODE_FORMAT_PRESERVING or MODE_VAULT_TOKEN)");
  }
  rule.mode = *mode;
  rule.kind = FromProto(kKinds, proto.kind()).value_or(FieldKind::kUnspecified);
  rule.mask = FromProto(kMasks, proto.mask()).value_or(MaskStyle::kDefault);
  rule.bind_record = proto.bind_record();
  rule.table = proto.table();
  rule.column = proto.column();
  if (proto.has_blind_index()) {
    PIICRYPT_ASSIGN_OR_RETURN(rule.blind_index, BlindIndexFromProto(proto.blind_index(), name));
  }
  if (proto.has_format_preserving()) {
    PIICRYPT_ASSIGN_OR_RETURN(rule.format_preserving,
                              FpeFromProto(proto.format_preserving(), name));
  }
  if (proto.has_token()) {
    PIICRYPT_ASSIGN_OR_RETURN(rule.token, TokenFromProto(proto.token(), name));
  }
  if (proto.has_padding()) {
    if (proto.padding().multiple() == 0 && proto.padding().buckets().empty()) {
      return FieldError(name, "padding needs a multiple or buckets");
    }
    rule.padding.multiple = proto.padding().multiple();
    rule.padding.buckets.assign(proto.padding().buckets().begin(), proto.padding().buckets().end());
  }
  if (proto.has_subject()) rule.subject = SubjectRule{proto.subject().column()};
  return rule;
}

// ---- compound indexes ----------------------------------------------------------------

absl::Status ValidatePart(const CompoundIndexRule& index, const FieldRule* field, IndexPart& part) {
  const auto error = [&](absl::string_view problem) {
    return IndexError(index.name, absl::StrCat("part \"", part.field, "\": ", problem));
  };
  if (field == nullptr) return error("no such field in the policy");
  if (field->mode == FieldMode::kVaultToken) {
    return error("a vault-token field is tokenized: its values cannot be compared after a lookup");
  }
  const bool digits = part.transform == IndexTransform::kLastDigits ||
                      part.transform == IndexTransform::kDigitsOnly;
  const int max_n = part.transform == IndexTransform::kLastDigits   ? 32
                    : part.transform == IndexTransform::kFirstChars ? 64
                                                                    : 0;
  if (max_n == 0 && part.n != 0) return error("n is only for LAST_DIGITS and FIRST_CHARS");
  if (max_n != 0 && (part.n < 1 || part.n > max_n)) {
    return error(absl::StrCat("n must be 1 to ", max_n, ", not ", part.n));
  }
  if (digits) {
    if (part.normalizer != Normalizer::kDefault || !part.default_region.empty()) {
      return error("the digit transforms take no normalizer");
    }
    part.normalizer = Normalizer::kExact;
    return absl::OkStatus();
  }
  if (part.normalizer == Normalizer::kDefault) {
    if (field->blind_index.has_value()) {
      part.normalizer = field->blind_index->normalizer;
      if (part.default_region.empty()) part.default_region = field->blind_index->default_region;
    } else {
      part.normalizer = DefaultNormalizer(field->kind);
    }
  }
  if (!NormalizerFits(part.normalizer, field->kind)) {
    return error(absl::StrCat("normalizer \"", NormalizerName(part.normalizer),
                              "\" does not fit a ", KindName(field->kind), " field"));
  }
  if (part.transform == IndexTransform::kEmailDomain && part.normalizer != Normalizer::kEmail) {
    return error("EMAIL_DOMAIN needs an e-mail field (the email normalizer)");
  }
  if (!part.default_region.empty() && part.normalizer != Normalizer::kPhone) {
    return error("default_region is only for the phone normalizer");
  }
  auto normalizer = ValueNormalizer::Create(part.normalizer, part.default_region);
  if (!normalizer.ok()) return error(normalizer.status().message());
  return absl::OkStatus();
}

absl::Status ValidateAndResolveIndex(const Policy& policy, CompoundIndexRule& index) {
  const std::string& name = index.name;
  if (name.empty()) return absl::InvalidArgumentError("policy index without a name");
  if (name.size() > kMaxContextSize || !IsPrintableName(name)) {
    return IndexError(absl::CHexEscape(name.substr(0, 64)),
                      "an index name must be valid UTF-8 without control characters, at most "
                      "1024 bytes");
  }
  if (index.bits < 8 || index.bits > 256) {
    return IndexError(name, absl::StrCat("bits must be 8 to 256, not ", index.bits));
  }
  if (index.parts.empty() || index.parts.size() > 8) {
    return IndexError(name, "an index has 1 to 8 parts");
  }
  if (index.column.empty()) {
    const size_t dot = name.rfind('.');
    index.column = absl::StrCat(dot == std::string::npos ? name : name.substr(dot + 1), "_idx");
  }
  if (!IsSqlIdentifier(index.column)) {
    return IndexError(name,
                      "column must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most "
                      "63 bytes); name it with column: \"...\"");
  }
  for (IndexPart& part : index.parts) {
    PIICRYPT_RETURN_IF_ERROR(ValidatePart(index, policy.Find(part.field), part));
  }
  if (CompoundIndexDefinition(index).size() > kMaxContextSize) {
    return IndexError(name, "the index's name and its parts' field names are too long");
  }
  return absl::OkStatus();
}

absl::StatusOr<CompoundIndexRule> IndexFromProto(const policy::Index& proto) {
  CompoundIndexRule index;
  index.name = proto.name();
  index.column = proto.column();
  index.bits = proto.bits() > 1024 ? 1024 : static_cast<int>(proto.bits());
  for (const policy::IndexPart& p : proto.part()) {
    IndexPart part;
    part.field = p.field();
    switch (p.transform()) {
      case policy::TRANSFORM_NORMALIZED:
        part.transform = IndexTransform::kNormalized;
        break;
      case policy::TRANSFORM_LAST_DIGITS:
        part.transform = IndexTransform::kLastDigits;
        break;
      case policy::TRANSFORM_FIRST_CHARS:
        part.transform = IndexTransform::kFirstChars;
        break;
      case policy::TRANSFORM_EMAIL_DOMAIN:
        part.transform = IndexTransform::kEmailDomain;
        break;
      case policy::TRANSFORM_DIGITS_ONLY:
        part.transform = IndexTransform::kDigitsOnly;
        break;
      default:
        return IndexError(index.name,
                          absl::StrCat("part \"", part.field,
                                       "\": transform is required (TRANSFORM_NORMALIZED, "
                                       "_LAST_DIGITS, _FIRST_CHARS, _EMAIL_DOMAIN or "
                                       "_DIGITS_ONLY)"));
    }
    part.n = p.n() > 1024 ? 1024 : static_cast<int>(p.n());
    if (!p.normalizer().empty()) {
      auto normalizer = ParseNormalizer(p.normalizer());
      if (!normalizer.ok()) return IndexError(index.name, normalizer.status().message());
      part.normalizer = *normalizer;
    }
    part.default_region = p.default_region();
    index.parts.push_back(std::move(part));
  }
  return index;
}

}  // namespace internal

absl::StatusOr<Policy> Policy::Create(std::vector<FieldRule> rules) {
  return Create(std::move(rules), {});
}

absl::StatusOr<Policy> Policy::Create(std::vector<FieldRule> rules,
                                      std::vector<CompoundIndexRule> indexes) {
  absl::flat_hash_set<std::string> names;
  for (FieldRule& rule : rules) {
    absl::Status s = internal::ValidateAndResolve(rule);
    if (!s.ok()) return s;
    if (!names.insert(rule.name).second) {
      return FieldError(rule.name, "appears twice in the policy");
    }
  }
  Policy policy(std::move(rules), {});
  for (CompoundIndexRule& index : indexes) {
    PIICRYPT_RETURN_IF_ERROR(internal::ValidateAndResolveIndex(policy, index));
    if (!names.insert(index.name).second) {
      return IndexError(index.name, "the name is already a field's or another index's");
    }
  }
  PIICRYPT_RETURN_IF_ERROR(internal::CheckColumnsUnique(policy.rules(), indexes));
  policy.indexes_ = std::move(indexes);
  return policy;
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
  std::vector<CompoundIndexRule> indexes;
  for (const policy::Index& index : proto.index()) {
    PIICRYPT_ASSIGN_OR_RETURN(CompoundIndexRule rule, internal::IndexFromProto(index));
    indexes.push_back(std::move(rule));
  }
  return Create(std::move(rules), std::move(indexes));
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

const FieldRule* Policy::FindColumn(absl::string_view table, absl::string_view column) const {
  for (const FieldRule& rule : rules_) {
    if (rule.table == table && rule.column == column) return &rule;
  }
  return nullptr;
}

const FieldRule* Policy::Find(absl::string_view name) const {
  for (const FieldRule& rule : rules_) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

const CompoundIndexRule* Policy::FindIndex(absl::string_view name) const {
  for (const CompoundIndexRule& index : indexes_) {
    if (index.name == name) return &index;
  }
  return nullptr;
}

}  // namespace piicrypt
