#include "piicrypt/keyset.h"

#include <cstring>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/field_format.h"
#include "src/crypto/random.h"
#include "src/keyset/keyset_format.h"
#include "src/secrets/secret_file.h"

namespace piicrypt {

using internal::KeyEntry;
using internal::KeysetData;

absl::string_view KeyStatusName(KeyStatus status) { return internal::KeyStatusProtoName(status); }

struct Keyset::Rep {
  KeysetData data;

  // Derived field ciphers and blind indexers, per (key id, mode or bit length, context).
  using CacheKey = std::tuple<uint32_t, int, std::string>;
  mutable absl::Mutex mu;
  mutable absl::flat_hash_map<CacheKey, std::shared_ptr<const FieldCipher>> ciphers
      ABSL_GUARDED_BY(mu);
  mutable absl::flat_hash_map<CacheKey, std::shared_ptr<const BlindIndexer>> indexers
      ABSL_GUARDED_BY(mu);

  explicit Rep(KeysetData d) : data(std::move(d)) {}

  const KeyEntry* Find(uint32_t id) const {
    for (const KeyEntry& key : data.keys) {
      if (key.id == id) return &key;
    }
    return nullptr;
  }
  KeyEntry* Find(uint32_t id) {
    return const_cast<KeyEntry*>(static_cast<const Rep*>(this)->Find(id));
  }

  // The key, if it may be used to derive field keys.
  absl::StatusOr<const KeyEntry*> Usable(uint32_t id) const {
    const KeyEntry* key = Find(id);
    if (key == nullptr) {
      return absl::NotFoundError(absl::StrCat("key ", id, " is not in the keyset"));
    }
    switch (key->status) {
      case KeyStatus::kEnabled:
        return key;
      case KeyStatus::kDisabled:
        return absl::FailedPreconditionError(absl::StrCat(
            "key ", id, " is disabled; enable it again to use values encrypted under it"));
      case KeyStatus::kDestroyed:
        return absl::NotFoundError(absl::StrCat(
            "key ", id, " was destroyed; values encrypted under it cannot be recovered"));
    }
    return absl::InternalError("unknown key status");
  }

  // Drops cached ciphers of `id` (their derived keys are wiped when the last user lets go).
  void ForgetKey(uint32_t id) {
    absl::MutexLock lock(&mu);
    absl::erase_if(ciphers, [id](const auto& entry) { return std::get<0>(entry.first) == id; });
    absl::erase_if(indexers, [id](const auto& entry) { return std::get<0>(entry.first) == id; });
  }

