// value_normalizer.h: the blind-index normalizer of one field, and the registry that
// makes the normalizers of the piicrypt::normalizers component (ICU, libphonenumber)
// available to the core without the core linking them.
//
// The exact normalizer is the core's own. The e-mail, phone and name normalizers are
// registered by the normalizers component (src/field/normalizers_component.cc) when it
// is linked; a policy that names one of them without the component fails to load:
//
//   policy field "orders.phone": the phone normalizer needs the piicrypt::normalizers
//   component; link it
#ifndef PIICRYPT_SRC_FIELD_VALUE_NORMALIZER_H_
#define PIICRYPT_SRC_FIELD_VALUE_NORMALIZER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/policy.h"

namespace piicrypt::internal {

// A ready normalizer: the normalized form, or kInvalidArgument with a reason that never
// quotes the value.
using NormalizeFunction = std::function<absl::StatusOr<std::string>(absl::string_view)>;

// Makes the normalizer of one kind for a field; `region` is the phone normalizer's
// default region (empty for the other kinds). kInvalidArgument for a bad region.
using NormalizerFactory = absl::StatusOr<NormalizeFunction> (*)(absl::string_view region);

// Registers the factory of `kind` (kEmail, kPhone or kName). Called by the normalizers
// component; registering a kind again replaces its factory. Thread-safe. Exported from
// the shared core library for the component libraries only.
PIICRYPT_EXPORT void RegisterNormalizer(Normalizer kind, NormalizerFactory factory);

// A normalizer of any kind, ready to run.
class ValueNormalizer {
 public:
  // kFailedPrecondition naming the piicrypt::normalizers component when `kind` needs it
  // and it is not linked; the factory's error otherwise.
  static absl::StatusOr<ValueNormalizer> Create(Normalizer kind, absl::string_view region);
  absl::StatusOr<std::string> Normalize(absl::string_view value) const;
  Normalizer kind() const { return kind_; }

 private:
  ValueNormalizer(Normalizer kind, NormalizeFunction normalize)
      : kind_(kind), normalize_(std::move(normalize)) {}
  Normalizer kind_;
  NormalizeFunction normalize_;  // empty for the exact normalizer
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_VALUE_NORMALIZER_H_
