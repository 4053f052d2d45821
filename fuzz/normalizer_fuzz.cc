// Fuzzes the blind-index normalizers (src/field/normalizers.h). The first input byte picks
// the normalizer: 'e' e-mail, 'n' name, anything else phone with a default region picked
// by that byte (none, AU, GB, US, DE, JP, IN, BR); the rest is the value. Properties:
// - errors are kInvalidArgument and never quote the value;
// - a normalized value is valid UTF-8 and a fixed point (normalizing it again gives it);
// - e-mail: one '@' between two parts, no white space at either end; name: no white space
//   but single U+0020 between words; phone: '+' and 2 to 20 digits (libphonenumber's E.164 form: a
//   country code of 1 to 3 digits, a national number of up to 17, more than E.164's 15 for some),
//   and the same E.164 number without a default region;
// - ICU and the ASCII fast path agree: the ASCII value with its last byte 'e' replaced by
//   U+00E9 (é) normalizes to the ASCII result with that 'e' replaced the same way
//   (e-mail), and the ASCII value in full-width forms (U+FF01..U+FF5E, which NFKC maps to
//   ASCII) normalizes to the ASCII result (name).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_util.h"
#include "src/field/normalizers.h"
#include "src/fpe/utf8.h"

namespace {

using piicrypt::internal::NormalizeEmail;
using piicrypt::internal::NormalizeName;
using piicrypt::internal::PhoneNormalizer;

constexpr const char* kRegions[] = {"", "AU", "GB", "US", "DE", "JP", "IN", "BR"};
constexpr size_t kRegionCount = sizeof(kRegions) / sizeof(kRegions[0]);
constexpr char kEAcute[] = "\xC3\xA9";

const PhoneNormalizer& Phone(size_t index) {
  static const PhoneNormalizer* const* const kPhones = [] {
    auto** phones = new const PhoneNormalizer*[kRegionCount];
    for (size_t i = 0; i < kRegionCount; ++i) {
      phones[i] = new PhoneNormalizer(PhoneNormalizer::Create(kRegions[i]).value());
    }
    return phones;
  }();
  return *kPhones[index % kRegionCount];
}

bool IsAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Common to every normalizer: errors are clean, results are UTF-8 fixed points.
template <typename Normalize>
void CheckCommon(absl::string_view value, const absl::StatusOr<std::string>& out,
                 Normalize normalize) {
  if (!out.ok()) {
    if (!absl::IsInvalidArgument(out.status())) __builtin_trap();
    piicrypt::fuzz::TrapIfQuoted(out.status().message(), value);
    return;
  }
  if (!piicrypt::internal::DecodeUtf8(*out).ok()) __builtin_trap();
  auto again = normalize(*out);
  if (!again.ok() || *again != *out) __builtin_trap();
}

void CheckEmail(absl::string_view value) {
  auto out = NormalizeEmail(value);
  CheckCommon(value, out, NormalizeEmail);
  if (out.ok()) {
    const size_t at = out->find('@');
    if (at == 0 || at == std::string::npos || at != out->rfind('@') || at + 1 == out->size()) {
      __builtin_trap();
    }
    if (IsAsciiSpace(out->front()) || IsAsciiSpace(out->back())) __builtin_trap();
  }
  if (!IsAscii(value) || value.empty() || value.back() != 'e') return;
  std::string unicode(value.substr(0, value.size() - 1));
  unicode.append(kEAcute);
  auto via_icu = NormalizeEmail(unicode);
  if (via_icu.ok() != out.ok()) __builtin_trap();
  if (out.ok() &&
      (out->back() != 'e' || *via_icu != out->substr(0, out->size() - 1) + std::string(kEAcute))) {
    __builtin_trap();
  }
}

void CheckName(absl::string_view value) {
  auto out = NormalizeName(value);
  CheckCommon(value, out, NormalizeName);
  if (out.ok()) {
    if (out->empty() || out->front() == ' ' || out->back() == ' ') __builtin_trap();
    if (absl::StrContains(*out, "  ")) __builtin_trap();
    for (char c : *out) {
      if (c != ' ' && IsAsciiSpace(c)) __builtin_trap();
    }
  }
  if (!IsAscii(value)) return;
  std::string wide;
  bool widened = false;
  for (char c : value) {
    if (c > 0x20 && c < 0x7f) {
      piicrypt::internal::AppendUtf8(0xFF01 + static_cast<char32_t>(c - 0x21), wide);
      widened = true;
    } else {
      wide.push_back(c);
    }
  }
  if (!widened) return;
  auto via_icu = NormalizeName(wide);
  if (via_icu.ok() != out.ok() || (out.ok() && *via_icu != *out)) __builtin_trap();
}

void CheckPhone(const PhoneNormalizer& phone, absl::string_view value) {
  auto out = phone.Normalize(value);
  CheckCommon(value, out, [&phone](absl::string_view v) { return phone.Normalize(v); });
  if (!out.ok()) return;
  if (out->size() < 3 || out->size() > 21 || out->front() != '+') __builtin_trap();
  for (char c : out->substr(1)) {
    if (c < '0' || c > '9') __builtin_trap();
  }
  auto international = Phone(0).Normalize(*out);
  if (!international.ok() || *international != *out) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 512) return 0;
  const absl::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 'e':
      CheckEmail(value);
      break;
    case 'n':
      CheckName(value);
      break;
    default:
      CheckPhone(Phone(data[0]), value);
      break;
  }
  return 0;
}
