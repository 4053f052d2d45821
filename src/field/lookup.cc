#include "piicrypt/lookup.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "piicrypt/status_macros.h"
#include "src/db/db_names.h"
#include "src/field/policy_internal.h"

namespace piicrypt {
namespace {

// "o.email_idx" -> "\"o\".\"email_idx\""; kInvalidArgument for anything but one or two
// plain identifiers joined by a dot (nothing is quoted that could need escaping).
absl::StatusOr<std::string> QuotedColumn(absl::string_view column) {
  std::vector<absl::string_view> parts = absl::StrSplit(column, '.');
  if (parts.size() > 2) parts.clear();
  std::string out;
  for (absl::string_view part : parts) {
    if (!internal::IsSqlIdentifier(part)) {
      parts.clear();
      break;
    }
    absl::StrAppend(&out, out.empty() ? "" : ".", "\"", part, "\"");
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(
        "SQL column must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes), "
        "optionally qualified (table.column)");
  }
  return out;
}

ScratchData ToScratch(absl::string_view s) { return ScratchData(s.begin(), s.end()); }

absl::string_view View(const ScratchData& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

void Wipe(std::string& s) { internal::SecureWipe(s.data(), s.size()); }

}  // namespace

std::vector<const char*> SqlInList::ParamValues() const {
  std::vector<const char*> out;
  out.reserve(bindings.size());
  for (const std::string& b : bindings) out.push_back(b.c_str());
  return out;
}

absl::StatusOr<SqlInList> SqlIn(absl::string_view column, absl::Span<const std::string> values,
                                SqlPlaceholders placeholders, int first_parameter) {
  PIICRYPT_ASSIGN_OR_RETURN(std::string quoted, QuotedColumn(column));
  if (values.empty()) return absl::InvalidArgumentError("SQL IN list without values");
  constexpr int kMaxParameter = 32766;  // SQLite's default limit; PostgreSQL's is 65535
  if (first_parameter < 1 ||
      static_cast<size_t>(kMaxParameter - first_parameter) + 1 < values.size()) {
    return absl::InvalidArgumentError("SQL parameter numbers out of range (1 to 32766)");
  }
  SqlInList in;
  in.first_parameter = first_parameter;
  in.next_parameter = first_parameter + static_cast<int>(values.size());
  in.sql = absl::StrCat(quoted, " IN (");
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) in.sql.push_back(',');
    if (placeholders == SqlPlaceholders::kDollarNumbered) {
      absl::StrAppend(&in.sql, "$", first_parameter + static_cast<int>(i));
    } else {
      in.sql.push_back('?');
    }
  }
  in.sql.push_back(')');
  in.bindings.assign(values.begin(), values.end());
  return in;
}

absl::StatusOr<Lookup> Lookup::Create(const FieldCryptor& cryptor, absl::string_view name,
                                      absl::string_view value) {
  return Make(cryptor, nullptr, name, {value});
}
absl::StatusOr<Lookup> Lookup::Create(const FieldCryptor& cryptor, absl::string_view name,
                                      absl::Span<const absl::string_view> values) {
  return Make(cryptor, nullptr, name, values);
}
absl::StatusOr<Lookup> Lookup::Create(const KeyHandle& keys, absl::string_view name,
                                      absl::string_view value) {
  std::shared_ptr<const KeySnapshot> snapshot = keys.Snapshot();
  const FieldCryptor& cryptor = snapshot->cryptor();
  return Make(cryptor, std::move(snapshot), name, {value});
}
absl::StatusOr<Lookup> Lookup::Create(const KeyHandle& keys, absl::string_view name,
                                      absl::Span<const absl::string_view> values) {
  std::shared_ptr<const KeySnapshot> snapshot = keys.Snapshot();
  const FieldCryptor& cryptor = snapshot->cryptor();
  return Make(cryptor, std::move(snapshot), name, values);
}

