#include "piicrypt/field_cryptor.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/crypto/blind_index_to.h"
#include "src/crypto/field_format.h"
#include "src/crypto/wipe.h"
#include "src/field/compound_index.h"
#include "src/field/value_normalizer.h"

namespace piicrypt {
namespace {

using Nullable = absl::StatusOr<std::optional<std::string>>;

template <typename T>
using KeyedList = std::vector<std::pair<uint32_t, std::shared_ptr<const T>>>;

template <typename T>
const T* FindKey(const KeyedList<T>& list, uint32_t key_id) {
  for (const auto& [id, item] : list) {
    if (id == key_id) return item.get();
  }
  return nullptr;
}

// Everything one field needs, built once in Create.
struct FieldState {
  FieldState(const FieldRule& r, internal::ValueNormalizer n)
      : rule(r),
        normalizer(std::move(n)),
        decrypt_failed(absl::StrCat(r.name, ": decryption failed")) {}

  FieldRule rule;
  // Randomized and deterministic fields: the primary's cipher, and every enabled key's.
  std::shared_ptr<const FieldCipher> writer;
  KeyedList<FieldCipher> readers;
  // Format-preserving fields: the write key's codec, and every enabled key's.
  uint32_t write_key_id = 0;
  std::shared_ptr<const FormatPreservingField> ff1_writer;
  KeyedList<FormatPreservingField> ff1;
  // Blind index: indexers under every enabled key, the primary's first, and the length of
  // their hex text.
  KeyedList<BlindIndexer> indexers;
  size_t index_text_size = 0;
  internal::ValueNormalizer normalizer;
  std::string decrypt_failed;

  // Randomized and deterministic fields: the length of the text form of a value of
  // `size` bytes (padded as the rule says).
  size_t TextSize(size_t size) const {
    if (rule.padding.enabled()) size = rule.padding.PaddedSize(size) + 1;
    return internal::Base64UrlEncodedSize(binary_overhead + size);
  }
  size_t binary_overhead = 0;

  absl::string_view Record(absl::string_view record) const {
    return rule.bind_record ? record : absl::string_view();
  }
};

// Field names are few, chosen by the application, and looked up on every call: a hash of
// the length and the first and last 8 bytes is enough to tell them apart and costs a few
// cycles (absl's string hash is several times that). Collisions only cost a comparison.
struct FieldNameHash {
  using is_transparent = void;
  static uint64_t Load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  size_t operator()(absl::string_view s) const {
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
    uint64_t h = (s.size() + 1) * kMul;
    if (s.size() >= 8) {
      h = (h ^ Load8(s.data())) * kMul;
      h = (h ^ Load8(s.data() + s.size() - 8)) * kMul;
    } else {
      for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * kMul;
    }
    return static_cast<size_t>(h ^ (h >> 32));
  }
};
// Equality of field names without a call to memcmp: 8 bytes at a time, the last 8 bytes
// (overlapping) for the rest.
struct FieldNameEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const {
    const size_t n = a.size();
    if (n != b.size()) return false;
    if (n < 8) return a == b;
    const char* p = a.data();
    const char* q = b.data();
    uint64_t diff = 0;
    for (size_t i = 0; i + 8 < n; i += 8)
      diff |= FieldNameHash::Load8(p + i) ^ FieldNameHash::Load8(q + i);
    return (diff | (FieldNameHash::Load8(p + n - 8) ^ FieldNameHash::Load8(q + n - 8))) == 0;
  }
};

absl::Status FieldStatus(absl::string_view field, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

// Runs `fn` on the field's normalized form of `value` (a blind index's input), made on the
// stack where the normalizer can, and wipes any copy of it afterwards.
template <typename Fn>
absl::Status WithNormalized(const FieldState& f, absl::string_view value, const Fn& fn) {
  char buffer[internal::kShortValueSize];
  // Wiped whatever the outcome: a value refused, or left to Normalize part way (non-ASCII),
  // may have left lower-cased bytes in it. (The whole buffer: a constant size is a few
  // stores, no call to memset.)
  absl::Cleanup wipe_buffer = [&] { internal::WipeInline(buffer, sizeof(buffer)); };
  auto shortcut = f.normalizer.NormalizeShort(value, buffer);
  if (!shortcut.ok()) return FieldStatus(f.rule.name, shortcut.status());
  if (shortcut->has_value()) return fn(**shortcut);
  auto normalized = f.normalizer.Normalize(value);
  if (!normalized.ok()) return FieldStatus(f.rule.name, normalized.status());
  absl::Cleanup wipe = [&] { internal::SecureWipe(normalized->data(), normalized->size()); };
  return fn(*normalized);
}

}  // namespace

struct FieldCryptor::Rep {
  explicit Rep(Policy p) : policy(std::move(p)) {}
  Policy policy;
  absl::flat_hash_map<std::string, FieldState, FieldNameHash, FieldNameEq> fields;
  absl::flat_hash_map<uint32_t, KeyStatus> key_status;
  // The policy's compound indexes, by name.
  absl::flat_hash_map<std::string, std::unique_ptr<const internal::CompoundIndexer>> compound;
  absl::StatusOr<const internal::CompoundIndexer*> FindCompound(absl::string_view name) const {
    auto it = compound.find(name);
    if (it == compound.end()) {
      return absl::NotFoundError(absl::StrCat("index \"", name, "\" is not in the policy"));
    }
    return it->second.get();
  }

