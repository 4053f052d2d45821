#include "src/field/value_normalizer.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/base/slot_registry.h"

namespace piicrypt::internal {
namespace {

// The factories of kEmail, kPhone and kName, by the enum's value.
using NormalizerRegistry = SlotRegistry<Normalizer, NormalizerFactory, 8>;

NormalizerRegistry& Registry() {
  static auto* registry = new NormalizerRegistry;  // never destroyed: used by initializers
  return *registry;
}

}  // namespace

void RegisterNormalizer(Normalizer kind, NormalizerFactory factory) {
  Registry().Set(kind, factory);
}

absl::StatusOr<ValueNormalizer> ValueNormalizer::Create(Normalizer kind, absl::string_view region) {
  if (kind == Normalizer::kDefault || kind == Normalizer::kExact) {
    return ValueNormalizer(kind, NormalizerFunctions{});
  }
  const NormalizerFactory factory = Registry().Get(kind);
  if (factory == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", NormalizerName(kind),
                     " normalizer needs the piicrypt::normalizers component; link it"));
  }
  absl::StatusOr<NormalizerFunctions> functions =
      factory(kind == Normalizer::kPhone ? region : absl::string_view());
  if (!functions.ok()) return functions.status();
  return ValueNormalizer(kind, *std::move(functions));
}

absl::StatusOr<std::string> ValueNormalizer::Normalize(absl::string_view value) const {
  if (!functions_.normalize) return std::string(value);
  return functions_.normalize(value);
}

}  // namespace piicrypt::internal
