// Base64UrlDecodeTo (with its SIMD blocks) against the encoder: every length from 0 to 300
// bytes round-trips, and a character outside the alphabet at any position, inside a SIMD
// block or in the scalar tail, is rejected.
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

}  // namespace
}  // namespace piicrypt::internal
