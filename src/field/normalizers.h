// normalizers.h: the blind-index normalizers of docs/SPEC.md (e-mail, phone, name), the
// piicrypt::normalizers component (ICU, libphonenumber). The core reaches them through the
// registry of value_normalizer.h, which normalizers_component.cc fills.
//
// Every normalizer either returns the normalized form or kInvalidArgument with a reason
// that never quotes the value; the caller prefixes the field name.
#ifndef PIICRYPT_SRC_FIELD_NORMALIZERS_H_
#define PIICRYPT_SRC_FIELD_NORMALIZERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/policy.h"
#include "src/field/value_normalizer.h"

namespace piicrypt::internal {

// Trims Unicode white space and lower-cases (Unicode, root locale). Requires one '@' with
// text on both sides.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view value);

// Unicode NFKC case folding (ICU NFKC_Casefold), every run of white space collapsed to one
// U+0020, leading and trailing white space removed. Requires some non-space text.
absl::StatusOr<std::string> NormalizeName(absl::string_view value);

// E.164 through libphonenumber: "+61 (02) 5550-0199" with default region "AU" gives
// "+61255500199". Invalid numbers (wrong length for the region, unknown country code,
// letters) are errors.
class PhoneNormalizer {
 public:
  // `default_region`: ISO 3166 alpha-2 region assumed for numbers without a leading '+',
  // or empty (such numbers are then errors). kInvalidArgument for a region libphonenumber
  // does not know.
  static absl::StatusOr<PhoneNormalizer> Create(absl::string_view default_region);
  absl::StatusOr<std::string> Normalize(absl::string_view value) const;

 private:
  explicit PhoneNormalizer(std::string region) : region_(std::move(region)) {}
  std::string region_;  // "ZZ" (unknown) when no default region is given
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_NORMALIZERS_H_