  // The lookup table of the hot path, built once `fields` is complete (its names and
  // states do not move after that): open addressing with linear probing over a power-of-two
  // table at most half full, each slot keeping the name's hash.
  struct Slot {
    uint64_t hash = 0;
    absl::string_view name;
    const FieldState* state = nullptr;  // nullptr: an empty slot
  };
  std::vector<Slot> index;
  size_t index_mask = 0;

  void BuildIndex() {
    size_t size = 8;
    while (size < 2 * fields.size()) size *= 2;
    index.assign(size, Slot());
    index_mask = size - 1;
    for (const auto& [name, state] : fields) {
      const uint64_t hash = FieldNameHash()(name);
      size_t i = hash & index_mask;
      while (index[i].state != nullptr) i = (i + 1) & index_mask;
      index[i] = Slot{hash, name, &state};
    }
  }

  // nullptr if `field` is not in the policy (NotInPolicy is the error).
  const FieldState* FindOrNull(absl::string_view field) const {
    const uint64_t hash = FieldNameHash()(field);
    for (size_t i = hash & index_mask;; i = (i + 1) & index_mask) {
      const Slot& slot = index[i];
      if (slot.state == nullptr) return nullptr;
      if (slot.hash == hash && FieldNameEq()(slot.name, field)) return slot.state;
    }
  }
  static absl::Status NotInPolicy(absl::string_view field) {
    return absl::NotFoundError(absl::StrCat("field \"", field, "\" is not in the policy"));
  }
  absl::StatusOr<const FieldState*> Find(absl::string_view field) const {
    const FieldState* f = FindOrNull(field);
    if (f == nullptr) return NotInPolicy(field);
    return f;
  }

  // The error for a value under a key that has no cipher here.
  absl::Status KeyError(const FieldState& f, uint32_t key_id) const {
    auto it = key_status.find(key_id);
    if (it == key_status.end()) {
      return absl::NotFoundError(absl::StrCat(f.rule.name, ": value is under key ", key_id,
                                              ", which is not in the keyset"));
    }
    if (it->second == KeyStatus::kDisabled) {
      return absl::FailedPreconditionError(
          absl::StrCat(f.rule.name, ": value is under key ", key_id, ", which is disabled"));
    }
    return absl::NotFoundError(
        absl::StrCat(f.rule.name, ": value is under key ", key_id, ", which was destroyed"));
  }

