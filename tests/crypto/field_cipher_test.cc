// The public FieldCipher and BlindIndexer: golden ciphertexts from an independent
// implementation (tests/testdata/golden_ciphertexts.json, scripts/gen_golden.py), round
// trips, binding to field and record, and tampering.
#include "piicrypt/subtle/field_cipher.h"

#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "piicrypt/subtle/blind_indexer.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/field_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::HexDecode;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

struct ModeCase {
  const char* name;
  FieldMode mode;
};
constexpr ModeCase kModes[] = {{"Randomized", FieldMode::kRandomized},
                               {"Deterministic", FieldMode::kDeterministic}};

SecretData Root(char fill = 0x21) { return SecretData(32, static_cast<uint8_t>(fill)); }

nlohmann::json Golden() {
  std::ifstream in(testing::TestDataFile("golden_ciphertexts.json"));
  return nlohmann::json::parse(in);
}

TEST(FieldCipherGoldenTest, DecryptsEveryGoldenCiphertext) {
  const auto golden = Golden();
  ASSERT_GE(golden["field_ciphertexts"].size(), 16u);
  for (const auto& c : golden["field_ciphertexts"]) {
    const std::string root = HexDecode(c["root_hex"].get<std::string>());
    const FieldMode mode =
        c["mode"] == "randomized" ? FieldMode::kRandomized : FieldMode::kDeterministic;
    auto cipher = FieldCipher::Create(c["key_id"].get<uint32_t>(), SecretDataFromString(root),
                                      c["context"].get<std::string>(), mode);
    ASSERT_THAT(cipher, IsOk());
    const std::string text = c["ciphertext"].get<std::string>();
    const std::string record = c["record"].get<std::string>();
    auto plain = (*cipher)->DecryptText(text, record);
    ASSERT_THAT(plain, IsOk()) << text;
    EXPECT_EQ(*plain, c["plaintext"].get<std::string>());
    EXPECT_EQ(*FieldCipher::KeyIdOfText(text), c["key_id"].get<uint32_t>());
    if (mode == FieldMode::kDeterministic) {
      // Deterministic: piicrypt must produce exactly the same text.
      EXPECT_EQ(*(*cipher)->EncryptText(c["plaintext"].get<std::string>(), record), text);
    } else {
      // Randomized: with the golden nonce, the field key and associated data give exactly
      // the golden bytes.
      const std::string binary = *internal::Base64UrlDecode(text);
      auto key = internal::DeriveFieldKey(testing::Bytes(root), internal::FieldPurpose::kAead,
                                          c["context"].get<std::string>());
      auto gcm = *internal::AesGcm::Create(*key);
      const std::string header = binary.substr(0, internal::kHeaderSize);
      const std::string plaintext = c["plaintext"].get<std::string>();
      std::string ct(plaintext.size(), '\0'), tag(16, '\0');
      ASSERT_THAT(
          gcm->Seal(HexDecode(c["nonce_hex"].get<std::string>()),
                    internal::AssociatedData(header, c["context"].get<std::string>(), record),
                    plaintext, absl::MakeSpan(reinterpret_cast<uint8_t*>(ct.data()), ct.size()),
                    absl::MakeSpan(reinterpret_cast<uint8_t*>(tag.data()), 16)),
          IsOk());
      EXPECT_EQ(header + HexDecode(c["nonce_hex"].get<std::string>()) + ct + tag, binary);
    }
  }
}

TEST(FieldCipherGoldenTest, BlindIndexesMatch) {
  const auto golden = Golden();
  ASSERT_GE(golden["blind_indexes"].size(), 5u);
  for (const auto& c : golden["blind_indexes"]) {
    auto indexer =
        BlindIndexer::Create(SecretDataFromString(HexDecode(c["root_hex"].get<std::string>())),
                             c["context"].get<std::string>(), c["bits"].get<int>());
    ASSERT_THAT(indexer, IsOk());
    EXPECT_EQ(*(*indexer)->Compute(c["value"].get<std::string>()), c["index"].get<std::string>());
  }
}

class FieldCipherTest : public ::testing::TestWithParam<ModeCase> {
 protected:
  std::unique_ptr<FieldCipher> Make(absl::string_view context = "orders.customer_email",
                                    uint32_t key_id = 77, char fill = 0x21) {
    auto cipher = FieldCipher::Create(key_id, Root(fill), context, GetParam().mode);
    EXPECT_THAT(cipher, IsOk());
    return *std::move(cipher);
  }
};

TEST_P(FieldCipherTest, RoundTripsIncludingEmptyAndBinaryValues) {
  auto cipher = Make();
  for (const std::string& value :
       {std::string(), std::string("jane@example.com"), std::string("\0\x01\xff", 3),
        std::string(5000, 'z'), std::string("Zoë Ångström")}) {
    for (const std::string& record : {std::string(), std::string("order-1")}) {
      auto ct = cipher->Encrypt(value, record);
      ASSERT_THAT(ct, IsOk());
      EXPECT_EQ(*cipher->Decrypt(*ct, record), value);
      auto text = cipher->EncryptText(value, record);
      ASSERT_THAT(text, IsOk());
      EXPECT_EQ(text->find_first_of("+/="), std::string::npos);
      EXPECT_EQ(*cipher->DecryptText(*text, record), value);
    }
  }
}

