#include "piicrypt/subject_cryptor.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac.h"
#include "src/subject/key_cache.h"
#include "src/subject/subject_format.h"
#include "src/subject/subject_keys.h"

namespace piicrypt {

using internal::SubjectKeys;

namespace {

// The associated data header || lp(context) || lp(record) (docs/SPEC.md), on the stack when
// it fits (field names and record ids are short), else on the heap.
class AadBuffer {
 public:
  AadBuffer(absl::string_view header, absl::string_view context, absl::string_view record) {
    const size_t size = header.size() + 8 + context.size() + record.size();
    char* p = stack_;
    if (size > sizeof stack_) {
      heap_.resize(size);
      p = heap_.data();
    }
    view_ = absl::string_view(p, size);
    p = Append(p, header);
    p = Append(Length(p, context.size()), context);
    Append(Length(p, record.size()), record);
  }
  absl::string_view view() const { return view_; }

 private:
  static char* Append(char* p, absl::string_view s) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }
  static char* Length(char* p, size_t n) {
    internal::WriteBigEndian32(static_cast<uint32_t>(n), reinterpret_cast<uint8_t*>(p));
    return p + 4;
  }
  char stack_[256];
  std::string heap_;
  absl::string_view view_;
};

}  // namespace

struct SubjectCryptor::Rep {
  explicit Rep(const SubjectCryptorOptions& options)
      : cache(options.cache_size, options.cache_ttl) {}

  std::unique_ptr<internal::SubjectKeyring> keyring;
  std::shared_ptr<const SubjectKeyStore> store;
  std::unique_ptr<internal::HmacSha256> lookup_key;  // the store's, unwrapped
  std::vector<FieldRule> rules;                      // the subject fields, in policy order
  std::vector<std::string> names;
  absl::flat_hash_map<std::string, size_t> index;  // used above kScanFields fields
  static constexpr size_t kScanFields = 8;
  mutable internal::SubjectKeyCache cache;

  absl::StatusOr<size_t> Field(absl::string_view field) const {
    if (names.size() <= kScanFields) {  // a few names: compared faster than hashed
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == field) return i;
      }
      return absl::NotFoundError(absl::StrCat(field, ": not a subject field of the policy"));
    }
    auto it = index.find(field);
    if (it == index.end()) {
      return absl::NotFoundError(absl::StrCat(field, ": not a subject field of the policy"));
    }
    return it->second;
  }

  absl::Status CheckCall(const FieldRule& rule, absl::string_view subject,
                         absl::string_view record) const {
    if (subject.empty() || subject.size() > internal::kMaxSubjectIdSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(rule.name, ": the subject id must be 1 to 1024 bytes"));
    }
    if (rule.bind_record && record.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(rule.name, ": the field is bound to its record; a record id is required"));
    }
    return absl::OkStatus();
  }

  // hex(HMAC-SHA256(lookup key, subject)): the row key of the subject.
  absl::StatusOr<std::string> Lookup(absl::string_view subject) const {
    internal::HmacSha256::Tag tag;
    PIICRYPT_RETURN_IF_ERROR(lookup_key->Compute(subject, tag));
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(tag.data()), tag.size()));
  }

  // The subject's keys from the store: created when missing if `create`, else kNotFound.
  // Never cached here.
  absl::StatusOr<std::shared_ptr<const SubjectKeys>> Load(absl::string_view field,
                                                          absl::string_view subject,
                                                          bool create) const {
    PIICRYPT_ASSIGN_OR_RETURN(std::string lookup, Lookup(subject));
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<SubjectKeyRow> row, store->Find(lookup));
    if (!row.has_value()) {
      if (!create) return Erased(field);
      SecretData fresh;
      PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow new_row, keyring->NewRow(lookup, fresh));
      PIICRYPT_ASSIGN_OR_RETURN(row, store->InsertOrGet(new_row));
    }
    PIICRYPT_ASSIGN_OR_RETURN(SecretData key, keyring->Unwrap(*row));
    auto keys = std::make_shared<SubjectKeys>();
    PIICRYPT_ASSIGN_OR_RETURN(keys->wrap_key_id, keyring->WrapKeyIdOf(*row));
    keys->subject_key_id = row->key_id;
    for (const FieldRule& rule : rules) {
      PIICRYPT_ASSIGN_OR_RETURN(SecretData field_key,
                                internal::DeriveSubjectFieldKey(key, rule.name));
      PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<internal::AesGcm> gcm,
                                internal::AesGcm::Create(field_key));
      keys->ciphers.push_back(std::move(gcm));
    }
    internal::BurnStack();
    return keys;
  }

  // The subject's current keys, from the cache or the store (creating them if `create`).
  absl::StatusOr<std::shared_ptr<const SubjectKeys>> Current(absl::string_view field,
                                                             absl::string_view subject,
                                                             bool create) const {
    if (auto keys = cache.Get(subject)) return keys;
    const int64_t now = internal::SubjectKeyCache::Now();
    const uint64_t epoch = cache.epoch();
    PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<const SubjectKeys> keys,
                              Load(field, subject, create));
    cache.Put(subject, keys, now, epoch);
    return keys;
  }

  // The keys of the subject key a stored value names: kNotFound if that key is gone.
  absl::StatusOr<std::shared_ptr<const SubjectKeys>> ForValue(absl::string_view field,
                                                              absl::string_view subject,
                                                              uint32_t subject_key_id) const {
    PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<const SubjectKeys> keys,
                              Current(field, subject, /*create=*/false));
    if (keys->subject_key_id == subject_key_id) return keys;
    // Not the cached key: the store may have changed since (a forget, then a new key).
    PIICRYPT_ASSIGN_OR_RETURN(keys, Load(field, subject, /*create=*/false));
    if (keys->subject_key_id != subject_key_id) return Erased(field);
    return keys;
  }

  static absl::Status Erased(absl::string_view field) {
    return absl::NotFoundError(
        absl::StrCat(field,
                     ": the value's subject key was erased (the subject was forgotten) or is not "
                     "this subject's"));
  }
  static absl::Status Failed(absl::string_view field) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": decryption failed"));
  }

  absl::Status EncryptTo(absl::string_view field, absl::string_view subject,
                         absl::string_view value, absl::string_view record, std::string* out) const;
  absl::StatusOr<std::string> Encrypt(absl::string_view field, absl::string_view subject,
                                      absl::string_view value, absl::string_view record) const;
  absl::StatusOr<std::string> Decrypt(absl::string_view field, absl::string_view subject,
                                      absl::string_view stored, absl::string_view record) const;
};

