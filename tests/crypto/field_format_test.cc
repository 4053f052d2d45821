// The field format of docs/SPEC.md: parsing bounds, associated data, base64url, blind-index
// truncation, and field-key derivation.
#include "src/crypto/field_format.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using ::piicrypt::testing::HexDecode;
using ::piicrypt::testing::HexEncode;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

TEST(FieldFormatTest, ParsesBothFormatsAndRoundTrips) {
  const std::string rnd = HexDecode("01a1b2c3d4") + std::string(12 + 16, 'x');
  auto view = ParseCiphertext(rnd);
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->format, kRandomizedFormat);
  EXPECT_EQ(view->key_id, 0xa1b2c3d4u);
  EXPECT_EQ(view->body.size(), 28u);
  EXPECT_EQ(SerializeCiphertext(*view), rnd);

  const std::string det = HexDecode("0200000001") + std::string(16, 'y') + "ct";
  view = ParseCiphertext(det);
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->format, kDeterministicFormat);
  EXPECT_EQ(view->key_id, 1u);
  EXPECT_EQ(SerializeCiphertext(*view), det);
}

// ParseCiphertextTo (the decrypt hot path) accepts exactly what ParseCiphertext does, and
// ParseCiphertext names the reason of each refusal.
TEST(FieldFormatTest, InlineParseAgreesAndEveryRefusalIsNamed) {
  for (int format = 0; format < 256; ++format) {
    for (uint32_t key_id : {0u, 7u}) {
      for (size_t size = 0; size <= kRandomizedOverhead + 2; ++size) {
        std::string in(size, 'x');
        if (size > 0) in[0] = static_cast<char>(format);
        for (size_t i = 1; i < 5 && i < size; ++i) {
          in[i] = static_cast<char>(key_id >> (8 * (4 - i)));
        }
        CiphertextView view;
        const bool parsed = ParseCiphertextTo(in, &view);
        const auto status = ParseCiphertext(in);
        ASSERT_EQ(parsed, status.ok()) << format << " " << key_id << " " << size;
        const size_t min_size = MinCiphertextSize(static_cast<uint8_t>(format));
        const char* reason = parsed               ? ""
                             : size < kHeaderSize ? "(too short)"
                             : min_size == 0      ? "(unknown format byte)"
                             : size < min_size    ? "(too short)"
                                                  : "(key id 0)";
        if (parsed) {
          EXPECT_EQ(view.format, format);
          EXPECT_EQ(view.key_id, key_id);
          EXPECT_EQ(view.body.size(), size - kHeaderSize);
        } else {
          EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
          EXPECT_NE(status.status().message().find(reason), absl::string_view::npos)
              << format << " " << key_id << " " << size << ": " << status.status().message();
        }
      }
    }
  }
}

