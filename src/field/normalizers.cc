#include "src/field/normalizers.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/hmac_sha256_fast.h"
#include "src/fpe/utf8.h"

// libphonenumber's compiled-in metadata, the bytes PhoneNumberUtil parses when it starts
// (declared in its metadata.h, which Debian does not install; exported by the library).
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers

namespace piicrypt::internal {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
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
// bytes as the ICU path without converting to UTF-16 and back. Writes at most
// value.size() bytes to `out` and returns how many; with `collapse_spaces`, runs of white
// space become one ' ' and leading and trailing ones are dropped.
size_t AsciiLowerTo(absl::string_view value, bool collapse_spaces, char* out) {
  size_t n = 0;
  bool pending_space = false;
  for (char c : value) {
    if (collapse_spaces && IsAsciiSpace(c)) {
      pending_space = n != 0;
      continue;
    }
    if (pending_space) out[n++] = ' ';
    pending_space = false;
    out[n++] = AsciiLower(c);
  }
  return n;
}

// Where the '@'s of a value are: how many (counting stops mattering past 1), and the
// first one's offset.
struct AtSigns {
  size_t count = 0;
  size_t first = 0;
};

// AsciiLowerTo without collapsing spaces, eight bytes at a time: writes value.size()
// bytes to `out`, or returns false (`out` then unspecified) if `value` is not ASCII.
// Counts the '@'s on the way (the e-mail shape check).
bool AsciiLowerWords(absl::string_view value, char* out, AtSigns& at) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  uint64_t high = 0;  // the OR of every byte's top bit
  const auto lower = [&](uint64_t x, size_t offset) {
    high |= x;
    // A byte's top bit set by adding 0x80 - 'A' iff it is >= 'A', by adding 0x80 - 'Z' - 1
    // iff it is > 'Z' (on its low 7 bits, so no carry crosses bytes).
    const uint64_t low7 = x & ~kHigh;
    const uint64_t upper = (low7 + (0x80 - 'A') * kOnes) & ~(low7 + (0x80 - 'Z' - 1) * kOnes);
    // The top bit of each byte equal to '@' (exact: a zero byte of x ^ '@'...).
    const uint64_t t = x ^ ('@' * kOnes);
    const uint64_t ats = ~(((t & ~kHigh) + ~kHigh) | t) & kHigh;
    if (ats != 0) {
      if (at.count == 0) at.first = offset + static_cast<size_t>(__builtin_ctzll(ats)) / 8;
      at.count += (ats & (ats - 1)) != 0 ? 2 : 1;  // one, or more than one
    }
    return x | ((upper & ~x & kHigh) >> 2);  // + 0x20 for 'A'..'Z'
  };
  size_t i = 0;
  for (; i + 8 <= value.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, value.data() + i, 8);
    x = lower(x, i);
    std::memcpy(out + i, &x, 8);
  }
  if (i < value.size()) {
    const size_t n = value.size() - i;
    uint64_t x = 0;  // (zero bytes are neither letters nor '@')
    for (size_t k = 0; k < n; ++k) x |= uint64_t{static_cast<uint8_t>(value[i + k])} << (8 * k);
    x = lower(x, i);
    for (size_t k = 0; k < n; ++k) out[i + k] = static_cast<char>(x >> (8 * k));
  }
  return (high & kHigh) == 0;
}

#ifdef __SSE2__
// One 16-byte step of AsciiLowerShort: lowers src[0, 16) into dst, and counts the '@'s
// of all but its first `skip` bytes (at `offset` in the value); false if a byte is not
// ASCII.
inline bool LowerStep(const char* src, size_t offset, unsigned skip, char* dst, AtSigns& at) {
  __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  if (_mm_movemask_epi8(x) != 0) return false;  // a byte >= 0x80
  const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
  x = _mm_or_si128(x, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
  const unsigned ats =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')))) &
      (0xffffu << skip);
  if (ats != 0) {
    if (at.count == 0) at.first = offset + static_cast<size_t>(__builtin_ctz(ats));
    at.count += (ats & (ats - 1)) != 0 ? 2 : 1;  // one, or more than one
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), x);
  return true;
}
#endif

