// MaskValue: the display masks of docs/FIELDS.md.
#include <unicode/uchar.h>

#include <string>

#include "piicrypt/field_cryptor.h"
#include "src/fpe/utf8.h"

namespace piicrypt {
namespace {

constexpr char kFullMask[] = "***";

std::string Digits(absl::string_view value) {
  std::string digits;
  for (char c : value) {
    if (c >= '0' && c <= '9') digits.push_back(c);
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

std::string MaskInitials(absl::string_view value) {
  auto cps = internal::DecodeUtf8(value);
  if (!cps.ok()) return kFullMask;
  std::string out;
  bool at_word_start = true;
  for (char32_t cp : *cps) {
    if (u_isUWhiteSpace(static_cast<UChar32>(cp))) {
      at_word_start = true;
      continue;
    }
    if (!at_word_start) continue;
    at_word_start = false;
    if (!out.empty()) out += ' ';
    const UChar32 upper = u_toupper(static_cast<UChar32>(cp));
    internal::AppendUtf8(
        internal::IsScalarValue(static_cast<char32_t>(upper)) ? static_cast<char32_t>(upper) : cp,
        out);
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
