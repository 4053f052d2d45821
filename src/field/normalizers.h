// normalizers.h: the blind-index normalizers of docs/SPEC.md (e-mail, phone, name), the
// piicrypt::normalizers component (ICU, libphonenumber). The core reaches them through the
// registry of value_normalizer.h, which normalizers_component.cc fills.
//
// Every normalizer either returns the normalized form or kInvalidArgument with a reason
// that never quotes the value; the caller prefixes the field name.
#ifndef PIICRYPT_SRC_FIELD_NORMALIZERS_H_
#define PIICRYPT_SRC_FIELD_NORMALIZERS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/policy.h"
#include "src/field/value_normalizer.h"

namespace piicrypt::internal {

// Trims Unicode white space and lower-cases (Unicode, root locale). Requires one '@' with
// text on both sides.
// ASCII input takes a path of its own (ASCII lower-casing, 16 bytes at a time for short
// values) that gives the same answer as ICU's.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view value);
// NormalizeEmail through ICU whatever the input: the reference the ASCII paths are
// tested against.
absl::StatusOr<std::string> NormalizeEmailWithIcu(absl::string_view value);

// Unicode NFKC case folding (ICU NFKC_Casefold), every run of white space collapsed to one
// U+0020, leading and trailing white space removed. Requires some non-space text.
absl::StatusOr<std::string> NormalizeName(absl::string_view value);

// E.164 through libphonenumber: "+61 (02) 5550-0199" with default region "AU" gives
// "+61255500199". Invalid numbers (wrong length for the region, unknown country code,
// letters) are errors.
//
// Speed: libphonenumber takes tens of microseconds per number (its parse and validity
// check run many regular expressions), so a normalizer has two shorter roads to the very
// answer libphonenumber gives, and takes libphonenumber's own road for everything else:
//  - the E.164 path (FromE164), for a number already in canonical E.164 form ("+" and
//    digits only): libphonenumber's parse would only split off the country code and its
//    E.164 format would give the input back, so the answer is the input if the number is
//    valid. This path splits the country code by libphonenumber's rule, sends to
//    libphonenumber every input whose parse would do more (a national prefix or leading
//    zero after the country code, an unknown or non-geographic country code, a length
//    out of bounds), and runs libphonenumber's validity check once instead of twice,
//    on its own metadata and number-type patterns (normalizers.cc has the argument step
//    by step; about a quarter of libphonenumber's time);
//  - a memo of answers already given: a cheap rewrite proposes the answer from the
//    input's digits (the input itself for a number in E.164 form, with spaces, '-', '.',
//    '/' or parentheses between digits; else "+", the default region's country code and
//    the digits without the region's national prefix: "(02) 5550 0199" ->
//    "+61255500199"); the proposal is the answer only if the memo holds the fingerprint
//    of (this exact input, this answer), which it gets only when libphonenumber or the
//    E.164 path gave that answer for that input. Every other input (first seen,
//    evicted, a proposal that is wrong, letters, a rejection) goes on to the E.164 path
//    or libphonenumber. So every answer is libphonenumber's.
// The memo keeps no phone numbers: only 128-bit fingerprints (HMAC-SHA256 under a random
// key of its own, made when the normalizer is created) in 4,096 slots, a new one
// replacing the one in its slot. A remembered number costs about a hundredth of
// libphonenumber's time (docs/FIELDS.md, performance).
class PhoneNormalizer {
 public:
  // `default_region`: ISO 3166 alpha-2 region assumed for numbers without a leading '+',
  // or empty (such numbers are then errors). kInvalidArgument for a region libphonenumber
  // does not know.
  static absl::StatusOr<PhoneNormalizer> Create(absl::string_view default_region);
  absl::StatusOr<std::string> Normalize(absl::string_view value) const;

  // What libphonenumber alone says (Normalize without the memo), for tests.
  absl::StatusOr<std::string> NormalizeWithLibphonenumber(absl::string_view value) const;
  // The memo's answer for `value`, or std::nullopt if it has none (Normalize's fast path).
  std::optional<std::string> FromMemo(absl::string_view value) const;
  // The E.164 path's answer for `value` (libphonenumber's, a rejection included), or
  // std::nullopt for an input it leaves to libphonenumber. The first call in a process
  // reads libphonenumber's metadata and compiles its patterns once.
  std::optional<absl::StatusOr<std::string>> FromE164(absl::string_view value) const;

 private:
  class Memo;
  PhoneNormalizer(std::string region, std::string country_code, std::string national_prefix,
                  std::shared_ptr<Memo> memo);
  // The proposed E.164 form of `value` (see above), or "" when it has no such shape.
  std::string Propose(absl::string_view value) const;

  std::string region_;           // "ZZ" (unknown) when no default region is given
  std::string country_code_;     // the region's, as digits ("61"); empty for "ZZ"
  std::string national_prefix_;  // the region's, as digits ("0"); may be empty
  std::shared_ptr<Memo> memo_;   // nullptr in the normalizers of other kinds
};

// NormalizeEmail and NormalizeName without a string of their own, for the blind index's
// hot path: the normalized form of an ASCII value of at most kShortValueSize bytes, written
// into `buffer`; std::nullopt for what needs the full normalizer (non-ASCII or longer
// values). Errors as the full normalizer's.
absl::StatusOr<std::optional<absl::string_view>> NormalizeEmailShort(
    absl::string_view value, char (&buffer)[kShortValueSize]);
absl::StatusOr<std::optional<absl::string_view>> NormalizeNameShort(
    absl::string_view value, char (&buffer)[kShortValueSize]);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_NORMALIZERS_H_