// AsciiLowerWords into the short-value buffer (`value` has at most kShortValueSize bytes),
// 16 bytes at a time with SSE2, loaded straight from `value`: whole steps, then the last
// 16 bytes of the value, whose first bytes were done already (the same bytes written
// again; their '@'s not counted twice). A value shorter than one step goes through a
// zero-filled copy (zero bytes are neither letters, nor '@', nor non-ASCII).
bool AsciiLowerShort(absl::string_view value, char (&out)[kShortValueSize], AtSigns& at) {
#ifdef __SSE2__
  static_assert(kShortValueSize >= 16);
  const size_t size = value.size();
  if (size < 16) {
    char block[16] = {};
    if (size != 0) std::memcpy(block, value.data(), size);
    const bool ascii = LowerStep(block, 0, 0, out, at);
    SecureWipe(block, sizeof(block));
    return ascii;
  }
  size_t i = 0;
  for (; i + 16 <= size; i += 16) {
    if (!LowerStep(value.data() + i, i, 0, out + i, at)) return false;
  }
  if (i == size) return true;
  const size_t last = size - 16;
  return LowerStep(value.data() + last, last, static_cast<unsigned>(i - last), out + last, at);
#else
  return AsciiLowerWords(value, out, at);
#endif
}

std::string AsciiLowerTrimmed(absl::string_view value, bool collapse_spaces) {
  std::string out(value.size(), '\0');
  if (collapse_spaces) {
    out.resize(AsciiLowerTo(value, true, out.data()));
  } else {
    AtSigns unused;
    (void)AsciiLowerWords(value, out.data(), unused);  // callers checked IsAscii
  }
  return out;
}

absl::Status EmptyNameError() { return absl::InvalidArgumentError("a name needs some text"); }

// (Inlined: it is on every e-mail blind index's path.)
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::string_view TrimAsciiSpace(absl::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// One '@' between two non-empty parts.
absl::Status EmailShape(const AtSigns& at, size_t size) {
  if (at.count != 1 || at.first == 0 || at.first + 1 == size) {
    return absl::InvalidArgumentError("not an e-mail address (one '@' between two parts)");
  }
  return absl::OkStatus();
}

absl::Status CheckEmailShape(absl::string_view s) {
  AtSigns at;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '@') continue;
    if (at.count++ == 0) at.first = i;
  }
  return EmailShape(at, s.size());
}

absl::Status InvalidNumberError() {
  return absl::InvalidArgumentError("not a valid phone number for its country");
}

// ---- the E.164 path (PhoneNormalizer::FromE164) ------------------------------------
//
// For an input already in canonical E.164 form, "+" and digits only, libphonenumber's
// Parse does nothing but split off the country code, and its E.164 format gives the
// input back, so its whole answer is one validity check. Its steps for such an input,
// and what this path does for each (anything else goes to libphonenumber):
//  - finding the number in the text, the viability and extension patterns, the '+':
//    they keep "+" and 3 or more digits as they are;
//  - the country code: the shortest prefix of 1 to 3 digits that names a country code
//    (none when the digits start with '0'): the same rule over the same table here; an
//    unknown code, a code of the non-geographic entities ("001") or a national number
//    shorter than 2 or longer than 17 digits goes to libphonenumber;
//  - the national prefix of the code's main region (national_prefix_for_parsing): it is
//    stripped only if its pattern matches at the start of the national number; that
//    number, or one starting with '0' (libphonenumber's "Italian leading zero"), goes to
//    libphonenumber;
//  - validity (IsValidNumber): the region among the code's regions (its leading-digits
//    pattern, else the first whose number types match), then that region's number types:
//    the same steps here, the number types through libphonenumber's own
//    GetNumberTypeHelper, once where IsValidNumber runs it twice.
// Patterns are matched by ICU with the flags libphonenumber's ICU adapter uses, compiled
// once; tests/field/phone_fast_path_test.cc holds the answers to libphonenumber's.

// GetNumberTypeHelper is protected: a pointer to it, taken through a class derived from
// PhoneNumberUtil (never instantiated), calls it on the singleton.
struct PhoneNumberUtilTypes : PhoneNumberUtil {
  static constexpr auto kTypeHelper = &PhoneNumberUtilTypes::GetNumberTypeHelper;
};

// Whether `pattern` matches at the start of `digits` (libphonenumber's Consume),
// std::nullopt if ICU fails.
std::optional<bool> LookingAt(const icu::RegexPattern& pattern, const std::string& digits) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(digits);
  std::unique_ptr<icu::RegexMatcher> matcher(pattern.matcher(input, status));
  if (U_FAILURE(status) || matcher == nullptr) return std::nullopt;
  const bool match = matcher->lookingAt(0, status);
  if (U_FAILURE(status)) return std::nullopt;
  return match;
}