TEST(FieldFormatTest, RejectsEveryTruncationUnknownFormatAndKeyIdZero) {
  const std::string rnd = HexDecode("0100000007") + std::string(28, 'x');
  for (size_t n = 0; n < rnd.size(); ++n) {
    EXPECT_THAT(ParseCiphertext(rnd.substr(0, n)), StatusIs(absl::StatusCode::kInvalidArgument))
        << n;
  }
  const std::string det = HexDecode("0200000007") + std::string(16, 'x');
  for (size_t n = 0; n < det.size(); ++n) {
    EXPECT_THAT(ParseCiphertext(det.substr(0, n)), StatusIs(absl::StatusCode::kInvalidArgument))
        << n;
  }
  EXPECT_THAT(ParseCiphertext(det), IsOk());
  for (int format : {0x00, 0x05, 0x7f, 0xff}) {
    std::string bad = rnd + "x";
    bad[0] = static_cast<char>(format);
    EXPECT_THAT(ParseCiphertext(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  // The padded formats: the overhead and at least the one byte of the padding's marker.
  for (const std::string& padded : {HexDecode("0300000007") + std::string(29, 'x'),
                                    HexDecode("0400000007") + std::string(17, 'x')}) {
    for (size_t n = 0; n < padded.size(); ++n) {
      EXPECT_THAT(ParseCiphertext(padded.substr(0, n)),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << n;
    }
    auto view = ParseCiphertext(padded);
    ASSERT_THAT(view, IsOk());
    EXPECT_EQ(view->format, static_cast<uint8_t>(padded[0]));
    EXPECT_TRUE(IsPaddedFormat(view->format));
  }
  EXPECT_TRUE(IsRandomizedFormat(kRandomizedPaddedFormat));
  EXPECT_FALSE(IsRandomizedFormat(kDeterministicPaddedFormat));
  EXPECT_FALSE(IsPaddedFormat(kRandomizedFormat));
  EXPECT_THAT(ParseCiphertext(HexDecode("0100000000") + std::string(28, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FieldFormatTest, AssociatedDataLayout) {
  const std::string ad = AssociatedData(HexDecode("0100000007"), "orders.email", "42");
  EXPECT_EQ(HexEncode(ad),
            "0100000007"
            "0000000c" +
                HexEncode("orders.email") + "00000002" + HexEncode("42"));
  EXPECT_EQ(HexEncode(AssociatedData(HexDecode("0200000001"), "c", "")),
            "0200000001"
            "00000001"
            "63"
            "00000000");
}

TEST(FieldFormatTest, Base64UrlMatchesRfc4648AndIsStrict) {
  // RFC 4648 section 10 vectors, padding removed.
  const std::pair<std::string, std::string> kVectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [raw, text] : kVectors) {
    EXPECT_EQ(Base64UrlEncode(raw), text);
    auto back = Base64UrlDecode(text);
    ASSERT_THAT(back, IsOk());
    EXPECT_EQ(*back, raw);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  for (const char* bad :
       {"Zg==", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm9v\n", " Zm9v", "Zm\x80v"}) {
    EXPECT_THAT(Base64UrlDecode(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(FieldFormatTest, TruncatedHexClearsUnusedLowBits) {
  const std::string mac = HexDecode("ffffffffff");
  const auto span = ::piicrypt::testing::Bytes(mac);
  EXPECT_EQ(TruncatedHex(span, 8), "ff");
  EXPECT_EQ(TruncatedHex(span, 1), "80");
  EXPECT_EQ(TruncatedHex(span, 12), "fff0");
  EXPECT_EQ(TruncatedHex(span, 20), "fffff0");
  EXPECT_EQ(TruncatedHex(span, 39), "fffffffffe");
}

TEST(FieldFormatTest, DerivationMatchesHkdfAndValidatesInputs) {
  const std::string root =
      HexDecode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const auto r = ::piicrypt::testing::Bytes(root);
  auto aead = DeriveFieldKey(r, FieldPurpose::kAead, "orders.email");
  auto daead = DeriveFieldKey(r, FieldPurpose::kDaead, "orders.email");
  auto bidx = DeriveFieldKey(r, FieldPurpose::kBlindIndex, "orders.email");
  auto ff1 = DeriveFieldKey(r, FieldPurpose::kFf1, "orders.email");
  auto token = DeriveFieldKey(r, FieldPurpose::kToken, "orders.email");
  ASSERT_THAT(aead, IsOk());
  EXPECT_EQ(aead->size(), 32u);
  EXPECT_EQ(daead->size(), 64u);
  EXPECT_EQ(bidx->size(), 32u);
  EXPECT_EQ(ff1->size(), 32u);
  EXPECT_EQ(token->size(), 32u);
  // Purposes and contexts separate keys.
  EXPECT_FALSE(SecretEquals(*aead, *bidx));
  EXPECT_FALSE(SecretEquals(*aead, *DeriveFieldKey(r, FieldPurpose::kAead, "orders.phone")));
  EXPECT_THAT(DeriveFieldKey(r.subspan(0, 31), FieldPurpose::kAead, "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DeriveFieldKey(r, FieldPurpose::kAead, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DeriveFieldKey(r, FieldPurpose::kAead, std::string(kMaxContextSize + 1, 'c')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// The fast encoder (8-byte steps, pair table, tails) against OpenSSL's base64 with the
// URL-safe alphabet substituted and padding removed, for every length up to 100.
TEST(FieldFormatTest, Base64UrlEncodeMatchesOpenSslForEveryLength) {
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes.push_back(static_cast<char>((i * 167 + 13) & 0xff));
  for (size_t n = 0; n <= bytes.size(); ++n) {
    std::string ref(4 * ((n + 2) / 3) + 1, '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(ref.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(n));
    ref.resize(static_cast<size_t>(len));
    while (!ref.empty() && ref.back() == '=') ref.pop_back();
    for (char& c : ref) c = c == '+' ? '-' : c == '/' ? '_' : c;
    const std::string got = Base64UrlEncode(absl::string_view(bytes.data(), n));
    EXPECT_EQ(got, ref) << n;
    EXPECT_EQ(got.size(), Base64UrlEncodedSize(n));
    EXPECT_EQ(Base64UrlDecode(got).value(), bytes.substr(0, n));
  }
}

// Every encoder (on x86-64: AVX2 from 24 bytes, SSSE3 from 16, each with an overlapping
// last step from the input's final 16 bytes and a scalar tail; the portable one; the
// padded form, whole AVX2 steps over zero-padded input), for
// every length up to 300 and inputs that reach every character: against absl's web-safe
// base64, which has no padding. Each input
// sits alone in an allocation of its exact size (a sanitizer build catches any read past
// it), and the output buffer has canaries on both sides.
TEST(FieldFormatTest, Base64UrlEncodeToMatchesAbslForEveryLengthAndStaysInBounds) {
  const auto patterns = {
      +[](size_t i) { return static_cast<uint8_t>(i * 167 + 13); },
      +[](size_t) { return uint8_t{0x00}; },
      +[](size_t) { return uint8_t{0xff}; },
      +[](size_t i) { return static_cast<uint8_t>(i % 2 ? 0xfb : 0xef); },  // "-" and "_"
      +[](size_t i) { return static_cast<uint8_t>((i * 2654435761u) >> 13); },
  };
  constexpr char kCanary = '#';
  for (auto pattern : patterns) {
    for (size_t n = 0; n <= 300; ++n) {
      std::unique_ptr<char[]> in(new char[n]);
      for (size_t i = 0; i < n; ++i) in[i] = static_cast<char>(pattern(i));
      const absl::string_view bytes(in.get(), n);
      const std::string want = absl::WebSafeBase64Escape(bytes);
      ASSERT_EQ(Base64UrlEncodedSize(n), want.size()) << n;
      // Levels 2, 1, 0 (AVX2, SSSE3, portable, as far as this CPU has them), then the
      // portable encoder by name.
      for (int level : {2, 1, 0, -1}) {
        std::string buf(want.size() + 32, kCanary);
        const size_t written = level >= 0 ? Base64UrlEncodeAtLevelTo(level, bytes, buf.data() + 16)
                                          : Base64UrlEncodePortableTo(bytes, buf.data() + 16);
        EXPECT_EQ(written, want.size()) << n << " level " << level;
        EXPECT_EQ(buf.substr(16, want.size()), want) << n << " level " << level;
        EXPECT_EQ(buf.substr(0, 16), std::string(16, kCanary)) << n;
        EXPECT_EQ(buf.substr(16 + want.size()), std::string(16, kCanary)) << n;
      }
      // The padded form: the input with its slack (garbage, which it zeroes) in one
      // allocation of exactly that size, the output with its slack and canaries after it.
      std::unique_ptr<uint8_t[]> padded(new uint8_t[n + kBase64Slack]);
      std::memcpy(padded.get(), in.get(), n);
      std::memset(padded.get() + n, 0xa5, kBase64Slack);
      std::string out(want.size() + kBase64Slack + 16, kCanary);
      EXPECT_EQ(Base64UrlEncodePaddedTo(padded.get(), n, out.data()), want.size()) << n;
      EXPECT_EQ(out.substr(0, want.size()), want) << n;
      EXPECT_EQ(out.substr(want.size() + kBase64Slack), std::string(16, kCanary)) << n;

      EXPECT_EQ(Base64UrlEncode(bytes), want) << n;
      EXPECT_EQ(Base64UrlDecode(want).value(), bytes) << n;
    }
  }
}

}  // namespace
}  // namespace piicrypt::internal
