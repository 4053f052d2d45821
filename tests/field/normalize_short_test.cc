// ValueNormalizer::NormalizeShort (the blind index's allocation-free path) gives exactly
// what Normalize gives, or declines; for every ASCII byte at every position of the
// eight-byte steps, and for the inputs that must decline or fail.
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
      std::string value = "Ab.Z@example.COM.xy";  // 19 bytes: two full words and a tail
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
