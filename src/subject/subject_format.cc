#include "src/subject/subject_format.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hkdf.h"

namespace piicrypt::internal {

uint32_t ReadBigEndian32(const char* p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

void WriteBigEndian32(uint32_t v, uint8_t* out) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

absl::StatusOr<SubjectCiphertextView> ParseSubjectCiphertext(absl::string_view in) {
  const absl::Status bad = absl::InvalidArgumentError("not a piicrypt subject field value");
  if (in.size() < kSubjectOverhead) return bad;
  SubjectCiphertextView view;
  view.format = static_cast<uint8_t>(in[0]);
  if (view.format != kSubjectFormat && view.format != kSubjectPaddedFormat) return bad;
  if (view.format == kSubjectPaddedFormat && in.size() < kSubjectOverhead + 1) return bad;
  view.wrap_key_id = ReadBigEndian32(in.data() + 1);
  view.subject_key_id = ReadBigEndian32(in.data() + 5);
  if (view.wrap_key_id == 0 || view.subject_key_id == 0) return bad;
  view.header = in.substr(0, kSubjectHeaderSize);
  view.body = in.substr(kSubjectHeaderSize);
  return view;
}

void WriteSubjectHeader(uint8_t format, uint32_t wrap_key_id, uint32_t subject_key_id,
                        uint8_t* out) {
  out[0] = format;
  WriteBigEndian32(wrap_key_id, out + 1);
  WriteBigEndian32(subject_key_id, out + 5);
}

absl::StatusOr<SecretData> DeriveSubjectFieldKey(absl::Span<const uint8_t> subject_key,
                                                 absl::string_view context) {
  if (subject_key.size() != kSubjectKeySize) {
    return absl::InvalidArgumentError("a subject key must be 32 bytes");
  }
  if (context.empty() || context.size() > kMaxContextSize) {
    return absl::InvalidArgumentError("field name must be 1 to 1024 bytes");
  }
  return HkdfSha256(subject_key, "", absl::StrCat("piicrypt/v1/subject-aead/", context), 32);
}

absl::StatusOr<SecretData> DeriveSubjectWrapKey(absl::Span<const uint8_t> root) {
  return HkdfSha256(root, "", "piicrypt/v1/subject-wrap", 32);
}

bool IsLookup(absl::string_view lookup) {
  if (lookup.size() != kLookupHexSize) return false;
  for (char c : lookup) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string LookupBytes(absl::string_view lookup) { return absl::HexStringToBytes(lookup); }

std::string WrapAssociatedData(absl::string_view header, uint32_t subject_key_id,
                               absl::string_view lookup) {
  uint8_t id[4];
  WriteBigEndian32(subject_key_id, id);
  return absl::StrCat("piicrypt/subject-key/v1", header,
                      absl::string_view(reinterpret_cast<const char*>(id), 4), LookupBytes(lookup));
}

absl::StatusOr<std::string> ParseWrappedKey(absl::string_view wrapped) {
  absl::StatusOr<std::string> binary = Base64UrlDecode(wrapped);
  if (!binary.ok() || binary->size() != kWrappedKeySize ||
      static_cast<uint8_t>((*binary)[0]) != kWrappedKeyFormat ||
      ReadBigEndian32(binary->data() + 1) == 0) {
    return absl::DataLossError("subject key store: a wrapped key is malformed");
  }
  return binary;
}

uint32_t WrappedKeyId(absl::string_view binary) { return ReadBigEndian32(binary.data() + 1); }

}  // namespace piicrypt::internal
