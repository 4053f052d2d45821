#include "piicrypt/row_cryptor.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "piicrypt/key_handle.h"
#include "piicrypt/subtle/token_store.h"
#include "piicrypt/tokenizer.h"

namespace piicrypt {

std::string RecordIdFromInt64(int64_t id) { return absl::StrCat(id); }

absl::StatusOr<int64_t> ParseRecordId(absl::string_view text) {
  int64_t id = 0;
  // SimpleAtoi takes "+42", " 42" and "042"; only the canonical form round-trips.
  if (!absl::SimpleAtoi(text, &id) || RecordIdFromInt64(id) != text) {
    return absl::InvalidArgumentError(
        "record id is not an integer in canonical decimal form (no sign for positive ids, no "
        "leading zeros, no spaces)");
  }
  return id;
}

const std::optional<std::string>* Row::Find(absl::string_view name) const {
  for (const Column& c : columns_) {
    if (c.name == name) return &c.value;
  }
  return nullptr;
}

std::vector<std::string> Row::names() const {
  std::vector<std::string> out;
  out.reserve(columns_.size());
  for (const Column& c : columns_) out.emplace_back(c.name);
  return out;
}

namespace {

// What a column of the table is to a row.
enum class Role { kValue, kIndex, kVersion };

struct ColumnRole {
  size_t field;  // index into TablePlan::fields
  Role role;
};

// One field of the table.
struct RowField {
  const FieldRule* rule = nullptr;       // in the plan's cryptor's policy
  std::string index_column;              // empty: no blind index
  std::string version_column;            // empty: no key-version column
  std::unique_ptr<Tokenizer> tokenizer;  // MODE_VAULT_TOKEN fields only
};

// The table's fields under one set of keys and one policy.
struct TablePlan {
  std::shared_ptr<const KeySnapshot> snapshot;  // the KeyHandle form: keeps `cryptor` alive
  std::unique_ptr<const FieldCryptor> owned;    // the Keyset form
  const FieldCryptor* cryptor = nullptr;
  std::vector<RowField> fields;
  absl::flat_hash_map<std::string, ColumnRole> columns;
  size_t stored_columns = 0;  // columns of a whole row's Encrypt
};

absl::Status ColumnError(absl::string_view column, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("column ", column, ": ", s.message()));
}

absl::StatusOr<std::shared_ptr<const TablePlan>> BuildPlan(
    const Keyset& keyset, std::unique_ptr<const FieldCryptor> owned,
    std::shared_ptr<const KeySnapshot> snapshot, absl::string_view table,
    const RowOptions& options) {
  auto plan = std::make_shared<TablePlan>();
  plan->snapshot = std::move(snapshot);
  plan->owned = std::move(owned);
  plan->cryptor = plan->owned ? plan->owned.get() : &plan->snapshot->cryptor();
  const Policy& policy = plan->cryptor->policy();
  for (const FieldRule& rule : policy.rules()) {
    if (rule.table != table) continue;
    RowField f;
    f.rule = &rule;
    if (rule.blind_index.has_value()) f.index_column = rule.blind_index->column;
    if (rule.format_preserving.has_value()) {
      f.version_column = rule.format_preserving->key_version_column;
    }
    if (rule.mode == FieldMode::kVaultToken) {
      if (!rule.token->vaultless && options.token_store == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("column ", rule.column, ": field \"", rule.name,
                         "\" is a vault-token field; RowOptions::token_store is required"));
      }
      auto tokenizer = Tokenizer::CreateForField(keyset, policy, rule.name, options.token_store);
      if (!tokenizer.ok()) return ColumnError(rule.column, tokenizer.status());
      f.tokenizer = *std::move(tokenizer);
    }
    const size_t i = plan->fields.size();
    // Policy validation keeps the columns of a table distinct.
    plan->columns.try_emplace(rule.column, ColumnRole{i, Role::kValue});
    if (!f.index_column.empty())
      plan->columns.try_emplace(f.index_column, ColumnRole{i, Role::kIndex});
    if (!f.version_column.empty()) {
      plan->columns.try_emplace(f.version_column, ColumnRole{i, Role::kVersion});
    }
    plan->stored_columns += 1 + !f.index_column.empty() + !f.version_column.empty();
    plan->fields.push_back(std::move(f));
  }
  if (plan->fields.empty()) {
    return absl::NotFoundError(absl::StrCat("the policy has no field of table ", table,
                                            " (fields named ", table, ".COLUMN, or with table: \"",
                                            table, "\")"));
  }
  return std::shared_ptr<const TablePlan>(std::move(plan));
}