  absl::Status RequireCipher(const FieldState& f) const {
    if (f.rule.mode == FieldMode::kVaultToken) {
      return absl::FailedPreconditionError(
          absl::StrCat(f.rule.name, ": a vault-token field is tokenized, not encrypted"));
    }
    if (f.rule.subject.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          f.rule.name,
          ": a subject field is encrypted under its subject's key: use SubjectCryptor"));
    }
    return absl::OkStatus();
  }

  static absl::Status KeyInColumn(const FieldState& f) {
    return absl::FailedPreconditionError(
        absl::StrCat(f.rule.name, ": the key of each value is in the key-version column ",
                     f.rule.format_preserving->key_version_column,
                     ": decrypt with DecryptWithKey and the row's key id"));
  }

  absl::Status CheckRecord(const FieldState& f, absl::string_view record) const {
    if (f.rule.bind_record && record.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f.rule.name, ": the field is bound to its record; a record id is required"));
    }
    return absl::OkStatus();
  }

  // The text form of a randomized or deterministic field's value, written straight into
  // the result (one allocation; returned from one place, so it is constructed in the
  // caller's return slot).
  Nullable EncryptText(const FieldState& f, absl::string_view value,
                       absl::string_view record) const {
    Nullable result(absl::in_place, std::in_place, f.TextSize(value.size()), '\0');
    absl::Status s = f.writer->EncryptTextTo(value, f.Record(record), &**result);
    if (!s.ok()) result = std::move(s);
    return result;
  }

  // FieldCryptor::EncryptTo for what its fast path does not take (kept out of line, so
  // the fast path stays a lookup and a call).
  ABSL_ATTRIBUTE_NOINLINE absl::Status EncryptToSlow(absl::string_view field, const FieldState* f,
                                                     absl::string_view value,
                                                     absl::string_view record,
                                                     std::string* out) const;

  // The binary form of a randomized or deterministic field's value, decrypted into `*out`
  // by the cipher of the key it names; `*out` is left empty on failure.
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status DecryptBinaryTo(const FieldState& f,
                                                            absl::string_view binary,
                                                            absl::string_view record,
                                                            std::string* out) const {
    // The usual case: the cipher of the key id in the header (bytes 1 to 4, big-endian),
    // which checks the rest of the format itself and fails as below. Key ids are never 0.
    if (ABSL_PREDICT_TRUE(binary.size() >= internal::kHeaderSize)) {
      const auto* b = reinterpret_cast<const uint8_t*>(binary.data());
      const uint32_t raw_id =
          (uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | uint32_t{b[4]};
      if (const FieldCipher* reader = FindKey(f.readers, raw_id)) {
        return reader->DecryptTo(binary, f.Record(record), out);
      }
    }
    // No cipher for it: why, after the format's checks.
    auto key_id = FieldCipher::KeyIdOf(binary);
    out->clear();
    if (!key_id.ok()) return absl::InvalidArgumentError(f.decrypt_failed);
    return KeyError(f, *key_id);
  }

  // The same for the text form: decoded onto the stack when it is field-sized.
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status DecryptTextTo(const FieldState& f,
                                                          absl::string_view text,
                                                          absl::string_view record,
                                                          std::string* out) const {
    constexpr size_t kStackBinary = 512;
    const size_t size = internal::Base64UrlDecodedSize(text.size());
    if (size <= kStackBinary) {
      uint8_t binary[kStackBinary];
      if (ABSL_PREDICT_TRUE(internal::Base64UrlDecodeTo(text, binary))) {
        return DecryptBinaryTo(f, absl::string_view(reinterpret_cast<char*>(binary), size), record,
                               out);
      }
    } else if (auto binary = internal::Base64UrlDecode(text); binary.ok()) {
      return DecryptBinaryTo(f, *binary, record, out);
    }
    out->clear();
    return absl::InvalidArgumentError(f.decrypt_failed);
  }

  // FieldCryptor::DecryptTo for what its fast path does not take.
  ABSL_ATTRIBUTE_NOINLINE absl::Status DecryptToSlow(absl::string_view field, const FieldState* f,
                                                     absl::string_view stored,
                                                     absl::string_view record,
                                                     std::string* out) const;
};

