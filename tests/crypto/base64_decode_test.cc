// Base64UrlDecodeTo (with its SIMD blocks) against the encoder: every length from 0 to 300
// bytes round-trips, and a character outside the alphabet at any position, inside a SIMD
// block or in the scalar tail, is rejected; at every decoder level the CPU has (AVX2,
// SSSE3, portable), every non-canonical text (padding, a length of 1 mod 4, non-zero
// unused bits) is rejected, and the levels agree on arbitrary text.
#include <optional>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "src/crypto/field_format.h"

namespace piicrypt::internal {
namespace {

TEST(Base64UrlDecodeToTest, RoundTripsEveryLength) {
  std::mt19937 rng(7);
  for (size_t len = 0; len <= 300; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string text = Base64UrlEncode(bytes);
    std::string out(Base64UrlDecodedSize(text.size()), '\0');
    ASSERT_TRUE(Base64UrlDecodeTo(text, reinterpret_cast<uint8_t*>(out.data()))) << len;
    EXPECT_EQ(out, bytes) << len;
  }
}

TEST(Base64UrlDecodeToTest, RejectsAForeignCharacterAtEveryPosition) {
  const std::string text = Base64UrlEncode(std::string(90, '\x5a'));  // 120 characters
  const char foreign[] = {'+', '/', '=', '.', ' ', '\0', '@', '[', '`', '{', '\x80', '\xff'};
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (char c : foreign) {
      std::string bad = text;
      bad[pos] = c;
      std::string out(Base64UrlDecodedSize(bad.size()), '\0');
      EXPECT_FALSE(Base64UrlDecodeTo(bad, reinterpret_cast<uint8_t*>(out.data())))
          << pos << " " << static_cast<int>(c);
    }
  }
}

TEST(Base64UrlDecodeToTest, EveryAlphabetCharacterDecodesToItsValue) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::string text = alphabet + alphabet;  // 128 characters, all in SIMD blocks
  std::string out(Base64UrlDecodedSize(text.size()), '\0');
  ASSERT_TRUE(Base64UrlDecodeTo(text, reinterpret_cast<uint8_t*>(out.data())));
  EXPECT_EQ(Base64UrlEncode(out), text);
}

// Decodes `text` at `level`; std::nullopt if rejected.
std::optional<std::string> DecodeAt(int level, const std::string& text) {
  std::string out(Base64UrlDecodedSize(text.size()), '\0');
  if (!Base64UrlDecodeAtLevelTo(level, text, reinterpret_cast<uint8_t*>(out.data()))) {
    return std::nullopt;
  }
  return out;
}

constexpr int kLevels[] = {2, 1, 0};

TEST(Base64UrlDecodeToTest, EveryLevelRoundTripsAndRejectsForeignCharacters) {
  std::mt19937 rng(11);
  const char foreign[] = {'+', '/', '=', '.', ' ', '\0', '@', '[', '`', '{', '\x80', '\xff'};
  for (int level : kLevels) {
    for (size_t len = 0; len <= 100; ++len) {
      std::string bytes(len, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      const std::string text = Base64UrlEncode(bytes);
      EXPECT_EQ(DecodeAt(level, text), bytes) << level << " " << len;
      for (size_t pos = 0; pos < text.size(); ++pos) {
        std::string bad = text;
        bad[pos] = foreign[rng() % sizeof(foreign)];
        EXPECT_EQ(DecodeAt(level, bad), std::nullopt) << level << " " << len << " " << pos;
      }
    }
  }
}

// Every byte value at every position of a text with whole blocks and a tail, at every
// level: accepted exactly when it is in the alphabet, and decoded to its value.
TEST(Base64UrlDecodeToTest, EveryLevelJudgesEveryByteValueAtEveryPosition) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // 86 characters: two 32-character blocks, then 22 ending in a group of 2, whose last
  // character carries 4 unused bits.
  const std::string text = Base64UrlEncode(std::string(64, '\0'));
  for (int level : kLevels) {
    for (size_t pos = 0; pos < text.size(); ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string t = text;
        t[pos] = static_cast<char>(b);
        const size_t value = alphabet.find(static_cast<char>(b));
        const bool valid =
            value != std::string::npos && (pos + 1 < text.size() || (value & 15) == 0);
        const auto decoded = DecodeAt(level, t);
        ASSERT_EQ(decoded.has_value(), valid) << level << " " << pos << " " << b;
        if (valid) {
          EXPECT_EQ(Base64UrlEncode(*decoded), t) << level << " " << pos;
        }
      }
    }
  }
}

// Exactly one text per byte string: the unused low bits of a final group of 2 or 3
// characters must be zero, "=" padding is not base64url without padding, and no byte
// string encodes to a length of 1 mod 4.
TEST(Base64UrlDecodeToTest, EveryLevelRejectsNonCanonicalText) {
  for (int level : kLevels) {
    for (size_t len = 1; len <= 100; ++len) {
      if (len % 3 == 0) continue;  // no partial final group
      const std::string text = Base64UrlEncode(std::string(len, '\x5a'));
      const int unused_bits = len % 3 == 1 ? 4 : 2;
      const std::string alphabet =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const size_t last = alphabet.find(text.back());
      for (int bit = 0; bit < unused_bits; ++bit) {
        std::string bad = text;
        bad.back() = alphabet[last ^ (1u << bit)];
        EXPECT_EQ(DecodeAt(level, bad), std::nullopt) << level << " " << len << " " << bit;
      }
      EXPECT_EQ(DecodeAt(level, text + (len % 3 == 1 ? "==" : "=")), std::nullopt) << level;
      std::string one_mod_four = text;
      while (one_mod_four.size() % 4 != 1) one_mod_four += 'A';
      EXPECT_EQ(DecodeAt(level, one_mod_four), std::nullopt) << level << " " << len;
    }
    EXPECT_EQ(DecodeAt(level, "A"), std::nullopt);
    EXPECT_EQ(DecodeAt(level, std::string(33, 'A')), std::nullopt);
    EXPECT_EQ(DecodeAt(level, ""), std::string());
    // An empty view may have no data at all (a null pointer), and nothing is written.
    EXPECT_TRUE(Base64UrlDecodeAtLevelTo(level, absl::string_view(), nullptr)) << level;
  }
}

TEST(Base64UrlDecodeToTest, LevelsAgreeOnArbitraryText) {
  std::mt19937 rng(5);
  const std::string chars = "AZaz09-_Qq+/= \x80";
  for (int i = 0; i < 20000; ++i) {
    std::string text(rng() % 80, 'A');
    for (char& c : text) c = chars[rng() % (rng() % 8 == 0 ? chars.size() : 8)];
    const auto portable = DecodeAt(0, text);
    EXPECT_EQ(DecodeAt(1, text), portable) << text;
    EXPECT_EQ(DecodeAt(2, text), portable) << text;
  }
}

}  // namespace
}  // namespace piicrypt::internal
