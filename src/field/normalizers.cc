#include "src/field/normalizers.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/fpe/utf8.h"

namespace piicrypt::internal {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Strict UTF-8 to ICU's UTF-16; kInvalidArgument ("invalid UTF-8") otherwise.
absl::StatusOr<icu::UnicodeString> ToUnicode(absl::string_view value) {
  // ICU would replace malformed sequences silently: check strictly first.
  auto decoded = DecodeUtf8(value);
  if (!decoded.ok()) return decoded.status();
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(value.data(), static_cast<int32_t>(value.size())));
}

std::string ToUtf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

// Removes leading and trailing Unicode white space.
icu::UnicodeString Trim(const icu::UnicodeString& s) {
  int32_t begin = 0, end = s.length();
  while (begin < end && u_isUWhiteSpace(s.char32At(begin))) begin = s.moveIndex32(begin, 1);
  while (end > begin) {
    const int32_t prev = s.moveIndex32(end, -1);
    if (!u_isUWhiteSpace(s.char32At(prev))) break;
    end = prev;
  }
  return icu::UnicodeString(s, begin, end - begin);
}

bool IsAscii(absl::string_view value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The ASCII characters with the Unicode White_Space property (what u_isUWhiteSpace says).
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// For ASCII input, ICU's lower-casing and NFKC case folding are plain ASCII lower-casing
// (no ASCII character decomposes or is default-ignorable): this fast path gives the same
// bytes as the ICU path without converting to UTF-16 and back.
std::string AsciiLowerTrimmed(absl::string_view value, bool collapse_spaces) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (collapse_spaces && IsAsciiSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(AsciiLower(c));
  }
  return out;
}

absl::string_view TrimAsciiSpace(absl::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

absl::Status CheckEmailShape(absl::string_view s) {
  const size_t at = s.find('@');
  if (at == absl::string_view::npos || at == 0 || at != s.rfind('@') || at + 1 == s.size()) {
    return absl::InvalidArgumentError("not an e-mail address (one '@' between two parts)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view value) {
  if (IsAscii(value)) {
    std::string out = AsciiLowerTrimmed(TrimAsciiSpace(value), /*collapse_spaces=*/false);
    absl::Status shape = CheckEmailShape(out);
    if (!shape.ok()) return shape;
    return out;
  }
  auto unicode = ToUnicode(value);
  if (!unicode.ok()) return unicode.status();
  icu::UnicodeString s = Trim(*unicode);
  s.toLower(icu::Locale::getRoot());
  std::string out = ToUtf8(s);
  absl::Status shape = CheckEmailShape(out);
  if (!shape.ok()) return shape;
  return out;
}

absl::StatusOr<std::string> NormalizeName(absl::string_view value) {
  if (IsAscii(value)) {
    std::string out = AsciiLowerTrimmed(value, /*collapse_spaces=*/true);
    if (out.empty()) return absl::InvalidArgumentError("a name needs some text");
    return out;
  }
  auto unicode = ToUnicode(value);
  if (!unicode.ok()) return unicode.status();
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) return absl::InternalError("ICU NFKC_Casefold is unavailable");
  const icu::UnicodeString folded = nfkc_cf->normalize(*unicode, status);
  if (U_FAILURE(status)) return absl::InternalError("ICU normalization failed");
  icu::UnicodeString collapsed;
  bool pending_space = false;
  for (int32_t i = 0; i < folded.length(); i = folded.moveIndex32(i, 1)) {
    const UChar32 c = folded.char32At(i);
    if (u_isUWhiteSpace(c)) {
      pending_space = !collapsed.isEmpty();
      continue;
    }
    if (pending_space) collapsed.append(static_cast<char16_t>(u' '));
    pending_space = false;
    collapsed.append(c);
  }
  if (collapsed.isEmpty()) return absl::InvalidArgumentError("a name needs some text");
  return ToUtf8(collapsed);
}

absl::StatusOr<PhoneNormalizer> PhoneNormalizer::Create(absl::string_view default_region) {
  if (default_region.empty()) return PhoneNormalizer("ZZ");
  std::set<std::string> regions;
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  std::string region(default_region);
  if (regions.count(region) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown phone region \"", default_region,
                     "\" (an ISO 3166 alpha-2 code such as \"AU\" or \"GB\")"));
  }
  return PhoneNormalizer(std::move(region));
}

absl::StatusOr<std::string> PhoneNormalizer::Normalize(absl::string_view value) const {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  const PhoneNumberUtil::ErrorType error = util.Parse(std::string(value), region_, &number);
  switch (error) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return absl::InvalidArgumentError(
          region_ == "ZZ" ? "not a phone number in international form (+ and country code)"
                          : "not a phone number (unknown country code)");
    default:
      return absl::InvalidArgumentError("not a phone number");
  }
  if (!util.IsValidNumber(number)) {
    return absl::InvalidArgumentError("not a valid phone number for its country");
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

}  // namespace piicrypt::internal
