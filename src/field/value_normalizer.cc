#include "src/field/value_normalizer.h"

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace piicrypt::internal {
namespace {

// The factories of kEmail, kPhone and kName, by the enum's value.
struct NormalizerRegistry {
  absl::Mutex mu;
  std::array<NormalizerFactory, 8> factories ABSL_GUARDED_BY(mu) = {};
};

NormalizerRegistry& Registry() {
  static auto* registry = new NormalizerRegistry;  // never destroyed: used by initializers
  return *registry;
}

size_t Slot(Normalizer kind) { return static_cast<size_t>(kind); }

}  // namespace

void RegisterNormalizer(Normalizer kind, NormalizerFactory factory) {
  NormalizerRegistry& registry = Registry();
  absl::MutexLock lock(&registry.mu);
  registry.factories.at(Slot(kind)) = factory;
}

absl::StatusOr<ValueNormalizer> ValueNormalizer::Create(Normalizer kind, absl::string_view region) {
  if (kind == Normalizer::kDefault || kind == Normalizer::kExact) {
    return ValueNormalizer(kind, NormalizerFunctions{});
  }
  NormalizerFactory factory = nullptr;
  {
    NormalizerRegistry& registry = Registry();
    absl::MutexLock lock(&registry.mu);
    factory = registry.factories.at(Slot(kind));
  }
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
