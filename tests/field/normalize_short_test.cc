// ValueNormalizer::NormalizeShort (the blind index's allocation-free path) gives exactly
// what Normalize gives, or declines; for every ASCII byte at every position of the
// eight- and sixteen-byte steps, and for the inputs that must decline or fail. The e-mail
// normalizer's ASCII paths, short and long, give exactly ICU's answer over 20,000
// generated addresses, ASCII and not, well-formed and not.
#include <algorithm>
#include <cctype>
#include <optional>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/field/normalizers.h"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using ::piicrypt::testing::IsOk;

// NormalizeShort's answer, when it gives one, equals Normalize's (errors included).
void ExpectAgrees(const ValueNormalizer& n, const std::string& value, bool expect_shortcut) {
  SCOPED_TRACE(::testing::PrintToString(value));
  char buffer[kShortValueSize];
  auto fast = n.NormalizeShort(value, buffer);
  const auto slow = n.Normalize(value);
  if (!fast.ok()) {
    EXPECT_EQ(fast.status(), slow.status());
    return;
  }
  EXPECT_EQ(fast->has_value(), expect_shortcut);
  if (!fast->has_value()) return;
  ASSERT_THAT(slow, IsOk());
  EXPECT_EQ(std::string(**fast), *slow);
}

// The e-mail normalizer written out plainly, for ASCII: trim, lower-case one byte at a time,
// one '@' between two parts (nullopt otherwise).
std::optional<std::string> PlainEmail(std::string s) {
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t begin = 0;
  while (begin < s.size() && space(s[begin])) ++begin;
  s = s.substr(begin);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == s.size() || s.rfind('@') != at) {
    return std::nullopt;
  }
  return s;
}

TEST(NormalizeShortTest, EmailAgreesWithNormalizeForEveryAsciiByteAtEveryPosition) {
  const ValueNormalizer email = ValueNormalizer::Create(Normalizer::kEmail, "").value();
  for (int c = 1; c < 128; ++c) {
    for (size_t pos = 0; pos < 19; ++pos) {
      std::string value = "Ab.Z@example.COM.xy";  // 19 bytes: full steps and a tail
      value[pos] = static_cast<char>(c);
      ExpectAgrees(email, value, /*expect_shortcut=*/true);
      // Both paths share the ASCII lower-casing: check it against the plain one too.
      char buffer[kShortValueSize];
      auto fast = email.NormalizeShort(value, buffer);
      const std::optional<std::string> plain = PlainEmail(value);
      ASSERT_EQ(fast.ok(), plain.has_value()) << value;
      if (plain.has_value()) {
        EXPECT_EQ(std::string(fast->value()), *plain) << value;
      }
    }
  }
}

// One generated e-mail address: a local part of letters of both cases, digits and
// punctuation, sometimes with a "+tag" (the normalizer keeps tags), a domain of labels;
// sometimes non-ASCII letters, white space around it (ASCII, ASCII controls that are not
// white space, Unicode), a broken shape (no '@', two, an empty side), invalid UTF-8 or a
// length past the short buffer.
std::string GeneratedEmail(std::mt19937& rng) {
  static const char* const kAscii =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-!#$%&'*/=?^`{|}~";
  static const char* const kNonAscii[] = {"\xC3\xA9", "\xC3\x96",     "\xC3\x9F",    "\xC4\xB0",
                                          "\xCE\xA3", "\xEF\xBD\x86", "\xE2\x84\xAA"};
  static const char* const kSpace[] = {" ",        "\t",           "\n",      "\r\n",
                                       "\x0b",     "\x0c",         "\x1c",    "\x1f",
                                       "\xC2\xA0", "\xE2\x80\x83", "\xC2\x85"};
  const bool unicode = rng() % 4 == 0;  // an address with non-ASCII letters
  const auto part = [&](size_t max) {
    std::string out;
    const size_t n = rng() % max;
    for (size_t i = 0; i < n; ++i) {
      if (unicode && rng() % 8 == 0) {
        out += kNonAscii[rng() % 7];
      } else {
        out += kAscii[rng() % 80];
      }
    }
    return out;
  };
  std::string local = part(20);
  if (rng() % 4 == 0) local += "+" + part(8);
  std::string domain = part(12) + "." + part(6);
  if (rng() % 3 == 0) domain = part(10) + "." + domain;
  std::string value;
  switch (rng() % 12) {
    case 0:
      value = local + domain;
      break;  // no '@'
    case 1:
      value = local + "@" + domain + "@x";
      break;  // two
    case 2:
      value = "@" + domain;
      break;  // empty local part
    case 3:
      value = local + "@";
      break;  // empty domain
    case 4:
      value = local + "@" + domain + "\xFF";
      break;  // invalid UTF-8
    case 5:
      value = std::string(120 + rng() % 20, 'a') + "@" + domain;
      break;  // long
    default:
      value = local + "@" + domain;
  }
  if (rng() % 3 == 0) value = kSpace[rng() % 11] + value;
  if (rng() % 3 == 0) value += kSpace[rng() % 11];
  return value;
}

