#include "src/kat/decrypt_side.h"

#include <memory>
#include <string>
#include <vector>

#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/crypto/hmac.h"
#include "src/fpe/ff1.h"

namespace piicrypt::kat::internal {
namespace {

using piicrypt::internal::AesGcm;
using piicrypt::internal::AesSiv;
using piicrypt::internal::Ff1;
using piicrypt::internal::HmacSha256;

absl::Span<const uint8_t> U8(absl::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
absl::Span<uint8_t> U8(std::string& s) {
  return absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size());
}

absl::StatusOr<std::string> GcmOpen(absl::string_view key, absl::string_view iv,
                                    absl::string_view aad, absl::string_view ct,
                                    absl::string_view tag, size_t tag_size) {
  absl::StatusOr<std::unique_ptr<AesGcm>> gcm = AesGcm::Create(U8(key));
  if (!gcm.ok()) return gcm.status();
  std::string pt(ct.size(), '\0');
  absl::Status s = (*gcm)->Open(iv, aad, ct, tag, tag_size, U8(pt));
  if (!s.ok()) return s;
  return pt;
}

absl::StatusOr<std::string> SivDecrypt(absl::string_view key,
                                       absl::Span<const absl::string_view> associated_data,
                                       absl::string_view siv_and_ct) {
  absl::StatusOr<std::unique_ptr<AesSiv>> siv = AesSiv::Create(U8(key));
  if (!siv.ok()) return siv.status();
  if (siv_and_ct.size() < AesSiv::kSivSize) {
    return absl::InvalidArgumentError("decryption failed");
  }
  std::string pt(siv_and_ct.size() - AesSiv::kSivSize, '\0');
  absl::Status s = (*siv)->Decrypt(associated_data, siv_and_ct, U8(pt));
  if (!s.ok()) return s;
  return pt;
}

bool HmacVerify(absl::string_view key, absl::string_view msg, absl::string_view tag,
                size_t tag_size) {
  absl::StatusOr<std::unique_ptr<HmacSha256>> hmac = HmacSha256::Create(U8(key));
  return hmac.ok() && (*hmac)->Verify(msg, U8(tag), tag_size);
}

absl::StatusOr<std::vector<uint16_t>> Ff1Decrypt(absl::string_view key, uint32_t radix,
                                                 absl::string_view tweak,
                                                 absl::Span<const uint16_t> ct) {
  absl::StatusOr<std::unique_ptr<Ff1>> ff1 = Ff1::Create(U8(key));
  if (!ff1.ok()) return ff1.status();
  return (*ff1)->Decrypt(radix, U8(tweak), ct);
}

}  // namespace

const DecryptSide& PiicryptDecryptSide() {
  static const DecryptSide* const side =
      new DecryptSide{GcmOpen, SivDecrypt, HmacVerify, Ff1Decrypt};
  return *side;
}

}  // namespace piicrypt::kat::internal
