#include "src/keyset/keyset_format.h"

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "piicrypt/keyset.pb.h"

namespace piicrypt::internal {
namespace {

// Each key status and its value in keyset.proto.
constexpr std::pair<KeyStatus, storage::KeyStatus> kStatuses[] = {
    {KeyStatus::kEnabled, storage::KEY_STATUS_ENABLED},
    {KeyStatus::kDisabled, storage::KEY_STATUS_DISABLED},
    {KeyStatus::kDestroyed, storage::KEY_STATUS_DESTROYED},
};

storage::KeyStatus ToProto(KeyStatus status) {
  for (const auto& [pub, proto] : kStatuses) {
    if (pub == status) return proto;
  }
  return storage::KEY_STATUS_UNSPECIFIED;
}

absl::StatusOr<KeyStatus> FromProto(int status) {
  for (const auto& [pub, proto] : kStatuses) {
    if (proto == status) return pub;
  }
  return absl::DataLossError("keyset is corrupt: a key has an unknown status");
}

// Wipes every key's material held by the message (protobuf strings are not wiped on free).
void WipeMaterial(storage::Keyset& message) {
  for (storage::Key& key : *message.mutable_keys()) {
    std::string* material = key.mutable_material();
    SecureWipe(material->data(), material->size());
    material->clear();
  }
}

bool HasUnknownFields(const google::protobuf::Message& message) {
  return !message.GetReflection()->GetUnknownFields(message).empty();
}

}  // namespace

absl::string_view KeyStatusProtoName(KeyStatus status) {
  return absl::StripPrefix(storage::KeyStatus_Name(ToProto(status)), "KEY_STATUS_");
}

std::string KeysetAssociatedData(KekKind kind) {
  return absl::StrCat("piicrypt/keyset/v", kKeysetFormatVersion, "/",
                      kind == KekKind::kFile ? "file" : "pkcs11");
}

absl::Status ValidateKeyset(const KeysetData& keyset) {
  if (keyset.keys.empty()) return absl::DataLossError("keyset is corrupt: it has no keys");
  if (keyset.keys.size() > Keyset::kMaxKeys) {
    return absl::DataLossError("keyset is corrupt: too many keys");
  }
  absl::flat_hash_set<uint32_t> ids;
  bool primary_ok = false;
  for (const KeyEntry& key : keyset.keys) {
    if (key.id == 0) return absl::DataLossError("keyset is corrupt: a key has id 0");
    if (!ids.insert(key.id).second) {
      return absl::DataLossError(absl::StrCat("keyset is corrupt: key id ", key.id, " repeats"));
    }
    if (key.created_unix_seconds < 0) {
      return absl::DataLossError(
          absl::StrCat("keyset is corrupt: key ", key.id, " has a bad creation time"));
    }
    const size_t expected = key.status == KeyStatus::kDestroyed ? 0 : kKeyMaterialSize;
    if (key.material.size() != expected) {
      return absl::DataLossError(
          absl::StrCat("keyset is corrupt: key ", key.id, " has material of the wrong size"));
    }
    if (key.id == keyset.primary_key_id) {
      if (key.status != KeyStatus::kEnabled) {
        return absl::DataLossError("keyset is corrupt: the primary key is not enabled");
      }
      primary_ok = true;
    }
  }
  if (!primary_ok) return absl::DataLossError("keyset is corrupt: it has no primary key");
  return absl::OkStatus();
}

absl::StatusOr<SecretData> SerializeKeyset(const KeysetData& keyset) {
  if (absl::Status s = ValidateKeyset(keyset); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to store an invalid keyset (", s.message(), ")"));
  }
  storage::Keyset message;
  absl::Cleanup wipe = [&message] { WipeMaterial(message); };
  message.set_primary_key_id(keyset.primary_key_id);
  for (const KeyEntry& key : keyset.keys) {
    storage::Key* out = message.add_keys();
    out->set_id(key.id);
    out->set_status(ToProto(key.status));
    out->set_created_unix_seconds(key.created_unix_seconds);
    out->mutable_material()->assign(key.material.begin(), key.material.end());
  }
  const size_t size = message.ByteSizeLong();
  SecretData serialized(size);
  if (size > 0 && !message.SerializeToArray(serialized.data(), static_cast<int>(size))) {
    return absl::InternalError("cannot serialize the keyset");
  }
  return serialized;
}

absl::StatusOr<KeysetData> ParseKeyset(absl::Span<const uint8_t> serialized) {
  if (serialized.size() > kMaxKeysetFileSize) {
    return absl::DataLossError("keyset is corrupt: it is too large");
  }
  storage::Keyset message;
  absl::Cleanup wipe = [&message] { WipeMaterial(message); };
  if (!message.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::DataLossError("keyset is corrupt: it does not parse");
  }
  if (HasUnknownFields(message)) {
    return absl::DataLossError("keyset is corrupt or from a newer version: unknown fields");
  }
  KeysetData keyset;
  keyset.primary_key_id = message.primary_key_id();
  keyset.keys.reserve(static_cast<size_t>(message.keys_size()));
  for (const storage::Key& key : message.keys()) {
    if (HasUnknownFields(key)) {
      return absl::DataLossError("keyset is corrupt or from a newer version: unknown fields");
    }
    KeyEntry entry;
    entry.id = key.id();
    auto status = FromProto(key.status());
    if (!status.ok()) return status.status();
    entry.status = *status;
    entry.created_unix_seconds = key.created_unix_seconds();
    entry.material = SecretDataFromString(key.material());
    keyset.keys.push_back(std::move(entry));
  }
  if (absl::Status s = ValidateKeyset(keyset); !s.ok()) return s;
  return keyset;
}

std::string SerializeEncryptedKeyset(const EncryptedKeysetParts& parts) {
  storage::EncryptedKeyset message;
  message.set_format_version(kKeysetFormatVersion);
  message.set_kek_kind(parts.kek_kind == KekKind::kFile ? storage::KEK_KIND_FILE
                                                        : storage::KEK_KIND_PKCS11);
  message.set_iv(parts.ciphertext.iv);
  message.set_ciphertext(parts.ciphertext.ciphertext);
  std::string out;
  message.SerializeToString(&out);
  return out;
}

absl::StatusOr<EncryptedKeysetParts> ParseEncryptedKeyset(absl::string_view serialized) {
  if (serialized.empty()) return absl::DataLossError("keyset file is empty");
  if (serialized.size() > kMaxKeysetFileSize) {
    return absl::DataLossError("keyset file is too large to be a keyset");
  }
  storage::EncryptedKeyset message;
  if (!message.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::DataLossError("keyset file is corrupt or truncated: it does not parse");
  }
  if (HasUnknownFields(message)) {
    return absl::DataLossError("keyset file is corrupt: it has unknown fields");
  }
  if (message.format_version() != kKeysetFormatVersion) {
    return absl::DataLossError(absl::StrCat("keyset file has unsupported format version ",
                                            message.format_version(), " (this build reads ",
                                            kKeysetFormatVersion, ")"));
  }
  EncryptedKeysetParts parts;
  switch (message.kek_kind()) {
    case storage::KEK_KIND_FILE:
      parts.kek_kind = KekKind::kFile;
      break;
    case storage::KEK_KIND_PKCS11:
      parts.kek_kind = KekKind::kPkcs11;
      break;
    default:
      return absl::DataLossError("keyset file is corrupt: unknown KEK kind");
  }
  if (message.iv().size() != kKeysetIvSize) {
    return absl::DataLossError("keyset file is corrupt: bad IV length");
  }
  if (message.ciphertext().size() < kKeysetTagSize) {
    return absl::DataLossError("keyset file is corrupt or truncated: ciphertext too short");
  }
  parts.ciphertext.iv = message.iv();
  parts.ciphertext.ciphertext = message.ciphertext();
  // Only the canonical encoding is accepted, so that no byte of the file is unchecked.
  if (SerializeEncryptedKeyset(parts) != serialized) {
    return absl::DataLossError("keyset file is corrupt: non-canonical encoding");
  }
  return parts;
}

}  // namespace piicrypt::internal