absl::Status SubjectCryptor::Rep::EncryptTo(absl::string_view field, absl::string_view subject,
                                            absl::string_view value, absl::string_view record,
                                            std::string* out) const {
  out->clear();
  PIICRYPT_ASSIGN_OR_RETURN(size_t i, Field(field));
  const FieldRule& rule = rules[i];
  PIICRYPT_RETURN_IF_ERROR(CheckCall(rule, subject, record));
  const bool padded = rule.padding.enabled();
  if (padded && value.size() > (size_t{1} << 30)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": value too long for padding"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<const SubjectKeys> keys,
                            Current(field, subject, /*create=*/true));
  const size_t plain_size = padded ? rule.padding.PaddedSize(value.size()) + 1 : value.size();
  const size_t binary_size = internal::kSubjectOverhead + plain_size;
  // Values of field size are handled on the stack; longer ones in wiped heap buffers.
  constexpr size_t kStack = 512;
  uint8_t stack_binary[kStack];
  uint8_t stack_plain[kStack];
  ScratchData heap_binary, heap_plain;
  uint8_t* binary = stack_binary;
  if (binary_size > kStack) {
    heap_binary.resize(binary_size);
    binary = heap_binary.data();
  }
  absl::string_view plaintext = value;
  if (padded) {
    uint8_t* p = stack_plain;
    if (plain_size > kStack) {
      heap_plain.resize(plain_size);
      p = heap_plain.data();
    }
    internal::PadValue(value, plain_size - 1, p);
    plaintext = absl::string_view(reinterpret_cast<const char*>(p), plain_size);
  }
  // The padded copy of the value on the stack is wiped (the heap one by ScratchData).
  auto wipe = absl::MakeCleanup([&] {
    if (padded && plain_size <= kStack) internal::SecureWipe(stack_plain, plain_size);
  });
  internal::WriteSubjectHeader(padded ? internal::kSubjectPaddedFormat : internal::kSubjectFormat,
                               keys->wrap_key_id, keys->subject_key_id, binary);
  AadBuffer aad(
      absl::string_view(reinterpret_cast<const char*>(binary), internal::kSubjectHeaderSize),
      rule.name, rule.bind_record ? record : absl::string_view());
  PIICRYPT_RETURN_IF_ERROR(keys->ciphers[i]->EncryptRandomNonce(
      plaintext, aad.view(),
      absl::MakeSpan(binary + internal::kSubjectHeaderSize,
                     binary_size - internal::kSubjectHeaderSize)));
  const size_t text_size = internal::Base64UrlEncodedSize(binary_size);
  if (binary_size + internal::kBase64Slack <= kStack) {  // the fast encoder needs slack
    out->resize(text_size + internal::kBase64Slack);
    internal::Base64UrlEncodePaddedTo(binary, binary_size, out->data());
  } else {
    out->resize(text_size);
    internal::Base64UrlEncodeTo(
        absl::string_view(reinterpret_cast<const char*>(binary), binary_size), out->data());
  }
  out->resize(text_size);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SubjectCryptor::Rep::Encrypt(absl::string_view field,
                                                         absl::string_view subject,
                                                         absl::string_view value,
                                                         absl::string_view record) const {
  std::string out;
  PIICRYPT_RETURN_IF_ERROR(EncryptTo(field, subject, value, record, &out));
  return out;
}

absl::StatusOr<std::string> SubjectCryptor::Rep::Decrypt(absl::string_view field,
                                                         absl::string_view subject,
                                                         absl::string_view stored,
                                                         absl::string_view record) const {
  PIICRYPT_ASSIGN_OR_RETURN(size_t i, Field(field));
  const FieldRule& rule = rules[i];
  PIICRYPT_RETURN_IF_ERROR(CheckCall(rule, subject, record));
  absl::StatusOr<std::string> binary = internal::Base64UrlDecode(stored);
  if (!binary.ok()) return Failed(field);
  absl::StatusOr<internal::SubjectCiphertextView> v = internal::ParseSubjectCiphertext(*binary);
  if (!v.ok()) return Failed(field);
  PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<const SubjectKeys> keys,
                            ForValue(field, subject, v->subject_key_id));
  AadBuffer aad(v->header, rule.name, rule.bind_record ? record : absl::string_view());
  ScratchData plain(v->body.size() - internal::AesGcm::kOverhead);
  if (!keys->ciphers[i]->DecryptWithNonce(v->body, aad.view(), absl::MakeSpan(plain)).ok()) {
    return Failed(field);
  }
  size_t size = plain.size();
  if (v->format == internal::kSubjectPaddedFormat) {
    const ptrdiff_t unpadded = internal::UnpaddedSize(plain);
    if (unpadded < 0) return Failed(field);
    size = static_cast<size_t>(unpadded);
  }
  return std::string(reinterpret_cast<const char*>(plain.data()), size);
}

