#include "src/field/compound_index.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac_sha256_fast.h"
#include "src/fpe/utf8.h"

namespace piicrypt::internal {
namespace {

void AppendU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
// lp(x) = u32(len(x)) || x
void AppendLengthPrefixed(absl::string_view x, std::string* out) {
  AppendU32(static_cast<uint32_t>(x.size()), out);
  out->append(x.data(), x.size());
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

std::string Digits(absl::string_view value) {
  std::string digits;
  digits.reserve(value.size());  // one buffer: no partial copy left behind by a reallocation
  for (char c : value) {
    if (IsAsciiDigit(c)) digits.push_back(c);
  }
  return digits;
}

// The first `n` code points of `utf8` (normalized text is valid UTF-8).
absl::StatusOr<std::string> FirstChars(absl::string_view utf8, int n) {
  size_t end = 0;
  for (int count = 0; end < utf8.size() && count < n; ++count) {
    const auto lead = static_cast<unsigned char>(utf8[end]);
    const size_t size = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (end + size > utf8.size()) return absl::InvalidArgumentError("value is not valid UTF-8");
    end += size;
  }
  return std::string(utf8.substr(0, end));
}

}  // namespace

std::string CompoundIndexDefinition(const CompoundIndexRule& index) {
  std::string out;
  AppendLengthPrefixed(index.name, &out);
  out.push_back(static_cast<char>(index.bits >> 8));
  out.push_back(static_cast<char>(index.bits & 0xff));
  out.push_back(static_cast<char>(index.parts.size()));
  for (const IndexPart& part : index.parts) {
    AppendLengthPrefixed(part.field, &out);
    out.push_back(static_cast<char>(part.transform));
    out.push_back(static_cast<char>(part.n));
    AppendLengthPrefixed(NormalizerName(part.normalizer), &out);
    AppendLengthPrefixed(part.default_region, &out);
  }
  return out;
}

absl::StatusOr<PartTransform> PartTransform::Create(const IndexPart& part) {
  PIICRYPT_ASSIGN_OR_RETURN(ValueNormalizer normalizer,
                            ValueNormalizer::Create(part.normalizer, part.default_region));
  return PartTransform(part, std::move(normalizer));
}

absl::StatusOr<std::string> PartTransform::Apply(absl::string_view value) const {
  switch (part_.transform) {
    case IndexTransform::kLastDigits: {
      std::string digits = Digits(value);
      absl::Cleanup wipe = [&] { SecureWipe(digits.data(), digits.size()); };
      if (digits.size() < static_cast<size_t>(part_.n)) {
        return absl::InvalidArgumentError(
            absl::StrCat("value has fewer than ", part_.n, " digits"));
      }
      return digits.substr(digits.size() - part_.n);
    }
    case IndexTransform::kDigitsOnly: {
      std::string digits = Digits(value);
      if (digits.empty()) return absl::InvalidArgumentError("value has no digits");
      return digits;
    }
    case IndexTransform::kNormalized:
    case IndexTransform::kFirstChars:
    case IndexTransform::kEmailDomain:
      break;
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::string normalized, normalizer_.Normalize(value));
  absl::Cleanup wipe = [&] { SecureWipe(normalized.data(), normalized.size()); };
  if (part_.transform == IndexTransform::kFirstChars) return FirstChars(normalized, part_.n);
  if (part_.transform == IndexTransform::kEmailDomain) {
    const size_t at = normalized.rfind('@');
    if (at == std::string::npos) return absl::InvalidArgumentError("not an e-mail address");
    return normalized.substr(at + 1);
  }
  return std::string(normalized);
}

// The HMAC key of the index under one data key. The precomputed states are as good as
// the key: kept where SecretData is, wiped when freed (as the field blind indexer).
struct CompoundIndexer::KeyedMac {
  explicit KeyedMac(const SecretData& key) : hmac(key) {}
  static void* operator new(size_t size) { return AllocateSecret(size); }
  static void operator delete(void* p, size_t size) { FreeSecret(p, size); }
  HmacSha256Fast hmac;
};

CompoundIndexer::CompoundIndexer(CompoundIndexRule rule, std::vector<PartTransform> transforms)
    : rule_(std::move(rule)), transforms_(std::move(transforms)) {}
CompoundIndexer::~CompoundIndexer() = default;

absl::StatusOr<std::unique_ptr<CompoundIndexer>> CompoundIndexer::Create(
    const Keyset& keyset, const CompoundIndexRule& index) {
  std::vector<PartTransform> transforms;
  for (const IndexPart& part : index.parts) {
    auto transform = PartTransform::Create(part);
    if (!transform.ok()) {
      return absl::Status(transform.status().code(),
                          absl::StrCat(index.name, ": ", transform.status().message()));
    }
    transforms.push_back(*std::move(transform));
  }
  std::unique_ptr<CompoundIndexer> indexer(new CompoundIndexer(index, std::move(transforms)));
  const std::string definition = CompoundIndexDefinition(index);
  std::vector<uint32_t> keys = {keyset.primary_key_id()};
  for (const KeyInfo& key : keyset.ListKeys()) {
    if (key.status == KeyStatus::kEnabled && key.id != keys.front()) keys.push_back(key.id);
  }
  absl::Status status;
  for (uint32_t id : keys) {
    auto material = keyset.KeyMaterial(id, InsecureSecretKeyAccess::Get());
    if (!material.ok()) {
      status = material.status();
      break;
    }
    auto key = DeriveFieldKey(*material, FieldPurpose::kCompoundIndex, definition);
    if (!key.ok()) {
      status = key.status();
      break;
    }
    indexer->macs_.push_back(std::make_unique<KeyedMac>(*key));
  }
  BurnStack();  // HKDF and the HMAC key set-up leave key bytes in dead frames
  if (!status.ok())
    return absl::Status(status.code(), absl::StrCat(index.name, ": ", status.message()));
  return indexer;
}

absl::StatusOr<std::string> CompoundIndexer::Transform(size_t i, absl::string_view value) const {
  auto out = transforms_[i].Apply(value);
  if (!out.ok()) {
    return absl::Status(out.status().code(), absl::StrCat(rule_.name, ": ", rule_.parts[i].field,
                                                          ": ", out.status().message()));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> CompoundIndexer::Compute(
    absl::Span<const absl::string_view> values, bool all_keys) const {
  if (values.size() != rule_.parts.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        rule_.name, ": ", values.size(), " values for an index of ", rule_.parts.size(), " parts"));
  }
  std::vector<std::string> parts;
  std::string message;
  absl::Cleanup wipe = [&] {
    for (std::string& part : parts) SecureWipe(part.data(), part.size());
    SecureWipe(message.data(), message.size());
  };
  parts.reserve(values.size());
  size_t size = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    PIICRYPT_ASSIGN_OR_RETURN(std::string part, Transform(i, values[i]));
    size += 4 + part.size();
    parts.push_back(std::move(part));
  }
  message.reserve(size);  // one buffer, wiped below
  for (const std::string& part : parts) AppendLengthPrefixed(part, &message);
  std::vector<std::string> out;
  for (const auto& mac : macs_) {
    HmacSha256Fast::Tag tag = mac->hmac.Compute(message);
    out.push_back(TruncatedHex(tag, rule_.bits));
    SecureWipe(tag.data(), tag.size());
    if (!all_keys) break;
  }
  return out;
}

}  // namespace piicrypt::internal
