// The piicrypt::normalizers component's entry point: registers the e-mail, phone and
// name normalizers with the core (src/field/value_normalizer.h).
//
// Registration runs from two places, so that it happens however the component is linked:
// - piicrypt_link_normalizers(), called from the static initializer of a small source
//   file that every CMake target linking piicrypt::normalizers compiles (its
//   INTERFACE_SOURCES, cmake/piicrypt_link.cc.in). The call is a real reference: it pulls
//   this object out of the static archive, and keeps the shared library under
//   --as-needed. pkg-config users get `-Wl,-u,piicrypt_link_normalizers` instead.
// - this object's own static initializer, for a program that loads the shared library
//   without calling into it.
#include <string>
#include <utility>

#include "piicrypt/export.h"
#include "src/field/normalizers.h"

namespace piicrypt::internal {
namespace {

absl::StatusOr<NormalizeFunction> MakeEmail(absl::string_view) {
  return NormalizeFunction(&NormalizeEmail);
}

absl::StatusOr<NormalizeFunction> MakeName(absl::string_view) {
  return NormalizeFunction(&NormalizeName);
}

absl::StatusOr<NormalizeFunction> MakePhone(absl::string_view region) {
  absl::StatusOr<PhoneNormalizer> phone = PhoneNormalizer::Create(region);
  if (!phone.ok()) return phone.status();
  return NormalizeFunction(
      [phone = *std::move(phone)](absl::string_view value) { return phone.Normalize(value); });
}

bool RegisterAll() {
  RegisterNormalizer(Normalizer::kEmail, &MakeEmail);
  RegisterNormalizer(Normalizer::kPhone, &MakePhone);
  RegisterNormalizer(Normalizer::kName, &MakeName);
  return true;
}

}  // namespace
}  // namespace piicrypt::internal

extern "C" PIICRYPT_EXPORT void piicrypt_link_normalizers(void) {
  static const bool registered = piicrypt::internal::RegisterAll();
  (void)registered;
}

namespace {
[[maybe_unused]] const bool kNormalizersLinked = (piicrypt_link_normalizers(), true);
}  // namespace
