// Length padding of randomized and deterministic fields (formats 0x03 and 0x04 of
// docs/SPEC.md): the sizes it pads to, round trips at every length across the size classes,
// golden ciphertexts of an independent implementation (scripts/gen_golden.py), malformed
// padding inside authentic ciphertexts, and the padded/unpadded distinction in the header.
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "piicrypt/subtle/field_cipher.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/field_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::HexDecode;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

SecretData Root() { return SecretData(32, 0x21); }

FieldPadding Multiple(uint32_t n) {
  FieldPadding p;
  p.multiple = n;
  return p;
}
FieldPadding Buckets(std::vector<uint32_t> b) {
  FieldPadding p;
  p.buckets = std::move(b);
  return p;
}

FieldPadding PaddingOf(const nlohmann::json& j) {
  if (j.contains("multiple")) return Multiple(j["multiple"].get<uint32_t>());
  return Buckets(j["buckets"].get<std::vector<uint32_t>>());
}

nlohmann::json Golden() {
  std::ifstream in(testing::TestDataFile("golden_ciphertexts.json"));
  return nlohmann::json::parse(in);
}

TEST(FieldPaddingTest, PaddedSizeOfMultiplesAndBuckets) {
  const FieldPadding m16 = Multiple(16);
  EXPECT_EQ(m16.PaddedSize(0), 16u);  // the empty value looks like a short one
  EXPECT_EQ(m16.PaddedSize(1), 16u);
  EXPECT_EQ(m16.PaddedSize(16), 16u);
  EXPECT_EQ(m16.PaddedSize(17), 32u);
  EXPECT_EQ(Multiple(1).PaddedSize(0), 1u);
  EXPECT_EQ(Multiple(1).PaddedSize(7), 7u);
  const FieldPadding b = Buckets({16, 32, 64});
  EXPECT_EQ(b.PaddedSize(0), 16u);
  EXPECT_EQ(b.PaddedSize(16), 16u);
  EXPECT_EQ(b.PaddedSize(17), 32u);
  EXPECT_EQ(b.PaddedSize(33), 64u);
  EXPECT_EQ(b.PaddedSize(64), 64u);
  EXPECT_EQ(b.PaddedSize(65), 128u);  // past the largest: multiples of it
  EXPECT_EQ(b.PaddedSize(129), 192u);
  EXPECT_FALSE(FieldPadding().enabled());
  EXPECT_TRUE(m16.enabled());
  EXPECT_TRUE(b.enabled());
}