std::unique_ptr<icu::RegexPattern> Compile(const std::string& pattern, bool& ok) {
  UParseError parse_error;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexPattern> compiled(
      icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(pattern), 0, parse_error, status));
  ok &= U_SUCCESS(status) && compiled != nullptr;
  return compiled;
}

class E164Path {
 public:
  static const E164Path& Get() {
    static const E164Path* const path = new E164Path();
    return *path;
  }

  // libphonenumber's answer for `value`, or std::nullopt if this path cannot tell.
  std::optional<absl::StatusOr<std::string>> Normalize(absl::string_view value) const;

 private:
  struct Region {
    const PhoneMetadata* metadata = nullptr;
    std::unique_ptr<icu::RegexPattern> leading_digits;  // set iff has_leading_digits()
  };
  struct Country {
    bool known = false;   // a country code libphonenumber knows
    bool usable = false;  // known, and this path has all it needs for it
    std::unique_ptr<icu::RegexPattern> national_prefix;  // nullptr if it has none
    std::vector<Region> regions;                         // the main region first
  };
  static constexpr int kCodes = 1000;

  E164Path();
  void AddCountry(int code, const absl::flat_hash_map<std::string, const PhoneMetadata*>& by_id);
  // Whether libphonenumber's IsValidNumber holds for (code, national), nullopt if ICU fails.
  std::optional<bool> IsValid(const Country& country, const std::string& national) const;
  bool HasType(const std::string& national, const PhoneMetadata& metadata) const {
    return (util_.*PhoneNumberUtilTypes::kTypeHelper)(national, metadata) !=
           PhoneNumberUtil::UNKNOWN;
  }

  const PhoneNumberUtil& util_ = *PhoneNumberUtil::GetInstance();
  PhoneMetadataCollection metadata_;
  std::array<Country, kCodes> countries_;
};

E164Path::E164Path() {
  if (!metadata_.ParseFromArray(i18n::phonenumbers::metadata_get(),
                                i18n::phonenumbers::metadata_size())) {
    return;  // no country usable: everything goes to libphonenumber
  }
  absl::flat_hash_map<std::string, const PhoneMetadata*> by_id;
  for (const PhoneMetadata& m : metadata_.metadata()) by_id.emplace(m.id(), &m);
  for (int code = 1; code < kCodes; ++code) AddCountry(code, by_id);
}

void E164Path::AddCountry(int code,
                          const absl::flat_hash_map<std::string, const PhoneMetadata*>& by_id) {
  std::list<std::string> ids;
  util_.GetRegionCodesForCountryCallingCode(code, &ids);
  if (ids.empty()) return;
  Country& country = countries_[code];
  country.known = true;
  if (ids.front() == "001") return;
  bool ok = true;
  for (const std::string& id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second->country_code() != code) return;
    Region region{it->second, nullptr};
    if (region.metadata->has_leading_digits()) {
      region.leading_digits = Compile(region.metadata->leading_digits(), ok);
    }
    country.regions.push_back(std::move(region));
  }
  const std::string& prefix = country.regions.front().metadata->national_prefix_for_parsing();
  if (!prefix.empty()) country.national_prefix = Compile(prefix, ok);
  country.usable = ok;
}

std::optional<bool> E164Path::IsValid(const Country& country, const std::string& national) const {
  if (country.regions.size() == 1) return HasType(national, *country.regions.front().metadata);
  for (const Region& region : country.regions) {
    if (region.leading_digits != nullptr) {
      const std::optional<bool> leads = LookingAt(*region.leading_digits, national);
      if (!leads.has_value()) return std::nullopt;
      if (*leads) return HasType(national, *region.metadata);
    } else if (HasType(national, *region.metadata)) {
      return true;
    }
  }
  return false;  // no region: libphonenumber's "ZZ", never valid
}

