// rewrite.cc: the per-value work of the re-encryption job (rewrite.h).
#include "src/rotate/rewrite.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/field_cipher.h"
#include "src/crypto/field_format.h"

namespace piicrypt::internal {
namespace {

Rewrite Fail(std::string reason) {
  Rewrite r;
  r.outcome = Outcome::kFailed;
  r.reason = std::move(reason);
  return r;
}

// Whether a randomized or deterministic value (text form) of `plain_size` bytes is in the
// form its field's rule writes now: padded as the rule says, or unpadded without padding.
// A value written before the rule gained (or changed) its padding is not current.
bool InWrittenForm(const FieldCryptor& cryptor, const Column& c, absl::string_view stored,
                   size_t plain_size) {
  const FieldRule* rule = cryptor.policy().Find(c.field);
  if (rule == nullptr) return true;
  const FieldMode mode =
      rule->mode == FieldMode::kDeterministic ? FieldMode::kDeterministic : FieldMode::kRandomized;
  return stored.size() ==
         Base64UrlEncodedSize(FieldCipher::CiphertextSize(mode, rule->padding, plain_size));
}

// Appends to `columns` (the table's fields) the compound indexes whose parts are all among
// them; an index with some of its parts in this table and others elsewhere (another table,
// or a subject field) is noted in `skipped`.
absl::Status AddCompoundIndexes(const Policy& policy, const ReencryptOptions& options,
                                std::vector<Column>& columns, std::vector<std::string>& skipped) {
  const size_t fields = columns.size();
  for (const CompoundIndexRule& index : policy.indexes()) {
    Column c;
    c.field = index.name;
    c.name = index.column;  // resolved by the policy: NAME_idx
    bool elsewhere = false;
    for (const IndexPart& part : index.parts) {
      size_t at = 0;
      while (at < fields && columns[at].field != part.field) ++at;
      if (at == fields) {
        elsewhere = true;
      } else {
        c.parts.push_back(at);
      }
    }
    if (c.parts.empty()) continue;  // an index of another table
    if (elsewhere) {
      skipped.push_back(absl::StrCat(
          index.name, " (", index.column,
          "): a compound index over fields not re-encrypted with this table (a subject field, "
          "or another table's): not recomputed"));
      continue;
    }
    if (!IsSqlIdentifier(c.name) || c.name == options.key_column) {
      return absl::InvalidArgumentError(absl::StrCat(
          index.name, ": compound index column must be a plain SQL identifier of its own"));
    }
    for (size_t i = 0; i < fields; ++i) {
      const Column& f = columns[i];
      if (c.name == f.name || c.name == f.index_column || c.name == f.version_column) {
        return absl::InvalidArgumentError(
            absl::StrCat(index.name, ": compound index column is also ", f.field, "'s column"));
      }
    }
    columns.push_back(std::move(c));
  }
  return absl::OkStatus();
}

}  // namespace

std::string Quote(absl::string_view name) { return absl::StrCat("\"", name, "\""); }

absl::Status CheckOptions(const ReencryptOptions& options) {
  if (!IsSqlIdentifier(options.table)) {
    return absl::InvalidArgumentError(
        "--table: not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)");
  }
  if (!IsSqlIdentifier(options.key_column)) {
    return absl::InvalidArgumentError(
        "--key-column: not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)");
  }
  if (options.batch < 1 || options.batch > 100000) {
    return absl::InvalidArgumentError("--batch: must be 1 to 100000");
  }
  if (options.workers < 1 || options.workers > 64) {
    return absl::InvalidArgumentError("--workers: must be 1 to 64");
  }
  // (Also refuses NaN. At least 1 row/s keeps a batch's wait within a few days.)
  if (!(options.max_rate == 0 || (options.max_rate >= 1 && options.max_rate <= 1e9))) {
    return absl::InvalidArgumentError(
        "--max-rate: must be 0 (no limit) or 1 to 1e9 rows per second");
  }
  return absl::OkStatus();
}

absl::Status KeyColumnError(absl::string_view table, absl::string_view column, bool not_unique,
                            bool nullable, bool postgres) {
  std::vector<std::string> fixes;
  if (not_unique) {
    fixes.push_back(absl::StrCat("CREATE UNIQUE INDEX ", table, "_", column, "_key ON ", table,
                                 " (", column, ")"));
  }
  if (nullable) {
    fixes.push_back(
        postgres ? absl::StrCat("ALTER TABLE ", table, " ALTER COLUMN ", column, " SET NOT NULL")
                 : std::string("declare the column NOT NULL (rebuild the table)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--key-column ", column, ": ", table, ".", column,
      not_unique ? " has no unique index on it alone" : "", not_unique && nullable ? " and" : "",
      nullable ? " allows NULL" : "",
      "; the job pages through the table by this column, so rows with a duplicate or NULL "
      "key would be skipped. Name a column that is unique and NOT NULL, or fix this one: ",
      absl::StrJoin(fixes, "; ")));
}

void Pacer::Wait(int64_t rows) {
  if (max_rate_ <= 0) return;
  const auto cost = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(static_cast<double>(rows) / max_rate_));
  std::chrono::steady_clock::time_point start;
  {
    absl::MutexLock lock(&mu_);
    start = std::max(next_, std::chrono::steady_clock::now());
    next_ = start + cost;
  }
  std::this_thread::sleep_until(start);
}

absl::StatusOr<std::vector<Column>> ColumnsOf(const Policy& policy, const ReencryptOptions& options,
                                              std::vector<std::string>& skipped) {
  // The table's columns: the policy's fields stored in it (FieldRule::table and ::column,
  // by default the TABLE.COLUMN of the field's name; docs/ROWS.md).
  std::vector<Column> columns;
  for (const FieldRule& rule : policy.rules()) {
    if (rule.table != options.table) continue;
    const std::string& column = rule.column;
    if (rule.subject.has_value()) {
      skipped.push_back(absl::StrCat(rule.name, " (", column,
                                     "): a subject field, under its subject's key: rewrapped by "
                                     "`piicrypt subject rewrap`, not re-encrypted here"));
      continue;
    }
    std::string version_column;
    if (rule.mode == FieldMode::kFormatPreserving) {
      version_column = rule.format_preserving->key_version_column;
      if (version_column.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(rule.name,
                         ": an FF1 value carries no key id, so an FF1 column is re-encrypted only "
                         "with a key-version column: add format_preserving { key_version_column: "
                         "\"...\" } (docs/FPE.md, docs/ROTATION.md)"));
      }
      if (version_column == options.key_column || version_column == column) {
        return absl::InvalidArgumentError(
            absl::StrCat(rule.name,
                         ": key_version_column must be a column of its own, not the key column "
                         "or the value's"));
      }
    }
    if (rule.mode == FieldMode::kVaultToken) {
      return absl::InvalidArgumentError(
          absl::StrCat(rule.name,
                       ": vault-token columns hold tokens, not ciphertexts; use a policy "
                       "without them"));
    }
    if (column == options.key_column) {
      return absl::InvalidArgumentError(
          absl::StrCat(rule.name, ": the key column cannot be an encrypted field"));
    }
    Column c;
    c.field = rule.name;
    c.name = column;
    c.version_column = std::move(version_column);
    if (rule.blind_index.has_value()) {
      c.index_column = rule.blind_index->column;  // resolved by the policy: COLUMN_idx
      if (!IsSqlIdentifier(c.index_column)) {
        return absl::InvalidArgumentError(
            absl::StrCat(rule.name, ": blind index column is not a plain SQL identifier"));
      }
    }
    columns.push_back(std::move(c));
  }
  if (columns.empty() && skipped.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the policy has no field of table ", options.table, " (fields named ",
                     options.table, ".COLUMN, or with table: \"", options.table, "\")"));
  }
  PIICRYPT_RETURN_IF_ERROR(AddCompoundIndexes(policy, options, columns, skipped));
  if (columns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the policy has only subject fields in table ", options.table,
        ": they are rewrapped by `piicrypt subject rewrap` (docs/SUBJECTS.md), not re-encrypted"));
  }
  if (columns.size() > 32) {
    return absl::InvalidArgumentError("at most 32 encrypted and compound index columns per table");
  }
  return columns;
}

