// codecs.h: the pieces behind FormatPreservingField (include/piicrypt/subtle/format_preserving.h):
// alphabets of code points, the Luhn sum, and the codecs that map field values onto FF1
// numeral strings and back.
#ifndef PIICRYPT_SRC_FPE_CODECS_H_
#define PIICRYPT_SRC_FPE_CODECS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace piicrypt::internal {

// An ordered set of 2..65536 distinct Unicode code points; a character's numeral is its
// position. Lookups are a table for ASCII and a binary search otherwise.
class Alphabet {
 public:
  // `utf8`: the characters in order. kInvalidArgument for invalid UTF-8, fewer than 2 or
  // more than 65536 characters, or a repeated character.
  static absl::StatusOr<Alphabet> Create(absl::string_view utf8);

  uint32_t radix() const { return static_cast<uint32_t>(chars_.size()); }
  // The numeral of `cp`, or -1 if `cp` is not in the alphabet.
  int32_t IndexOf(char32_t cp) const;
  // REQUIRES: numeral < radix().
  char32_t CharAt(uint16_t numeral) const { return chars_[numeral]; }

  // Text (UTF-8) to numerals, replacing the contents of `out`. kInvalidArgument
  // ("invalid UTF-8" or "character outside the alphabet"); never quotes the text.
  [[nodiscard]] absl::Status ToNumerals(absl::string_view text, std::vector<uint16_t>& out) const;
  // Numerals to text (UTF-8). REQUIRES: every numeral < radix().
  std::string FromNumerals(absl::Span<const uint16_t> numerals) const;

 private:
  Alphabet() = default;
  std::vector<char32_t> chars_;
  std::array<int32_t, 128> ascii_{};
  std::vector<std::pair<char32_t, uint16_t>> non_ascii_;  // sorted by code point
};

// The Luhn sum of decimal numerals (rightmost is the check digit), mod 10: 0 means the
// number passes the Luhn check.
int LuhnSum(absl::Span<const uint16_t> digits);

// Bound on cycle-walking steps for card numbers. Each step lands in the wanted Luhn
// class with probability 1/10, so the bound is reached with probability 0.9^1000
// (about 1e-46) per value; decryption walks exactly as many steps back.
inline constexpr int kMaxCycleWalkSteps = 1000;

// The smallest length whose domain radix^length reaches FF1's minimum.
size_t MinimumFf1Length(uint32_t radix);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FPE_CODECS_H_