SubjectCryptor::SubjectCryptor(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
SubjectCryptor::~SubjectCryptor() = default;

absl::StatusOr<std::unique_ptr<SubjectCryptor>> SubjectCryptor::Create(
    const Keyset& keyset, const Policy& policy, std::shared_ptr<const SubjectKeyStore> store,
    const SubjectCryptorOptions& options) {
  if (store == nullptr) return absl::InvalidArgumentError("subject cryptor: no key store");
  if (options.cache_size < 1 || options.cache_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "subject cryptor: cache_size must be at least 1 and cache_ttl positive");
  }
  auto rep = std::make_unique<Rep>(options);
  PIICRYPT_ASSIGN_OR_RETURN(rep->keyring, internal::SubjectKeyring::Create(keyset));
  PIICRYPT_ASSIGN_OR_RETURN(rep->lookup_key, internal::OpenLookupKey(*rep->keyring, *store));
  rep->store = std::move(store);
  for (const FieldRule& rule : policy.rules()) {
    if (!rule.subject.has_value()) continue;
    rep->index.emplace(rule.name, rep->rules.size());
    rep->rules.push_back(rule);
    rep->names.push_back(rule.name);
  }
  return std::unique_ptr<SubjectCryptor>(new SubjectCryptor(std::move(rep)));
}

absl::StatusOr<std::optional<std::string>> SubjectCryptor::Encrypt(absl::string_view field,
                                                                   absl::string_view subject,
                                                                   NullableValue value,
                                                                   absl::string_view record) const {
  if (!value.has_value()) {
    PIICRYPT_RETURN_IF_ERROR(rep_->Field(field).status());
    return std::nullopt;
  }
  return rep_->Encrypt(field, subject, *value, record);
}

absl::StatusOr<std::optional<std::string>> SubjectCryptor::Decrypt(absl::string_view field,
                                                                   absl::string_view subject,
                                                                   NullableValue stored,
                                                                   absl::string_view record) const {
  if (!stored.has_value()) {
    PIICRYPT_RETURN_IF_ERROR(rep_->Field(field).status());
    return std::nullopt;
  }
  return rep_->Decrypt(field, subject, *stored, record);
}

absl::StatusOr<std::string> SubjectCryptor::EncryptValue(absl::string_view field,
                                                         absl::string_view subject,
                                                         absl::string_view value,
                                                         absl::string_view record) const {
  return rep_->Encrypt(field, subject, value, record);
}

absl::StatusOr<std::string> SubjectCryptor::DecryptValue(absl::string_view field,
                                                         absl::string_view subject,
                                                         absl::string_view stored,
                                                         absl::string_view record) const {
  return rep_->Decrypt(field, subject, stored, record);
}

absl::Status SubjectCryptor::EncryptTo(absl::string_view field, absl::string_view subject,
                                       absl::string_view value, absl::string_view record,
                                       std::string* out) const {
  return rep_->EncryptTo(field, subject, value, record, out);
}

absl::StatusOr<bool> SubjectCryptor::Forget(absl::string_view subject) const {
  if (subject.empty() || subject.size() > internal::kMaxSubjectIdSize) {
    return absl::InvalidArgumentError("subject cryptor: the subject id must be 1 to 1024 bytes");
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::string lookup, rep_->Lookup(subject));
  PIICRYPT_ASSIGN_OR_RETURN(bool deleted, rep_->store->Delete(lookup));
  rep_->cache.Forget(subject);
  return deleted;
}

const std::vector<std::string>& SubjectCryptor::fields() const { return rep_->names; }

}  // namespace piicrypt