  absl::StatusOr<KeyEntry> NewKey() const {
    if (data.keys.size() >= kMaxKeys) {
      return absl::ResourceExhaustedError(absl::StrCat("the keyset already holds ", kMaxKeys,
                                                       " keys (destroyed ones count too); "
                                                       "start a new keyset and re-encrypt"));
    }
    KeyEntry key;
    for (int attempt = 0; attempt < 64 && key.id == 0; ++attempt) {
      uint8_t id_bytes[4];
      PIICRYPT_RETURN_IF_ERROR(internal::RandomKey(absl::MakeSpan(id_bytes)));
      uint32_t id = 0;
      std::memcpy(&id, id_bytes, sizeof(id));
      if (id != 0 && Find(id) == nullptr) key.id = id;
    }
    if (key.id == 0) return absl::InternalError("cannot draw a fresh key id");
    key.status = KeyStatus::kEnabled;
    key.created_unix_seconds = absl::ToUnixSeconds(absl::Now());
    key.material.resize(internal::kKeyMaterialSize);
    PIICRYPT_RETURN_IF_ERROR(internal::RandomKey(absl::MakeSpan(key.material)));
    return key;
  }
};

Keyset::Keyset(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Keyset::Keyset(Keyset&&) noexcept = default;
Keyset& Keyset::operator=(Keyset&&) noexcept = default;
Keyset::~Keyset() = default;

absl::StatusOr<Keyset> Keyset::Generate() {
  auto rep = std::make_unique<Rep>(KeysetData{});
  PIICRYPT_ASSIGN_OR_RETURN(KeyEntry key, rep->NewKey());
  rep->data.primary_key_id = key.id;
  rep->data.keys.push_back(std::move(key));
  return Keyset(std::move(rep));
}

absl::StatusOr<std::string> Keyset::ToEncryptedBytes(const Kek& kek) const {
  PIICRYPT_ASSIGN_OR_RETURN(SecretData serialized, internal::SerializeKeyset(rep_->data));
  internal::EncryptedKeysetParts parts;
  parts.kek_kind = kek.kind();
  PIICRYPT_ASSIGN_OR_RETURN(parts.ciphertext,
                            kek.Encrypt(serialized, internal::KeysetAssociatedData(kek.kind())));
  return internal::SerializeEncryptedKeyset(parts);
}

absl::StatusOr<Keyset> Keyset::FromEncryptedBytes(absl::string_view encrypted, const Kek& kek) {
  PIICRYPT_ASSIGN_OR_RETURN(internal::EncryptedKeysetParts parts,
                            internal::ParseEncryptedKeyset(encrypted));
  if (parts.kek_kind != kek.kind()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the keyset is stored under a ", parts.kek_kind == KekKind::kFile ? "file" : "PKCS#11",
        " KEK, not under ", kek.description()));
  }
  auto serialized = kek.Decrypt(parts.ciphertext, internal::KeysetAssociatedData(kek.kind()));
  if (!serialized.ok()) {
    if (serialized.status().code() != absl::StatusCode::kInvalidArgument) {
      return serialized.status();
    }
    return absl::InvalidArgumentError(absl::StrCat("the keyset does not decrypt under ",
                                                   kek.description(),
                                                   " (wrong KEK, or the keyset was altered)"));
  }
  absl::StatusOr<KeysetData> data = internal::ParseKeyset(*serialized);
  internal::BurnStack();  // the KEK's decryption and the parser leave key bytes behind
  if (!data.ok()) return data.status();
  return Keyset(std::make_unique<Rep>(*std::move(data)));
}

absl::StatusOr<Keyset> Keyset::Read(const std::string& path, const Kek& kek) {
  PIICRYPT_ASSIGN_OR_RETURN(
      std::string encrypted,
      internal::ReadSmallFile(path, internal::kMaxKeysetFileSize, "keyset file"));
  auto keyset = FromEncryptedBytes(encrypted, kek);
  if (!keyset.ok()) {
    return absl::Status(keyset.status().code(),
                        absl::StrCat(path, ": ", keyset.status().message()));
  }
  return keyset;
}

absl::Status Keyset::WriteNew(const std::string& path, const Kek& kek) const {
  PIICRYPT_ASSIGN_OR_RETURN(std::string encrypted, ToEncryptedBytes(kek));
  PIICRYPT_ASSIGN_OR_RETURN(internal::FileLock lock, internal::FileLock::Acquire(path));
  return internal::WriteFileAtomically(path, encrypted, internal::WriteMode::kCreateNew,
                                       "keyset file");
}

namespace {

absl::StatusOr<Keyset> LockedRewrite(const std::string& path, const Kek& read_kek,
                                     const Kek& write_kek,
                                     absl::FunctionRef<absl::Status(Keyset&)> change) {
  PIICRYPT_ASSIGN_OR_RETURN(internal::FileLock lock, internal::FileLock::Acquire(path));
  PIICRYPT_ASSIGN_OR_RETURN(Keyset keyset, Keyset::Read(path, read_kek));
  PIICRYPT_RETURN_IF_ERROR(change(keyset));
  PIICRYPT_ASSIGN_OR_RETURN(std::string encrypted, keyset.ToEncryptedBytes(write_kek));
  PIICRYPT_RETURN_IF_ERROR(
      internal::WriteFileAtomically(path, encrypted, internal::WriteMode::kReplace, "keyset file"));
  return keyset;
}

}  // namespace