TEST(NormalizeShortTest, EmailAsciiPathsGiveIcusAnswerOverGeneratedAddresses) {
  const ValueNormalizer email = ValueNormalizer::Create(Normalizer::kEmail, "").value();
  std::mt19937 rng(2026);
  size_t shortcut = 0, rejected = 0, non_ascii = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string value = GeneratedEmail(rng);
    SCOPED_TRACE(::testing::PrintToString(value));
    const auto icu = NormalizeEmailWithIcu(value);
    const auto full = NormalizeEmail(value);
    ASSERT_EQ(full.ok(), icu.ok());
    if (icu.ok()) {
      EXPECT_EQ(*full, *icu);
    } else {
      EXPECT_EQ(full.status(), icu.status());
      ++rejected;
    }
    non_ascii += std::any_of(value.begin(), value.end(), [](char c) { return c & 0x80; });
    char buffer[kShortValueSize];
    auto fast = email.NormalizeShort(value, buffer);
    if (!fast.ok()) {
      EXPECT_EQ(fast.status(), icu.status());
      continue;
    }
    if (!fast->has_value()) continue;
    ++shortcut;
    ASSERT_THAT(icu, IsOk());
    EXPECT_EQ(std::string(**fast), *icu);
  }
  EXPECT_GT(shortcut, 5000u);
  EXPECT_GT(rejected, 3000u);
  EXPECT_GT(non_ascii, 3000u);
}

TEST(NormalizeShortTest, EmailDeclinesNonAsciiAndLongValuesAndFailsLikeNormalize) {
  const ValueNormalizer email = ValueNormalizer::Create(Normalizer::kEmail, "").value();
  ExpectAgrees(email,
               "J\xC3\x96RG@B\xC3\x9C"
               "CHER.DE",
               false);
  ExpectAgrees(email, "\xC2\xA0jane@example.com", false);
  ExpectAgrees(email, std::string(200, 'a') + "@example.com", false);
  ExpectAgrees(email, " \t Jane@Example.com \n", true);
  ExpectAgrees(email, std::string(kShortValueSize - 4, 'A') + "@b.c", true);
  for (const char* bad : {"", " ", "jane", "@x", "x@", "a@b@c", "@", "jane@exa\xFFmple.com"}) {
    ExpectAgrees(email, bad, false);
  }
}

TEST(NormalizeShortTest, RandomAsciiValuesAgreeForEveryKind) {
  std::mt19937 rng(42);
  const ValueNormalizer normalizers[] = {
      ValueNormalizer::Create(Normalizer::kEmail, "").value(),
      ValueNormalizer::Create(Normalizer::kName, "").value(),
      ValueNormalizer::Create(Normalizer::kExact, "").value(),
  };
  for (int i = 0; i < 3000; ++i) {
    std::string value(rng() % 40, ' ');
    for (char& ch : value)
      ch = static_cast<char>(rng() % 4 == 0 ? "@ \tAZaz"[rng() % 7] : 1 + rng() % 127);
    for (const ValueNormalizer& n : normalizers)
      ExpectAgrees(n, value, n.kind() != Normalizer::kEmail || n.Normalize(value).ok());
  }
}

TEST(NormalizeShortTest, PhoneAlwaysDeclines) {
  const ValueNormalizer phone = ValueNormalizer::Create(Normalizer::kPhone, "AU").value();
  char buffer[kShortValueSize];
  auto fast = phone.NormalizeShort("+61255500199", buffer);
  ASSERT_THAT(fast, IsOk());
  EXPECT_FALSE(fast->has_value());
}

}  // namespace
}  // namespace piicrypt::internal