FieldCryptor::FieldCryptor(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
FieldCryptor::~FieldCryptor() = default;

const Policy& FieldCryptor::policy() const { return rep_->policy; }

absl::StatusOr<std::unique_ptr<FieldCryptor>> FieldCryptor::Create(const Keyset& keyset,
                                                                   const Policy& policy) {
  auto rep = std::make_unique<Rep>(policy);
  std::vector<uint32_t> enabled;
  for (const KeyInfo& key : keyset.ListKeys()) {
    rep->key_status[key.id] = key.status;
    if (key.status == KeyStatus::kEnabled) enabled.push_back(key.id);
  }
  const uint32_t primary = keyset.primary_key_id();
  PIICRYPT_ASSIGN_OR_RETURN(KeyInfo primary_info, keyset.GetKey(primary));
  if (primary_info.status != KeyStatus::kEnabled) {
    return absl::FailedPreconditionError("the keyset has no enabled primary key");
  }

  for (const FieldRule& rule : rep->policy.rules()) {
    const std::string& name = rule.name;
    internal::ValueNormalizer normalizer =
        internal::ValueNormalizer::Create(Normalizer::kExact, "").value();
    if (rule.blind_index.has_value()) {
      auto n = internal::ValueNormalizer::Create(rule.blind_index->normalizer,
                                                 rule.blind_index->default_region);
      if (!n.ok()) return FieldStatus(name, n.status());
      normalizer = *std::move(n);
    }
    FieldState f(rule, std::move(normalizer));

    if (rule.subject.has_value()) {
      // Under the subject's own key: SubjectCryptor's (subject_cryptor.h), none here.
    } else if (rule.mode == FieldMode::kRandomized || rule.mode == FieldMode::kDeterministic) {
      const FieldMode mode = rule.mode;
      for (uint32_t id : enabled) {
        auto cipher = keyset.FieldCipherForKey(id, name, mode);
        if (!cipher.ok()) return FieldStatus(name, cipher.status());
        if (id == primary) {
          f.writer = *cipher;
          // Every cipher reads padded and unpadded values; the writer pads as the rule says.
          if (rule.padding.enabled()) {
            auto padded = (*cipher)->WithPadding(rule.padding);
            if (!padded.ok()) return padded.status();
            f.writer = *std::move(padded);
          }
          f.binary_overhead = mode == FieldMode::kRandomized ? internal::kRandomizedOverhead
                                                             : internal::kDeterministicOverhead;
        }
        f.readers.emplace_back(id, *std::move(cipher));
      }
      f.write_key_id = primary;
    } else if (rule.mode == FieldMode::kFormatPreserving) {
      // The pinned key; without one (the policy then requires a key-version column, which
      // records each value's key) new values go under the primary.
      const uint32_t key_id =
          rule.format_preserving->key_id != 0 ? rule.format_preserving->key_id : primary;
      auto status = rep->key_status.find(key_id);
      if (status == rep->key_status.end() || status->second == KeyStatus::kDestroyed) {
        return absl::NotFoundError(absl::StrCat(
            name, ": FF1 key ", key_id,
            status == rep->key_status.end() ? " is not in the keyset" : " was destroyed"));
      }
      if (status->second != KeyStatus::kEnabled) {
        return absl::FailedPreconditionError(
            absl::StrCat(name, ": FF1 key ", key_id, " is disabled"));
      }
      for (uint32_t id : enabled) {
        auto material = keyset.KeyMaterial(id, InsecureSecretKeyAccess::Get());
        if (!material.ok()) return FieldStatus(name, material.status());
        auto codec =
            FormatPreservingField::CreateFromRoot(rule.format_preserving->codec, *material);
        if (!codec.ok()) return codec.status();
        std::shared_ptr<const FormatPreservingField> shared = *std::move(codec);
        if (id == key_id) f.ff1_writer = shared;
        f.ff1.emplace_back(id, std::move(shared));
      }
      f.write_key_id = key_id;
    }
    if (rule.blind_index.has_value()) {
      auto indexers = keyset.BlindIndexersFor(name, rule.blind_index->bits);
      if (!indexers.ok()) return FieldStatus(name, indexers.status());
      for (auto& [id, indexer] : *indexers) f.indexers.emplace_back(id, std::move(indexer));
      f.index_text_size = (static_cast<size_t>(rule.blind_index->bits) + 7) / 8 * 2;
    }
    rep->fields.emplace(name, std::move(f));
  }
  for (const CompoundIndexRule& index : rep->policy.indexes()) {
    PIICRYPT_ASSIGN_OR_RETURN(auto indexer, internal::CompoundIndexer::Create(keyset, index));
    rep->compound.emplace(index.name, std::move(indexer));
  }
  rep->BuildIndex();
  return std::unique_ptr<FieldCryptor>(new FieldCryptor(std::move(rep)));
}

Nullable FieldCryptor::Encrypt(absl::string_view field, NullableValue value,
                               absl::string_view record) const {
  const FieldState* f = rep_->FindOrNull(field);
  if (f == nullptr) return Rep::NotInPolicy(field);
  if (!value.has_value()) return std::nullopt;
  PIICRYPT_RETURN_IF_ERROR(rep_->CheckRecord(*f, record));
  if (f->writer != nullptr) return rep_->EncryptText(*f, *value, record);
  if (f->ff1_writer != nullptr) {
    auto out = f->ff1_writer->Encrypt(*value, f->Record(record));
    if (!out.ok()) return out.status();
    return std::optional<std::string>(*std::move(out));
  }
  return rep_->RequireCipher(*f);
}

absl::Status FieldCryptor::EncryptTo(absl::string_view field, absl::string_view value,
                                     absl::string_view record, std::string* out) const {
  const FieldState* f = rep_->FindOrNull(field);
  // The usual case, a randomized or deterministic field with what it needs, is one call.
  if (f != nullptr && f->writer != nullptr && rep_->CheckRecord(*f, record).ok()) {
    return f->writer->EncryptTextTo(value, f->Record(record), out);
  }
  return rep_->EncryptToSlow(field, f, value, record, out);
}

absl::Status FieldCryptor::Rep::EncryptToSlow(absl::string_view field, const FieldState* f,
                                              absl::string_view value, absl::string_view record,
                                              std::string* out) const {
  absl::Status s = f == nullptr ? NotInPolicy(field) : CheckRecord(*f, record);
  if (s.ok()) {
    if (f->writer != nullptr) return f->writer->EncryptTextTo(value, f->Record(record), out);
    if (f->ff1_writer != nullptr) {
      auto encrypted = f->ff1_writer->Encrypt(value, f->Record(record));
      if (encrypted.ok()) {
        *out = *std::move(encrypted);
        return absl::OkStatus();
      }
      s = encrypted.status();
    } else {
      s = RequireCipher(*f);
    }
  }
  out->clear();
  return s;
}

Nullable FieldCryptor::Decrypt(absl::string_view field, NullableValue stored,
                               absl::string_view record) const {
  if (rep_->FindOrNull(field) == nullptr) return Rep::NotInPolicy(field);
  if (!stored.has_value()) return std::nullopt;
  std::string out;
  PIICRYPT_RETURN_IF_ERROR(DecryptTo(field, *stored, record, &out));
  return std::optional<std::string>(std::move(out));
}

absl::Status FieldCryptor::DecryptTo(absl::string_view field, absl::string_view stored,
                                     absl::string_view record, std::string* out) const {
  const FieldState* f = rep_->FindOrNull(field);
  // The usual case, a randomized or deterministic field with what it needs.
  if (f != nullptr && f->writer != nullptr && rep_->CheckRecord(*f, record).ok()) {
    return rep_->DecryptTextTo(*f, stored, record, out);
  }
  return rep_->DecryptToSlow(field, f, stored, record, out);
}

absl::Status FieldCryptor::Rep::DecryptToSlow(absl::string_view field, const FieldState* f,
                                              absl::string_view stored, absl::string_view record,
                                              std::string* out) const {
  absl::Status s = f == nullptr ? NotInPolicy(field) : CheckRecord(*f, record);
  if (s.ok()) {
    if (f->writer != nullptr) return DecryptTextTo(*f, stored, record, out);
    if (f->ff1_writer != nullptr) {
      // Every FF1 string decrypts to something: the key must be the one the value was
      // written under. Without a key-version column that is the rule's pinned key; with one,
      // it is the row's, and only DecryptWithKey knows it.
      if (!f->rule.format_preserving->key_version_column.empty()) {
        out->clear();
        return KeyInColumn(*f);
      }
      auto decrypted = f->ff1_writer->Decrypt(stored, f->Record(record));
      if (decrypted.ok()) {
        *out = *std::move(decrypted);
        return absl::OkStatus();
      }
      s = decrypted.status();
    } else {
      s = RequireCipher(*f);
    }
  }
  out->clear();
  return s;
}

Nullable FieldCryptor::EncryptBinary(absl::string_view field, NullableValue value,
                                     absl::string_view record) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  if (!value.has_value()) return std::nullopt;
  PIICRYPT_RETURN_IF_ERROR(rep_->CheckRecord(*f, record));
  if (f->writer == nullptr) {
    PIICRYPT_RETURN_IF_ERROR(rep_->RequireCipher(*f));
    return absl::FailedPreconditionError(
        absl::StrCat(f->rule.name, ": a format-preserving field has no binary form"));
  }
  auto binary = f->writer->Encrypt(*value, f->Record(record));
  if (!binary.ok()) return binary.status();
  return std::optional<std::string>(*std::move(binary));
}

