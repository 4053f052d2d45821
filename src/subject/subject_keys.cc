#include "src/subject/subject_keys.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/field_format.h"
#include "src/crypto/random.h"
#include "src/subject/subject_format.h"

namespace piicrypt::internal {

absl::StatusOr<std::unique_ptr<SubjectKeyring>> SubjectKeyring::Create(const Keyset& keyset) {
  std::unique_ptr<SubjectKeyring> ring(new SubjectKeyring());
  ring->primary_ = keyset.primary_key_id();
  for (const KeyInfo& info : keyset.ListKeys()) {
    ring->status_[info.id] = info.status;
    if (info.status != KeyStatus::kEnabled) continue;
    PIICRYPT_ASSIGN_OR_RETURN(SecretData root,
                              keyset.KeyMaterial(info.id, InsecureSecretKeyAccess::Get()));
    PIICRYPT_ASSIGN_OR_RETURN(SecretData wrap_key, DeriveSubjectWrapKey(root));
    PIICRYPT_ASSIGN_OR_RETURN(ring->wrap_[info.id], AesGcm::Create(wrap_key));
  }
  BurnStack();
  if (ring->wrap_.find(ring->primary_) == ring->wrap_.end()) {
    return absl::FailedPreconditionError("subject keys: the keyset has no usable primary key");
  }
  return ring;
}

absl::Status SubjectKeyring::KeyError(uint32_t key_id, absl::string_view what) const {
  auto it = status_.find(key_id);
  if (it == status_.end()) {
    return absl::NotFoundError(
        absl::StrCat(what, " is under key ", key_id, ", which is not in the keyset"));
  }
  if (it->second == KeyStatus::kDisabled) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " is under key ", key_id, ", which is disabled"));
  }
  return absl::NotFoundError(absl::StrCat(what, " is under key ", key_id, ", which was destroyed"));
}

absl::StatusOr<std::string> SubjectKeyring::Wrap(absl::Span<const uint8_t> key,
                                                 absl::string_view lookup,
                                                 uint32_t subject_key_id) const {
  uint8_t out[kWrappedKeySize];
  out[0] = kWrappedKeyFormat;
  WriteBigEndian32(primary_, out + 1);
  const absl::string_view header(reinterpret_cast<const char*>(out), 5);
  const std::string aad = WrapAssociatedData(header, subject_key_id, lookup);
  PIICRYPT_RETURN_IF_ERROR(wrap_.at(primary_)->EncryptRandomNonce(
      absl::string_view(reinterpret_cast<const char*>(key.data()), key.size()), aad,
      absl::MakeSpan(out + 5, kWrappedKeySize - 5)));
  return Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(out), kWrappedKeySize));
}

absl::StatusOr<SubjectKeyRow> SubjectKeyring::NewRow(absl::string_view lookup,
                                                     SecretData& key) const {
  key.assign(kSubjectKeySize, 0);
  PIICRYPT_RETURN_IF_ERROR(RandomKey(absl::MakeSpan(key)));
  SubjectKeyRow row;
  row.lookup = std::string(lookup);
  while (row.key_id == 0) {
    uint8_t id[4];
    PIICRYPT_RETURN_IF_ERROR(RandomNonce(absl::MakeSpan(id)));
    row.key_id = ReadBigEndian32(reinterpret_cast<const char*>(id));
  }
  PIICRYPT_ASSIGN_OR_RETURN(row.wrapped, Wrap(key, lookup, row.key_id));
  return row;
}

absl::StatusOr<uint32_t> SubjectKeyring::WrapKeyIdOf(const SubjectKeyRow& row) const {
  PIICRYPT_ASSIGN_OR_RETURN(std::string binary, ParseWrappedKey(row.wrapped));
  return WrappedKeyId(binary);
}

absl::StatusOr<SecretData> SubjectKeyring::Unwrap(const SubjectKeyRow& row) const {
  if (!IsLookup(row.lookup) || row.key_id == 0) {
    return absl::DataLossError("subject key store: a row is malformed");
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::string binary, ParseWrappedKey(row.wrapped));
  const uint32_t wrap_id = WrappedKeyId(binary);
  auto it = wrap_.find(wrap_id);
  if (it == wrap_.end()) return KeyError(wrap_id, "a subject key");
  const std::string aad =
      WrapAssociatedData(absl::string_view(binary).substr(0, 5), row.key_id, row.lookup);
  SecretData key(kSubjectKeySize);
  absl::Status s =
      it->second->DecryptWithNonce(absl::string_view(binary).substr(5), aad, absl::MakeSpan(key));
  if (!s.ok()) {
    return absl::DataLossError(
        "subject key store: a subject key does not authenticate (the row was altered or moved)");
  }
  return key;
}

absl::StatusOr<std::unique_ptr<HmacSha256>> OpenLookupKey(const SubjectKeyring& ring,
                                                          const SubjectKeyStore& store) {
  PIICRYPT_ASSIGN_OR_RETURN(std::optional<SubjectKeyRow> row, store.Find(kLookupKeyRow));
  if (!row.has_value()) {
    SecretData fresh;
    PIICRYPT_ASSIGN_OR_RETURN(SubjectKeyRow new_row, ring.NewRow(kLookupKeyRow, fresh));
    PIICRYPT_ASSIGN_OR_RETURN(row, store.InsertOrGet(new_row));
  }
  PIICRYPT_ASSIGN_OR_RETURN(SecretData key, ring.Unwrap(*row));
  return HmacSha256::Create(key);
}

}  // namespace piicrypt::internal