std::optional<absl::StatusOr<std::string>> E164Path::Normalize(absl::string_view value) const {
  constexpr size_t kMinNational = 2, kMaxNational = 17;
  if (value.size() < 5 || value.size() > 1 + 3 + kMaxNational || value.front() != '+') {
    return std::nullopt;
  }
  const absl::string_view digits = value.substr(1);
  int code = 0;
  size_t code_size = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (digits.front() == '0') return std::nullopt;
  while (code_size < 3) {
    code = code * 10 + (digits[code_size++] - '0');
    if (countries_[code].known) break;
  }
  const Country& country = countries_[code];
  std::string national(digits.substr(code_size));
  absl::Cleanup wipe = [&national] { SecureWipe(national.data(), national.size()); };
  if (!country.usable || national.size() < kMinNational || national.size() > kMaxNational ||
      national.front() == '0') {
    return std::nullopt;
  }
  if (country.national_prefix != nullptr) {
    const std::optional<bool> prefixed = LookingAt(*country.national_prefix, national);
    if (!prefixed.has_value() || *prefixed) return std::nullopt;
  }
  const std::optional<bool> valid = IsValid(country, national);
  if (!valid.has_value()) return std::nullopt;
  if (!*valid) return absl::StatusOr<std::string>(InvalidNumberError());
  return absl::StatusOr<std::string>(std::string(value));
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view value) {
  if (IsAscii(value)) {
    std::string out = AsciiLowerTrimmed(TrimAsciiSpace(value), /*collapse_spaces=*/false);
    absl::Status shape = CheckEmailShape(out);
    if (!shape.ok()) return shape;
    return out;
  }
  return NormalizeEmailWithIcu(value);
}

absl::StatusOr<std::string> NormalizeEmailWithIcu(absl::string_view value) {
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
    if (out.empty()) return EmptyNameError();
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
  if (collapsed.isEmpty()) return EmptyNameError();
  return ToUtf8(collapsed);
}

// Fingerprints of (input, E.164 answer) pairs that libphonenumber gave: HMAC-SHA256 under
// a random key, cut to 128 bits, in a direct-mapped table. Slots are two relaxed atomic
// words: a reader racing a writer may see one word of each fingerprint, which matches no
// query (that would take a 64-bit collision of the keyed hash), so it is a miss.
class PhoneNormalizer::Memo {
 public:
  static constexpr size_t kSlots = 4096;
  static constexpr size_t kMaxInput = 64;  // longer inputs are not remembered
  static constexpr size_t kMaxAnswer = 24;

  static absl::StatusOr<std::shared_ptr<Memo>> Create() {
    uint8_t key[32];
    if (RAND_bytes(key, sizeof(key)) != 1) {
      return absl::InternalError("random generator failed (phone normalizer memo)");
    }
    auto memo = std::make_shared<Memo>(key);
    OPENSSL_cleanse(key, sizeof(key));
    return memo;
  }
  explicit Memo(const uint8_t (&key)[32])
      : prf_(absl::MakeConstSpan(key)), slots_(new Slot[kSlots]) {}

  bool Contains(absl::string_view input, absl::string_view answer) const {
    const Fingerprint f = Of(input, answer);
    const Slot& slot = slots_[f.hi % kSlots];
    return slot.hi.load(std::memory_order_relaxed) == f.hi &&
           slot.lo.load(std::memory_order_relaxed) == f.lo;
  }
  void Insert(absl::string_view input, absl::string_view answer) {
    const Fingerprint f = Of(input, answer);
    Slot& slot = slots_[f.hi % kSlots];
    slot.hi.store(f.hi, std::memory_order_relaxed);
    slot.lo.store(f.lo, std::memory_order_relaxed);
  }
  static bool Fits(absl::string_view input, absl::string_view answer) {
    return input.size() <= kMaxInput && answer.size() <= kMaxAnswer;
  }

 private:
  struct Fingerprint {
    uint64_t hi, lo;
  };
  struct Slot {
    std::atomic<uint64_t> hi{0}, lo{0};
  };
  // HMAC(key, u8(len(input)) || input || answer). REQUIRES: Fits(input, answer).
  Fingerprint Of(absl::string_view input, absl::string_view answer) const {
    char message[1 + kMaxInput + kMaxAnswer];
    message[0] = static_cast<char>(input.size());
    if (!input.empty()) std::memcpy(message + 1, input.data(), input.size());
    if (!answer.empty()) std::memcpy(message + 1 + input.size(), answer.data(), answer.size());
    const HmacSha256Fast::Tag tag =
        prf_.Compute(absl::string_view(message, 1 + input.size() + answer.size()));
    OPENSSL_cleanse(message, sizeof(message));
    Fingerprint f;
    std::memcpy(&f.hi, tag.data(), 8);
    std::memcpy(&f.lo, tag.data() + 8, 8);
    return f;
  }

  HmacSha256Fast prf_;
  std::unique_ptr<Slot[]> slots_;
};

PhoneNormalizer::PhoneNormalizer(std::string region, std::string country_code,
                                 std::string national_prefix, std::shared_ptr<Memo> memo)
    : region_(std::move(region)),
      country_code_(std::move(country_code)),
      national_prefix_(std::move(national_prefix)),
      memo_(std::move(memo)) {}