Nullable FieldCryptor::DecryptBinary(absl::string_view field, NullableValue stored,
                                     absl::string_view record) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  if (!stored.has_value()) return std::nullopt;
  PIICRYPT_RETURN_IF_ERROR(rep_->CheckRecord(*f, record));
  if (f->writer == nullptr) {
    PIICRYPT_RETURN_IF_ERROR(rep_->RequireCipher(*f));
    return absl::FailedPreconditionError(
        absl::StrCat(f->rule.name, ": a format-preserving field has no binary form"));
  }
  std::string out;
  PIICRYPT_RETURN_IF_ERROR(rep_->DecryptBinaryTo(*f, *stored, record, &out));
  return std::optional<std::string>(std::move(out));
}

Nullable FieldCryptor::DecryptWithKey(absl::string_view field, uint32_t key_id,
                                      NullableValue stored, absl::string_view record) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  if (f->rule.mode != FieldMode::kFormatPreserving) {
    return absl::FailedPreconditionError(absl::StrCat(
        f->rule.name,
        ": DecryptWithKey is for format-preserving fields; other values name their key"));
  }
  if (!stored.has_value()) return std::nullopt;
  PIICRYPT_RETURN_IF_ERROR(rep_->CheckRecord(*f, record));
  const FormatPreservingField* codec = FindKey(f->ff1, key_id);
  if (codec == nullptr) return rep_->KeyError(*f, key_id);
  auto out = codec->Decrypt(*stored, f->Record(record));
  if (!out.ok()) return out.status();
  return std::optional<std::string>(*std::move(out));
}

