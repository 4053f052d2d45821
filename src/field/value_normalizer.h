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

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/policy.h"

namespace piicrypt::internal {

// A ready normalizer: the normalized form, or kInvalidArgument with a reason that never
// quotes the value.
using NormalizeFunction = std::function<absl::StatusOr<std::string>(absl::string_view)>;

// Values of at most this many bytes may normalize without allocating (NormalizeShort).
inline constexpr size_t kShortValueSize = 128;

// The same result without a string of its own: a view of the normalized form written into
// `buffer`, or std::nullopt for a value that needs the NormalizeFunction.
using NormalizeShortFunction = absl::StatusOr<std::optional<absl::string_view>> (*)(
    absl::string_view value, char (&buffer)[kShortValueSize]);

// A registered normalizer: `normalize_short` may be null (every value then goes through
// `normalize`).
struct NormalizerFunctions {
  NormalizeFunction normalize;
  NormalizeShortFunction normalize_short = nullptr;
};

// Makes the normalizer of one kind for a field; `region` is the phone normalizer's
// default region (empty for the other kinds). kInvalidArgument for a bad region.
using NormalizerFactory = absl::StatusOr<NormalizerFunctions> (*)(absl::string_view region);

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
  // The same result without a string of its own, for the blind index's hot path: a view of
  // `value` itself (exact), or of the normalized form written into `buffer` (ASCII e-mail
  // addresses and names of at most kShortValueSize bytes). std::nullopt for what needs
  // Normalize (phone numbers, non-ASCII or longer values). Errors as Normalize.
  // (Inline: it is on every blind index's path.)
  absl::StatusOr<std::optional<absl::string_view>> NormalizeShort(
      absl::string_view value, char (&buffer)[kShortValueSize]) const {
    if (!functions_.normalize) return std::optional<absl::string_view>(value);  // exact
    if (functions_.normalize_short == nullptr) return std::optional<absl::string_view>();
    return functions_.normalize_short(value, buffer);
  }
  Normalizer kind() const { return kind_; }

 private:
  ValueNormalizer(Normalizer kind, NormalizerFunctions functions)
      : kind_(kind), functions_(std::move(functions)) {}
  Normalizer kind_;
  NormalizerFunctions functions_;  // empty for the exact normalizer
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_VALUE_NORMALIZER_H_