absl::StatusOr<Rewriter::Opened> Rewriter::Opened::From(
    absl::StatusOr<std::optional<std::string>> decrypted, uint32_t key_id) {
  if (!decrypted.ok()) return decrypted.status();
  Opened out;
  out.key_id = key_id;
  if (decrypted->has_value()) out.plain.swap(**decrypted);  // (a value in: a value out)
  return out;
}

absl::StatusOr<Rewriter::Opened> Rewriter::Open(const Column& c, const std::string& stored,
                                                const std::optional<std::string>& stored_version,
                                                absl::string_view record) const {
  if (c.ff1()) {
    // FF1 values are told apart from plaintext by the key-version column alone.
    if (!stored_version.has_value()) {
      if (encrypt_plaintext_) return Opened{stored, std::nullopt};
      return absl::InvalidArgumentError(
          absl::StrCat(c.field, ": ", c.version_column,
                       " is NULL: no key id (plaintext? see --encrypt-plaintext)"));
    }
    uint32_t version = 0;
    if (!absl::SimpleAtoi(*stored_version, &version)) {
      return absl::InvalidArgumentError(
          absl::StrCat(c.field, ": ", c.version_column, " holds no key id"));
    }
    return Opened::From(cryptor_.DecryptWithKey(c.field, version, stored, record), version);
  }
  absl::StatusOr<uint32_t> key_id = FieldCipher::KeyIdOfText(stored);
  if (key_id.ok()) {
    return Opened::From(cryptor_.Decrypt(c.field, stored, record), *key_id);
  }
  if (encrypt_plaintext_) return Opened{stored, std::nullopt};
  return absl::InvalidArgumentError(
      absl::StrCat(c.field, ": not a piicrypt ciphertext (plaintext? see --encrypt-plaintext)"));
}