absl::StatusOr<Keyset> Keyset::Update(const std::string& path, const Kek& kek,
                                      absl::FunctionRef<absl::Status(Keyset&)> change) {
  return LockedRewrite(path, kek, kek, change);
}

absl::Status Keyset::Rewrap(const std::string& path, const Kek& old_kek, const Kek& new_kek) {
  return LockedRewrite(path, old_kek, new_kek, [](Keyset&) { return absl::OkStatus(); }).status();
}

uint32_t Keyset::primary_key_id() const { return rep_->data.primary_key_id; }

std::vector<KeyInfo> Keyset::ListKeys() const {
  std::vector<KeyInfo> out;
  out.reserve(rep_->data.keys.size());
  for (const KeyEntry& key : rep_->data.keys) {
    out.push_back(
        KeyInfo{key.id, key.status, key.created_unix_seconds, key.id == rep_->data.primary_key_id});
  }
  return out;
}

absl::StatusOr<KeyInfo> Keyset::GetKey(uint32_t key_id) const {
  const KeyEntry* key = rep_->Find(key_id);
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " is not in the keyset"));
  }
  return KeyInfo{key->id, key->status, key->created_unix_seconds,
                 key->id == rep_->data.primary_key_id};
}

absl::StatusOr<uint32_t> Keyset::Add() {
  PIICRYPT_ASSIGN_OR_RETURN(KeyEntry key, rep_->NewKey());
  const uint32_t id = key.id;
  rep_->data.keys.push_back(std::move(key));
  return id;
}

absl::StatusOr<uint32_t> Keyset::Rotate() {
  PIICRYPT_ASSIGN_OR_RETURN(uint32_t id, Add());
  rep_->data.primary_key_id = id;
  return id;
}

absl::Status Keyset::Promote(uint32_t key_id) {
  KeyEntry* key = rep_->Find(key_id);
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " is not in the keyset"));
  }
  if (key->status != KeyStatus::kEnabled) {
    return absl::FailedPreconditionError(absl::StrCat("key ", key_id, " is ",
                                                      KeyStatusName(key->status),
                                                      "; only an enabled key can be primary"));
  }
  rep_->data.primary_key_id = key_id;
  return absl::OkStatus();
}

absl::Status Keyset::Enable(uint32_t key_id) {
  KeyEntry* key = rep_->Find(key_id);
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " is not in the keyset"));
  }
  if (key->status == KeyStatus::kDestroyed) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", key_id, " was destroyed and cannot be enabled again"));
  }
  key->status = KeyStatus::kEnabled;
  return absl::OkStatus();
}

absl::Status Keyset::Disable(uint32_t key_id) {
  KeyEntry* key = rep_->Find(key_id);
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " is not in the keyset"));
  }
  if (key_id == rep_->data.primary_key_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key ", key_id, " is the primary key and cannot be disabled; promote another key first"));
  }
  if (key->status == KeyStatus::kDestroyed) {
    return absl::FailedPreconditionError(absl::StrCat("key ", key_id, " was destroyed"));
  }
  key->status = KeyStatus::kDisabled;
  rep_->ForgetKey(key_id);
  return absl::OkStatus();
}