// EncryptText builds binary ciphertexts of up to 512 bytes and their text on the stack and
// longer ones on the heap: every length across that boundary, in both modes.
TEST_P(FieldCipherTest, TextFormOnBothSidesOfTheStackBuffer) {
  auto cipher = Make();
  for (size_t n = 440; n <= 520; ++n) {
    const std::string value(n, static_cast<char>('a' + n % 26));
    auto text = cipher->EncryptText(value, "order-1");
    ASSERT_THAT(text, IsOk());
    EXPECT_EQ(*cipher->DecryptText(*text, "order-1"), value) << n;
    auto binary = internal::Base64UrlDecode(*text);
    ASSERT_THAT(binary, IsOk());
    EXPECT_EQ(*cipher->Decrypt(*binary, "order-1"), value) << n;
    if (GetParam().mode == FieldMode::kDeterministic) {
      EXPECT_EQ(*text, internal::Base64UrlEncode(*cipher->Encrypt(value, "order-1"))) << n;
    }
  }
}

TEST_P(FieldCipherTest, HeaderCarriesFormatAndKeyId) {
  auto cipher = Make("orders.phone", 0xDEADBEEF);
  const std::string ct = *cipher->Encrypt("x");
  EXPECT_EQ(static_cast<uint8_t>(ct[0]), GetParam().mode == FieldMode::kRandomized ? 1 : 2);
  EXPECT_EQ(*FieldCipher::KeyIdOf(ct), 0xDEADBEEFu);
  EXPECT_EQ(ct.size(), 1 + 4 + 1 + (GetParam().mode == FieldMode::kRandomized ? 12 + 16 : 16));
}

TEST_P(FieldCipherTest, BoundToRecordFieldAndKey) {
  auto cipher = Make();
  const std::string ct = *cipher->Encrypt("jane@example.com", "order-1");
  const std::string failed = "orders.customer_email: decryption failed";
  EXPECT_THAT(cipher->Decrypt(ct, "order-2"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cipher->Decrypt(ct), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(cipher->Decrypt(ct, "order-2").status().message(), failed);
  // Another field with the same key: fails (the field name is bound).
  auto other_field = Make("orders.phone");
  EXPECT_THAT(other_field->Decrypt(ct, "order-1"), StatusIs(absl::StatusCode::kInvalidArgument));
  // Same key id, other material: fails.
  auto other_root = Make("orders.customer_email", 77, 0x22);
  EXPECT_THAT(other_root->Decrypt(ct, "order-1"), StatusIs(absl::StatusCode::kInvalidArgument));
  // Another key id: kNotFound, so a keyset can route it.
  auto other_key = Make("orders.customer_email", 78);
  EXPECT_THAT(other_key->Decrypt(ct, "order-1"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(FieldCipherTest, EveryFlippedBitAndTruncationFailsWithOneMessage) {
  auto cipher = Make();
  const std::string ct = *cipher->Encrypt("+61 2 5550 0199", "order-9");
  for (size_t i = 0; i < ct.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = ct;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto result = cipher->Decrypt(bad, "order-9");
      ASSERT_FALSE(result.ok()) << "byte " << i << " bit " << bit;
      if (i >= 1 && i < 5) continue;  // a changed key id is reported as such (kNotFound)
      EXPECT_EQ(result.status().message(), "orders.customer_email: decryption failed");
    }
  }
  for (size_t n = 0; n < ct.size(); ++n) {
    EXPECT_THAT(cipher->Decrypt(ct.substr(0, n), "order-9"),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(cipher->DecryptText("not base64!", "order-9"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(FieldCipherTest, EqualityIsRevealedOnlyInDeterministicMode) {
  auto cipher = Make();
  const std::string a = *cipher->Encrypt("same");
  const std::string b = *cipher->Encrypt("same");
  if (GetParam().mode == FieldMode::kDeterministic) {
    EXPECT_EQ(a, b);
    EXPECT_NE(*cipher->Encrypt("same", "r1"), *cipher->Encrypt("same", "r2"));
  } else {
    EXPECT_NE(a, b);
  }
}

TEST_P(FieldCipherTest, RejectsBadParameters) {
  EXPECT_THAT(FieldCipher::Create(0, Root(), "f", GetParam().mode),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldCipher::Create(1, SecretData(31, 1), "f", GetParam().mode),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldCipher::Create(1, Root(), "", GetParam().mode),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

INSTANTIATE_TEST_SUITE_P(AllModes, FieldCipherTest, ::testing::ValuesIn(kModes),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(FieldCipherTest, FormatMismatchFails) {
  auto rnd = *FieldCipher::Create(5, Root(), "f", FieldMode::kRandomized);
  auto det = *FieldCipher::Create(5, Root(), "f", FieldMode::kDeterministic);
  EXPECT_THAT(det->Decrypt(*rnd->Encrypt("value")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(rnd->Decrypt(*det->Encrypt("a longer value than 28 bytes....")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// FieldMode is the policy's mode too; only its two cipher modes make a FieldCipher.
TEST(FieldCipherTest, RefusesModesThatAreNotCiphers) {
  for (FieldMode mode : {FieldMode::kFormatPreserving, FieldMode::kVaultToken}) {
    EXPECT_THAT(FieldCipher::Create(5, Root(), "f", mode),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(BlindIndexerTest, BitsAndSeparation) {
  auto a = *BlindIndexer::Create(Root(), "orders.email", 32);
  auto b = *BlindIndexer::Create(Root(), "orders.phone", 32);
  EXPECT_EQ(a->Compute("x")->size(), 8u);
  EXPECT_EQ(*a->Compute("x"), *a->Compute("x"));
  EXPECT_NE(*a->Compute("x"), *b->Compute("x"));
  EXPECT_THAT(BlindIndexer::Create(Root(), "f", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BlindIndexer::Create(Root(), "f", 257), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace piicrypt