absl::StatusOr<PhoneNormalizer> PhoneNormalizer::Create(absl::string_view default_region) {
  auto memo = Memo::Create();
  if (!memo.ok()) return memo.status();
  if (default_region.empty()) return PhoneNormalizer("ZZ", "", "", *std::move(memo));
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  std::string region(default_region);
  if (regions.count(region) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown phone region \"", default_region,
                     "\" (an ISO 3166 alpha-2 code such as \"AU\" or \"GB\")"));
  }
  std::string national_prefix;
  util.GetNddPrefixForRegion(region, /*strip_non_digits=*/true, &national_prefix);
  const std::string country_code = absl::StrCat(util.GetCountryCodeForRegion(region));
  return PhoneNormalizer(std::move(region), country_code, std::move(national_prefix),
                         *std::move(memo));
}

std::string PhoneNormalizer::Propose(absl::string_view value) const {
  value = TrimAsciiSpace(value);
  const bool plus = !value.empty() && value.front() == '+';
  if (plus) value.remove_prefix(1);
  char digits[17];  // E.164 numbers have at most 15
  size_t n = 0;
  absl::Cleanup wipe = [&digits] { SecureWipe(digits, sizeof(digits)); };
  for (char c : value) {
    if (c >= '0' && c <= '9') {
      if (n == sizeof(digits)) return "";
      digits[n++] = c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/') {
      return "";
    }
  }
  absl::string_view national(digits, n);
  if (national.empty()) return "";
  if (plus) return absl::StrCat("+", national);
  if (country_code_.empty()) return "";
  if (!national_prefix_.empty() && absl::StartsWith(national, national_prefix_)) {
    national.remove_prefix(national_prefix_.size());
  }
  return absl::StrCat("+", country_code_, national);
}

std::optional<absl::StatusOr<std::string>> PhoneNormalizer::FromE164(
    absl::string_view value) const {
  return E164Path::Get().Normalize(value);
}

std::optional<std::string> PhoneNormalizer::FromMemo(absl::string_view value) const {
  if (memo_ == nullptr) return std::nullopt;
  std::string proposal = Propose(value);
  if (proposal.empty() || !Memo::Fits(value, proposal) || !memo_->Contains(value, proposal)) {
    SecureWipe(proposal.data(), proposal.size());
    return std::nullopt;
  }
  return proposal;
}

absl::StatusOr<std::string> PhoneNormalizer::Normalize(absl::string_view value) const {
  if (std::optional<std::string> remembered = FromMemo(value)) return *std::move(remembered);
  std::optional<absl::StatusOr<std::string>> fast = FromE164(value);
  auto e164 = fast.has_value() ? *std::move(fast) : NormalizeWithLibphonenumber(value);
  if (e164.ok() && memo_ != nullptr && Memo::Fits(value, *e164)) {
    std::string proposal = Propose(value);
    if (proposal == *e164) memo_->Insert(value, *e164);
    SecureWipe(proposal.data(), proposal.size());
  }
  return e164;
}

absl::StatusOr<std::string> PhoneNormalizer::NormalizeWithLibphonenumber(
    absl::string_view value) const {
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
  if (!util.IsValidNumber(number)) return InvalidNumberError();
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

absl::StatusOr<std::optional<absl::string_view>> NormalizeEmailShort(
    absl::string_view value, char (&buffer)[kShortValueSize]) {
  AtSigns at;
  // (An ASCII trim leaves a value ASCII or not, as it was.)
  if (const absl::string_view trimmed = TrimAsciiSpace(value);
      trimmed.size() <= kShortValueSize && AsciiLowerShort(trimmed, buffer, at)) {
    absl::Status shape = EmailShape(at, trimmed.size());
    if (!shape.ok()) return shape;
    // Constructed in place: a temporary optional costs two store-forwarding stalls.
    return absl::StatusOr<std::optional<absl::string_view>>(absl::in_place, std::in_place, buffer,
                                                            trimmed.size());
  }
  return std::optional<absl::string_view>();
}

absl::StatusOr<std::optional<absl::string_view>> NormalizeNameShort(
    absl::string_view value, char (&buffer)[kShortValueSize]) {
  if (value.size() <= kShortValueSize && IsAscii(value)) {
    const absl::string_view out(buffer, AsciiLowerTo(value, true, buffer));
    if (out.empty()) return EmptyNameError();
    return std::optional<absl::string_view>(out);
  }
  return std::optional<absl::string_view>();
}

}  // namespace piicrypt::internal
