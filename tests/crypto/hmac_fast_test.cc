// HmacSha256Fast (precomputed inner and outer states) against RFC 4231's HMAC-SHA256
// vectors and against HmacSha256, the EVP_MAC form, for random keys and messages.
#include <openssl/rand.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "src/crypto/hmac.h"
#include "src/crypto/hmac_sha256_fast.h"

namespace piicrypt::internal {
namespace {

struct Rfc4231Case {
  const char* name;
  std::string key_hex;
  std::string data_hex;
  const char* tag_hex;  // HMAC-SHA-256, all 32 bytes
};

std::string Repeat(const char* hex_byte, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += hex_byte;
  return out;
}

// RFC 4231 section 4 (test case 5 checks a truncated output: its full tag is not given).
const Rfc4231Case kCases[] = {
    {"case1", Repeat("0b", 20), "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"case2", "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"case3", Repeat("aa", 20), Repeat("dd", 50),
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {"case4", "0102030405060708090a0b0c0d0e0f10111213141516171819", Repeat("cd", 50),
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {"case6_long_key", Repeat("aa", 131),
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
     "617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {"case7_long_key_and_data", Repeat("aa", 131),
     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f63"
     "6b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a65"
     "20646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f72"
     "65206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
std::string Hex(const HmacSha256Fast::Tag& tag) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(tag.data()), tag.size()));
}

TEST(HmacSha256FastTest, Rfc4231Vectors) {
  for (const Rfc4231Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const std::string key = absl::HexStringToBytes(c.key_hex);
    const std::string data = absl::HexStringToBytes(c.data_hex);
    HmacSha256Fast hmac(Bytes(key));
    EXPECT_EQ(Hex(hmac.Compute(data)), c.tag_hex);
    // The states are reused: a second call gives the same tag.
    EXPECT_EQ(Hex(hmac.Compute(data)), c.tag_hex);
  }
}

// Keys of 0 to 200 bytes (below, at and above the 64-byte block) and messages of 0 to
// 300 bytes (every padding case of the inner hash), against the EVP_MAC implementation.
TEST(HmacSha256FastTest, MatchesEvpHmacForRandomKeysAndLengths) {
  std::mt19937 rng(20261207);
  std::uniform_int_distribution<int> byte(0, 255);
  auto random_bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    return s;
  };
  const size_t key_sizes[] = {0, 1, 16, 31, 32, 33, 63, 64, 65, 100, 128, 200};
  for (size_t key_size : key_sizes) {
    const std::string key = random_bytes(key_size);
    HmacSha256Fast fast(Bytes(key));
    auto evp = HmacSha256::Create(Bytes(key));
    ASSERT_TRUE(evp.ok());
    for (size_t len = 0; len <= 300; len += (len < 130 ? 1 : 17)) {
      SCOPED_TRACE(testing::Message() << "key " << key_size << " message " << len);
      const std::string message = random_bytes(len);
      HmacSha256::Tag expected;
      ASSERT_TRUE((*evp)->Compute(message, expected).ok());
      const HmacSha256Fast::Tag got = fast.Compute(message);
      ASSERT_EQ(Hex(got), absl::BytesToHexString(absl::string_view(
                              reinterpret_cast<const char*>(expected.data()), expected.size())));
    }
  }
}

// Different keys give different tags (the key is really absorbed into both states).
TEST(HmacSha256FastTest, KeyChangesTag) {
  const std::string a(32, 'a'), b(32, 'b');
  EXPECT_NE(Hex(HmacSha256Fast(Bytes(a)).Compute("x")), Hex(HmacSha256Fast(Bytes(b)).Compute("x")));
}

}  // namespace
}  // namespace piicrypt::internal