Rewrite Rewriter::Apply(const Column& c, const std::optional<std::string>& stored,
                        const std::optional<std::string>& stored_version,
                        absl::string_view record) const {
  Rewrite r;
  if (!stored.has_value()) return r;
  // The target: the field's write key for FF1 columns, else the primary.
  absl::StatusOr<uint32_t> target =
      c.ff1() ? cryptor_.WriteKeyId(c.field) : absl::StatusOr<uint32_t>(primary_);
  if (!target.ok()) return Fail(std::string(target.status().message()));
  absl::StatusOr<Opened> opened = Open(c, *stored, stored_version, record);
  if (!opened.ok()) return Fail(std::string(opened.status().message()));
  std::string& plain = opened->plain;
  absl::Cleanup wipe = [&] { SecureWipe(plain.data(), plain.size()); };
  if (!opened->key_id.has_value()) {
    r.outcome = Outcome::kEncrypted;
  } else if (*opened->key_id == *target &&
             (c.ff1() || InWrittenForm(cryptor_, c, *stored, plain.size()))) {
    // Decrypted under its target key: left as it is. (Decrypted first, so that a value
    // that only claims the key, tampered or moved from another row, fails instead.)
    r.outcome = Outcome::kCurrent;
    return r;
  } else {
    r.outcome = Outcome::kReencrypted;
  }
  if (c.ff1()) r.version = absl::StrCat(*target);
  auto encrypted = cryptor_.Encrypt(c.field, plain, record);
  if (!encrypted.ok()) return Fail(std::string(encrypted.status().message()));
  if (!c.index_column.empty()) {
    auto index = cryptor_.BlindIndex(c.field, plain);
    if (!index.ok()) return Fail(std::string(index.status().message()));
    r.index = *std::move(index);
  }
  r.value = *std::move(encrypted);
  return r;
}

absl::StatusOr<std::optional<std::string>> Rewriter::CompoundOf(
    const std::vector<Column>& columns, const Column& c,
    const std::vector<std::optional<std::string>>& values,
    const std::vector<std::optional<std::string>>& versions, absl::string_view record) const {
  std::vector<std::string> plains;
  plains.reserve(c.parts.size());
  absl::Cleanup wipe = [&] {
    for (std::string& p : plains) SecureWipe(p.data(), p.size());
  };
  for (size_t p : c.parts) {
    // A NULL part makes a NULL index, as FieldCryptor::CompoundIndex has it.
    if (!values[p].has_value()) return std::optional<std::string>();
    absl::StatusOr<Opened> opened = Open(columns[p], *values[p], versions[p], record);
    if (!opened.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(c.field, ": part ", opened.status().message()));
    }
    plains.push_back(std::move(opened->plain));
  }
  std::vector<NullableValue> parts(plains.begin(), plains.end());
  return cryptor_.CompoundIndex(c.field, parts);
}

Rewrite Rewriter::ApplyCompound(const std::vector<Column>& columns, size_t c,
                                const std::vector<std::optional<std::string>>& values,
                                const std::vector<std::optional<std::string>>& versions,
                                absl::string_view record) const {
  absl::StatusOr<std::optional<std::string>> index =
      CompoundOf(columns, columns[c], values, versions, record);
  if (!index.ok()) return Fail(std::string(index.status().message()));
  Rewrite r;
  if (!index->has_value() && !values[c].has_value()) return r;  // kNull
  if (*index == values[c]) {
    r.outcome = Outcome::kCurrent;
    return r;
  }
  r.outcome = Outcome::kReencrypted;
  r.value = *std::move(index);
  return r;
}

