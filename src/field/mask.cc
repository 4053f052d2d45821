// MaskValue: the display masks of docs/FIELDS.md.
#include <locale.h>
#include <wctype.h>

#include <string>

#include "absl/strings/ascii.h"
#include "piicrypt/field_cryptor.h"
#include "src/fpe/utf8.h"

namespace piicrypt {
namespace {

constexpr char kFullMask[] = "***";

std::string Digits(absl::string_view value) {
  std::string digits;
  for (char c : value) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  return digits;
}

std::string MaskEmail(absl::string_view value) {
  auto cps = internal::DecodeUtf8(value);
  const size_t at = value.rfind('@');
  if (!cps.ok() || at == absl::string_view::npos || at == 0 || at + 1 == value.size()) {
    return kFullMask;
  }
  std::string out;
  internal::AppendUtf8((*cps)[0], out);
  out += "***";
  out.append(value.data() + at, value.size() - at);
  return out;
}

// The last four digits after a fixed-shape prefix; fewer than `min_digits` digits: "***".
std::string MaskDigits(absl::string_view value, absl::string_view prefix, size_t min_digits) {
  const std::string digits = Digits(value);
  if (digits.size() < min_digits) return kFullMask;
  return std::string(prefix) + digits.substr(digits.size() - 4);
}

// Unicode White_Space (the property ICU's u_isUWhiteSpace reads).
bool IsWhiteSpace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// The simple upper-case mapping of `cp` from the C library's C.UTF-8 character classes;
// `cp` itself when it has none, or when the C.UTF-8 locale is not installed.
char32_t ToUpper(char32_t cp) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  if (utf8 == static_cast<locale_t>(0)) {
    return cp >= 'a' && cp <= 'z' ? cp - ('a' - 'A') : cp;
  }
  const wint_t upper = towupper_l(static_cast<wint_t>(cp), utf8);
  return internal::IsScalarValue(static_cast<char32_t>(upper)) ? static_cast<char32_t>(upper) : cp;
}

std::string MaskInitials(absl::string_view value) {
  auto cps = internal::DecodeUtf8(value);
  if (!cps.ok()) return kFullMask;
  std::string out;
  bool at_word_start = true;
  for (char32_t cp : *cps) {
    if (IsWhiteSpace(cp)) {
      at_word_start = true;
      continue;
    }
    if (!at_word_start) continue;
    at_word_start = false;
    if (!out.empty()) out += ' ';
    internal::AppendUtf8(ToUpper(cp), out);
    out += '.';
  }
  return out.empty() ? std::string(kFullMask) : out;
}

}  // namespace

std::string MaskValue(MaskStyle style, absl::string_view value) {
  switch (style) {
    case MaskStyle::kEmail:
      return MaskEmail(value);
    case MaskStyle::kPhone:
      // A short number would be mostly revealed by its last four digits.
      return MaskDigits(value, "*** *** ", 8);
    case MaskStyle::kLast4:
      return MaskDigits(value, "**** ", 4);
    case MaskStyle::kInitials:
      return MaskInitials(value);
    case MaskStyle::kDefault:
    case MaskStyle::kFull:
      break;
  }
  return kFullMask;
}

}  // namespace piicrypt