absl::StatusOr<Lookup> Lookup::Make(const FieldCryptor& cryptor,
                                    std::shared_ptr<const KeySnapshot> snapshot,
                                    absl::string_view name,
                                    absl::Span<const absl::string_view> values) {
  Lookup lookup;
  lookup.cryptor_ = &cryptor;
  lookup.snapshot_ = std::move(snapshot);
  lookup.name_ = std::string(name);
  const Policy& policy = cryptor.policy();
  if (const CompoundIndexRule* index = policy.FindIndex(name); index != nullptr) {
    lookup.compound_ = true;
    lookup.column_ = index->column;
    PIICRYPT_ASSIGN_OR_RETURN(lookup.index_values_, cryptor.CompoundLookupIndexes(name, values));
    for (size_t i = 0; i < values.size(); ++i) {
      lookup.fields_.push_back(index->parts[i].field);
      PIICRYPT_ASSIGN_OR_RETURN(std::string part, cryptor.CompoundIndexPart(name, i, values[i]));
      lookup.wanted_.push_back(ToScratch(part));
      Wipe(part);
    }
    return lookup;
  }
  const FieldRule* rule = policy.Find(name);
  if (rule == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("\"", name, "\" is neither a field nor an index of the policy"));
  }
  if (values.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": a field lookup takes one value, not ", values.size()));
  }
  PIICRYPT_ASSIGN_OR_RETURN(lookup.index_values_, cryptor.LookupIndexes(name, values[0]));
  PIICRYPT_ASSIGN_OR_RETURN(std::string normalized, cryptor.Normalize(name, values[0]));
  lookup.wanted_.push_back(ToScratch(normalized));
  Wipe(normalized);
  lookup.fields_.push_back(rule->name);
  const size_t dot = rule->name.rfind('.');
  lookup.column_ =
      !rule->blind_index->column.empty()
          ? rule->blind_index->column
          : absl::StrCat(
                absl::string_view(rule->name).substr(dot == std::string::npos ? 0 : dot + 1),
                "_idx");
  return lookup;
}

absl::StatusOr<SqlInList> Lookup::SqlIn(SqlPlaceholders placeholders, int first_parameter) const {
  return piicrypt::SqlIn(column_, index_values_, placeholders, first_parameter);
}
absl::StatusOr<SqlInList> Lookup::SqlIn(absl::string_view column, SqlPlaceholders placeholders,
                                        int first_parameter) const {
  return piicrypt::SqlIn(column, index_values_, placeholders, first_parameter);
}

absl::StatusOr<bool> Lookup::MatchPart(size_t i, absl::string_view record, absl::string_view stored,
                                       uint32_t key_id, std::string* plain) const {
  const std::string& field = fields_[i];
  if (key_id != 0) {
    absl::StatusOr<std::optional<std::string>> value =
        cryptor_->DecryptWithKey(field, key_id, stored, record);
    if (!value.ok()) return value.status();
    if (!value->has_value()) return absl::InternalError(absl::StrCat(field, ": no plaintext"));
    plain->swap(**value);
  } else {
    PIICRYPT_RETURN_IF_ERROR(cryptor_->DecryptTo(field, stored, record, plain));
  }
  absl::StatusOr<std::string> seen = compound_ ? cryptor_->CompoundIndexPart(name_, i, *plain)
                                               : cryptor_->Normalize(field, *plain);
  if (!seen.ok()) return seen.status();
  const bool equal = SecretEquals(*seen, View(wanted_[i]));
  Wipe(*seen);
  return equal;
}

absl::StatusOr<bool> Lookup::Matches(const LookupCandidate& row) const {
  if (row.stored.size() != fields_.size() ||
      (!row.key_ids.empty() && row.key_ids.size() != fields_.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": a candidate row needs ", fields_.size(),
                     " stored values (and key ids, if any), not ", row.stored.size()));
  }
  std::string plain;
  absl::Cleanup wipe = [&] { Wipe(plain); };
  bool all = true;
  // Every part is decrypted, also after a part that differs: a row that does not
  // authenticate is an error whatever its other parts hold.
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (!row.stored[i].has_value()) {
      all = false;
      continue;
    }
    PIICRYPT_ASSIGN_OR_RETURN(
        bool equal,
        MatchPart(i, row.record, *row.stored[i], row.key_ids.empty() ? 0 : row.key_ids[i], &plain));
    Wipe(plain);
    all = all && equal;
  }
  return all;
}

absl::StatusOr<std::optional<std::string>> Lookup::MatchValue(absl::string_view record,
                                                              NullableValue stored,
                                                              uint32_t key_id) const {
  if (fields_.size() != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, ": MatchValue is for lookups of one part; use Matches"));
  }
  if (!stored.has_value()) return std::optional<std::string>();
  std::string plain;
  absl::StatusOr<bool> equal = MatchPart(0, record, *stored, key_id, &plain);
  if (!equal.ok() || !*equal) {
    Wipe(plain);
    if (!equal.ok()) return equal.status();
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(plain));
}

absl::StatusOr<std::vector<size_t>> Lookup::Filter(absl::Span<const LookupCandidate> rows) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<bool> match = Matches(rows[i]);
    if (!match.ok()) {
      return absl::Status(match.status().code(),
                          absl::StrCat("row ", i, ": ", match.status().message()));
    }
    if (*match) out.push_back(i);
  }
  return out;
}

}  // namespace piicrypt
