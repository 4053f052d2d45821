#include "src/token/token_format.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/field_format.h"
#include "src/crypto/random.h"
#include "src/fpe/codecs.h"
#include "src/fpe/utf8.h"

namespace piicrypt::internal {
namespace {

constexpr char kDigits[] = "0123456789";
constexpr char kLower[] = "abcdefghijklmnopqrstuvwxyz";
constexpr char kUpper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// Fewest digits a card token replaces (a space of 10^6 tokens, as FF1's minimum domain).
constexpr size_t kMinReplacedCardDigits = 6;
// Bound on redraws of one token for the Luhn class and for token != value: each draw
// succeeds with probability at least 1/10, so the bound is never reached in practice.
constexpr int kMaxRedraws = 1000;

absl::Status Error(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

// Uniform random characters from small alphabets, from the calling thread's random pool.
class RandomChars {
 public:
  ~RandomChars() { SecureWipe(buf_, sizeof(buf_)); }
  // A uniformly random character of `alphabet` (size 2..256), by rejection sampling.
  absl::StatusOr<char> From(absl::string_view alphabet) {
    const unsigned n = static_cast<unsigned>(alphabet.size());
    const unsigned limit = 256 - 256 % n;
    while (true) {
      if (pos_ == sizeof(buf_)) {
        PIICRYPT_RETURN_IF_ERROR(RandomNonce(absl::MakeSpan(buf_, sizeof(buf_))));
        pos_ = 0;
      }
      const unsigned b = buf_[pos_++];
      if (b < limit) return alphabet[b % n];
    }
  }

 private:
  uint8_t buf_[64] = {};
  size_t pos_ = sizeof(buf_);
};

absl::StatusOr<std::string> DrawPreserve(absl::string_view value, RandomChars& rng) {
  std::string out(value);
  for (char& c : out) {
    if (absl::ascii_isdigit(c)) {
      PIICRYPT_ASSIGN_OR_RETURN(c, rng.From(kDigits));
    } else if (absl::ascii_islower(c)) {
      PIICRYPT_ASSIGN_OR_RETURN(c, rng.From(kLower));
    } else if (absl::ascii_isupper(c)) {
      PIICRYPT_ASSIGN_OR_RETURN(c, rng.From(kUpper));
    }
  }
  return out;
}

// Positions of a card number's digits in `value`: which of them are replaced.
std::vector<bool> ReplacedCardDigits(size_t digit_count, bool keep_first_six) {
  std::vector<bool> replaced(digit_count, true);
  for (size_t i = digit_count - 4; i < digit_count; ++i) replaced[i] = false;
  if (keep_first_six) {
    for (size_t i = 0; i < 6; ++i) replaced[i] = false;
  }
  return replaced;
}

absl::StatusOr<std::string> DrawCard(const TokenizerOptions& options, absl::string_view value,
                                     RandomChars& rng) {
  PIICRYPT_ASSIGN_OR_RETURN(std::string digits, CardDigits(options.field, value));
  absl::Cleanup wipe = [&digits] { SecureWipe(digits.data(), digits.size()); };
  const std::vector<bool> replaced = ReplacedCardDigits(digits.size(), options.card_keep_first_six);
  std::vector<uint16_t> numerals(digits.size());
  absl::Cleanup wipe_numerals = [&numerals] {
    SecureWipe(numerals.data(), numerals.size() * sizeof(uint16_t));
  };
  for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
    for (size_t i = 0; i < digits.size(); ++i) {
      if (replaced[i]) {
        PIICRYPT_ASSIGN_OR_RETURN(char c, rng.From(kDigits));
        numerals[i] = static_cast<uint16_t>(c - '0');
      } else {
        numerals[i] = static_cast<uint16_t>(digits[i] - '0');
      }
    }
    const bool luhn_valid = LuhnSum(numerals) == 0;
    if (luhn_valid != (options.card_luhn == LuhnOutput::kValid)) continue;
    std::string out(value);
    size_t d = 0;
    for (char& c : out) {
      if (absl::ascii_isdigit(c)) c = static_cast<char>('0' + numerals[d++]);
    }
    return out;
  }
  return absl::InternalError(absl::StrCat(options.field, ": card token redraw bound reached"));
}

}  // namespace

absl::StatusOr<std::string> CardDigits(absl::string_view field, absl::string_view value) {
  std::string digits;
  digits.reserve(value.size());
  for (char c : value) {
    if (absl::ascii_isdigit(c)) {
      digits.push_back(c);
    } else if (c != ' ' && c != '-') {
      SecureWipe(digits.data(), digits.size());
      return Error(field, "not a card number (digits, spaces and '-' only)");
    }
  }
  if (digits.size() < 12 || digits.size() > 19) {
    SecureWipe(digits.data(), digits.size());
    return Error(field, "not a card number (12 to 19 digits)");
  }
  return digits;
}

absl::StatusOr<std::string> DrawVaultToken(const TokenizerOptions& options,
                                           absl::string_view value) {
  if (value.size() > kMaxTokenValueSize) {
    return Error(options.field, "value is longer than 4096 bytes");
  }
  RandomChars rng;
  if (options.format == TokenFormat::kAlphanumeric) {
    std::string out = options.prefix;
    for (size_t i = 0; i < options.alphanumeric_length; ++i) {
      PIICRYPT_ASSIGN_OR_RETURN(char c, rng.From(kAlnum));
      out.push_back(c);
    }
    // 62^4 or more tokens: equal to the value with probability below 1e-7, but never
    // pass a value through.
    if (out == value) return DrawVaultToken(options, value);
    return out;
  }
  if (options.format == TokenFormat::kCard) {
    PIICRYPT_ASSIGN_OR_RETURN(std::string digits, CardDigits(options.field, value));
    const size_t kept = options.card_keep_first_six ? 10 : 4;
    const size_t count = digits.size();
    SecureWipe(digits.data(), digits.size());
    if (count < kept + kMinReplacedCardDigits) {
      return Error(options.field, options.card_keep_first_six
                                      ? "card number too short to keep its first six digits "
                                        "(16 digits needed)"
                                      : "card number too short");
    }
  } else {
    bool any = false;
    for (char c : value)
      any = any || absl::ascii_isdigit(c) || absl::ascii_islower(c) || absl::ascii_isupper(c);
    if (!any) return Error(options.field, "value has no digits or letters to replace");
    // Its other bytes stay in the token, which a token store must be able to hold.
    if (value.find('\0') != absl::string_view::npos || !DecodeUtf8(value).ok()) {
      return Error(options.field, "value must be UTF-8 without NUL bytes");
    }
  }
  for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
    absl::StatusOr<std::string> body = options.format == TokenFormat::kCard
                                           ? DrawCard(options, value, rng)
                                           : DrawPreserve(value, rng);
    if (!body.ok()) return body.status();
    const bool same = SecretEquals(*body, value);
    if (same) {
      SecureWipe(body->data(), body->size());
      continue;
    }
    return absl::StrCat(options.prefix, *body);
  }
  return Error(options.field, "the format allows no token other than the value itself");
}

double VaultTokenSpaceLog10(const TokenizerOptions& options, absl::string_view value) {
  if (options.format == TokenFormat::kAlphanumeric) {
    return static_cast<double>(options.alphanumeric_length) * std::log10(62.0);
  }
  double log10 = 0;
  if (options.format == TokenFormat::kCard) {
    size_t digits = 0;
    for (char c : value) digits += absl::ascii_isdigit(c) ? 1 : 0;
    const size_t kept = options.card_keep_first_six ? 10 : 4;
    if (digits > kept) log10 = static_cast<double>(digits - kept) - 1;  // one Luhn class in 10
    return log10;
  }
  for (char c : value) {
    if (absl::ascii_isdigit(c)) log10 += 1;
    if (absl::ascii_islower(c) || absl::ascii_isupper(c)) log10 += std::log10(26.0);
  }
  return log10;
}

}  // namespace piicrypt::internal