// The values given for each field (nullptr: not given; a present NullableValue may be NULL)
// and, for Decrypt, the key-version column of each.
struct Matched {
  absl::InlinedVector<const NullableValue*, 16> value;
  absl::InlinedVector<const NullableValue*, 16> version;
};

absl::StatusOr<Matched> Match(const TablePlan& plan, absl::string_view table,
                              absl::Span<const ColumnValue> given, bool decrypting) {
  Matched m;
  m.value.assign(plan.fields.size(), nullptr);
  m.version.assign(plan.fields.size(), nullptr);
  absl::InlinedVector<bool, 16> index_seen(plan.fields.size(), false);
  for (size_t g = 0; g < given.size(); ++g) {
    const ColumnValue& c = given[g];
    // Columns given in the policy's order are matched without hashing.
    if (g < plan.fields.size() && c.column == plan.fields[g].rule->column &&
        m.value[g] == nullptr) {
      m.value[g] = &c.value;
      continue;
    }
    auto it = plan.columns.find(c.column);
    if (it == plan.columns.end()) {
      return absl::NotFoundError(
          absl::StrCat("column ", c.column, " is no field of table ", table, " in the policy"));
    }
    const ColumnRole& r = it->second;
    const RowField& f = plan.fields[r.field];
    if (r.role != Role::kValue && !decrypting) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", c.column, " is the ", r.role == Role::kIndex ? "blind-index" : "key-version",
          " column of field \"", f.rule->name, "\": it is computed, not given"));
    }
    const NullableValue** slot = r.role == Role::kValue     ? &m.value[r.field]
                                 : r.role == Role::kVersion ? &m.version[r.field]
                                                            : nullptr;
    bool twice = slot != nullptr ? *slot != nullptr : index_seen[r.field];
    if (twice) {
      return absl::InvalidArgumentError(absl::StrCat("column ", c.column, " is given twice"));
    }
    if (slot != nullptr) {
      *slot = &c.value;
    } else {
      index_seen[r.field] = true;  // a blind index: not needed to decrypt
    }
  }
  return m;
}

// The key id in a key-version column: a decimal uint32, as WriteKeyId's.
absl::StatusOr<uint32_t> ParseKeyVersion(const RowField& f, absl::string_view text) {
  uint32_t key_id = 0;
  if (!absl::SimpleAtoi(text, &key_id) || absl::StrCat(key_id) != text || key_id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("column ", f.version_column, ": not a key id (a decimal number)"));
  }
  return key_id;
}

absl::StatusOr<std::optional<std::string>> DecryptField(const FieldCryptor& cryptor,
                                                        const RowField& f, NullableValue stored,
                                                        const NullableValue* version,
                                                        absl::string_view record) {
  const FieldRule& rule = *f.rule;
  if (!stored.has_value()) return std::optional<std::string>();
  if (f.tokenizer != nullptr) {
    auto value = f.tokenizer->Detokenize(*stored);
    if (!value.ok()) return value.status();
    return std::optional<std::string>(*std::move(value));
  }
  if (f.version_column.empty()) return cryptor.Decrypt(rule.name, stored, record);
  if (version == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "needs its key-version column ", f.version_column, " to be decrypted (give it too)"));
  }
  if (!version->has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key-version column ", f.version_column, " is NULL beside a value"));
  }
  auto key_id = ParseKeyVersion(f, **version);
  if (!key_id.ok()) return key_id.status();
  return cryptor.DecryptWithKey(rule.name, *key_id, stored, record);
}

}  // namespace

struct RowCryptor::Rep {
  std::string table;
  RowOptions options;
  std::shared_ptr<const TablePlan> fixed;  // the Keyset form
  const KeyHandle* keys = nullptr;         // the KeyHandle form
  mutable absl::Mutex mu;
  mutable std::shared_ptr<const TablePlan> cached ABSL_GUARDED_BY(mu);