TEST(FieldPaddingTest, ValidateRefusesBadPadding) {
  EXPECT_THAT(FieldPadding().Validate(), IsOk());
  EXPECT_THAT(Multiple(1).Validate(), IsOk());
  EXPECT_THAT(Multiple(4096).Validate(), IsOk());
  EXPECT_THAT(Buckets({1, 65536}).Validate(), IsOk());
  FieldPadding both = Buckets({16});
  both.multiple = 16;
  for (const FieldPadding& bad : {both, Multiple(4097), Buckets({0, 16}), Buckets({16, 65537}),
                                  Buckets({32, 16}), Buckets({16, 16})}) {
    EXPECT_THAT(bad.Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  std::vector<uint32_t> many;
  for (uint32_t i = 1; i <= 65; ++i) many.push_back(i);
  EXPECT_THAT(Buckets(many).Validate(), StatusIs(absl::StatusCode::kInvalidArgument));
  many.pop_back();
  EXPECT_THAT(Buckets(many).Validate(), IsOk());
  EXPECT_THAT(FieldCipher::Create(1, Root(), "f", FieldMode::kRandomized, Multiple(5000)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto cipher = FieldCipher::Create(1, Root(), "f", FieldMode::kRandomized);
  ASSERT_THAT(cipher, IsOk());
  EXPECT_THAT((*cipher)->WithPadding(Buckets({8, 4})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FieldPaddingTest, UnpaddedSizeFindsTheMarker) {
  auto size = [](const std::string& s) { return internal::UnpaddedSize(testing::Bytes(s)); };
  EXPECT_EQ(size(std::string("\x80", 1)), 0);
  EXPECT_EQ(size(std::string("ab\x80\0\0", 5)), 2);
  EXPECT_EQ(size(std::string("a\x80\x80\0", 4)), 2);  // the last non-zero byte is the marker
  EXPECT_EQ(size(std::string("\0\0\0", 3)), -1);
  EXPECT_EQ(size(""), -1);
  EXPECT_EQ(size(std::string("ab\x81\0", 4)), -1);
  EXPECT_EQ(size(std::string("ab\x80\x01", 4)), -1);
  EXPECT_EQ(size("abc"), -1);
}

struct ModeCase {
  const char* name;
  FieldMode mode;
  uint8_t unpadded_format;
  uint8_t padded_format;
};
constexpr ModeCase kModes[] = {{"Randomized", FieldMode::kRandomized, 0x01, 0x03},
                               {"Deterministic", FieldMode::kDeterministic, 0x02, 0x04}};

class PaddedFieldCipherTest : public ::testing::TestWithParam<ModeCase> {
 protected:
  std::unique_ptr<FieldCipher> Make(const FieldPadding& padding) {
    auto cipher = FieldCipher::Create(77, Root(), "orders.customer_name", GetParam().mode, padding);
    EXPECT_THAT(cipher, IsOk());
    return *std::move(cipher);
  }
  size_t Overhead() const {
    return GetParam().mode == FieldMode::kRandomized ? internal::kRandomizedOverhead
                                                     : internal::kDeterministicOverhead;
  }
};

TEST_P(PaddedFieldCipherTest, RoundTripsEveryLengthAcrossTheSizeClasses) {
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 200; ++n) lengths.push_back(n);
  for (size_t n : {255, 256, 257, 470, 480, 511, 512, 513, 1000, 5000}) lengths.push_back(n);
  for (const FieldPadding& padding : {Buckets({16, 32, 64}), Multiple(16), Multiple(1)}) {
    auto cipher = Make(padding);
    auto plain_reader = FieldCipher::Create(77, Root(), "orders.customer_name", GetParam().mode);
    ASSERT_THAT(plain_reader, IsOk());
    for (size_t n : lengths) {
      std::string value(n, 'v');
      for (size_t i = 0; i < n; ++i) value[i] = static_cast<char>(i * 7 + 1);
      if (n > 3) value[n - 1] = '\0';  // values may end in zero bytes and 0x80
      if (n > 4) value[n - 2] = static_cast<char>(0x80);
      const std::string record = n % 2 ? "order-1" : "";
      auto binary = cipher->Encrypt(value, record);
      ASSERT_THAT(binary, IsOk());
      ASSERT_EQ(binary->size(), Overhead() + padding.PaddedSize(n) + 1) << n;
      EXPECT_EQ(binary->size(), FieldCipher::CiphertextSize(GetParam().mode, padding, n));
      EXPECT_EQ(static_cast<uint8_t>((*binary)[0]), GetParam().padded_format);
      auto back = cipher->Decrypt(*binary, record);
      ASSERT_THAT(back, IsOk()) << n;
      EXPECT_EQ(*back, value) << n;
      // Every cipher of the field reads the padded form, with or without padding itself.
      EXPECT_EQ(*(*plain_reader)->Decrypt(*binary, record), value) << n;
      auto text = cipher->EncryptText(value, record);
      ASSERT_THAT(text, IsOk());
      EXPECT_EQ(text->size(), internal::Base64UrlEncodedSize(binary->size()));
      EXPECT_EQ(*cipher->DecryptText(*text, record), value) << n;
    }
  }
}

TEST_P(PaddedFieldCipherTest, ValuesOfOneSizeClassHaveOneCiphertextLength) {
  auto cipher = Make(Buckets({16, 32, 64}));
  EXPECT_EQ(cipher->Encrypt("")->size(), cipher->Encrypt("Jo")->size());
  EXPECT_EQ(cipher->Encrypt("Jo")->size(), cipher->Encrypt(std::string(16, 'x'))->size());
  EXPECT_NE(cipher->Encrypt(std::string(16, 'x'))->size(),
            cipher->Encrypt(std::string(17, 'x'))->size());
  EXPECT_EQ(cipher->Encrypt("Zoë Ångström-Núñez")->size(),
            cipher->Encrypt("Bob Smith")->size() + 16);
}

TEST_P(PaddedFieldCipherTest, UnpaddedCipherWritesTheUnpaddedFormatAndReadsBoth) {
  auto unpadded = Make(FieldPadding());
  auto padded = *unpadded->WithPadding(Buckets({32}));
  const std::string old_value = *unpadded->Encrypt("Jane Doe", "r");
  EXPECT_EQ(static_cast<uint8_t>(old_value[0]), GetParam().unpadded_format);
  EXPECT_EQ(old_value.size(), Overhead() + 8);
  EXPECT_EQ(*padded->Decrypt(old_value, "r"), "Jane Doe");
  const std::string new_value = *padded->Encrypt("Jane Doe", "r");
  EXPECT_EQ(*unpadded->Decrypt(new_value, "r"), "Jane Doe");
  EXPECT_EQ(padded->padding(), Buckets({32}));
  EXPECT_FALSE(unpadded->padding().enabled());
  EXPECT_EQ(padded->key_id(), 77u);
  EXPECT_EQ(padded->context(), "orders.customer_name");
}

// The format byte is in the associated data: a padded value relabelled unpadded (whose
// plaintext would then include the padding) fails, and so does the reverse.
TEST_P(PaddedFieldCipherTest, ChangingPaddedToUnpaddedInTheHeaderFails) {
  auto cipher = Make(Multiple(16));
  for (const char* record : {"", "order-3"}) {
    std::string ct = *cipher->Encrypt("Jane Doe", record);
    ct[0] = static_cast<char>(GetParam().unpadded_format);
    auto result = cipher->Decrypt(ct, record);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument)) << record;
    EXPECT_EQ(result.status().message(), "orders.customer_name: decryption failed");
    std::string old_value = *Make(FieldPadding())->Encrypt("Jane Doe", record);
    old_value[0] = static_cast<char>(GetParam().padded_format);
    EXPECT_THAT(cipher->Decrypt(old_value, record), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST_P(PaddedFieldCipherTest, EveryFlippedBitAndTruncationFails) {
  auto cipher = Make(Buckets({16, 32}));
  const std::string ct = *cipher->Encrypt("Jane", "order-9");
  for (size_t i = 0; i < ct.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = ct;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      ASSERT_FALSE(cipher->Decrypt(bad, "order-9").ok()) << "byte " << i << " bit " << bit;
    }
  }
  for (size_t n = 0; n < ct.size(); ++n) {
    EXPECT_THAT(cipher->Decrypt(ct.substr(0, n), "order-9"),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST_P(PaddedFieldCipherTest, EqualityIsKeptOnlyInDeterministicMode) {
  auto cipher = Make(Buckets({16, 32}));
  const std::string a = *cipher->Encrypt("same"), b = *cipher->Encrypt("same");
  EXPECT_EQ(a == b, GetParam().mode == FieldMode::kDeterministic);
  EXPECT_NE(*cipher->Encrypt("same"), *cipher->Encrypt("sane"));
}

INSTANTIATE_TEST_SUITE_P(AllModes, PaddedFieldCipherTest, ::testing::ValuesIn(kModes),
                         [](const auto& p) { return std::string(p.param.name); });

// The padded golden ciphertexts of the independent implementation decrypt; piicrypt
// writes exactly the same bytes (deterministic) or, with the golden nonce, the same padded
// plaintext (randomized).
TEST(FieldPaddingGoldenTest, DecryptsAndReproducesEveryPaddedGoldenCiphertext) {
  const auto golden = Golden();
  ASSERT_GE(golden["padded_field_ciphertexts"].size(), 20u);
  for (const auto& c : golden["padded_field_ciphertexts"]) {
    const std::string root = HexDecode(c["root_hex"].get<std::string>());
    const std::string context = c["context"].get<std::string>();
    const std::string record = c["record"].get<std::string>();
    const std::string plaintext = c["plaintext"].get<std::string>();
    const std::string text = c["ciphertext"].get<std::string>();
    const FieldPadding padding = PaddingOf(c["padding"]);
    const FieldMode mode =
        c["mode"] == "randomized" ? FieldMode::kRandomized : FieldMode::kDeterministic;
    auto cipher = FieldCipher::Create(c["key_id"].get<uint32_t>(), SecretDataFromString(root),
                                      context, mode, padding);
    ASSERT_THAT(cipher, IsOk());
    auto plain = (*cipher)->DecryptText(text, record);
    ASSERT_THAT(plain, IsOk()) << text;
    EXPECT_EQ(*plain, plaintext);
    const std::string binary = *internal::Base64UrlDecode(text);
    EXPECT_EQ(binary.size(), FieldCipher::CiphertextSize(mode, padding, plaintext.size()));
    if (mode == FieldMode::kDeterministic) {
      EXPECT_EQ(*(*cipher)->EncryptText(plaintext, record), text);
      continue;
    }
    const size_t padded_size = padding.PaddedSize(plaintext.size());
    std::string encoded(padded_size + 1, '\0');
    internal::PadValue(plaintext, padded_size, reinterpret_cast<uint8_t*>(encoded.data()));
    auto key =
        internal::DeriveFieldKey(testing::Bytes(root), internal::FieldPurpose::kAead, context);
    auto gcm = *internal::AesGcm::Create(*key);
    const std::string header = binary.substr(0, internal::kHeaderSize);
    const std::string nonce = HexDecode(c["nonce_hex"].get<std::string>());
    std::string ct(encoded.size(), '\0'), tag(16, '\0');
    ASSERT_THAT(gcm->Seal(nonce, internal::AssociatedData(header, context, record), encoded,
                          absl::MakeSpan(reinterpret_cast<uint8_t*>(ct.data()), ct.size()),
                          absl::MakeSpan(reinterpret_cast<uint8_t*>(tag.data()), 16)),
                IsOk());
    EXPECT_EQ(header, std::string("\x03\x0a\x0b\x0c\x0d", 5));
    EXPECT_EQ(header + nonce + ct + tag, binary);
  }
}

// Authentic ciphertexts whose plaintext is not a padded value fail like any other failed
// decryption: one code, one message.
TEST(FieldPaddingGoldenTest, MalformedPaddingFailsAsADecryption) {
  const auto golden = Golden();
  ASSERT_GE(golden["malformed_padding"].size(), 10u);
  for (const auto& c : golden["malformed_padding"]) {
    const FieldMode mode =
        c["mode"] == "randomized" ? FieldMode::kRandomized : FieldMode::kDeterministic;
    auto cipher =
        FieldCipher::Create(c["key_id"].get<uint32_t>(),
                            SecretDataFromString(HexDecode(c["root_hex"].get<std::string>())),
                            c["context"].get<std::string>(), mode);
    ASSERT_THAT(cipher, IsOk());
    auto result =
        (*cipher)->DecryptText(c["ciphertext"].get<std::string>(), c["record"].get<std::string>());
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument)) << c["why"];
    EXPECT_EQ(result.status().message(), "orders.customer_name: decryption failed") << c["why"];
  }
}

}  // namespace
}  // namespace piicrypt