absl::Status Keyset::Destroy(uint32_t key_id) {
  KeyEntry* key = rep_->Find(key_id);
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " is not in the keyset"));
  }
  if (key_id == rep_->data.primary_key_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key ", key_id, " is the primary key and cannot be destroyed; promote another key first"));
  }
  switch (key->status) {
    case KeyStatus::kDestroyed:
      return absl::OkStatus();  // already gone: destroying twice is harmless
    case KeyStatus::kEnabled:
      return absl::FailedPreconditionError(
          absl::StrCat("key ", key_id,
                       " is enabled; disable it first (and check nothing fails) before "
                       "destroying it"));
    case KeyStatus::kDisabled:
      break;
  }
  key->status = KeyStatus::kDestroyed;
  SecretData().swap(key->material);  // the old buffer is wiped as it is freed
  rep_->ForgetKey(key_id);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const FieldCipher>> Keyset::FieldCipherFor(absl::string_view context,
                                                                          FieldMode mode) const {
  return FieldCipherForKey(rep_->data.primary_key_id, context, mode);
}

absl::StatusOr<std::shared_ptr<const FieldCipher>> Keyset::FieldCipherForKey(
    uint32_t key_id, absl::string_view context, FieldMode mode) const {
  PIICRYPT_ASSIGN_OR_RETURN(const KeyEntry* key, rep_->Usable(key_id));
  Rep::CacheKey cache_key(key_id, static_cast<int>(mode), std::string(context));
  absl::MutexLock lock(&rep_->mu);
  auto it = rep_->ciphers.find(cache_key);
  if (it != rep_->ciphers.end()) return it->second;
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<FieldCipher> cipher,
                            FieldCipher::Create(key_id, key->material, context, mode));
  std::shared_ptr<const FieldCipher> shared = std::move(cipher);
  rep_->ciphers.emplace(std::move(cache_key), shared);
  return shared;
}

absl::StatusOr<std::string> Keyset::Decrypt(absl::string_view context, absl::string_view ciphertext,
                                            absl::string_view record) const {
  auto parsed = internal::ParseCiphertext(ciphertext);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": decryption failed"));
  }
  const FieldMode mode = internal::IsRandomizedFormat(parsed->format) ? FieldMode::kRandomized
                                                                      : FieldMode::kDeterministic;
  PIICRYPT_ASSIGN_OR_RETURN(auto cipher, FieldCipherForKey(parsed->key_id, context, mode));
  return cipher->Decrypt(ciphertext, record);
}

absl::StatusOr<std::string> Keyset::DecryptText(absl::string_view context, absl::string_view text,
                                                absl::string_view record) const {
  auto binary = internal::Base64UrlDecode(text);
  if (!binary.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": decryption failed"));
  }
  return Decrypt(context, *binary, record);
}

absl::StatusOr<std::vector<std::pair<uint32_t, std::shared_ptr<const BlindIndexer>>>>
Keyset::BlindIndexersFor(absl::string_view context, int bits) const {
  std::vector<const KeyEntry*> keys;
  for (const KeyEntry& key : rep_->data.keys) {
    if (key.id == rep_->data.primary_key_id)
      keys.insert(keys.begin(), &key);
    else if (key.status == KeyStatus::kEnabled)
      keys.push_back(&key);
  }
  std::vector<std::pair<uint32_t, std::shared_ptr<const BlindIndexer>>> out;
  absl::MutexLock lock(&rep_->mu);
  for (const KeyEntry* key : keys) {
    Rep::CacheKey cache_key(key->id, bits, std::string(context));
    auto it = rep_->indexers.find(cache_key);
    if (it == rep_->indexers.end()) {
      PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<BlindIndexer> indexer,
                                BlindIndexer::Create(key->material, context, bits));
      it = rep_->indexers.emplace(std::move(cache_key), std::move(indexer)).first;
    }
    out.emplace_back(key->id, it->second);
  }
  return out;
}

absl::StatusOr<SecretData> Keyset::KeyMaterial(uint32_t key_id, InsecureSecretKeyAccess) const {
  const KeyEntry* key = rep_->Find(key_id);
  if (key == nullptr) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " is not in the keyset"));
  }
  if (key->status == KeyStatus::kDestroyed) {
    return absl::NotFoundError(absl::StrCat("key ", key_id, " was destroyed"));
  }
  return key->material;
}

}  // namespace piicrypt