std::string Rewriter::VerifyCompound(const std::vector<Column>& columns, size_t c,
                                     const std::vector<std::optional<std::string>>& values,
                                     const std::vector<std::optional<std::string>>& versions,
                                     absl::string_view record) const {
  absl::StatusOr<std::optional<std::string>> index =
      CompoundOf(columns, columns[c], values, versions, record);
  if (!index.ok()) return std::string(index.status().message());
  if (*index != values[c]) return absl::StrCat(columns[c].field, ": compound index is not current");
  return "";
}

std::string Rewriter::Verify(const Column& c, const std::optional<std::string>& stored,
                             const std::optional<std::string>& stored_index,
                             const std::optional<std::string>& stored_version,
                             absl::string_view record) const {
  if (!stored.has_value()) return "";
  uint32_t key_id = 0;
  absl::StatusOr<std::optional<std::string>> plain;
  uint32_t target = primary_;
  if (c.ff1()) {
    absl::StatusOr<uint32_t> write = cryptor_.WriteKeyId(c.field);
    if (!write.ok()) return std::string(write.status().message());
    target = *write;
    if (!stored_version.has_value() || !absl::SimpleAtoi(*stored_version, &key_id)) {
      return absl::StrCat(c.field, ": ", c.version_column, " holds no key id");
    }
    plain = cryptor_.DecryptWithKey(c.field, key_id, *stored, record);
  } else {
    absl::StatusOr<uint32_t> id = FieldCipher::KeyIdOfText(*stored);
    if (!id.ok()) return absl::StrCat(c.field, ": not a piicrypt ciphertext");
    key_id = *id;
    plain = cryptor_.Decrypt(c.field, *stored, record);
  }
  if (!plain.ok()) return std::string(plain.status().message());
  absl::Cleanup wipe = [&] { SecureWipe((*plain)->data(), (*plain)->size()); };
  if (key_id != target) {
    return absl::StrCat(c.field, ": under key ", key_id, ", not the ",
                        c.ff1() ? "field's write key " : "primary ", target);
  }
  if (!c.ff1() && !InWrittenForm(cryptor_, c, *stored, (*plain)->size())) {
    return absl::StrCat(c.field, ": not padded as the policy says");
  }
  if (!c.index_column.empty()) {
    auto index = cryptor_.BlindIndex(c.field, **plain);
    if (!index.ok()) return std::string(index.status().message());
    if (*index != stored_index) return absl::StrCat(c.field, ": blind index is not current");
  }
  return "";
}

void MarkNotWritten(const std::vector<Column>& columns, std::vector<Rewrite>& rewrites) {
  for (size_t c = 0; c < rewrites.size() && c < columns.size(); ++c) {
    if (!rewrites[c].changes()) continue;
    rewrites[c] = Fail(absl::StrCat(columns[c].field,
                                    ": the update of this row took no effect (a trigger, or "
                                    "a value stored in another type?); left as it is"));
  }
}

void Tally(const std::string& row_key, const std::vector<Rewrite>& rewrites,
           ReencryptSummary& delta, std::vector<std::pair<std::string, std::string>>& failures) {
  for (const Rewrite& x : rewrites) {
    switch (x.outcome) {
      case Outcome::kNull:
        ++delta.null_values;
        break;
      case Outcome::kCurrent:
        ++delta.current;
        break;
      case Outcome::kReencrypted:
        ++delta.reencrypted;
        break;
      case Outcome::kEncrypted:
        ++delta.encrypted;
        break;
      case Outcome::kFailed:
        ++delta.failed;
        failures.emplace_back(row_key, x.reason);
        break;
    }
  }
}

int64_t Coverage::Shortfall() const {
  return std::max<int64_t>(0, std::min(table_at_start, table_at_end) - walked);
}

bool ReencryptSummary::Complete() const {
  return failed == 0 && verify_failed == 0 && walk.Shortfall() == 0 && verify_walk.Shortfall() == 0;
}

void AddCounts(ReencryptSummary& to, const ReencryptSummary& d, int64_t rows) {
  to.rows += rows;
  to.reencrypted += d.reencrypted;
  to.encrypted += d.encrypted;
  to.current += d.current;
  to.null_values += d.null_values;
  to.conflicts += d.conflicts;
  to.failed += d.failed;
}

}  // namespace piicrypt::internal