absl::StatusOr<uint32_t> FieldCryptor::WriteKeyId(absl::string_view field) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  PIICRYPT_RETURN_IF_ERROR(rep_->RequireCipher(*f));
  return f->write_key_id;
}

absl::StatusOr<std::string> FieldCryptor::Normalize(absl::string_view field,
                                                    absl::string_view value) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  if (!f->rule.blind_index.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(f->rule.name, ": the field has no blind index"));
  }
  auto normalized = f->normalizer.Normalize(value);
  if (!normalized.ok()) return FieldStatus(f->rule.name, normalized.status());
  return normalized;
}

namespace {

absl::Status RequireBlindIndex(const FieldState& f) {
  if (f.rule.blind_index.has_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(f.rule.name, ": the field has no blind index"));
}

// The blind index of `value` under the primary key into `*out` (resized to the index's
// length if it is not already), for BlindIndex and BlindIndexTo.
absl::Status BlindIndexInto(const FieldState& f, absl::string_view value, std::string* out) {
  PIICRYPT_RETURN_IF_ERROR(RequireBlindIndex(f));
  return WithNormalized(f, value, [&](absl::string_view normalized) {
    return internal::ComputeBlindIndexTo(*f.indexers.front().second, normalized, out);
  });
}

}  // namespace

Nullable FieldCryptor::BlindIndex(absl::string_view field, NullableValue value) const {
  const FieldState* f = rep_->FindOrNull(field);
  if (f == nullptr) return Rep::NotInPolicy(field);
  if (!value.has_value()) {
    absl::Status s = RequireBlindIndex(*f);
    if (!s.ok()) return s;
    return std::nullopt;
  }
  // Built in the return slot at its size: the index is written straight into it.
  Nullable result(absl::in_place, std::in_place, f->index_text_size, '\0');
  absl::Status s = BlindIndexInto(*f, *value, &**result);
  if (!s.ok()) result = std::move(s);
  return result;
}

absl::Status FieldCryptor::BlindIndexTo(absl::string_view field, absl::string_view value,
                                        std::string* out) const {
  const FieldState* f = rep_->FindOrNull(field);
  absl::Status s = f == nullptr ? Rep::NotInPolicy(field) : BlindIndexInto(*f, value, out);
  if (!s.ok()) out->clear();
  return s;
}

absl::StatusOr<std::vector<std::string>> FieldCryptor::LookupIndexes(
    absl::string_view field, absl::string_view value) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  if (!f->rule.blind_index.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(f->rule.name, ": the field has no blind index"));
  }
  std::vector<std::string> out;
  out.reserve(f->indexers.size());
  PIICRYPT_RETURN_IF_ERROR(WithNormalized(*f, value, [&](absl::string_view normalized) {
    for (const auto& [id, indexer] : f->indexers) {
      auto index = indexer->Compute(normalized);
      if (!index.ok()) return index.status();
      out.push_back(*std::move(index));
    }
    return absl::OkStatus();
  }));
  return out;
}