  // The plan of this call: the fixed one, or the one of the handle's current snapshot
  // (built on the first call after a reload, outside the lock).
  absl::StatusOr<std::shared_ptr<const TablePlan>> Plan() const {
    if (fixed != nullptr) return fixed;
    std::shared_ptr<const KeySnapshot> snap = keys->Snapshot();
    {
      absl::ReaderMutexLock lock(&mu);
      if (cached != nullptr && cached->snapshot == snap) return cached;
    }
    const Keyset& keyset = snap->keyset();
    auto plan = BuildPlan(keyset, nullptr, std::move(snap), table, options);
    if (!plan.ok()) return plan.status();
    absl::MutexLock lock(&mu);
    if (cached == nullptr || cached->snapshot->generation() < (*plan)->snapshot->generation()) {
      cached = *plan;
    }
    return plan;
  }
};

RowCryptor::RowCryptor(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
RowCryptor::~RowCryptor() = default;

absl::StatusOr<std::unique_ptr<RowCryptor>> RowCryptor::Create(const Keyset& keyset,
                                                               const Policy& policy,
                                                               absl::string_view table,
                                                               RowOptions options) {
  auto cryptor = FieldCryptor::Create(keyset, policy);
  if (!cryptor.ok()) return cryptor.status();
  auto rep = std::make_unique<Rep>();
  rep->table = std::string(table);
  auto plan = BuildPlan(keyset, *std::move(cryptor), nullptr, table, options);
  if (!plan.ok()) return plan.status();
  rep->fixed = *std::move(plan);
  rep->options = std::move(options);
  return std::unique_ptr<RowCryptor>(new RowCryptor(std::move(rep)));
}

absl::StatusOr<std::unique_ptr<RowCryptor>> RowCryptor::Create(const KeyHandle& keys,
                                                               absl::string_view table,
                                                               RowOptions options) {
  auto rep = std::make_unique<Rep>();
  rep->table = std::string(table);
  rep->options = std::move(options);
  rep->keys = &keys;
  auto plan = rep->Plan();
  if (!plan.ok()) return plan.status();
  return std::unique_ptr<RowCryptor>(new RowCryptor(std::move(rep)));
}

const std::string& RowCryptor::table() const { return rep_->table; }

absl::StatusOr<Row> RowCryptor::EncryptImpl(absl::string_view record,
                                            absl::Span<const ColumnValue> values,
                                            bool whole_row) const {
  auto plan_or = rep_->Plan();
  if (!plan_or.ok()) return plan_or.status();
  const TablePlan& plan = **plan_or;
  auto matched = Match(plan, rep_->table, values, /*decrypting=*/false);
  if (!matched.ok()) return matched.status();
  if (whole_row && values.size() < plan.fields.size()) {
    std::vector<absl::string_view> missing;
    for (size_t i = 0; i < plan.fields.size(); ++i) {
      if (matched->value[i] == nullptr) missing.push_back(plan.fields[i].rule->column);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("table ", rep_->table, ": missing column", missing.size() > 1 ? "s " : " ",
                     absl::StrJoin(missing, ", "),
                     " (pass std::nullopt for NULL; EncryptColumns encrypts some columns only)"));
  }
  std::vector<Row::Column> out;
  out.reserve(whole_row ? plan.stored_columns : 3 * values.size());
  for (size_t i = 0; i < plan.fields.size(); ++i) {
    const RowField& f = plan.fields[i];
    const FieldRule& rule = *f.rule;
    const NullableValue* value = matched->value[i];
    if (value == nullptr) continue;
    absl::StatusOr<std::optional<std::string>> stored;
    if (f.tokenizer != nullptr) {
      if (value->has_value()) {
        auto token = f.tokenizer->Tokenize(**value);
        if (!token.ok()) return ColumnError(rule.column, token.status());
        stored = std::optional<std::string>(*std::move(token));
      } else {
        stored = std::optional<std::string>();
      }
    } else {
      stored = plan.cryptor->Encrypt(rule.name, *value, record);
    }
    if (!stored.ok()) return ColumnError(rule.column, stored.status());
    out.push_back({rule.column, *std::move(stored)});
    if (!f.index_column.empty()) {
      auto index = plan.cryptor->BlindIndex(rule.name, *value);
      if (!index.ok()) return ColumnError(rule.column, index.status());
      out.push_back({f.index_column, *std::move(index)});
    }
    if (!f.version_column.empty()) {
      std::optional<std::string> version;
      if (value->has_value()) {
        auto key_id = plan.cryptor->WriteKeyId(rule.name);
        if (!key_id.ok()) return ColumnError(rule.column, key_id.status());
        version = absl::StrCat(*key_id);
      }
      out.push_back({f.version_column, std::move(version)});
    }
  }
  return Row(std::move(out), *std::move(plan_or));
}

absl::StatusOr<Row> RowCryptor::Encrypt(absl::string_view record,
                                        absl::Span<const ColumnValue> values) const {
  return EncryptImpl(record, values, /*whole_row=*/true);
}
absl::StatusOr<Row> RowCryptor::Encrypt(int64_t record,
                                        absl::Span<const ColumnValue> values) const {
  return EncryptImpl(RecordIdFromInt64(record), values, /*whole_row=*/true);
}
absl::StatusOr<Row> RowCryptor::EncryptColumns(absl::string_view record,
                                               absl::Span<const ColumnValue> values) const {
  return EncryptImpl(record, values, /*whole_row=*/false);
}
absl::StatusOr<Row> RowCryptor::EncryptColumns(int64_t record,
                                               absl::Span<const ColumnValue> values) const {
  return EncryptImpl(RecordIdFromInt64(record), values, /*whole_row=*/false);
}

absl::StatusOr<Row> RowCryptor::Decrypt(absl::string_view record,
                                        absl::Span<const ColumnValue> stored) const {
  auto plan_or = rep_->Plan();
  if (!plan_or.ok()) return plan_or.status();
  const TablePlan& plan = **plan_or;
  auto matched = Match(plan, rep_->table, stored, /*decrypting=*/true);
  if (!matched.ok()) return matched.status();
  std::vector<Row::Column> out;
  out.reserve(stored.size());
  for (size_t i = 0; i < plan.fields.size(); ++i) {
    const NullableValue* value = matched->value[i];
    if (value == nullptr) continue;
    const RowField& f = plan.fields[i];
    auto plain = DecryptField(*plan.cryptor, f, *value, matched->version[i], record);
    if (!plain.ok()) return ColumnError(f.rule->column, plain.status());
    out.push_back({f.rule->column, *std::move(plain)});
  }
  return Row(std::move(out), *std::move(plan_or));
}

absl::StatusOr<Row> RowCryptor::Decrypt(int64_t record,
                                        absl::Span<const ColumnValue> stored) const {
  return Decrypt(RecordIdFromInt64(record), stored);
}

std::string RowCryptor::Mask(absl::Span<const ColumnValue> values) const {
  auto plan = rep_->Plan();
  std::string line;
  for (const ColumnValue& c : values) {
    if (!line.empty()) line.append(", ");
    absl::StrAppend(&line, c.column, "=");
    if (!c.value.has_value()) {
      line.append("NULL");
      continue;
    }
    const FieldRule* rule = nullptr;
    if (plan.ok()) {
      auto it = (*plan)->columns.find(c.column);
      if (it != (*plan)->columns.end() && it->second.role == Role::kValue) {
        rule = (*plan)->fields[it->second.field].rule;
      }
    }
    absl::StrAppend(
        &line, "\"",
        rule != nullptr ? MaskValue(rule->mask, *c.value) : MaskValue(MaskStyle::kFull, ""), "\"");
  }
  return line;
}

absl::StatusOr<std::vector<std::string>> RowCryptor::StoredColumns() const {
  auto plan = rep_->Plan();
  if (!plan.ok()) return plan.status();
  std::vector<std::string> names;
  names.reserve((*plan)->stored_columns);
  for (const RowField& f : (*plan)->fields) {
    names.push_back(f.rule->column);
    if (!f.index_column.empty()) names.push_back(f.index_column);
    if (!f.version_column.empty()) names.push_back(f.version_column);
  }
  return names;
}

}  // namespace piicrypt