Nullable FieldCryptor::CompoundIndex(absl::string_view index,
                                     absl::Span<const NullableValue> values) const {
  PIICRYPT_ASSIGN_OR_RETURN(const internal::CompoundIndexer* indexer, rep_->FindCompound(index));
  std::vector<absl::string_view> present;
  present.reserve(values.size());
  const bool fits = values.size() == indexer->rule().parts.size();  // else Compute's error
  for (const NullableValue& value : values) {
    if (!value.has_value() && fits) return std::nullopt;  // a NULL part: a NULL index
    present.push_back(value.value_or(absl::string_view()));
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<std::string> out,
                            indexer->Compute(present, /*all_keys=*/false));
  return std::optional<std::string>(std::move(out.front()));
}

absl::StatusOr<std::vector<std::string>> FieldCryptor::CompoundLookupIndexes(
    absl::string_view index, absl::Span<const absl::string_view> values) const {
  PIICRYPT_ASSIGN_OR_RETURN(const internal::CompoundIndexer* indexer, rep_->FindCompound(index));
  return indexer->Compute(values, /*all_keys=*/true);
}

absl::StatusOr<std::string> FieldCryptor::CompoundIndexPart(absl::string_view index, size_t part,
                                                            absl::string_view value) const {
  PIICRYPT_ASSIGN_OR_RETURN(const internal::CompoundIndexer* indexer, rep_->FindCompound(index));
  if (part >= indexer->rule().parts.size()) {
    return absl::InvalidArgumentError(absl::StrCat(index, ": no part ", part));
  }
  return indexer->Transform(part, value);
}

Nullable FieldCryptor::Mask(absl::string_view field, NullableValue value) const {
  PIICRYPT_ASSIGN_OR_RETURN(const FieldState* f, rep_->Find(field));
  if (!value.has_value()) return std::nullopt;
  return std::optional<std::string>(piicrypt::MaskValue(f->rule.mask, *value));
}

namespace {

template <typename Fn>
absl::StatusOr<std::vector<std::optional<std::string>>> ForEachRow(
    size_t rows, absl::Span<const absl::string_view> records, Fn fn) {
  if (!records.empty() && records.size() != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch of ", rows, " values with ", records.size(), " record ids"));
  }
  std::vector<std::optional<std::string>> out;
  out.reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    auto result = fn(i, records.empty() ? absl::string_view() : records[i]);
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat("row ", i, ": ", result.status().message()));
    }
    out.push_back(*std::move(result));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::optional<std::string>>> FieldCryptor::EncryptBatch(
    absl::string_view field, absl::Span<const NullableValue> values,
    absl::Span<const absl::string_view> records) const {
  return ForEachRow(values.size(), records, [&](size_t i, absl::string_view record) {
    return Encrypt(field, values[i], record);
  });
}

absl::StatusOr<std::vector<std::optional<std::string>>> FieldCryptor::DecryptBatch(
    absl::string_view field, absl::Span<const NullableValue> stored,
    absl::Span<const absl::string_view> records) const {
  return ForEachRow(stored.size(), records, [&](size_t i, absl::string_view record) {
    return Decrypt(field, stored[i], record);
  });
}

absl::StatusOr<std::vector<std::optional<std::string>>> FieldCryptor::BlindIndexBatch(
    absl::string_view field, absl::Span<const NullableValue> values) const {
  return ForEachRow(values.size(), {},
                    [&](size_t i, absl::string_view) { return BlindIndex(field, values[i]); });
}

// ---- values that cannot be NULL: the nullable calls with a value that is there --------

namespace {

absl::StatusOr<std::string> Present(Nullable result) {
  if (!result.ok()) return result.status();
  return **std::move(result);
}

}  // namespace

absl::StatusOr<std::string> FieldCryptor::EncryptValue(absl::string_view field,
                                                       absl::string_view value,
                                                       absl::string_view record) const {
  return Present(Encrypt(field, NullableValue(value), record));
}

absl::StatusOr<std::string> FieldCryptor::DecryptValue(absl::string_view field,
                                                       absl::string_view stored,
                                                       absl::string_view record) const {
  return Present(Decrypt(field, NullableValue(stored), record));
}

absl::StatusOr<std::string> FieldCryptor::BlindIndexValue(absl::string_view field,
                                                          absl::string_view value) const {
  return Present(BlindIndex(field, NullableValue(value)));
}

std::string FieldCryptor::MaskValue(absl::string_view field, absl::string_view value) const {
  const FieldState* f = rep_->FindOrNull(field);
  return piicrypt::MaskValue(f == nullptr ? MaskStyle::kFull : f->rule.mask, value);
}

}  // namespace piicrypt
