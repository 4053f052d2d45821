// FieldCryptor: every mode through the example policy, NULLs, record binding, rotation,
// blind-index lookups, FF1 keys, batches, masks and every failure path.
#include "piicrypt/field_cryptor.h"

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/crypto/field_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

Policy ExamplePolicy() {
  return Policy::ReadFile(std::string(PIICRYPT_SOURCE_DIR) + "/examples/policies/orders.textproto")
      .value();
}

class FieldCryptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_ = std::make_unique<Keyset>(Keyset::Generate().value());
    Rebuild();
  }
  void Rebuild() { cryptor_ = FieldCryptor::Create(*keyset_, ExamplePolicy()).value(); }

  std::string Enc(absl::string_view field, absl::string_view value, absl::string_view record) {
    auto ct = cryptor_->Encrypt(field, value, record);
    EXPECT_THAT(ct, IsOk());
    return ct.ok() && ct->has_value() ? **ct : std::string();
  }
  // Reads a value back as an application does: the FF1 fields of the example policy keep
  // each value's key in a key-version column, which holds WriteKeyId of the writer.
  absl::StatusOr<std::optional<std::string>> Dec(absl::string_view field, NullableValue stored,
                                                 absl::string_view record) {
    const FieldRule* rule = cryptor_->policy().Find(field);
    if (rule != nullptr && rule->format_preserving.has_value() &&
        !rule->format_preserving->key_version_column.empty()) {
      return cryptor_->DecryptWithKey(field, cryptor_->WriteKeyId(field).value(), stored, record);
    }
    return cryptor_->Decrypt(field, stored, record);
  }

  std::unique_ptr<Keyset> keyset_;
  std::unique_ptr<FieldCryptor> cryptor_;
};

struct RoundTrip {
  const char* name;
  const char* field;
  const char* value;
};

const RoundTrip kRoundTrips[] = {
    {"Randomized", "orders.customer_email", "jane.doe@example.com"},
    {"RandomizedUnicode", "orders.customer_name",
     "\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E"},
    {"RandomizedEmpty", "orders.purchase_details", ""},
    {"RandomizedLong", "orders.delivery_address",
     "1 Long Street, " /* ... */ "Sydney NSW 2000"},
    {"Deterministic", "orders.loyalty_number", "LOYAL-000123"},
    {"DeterministicEmpty", "orders.loyalty_number", ""},
    {"FormatPreservingPhone", "bookings.customer_phone", "+61 2 5550 0199"},
    {"FormatPreservingPostcode", "orders.delivery_postcode", "SW1A 1AA"},
};

class FieldRoundTripTest : public FieldCryptorTest,
                           public ::testing::WithParamInterface<RoundTrip> {};

TEST_P(FieldRoundTripTest, TextAndNullRoundTrip) {
  const RoundTrip& p = GetParam();
  const std::string ct = Enc(p.field, p.value, "order-1");
  EXPECT_NE(ct, p.value);
  EXPECT_THAT(Dec(p.field, ct, "order-1"), IsOk());
  EXPECT_THAT(Dec(p.field, ct, "order-1").value(), Optional(std::string(p.value)));
  // NULL stays NULL both ways.
  EXPECT_EQ(cryptor_->Encrypt(p.field, std::nullopt, "order-1").value(), std::nullopt);
  EXPECT_EQ(Dec(p.field, std::nullopt, "order-1").value(), std::nullopt);
}

// EncryptTo writes what Encrypt returns into the caller's string, whatever it held.
TEST_P(FieldRoundTripTest, EncryptToWritesTheTextFormIntoTheCallersString) {
  const RoundTrip& p = GetParam();
  std::string out = "what the string held before, longer than some ciphertexts";
  ASSERT_THAT(cryptor_->EncryptTo(p.field, absl::string_view(p.value), "order-1", &out), IsOk());
  EXPECT_THAT(Dec(p.field, out, "order-1").value(), Optional(std::string(p.value)));
  const std::string first = Enc(p.field, p.value, "order-1");
  const std::string second = Enc(p.field, p.value, "order-1");
  EXPECT_EQ(out.size(), first.size());
  if (first == second) {
    EXPECT_EQ(out, first);  // deterministic and FF1: the very bytes of Encrypt
  } else {
    EXPECT_EQ(out.substr(0, 6), first.substr(0, 6));  // randomized: the same format and key
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, FieldRoundTripTest, ::testing::ValuesIn(kRoundTrips),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_F(FieldCryptorTest, TextFormIsTheWireFormatUnderThePrimary) {
  const std::string ct = Enc("orders.customer_email", "jane@example.com", "order-1");
  auto binary = internal::Base64UrlDecode(ct);
  ASSERT_THAT(binary, IsOk());
  EXPECT_EQ(binary->size(), internal::kRandomizedOverhead + 16);
  EXPECT_EQ((*binary)[0], '\x01');
  EXPECT_EQ(FieldCipher::KeyIdOfText(ct).value(), keyset_->primary_key_id());
  // The keyset's own decryption agrees: the format is the one of docs/SPEC.md.
  EXPECT_EQ(keyset_->DecryptText("orders.customer_email", ct, "order-1").value(),
            "jane@example.com");
  EXPECT_EQ(cryptor_->WriteKeyId("orders.customer_email").value(), keyset_->primary_key_id());
}

// orders.customer_name pads to buckets [16, 32, 64] in the example policy: every way of
// writing it writes the padded format, and values written before it had padding still read.
TEST_F(FieldCryptorTest, PaddedFieldWritesThePaddedFormatAndReadsBoth) {
  const std::string jo = Enc("orders.customer_name", "Jo", "order-1");
  EXPECT_EQ(jo.size(), Enc("orders.customer_name", std::string(16, 'x'), "order-1").size());
  EXPECT_LT(jo.size(), Enc("orders.customer_name", std::string(17, 'x'), "order-1").size());
  const std::string binary = *internal::Base64UrlDecode(jo);
  EXPECT_EQ(binary[0], '\x03');
  EXPECT_EQ(binary.size(), internal::kRandomizedOverhead + 17);
  EXPECT_THAT(Dec("orders.customer_name", jo, "order-1").value(), Optional(std::string("Jo")));
  // The keyset reads the mode from the format byte: 0x03 is randomized.
  EXPECT_EQ(keyset_->DecryptText("orders.customer_name", jo, "order-1").value(), "Jo");

  std::string out;
  ASSERT_THAT(cryptor_->EncryptTo("orders.customer_name", "Jo", "order-1", &out), IsOk());
  EXPECT_EQ(out.size(), jo.size());
  EXPECT_EQ(*cryptor_->Decrypt("orders.customer_name", out, "order-1"), "Jo");
  auto raw = cryptor_->EncryptBinary("orders.customer_name", "Jo", "order-1");
  ASSERT_THAT(raw, IsOk());
  EXPECT_EQ((*raw)->size(), binary.size());
  EXPECT_EQ(*cryptor_->DecryptBinary("orders.customer_name", **raw, "order-1"), "Jo");

  FieldRule unpadded;
  unpadded.name = "orders.customer_name";
  unpadded.kind = FieldKind::kName;
  unpadded.bind_record = true;
  auto before = FieldCryptor::Create(*keyset_, Policy::Create({unpadded}).value()).value();
  const std::string old_value = **before->Encrypt("orders.customer_name", "Jo", "order-1");
  EXPECT_EQ(internal::Base64UrlDecode(old_value)->at(0), '\x01');
  EXPECT_EQ(*cryptor_->Decrypt("orders.customer_name", old_value, "order-1"), "Jo");
  EXPECT_EQ(*before->Decrypt("orders.customer_name", jo, "order-1"), "Jo");
}

TEST_F(FieldCryptorTest, PaddedDeterministicFieldKeepsEquality) {
  FieldRule rule;
  rule.name = "orders.loyalty_number";
  rule.mode = FieldMode::kDeterministic;
  rule.padding.multiple = 32;
  auto padded = FieldCryptor::Create(*keyset_, Policy::Create({rule}).value()).value();
  const std::string a = **padded->Encrypt("orders.loyalty_number", "LOYAL-1", "");
  EXPECT_EQ(a, **padded->Encrypt("orders.loyalty_number", "LOYAL-1", ""));
  EXPECT_NE(a, **padded->Encrypt("orders.loyalty_number", "LOYAL-2", ""));
  EXPECT_EQ(a.size(), padded->Encrypt("orders.loyalty_number", "", "").value()->size());
  EXPECT_EQ(internal::Base64UrlDecode(a)->at(0), '\x04');
  EXPECT_EQ(*padded->Decrypt("orders.loyalty_number", a, ""), "LOYAL-1");
}

TEST_F(FieldCryptorTest, RandomizedDiffersDeterministicRepeats) {
  EXPECT_NE(Enc("orders.customer_email", "a@b.c", "r"), Enc("orders.customer_email", "a@b.c", "r"));
  // Unbound deterministic field: the record is ignored, equality survives across rows.
  EXPECT_EQ(Enc("orders.loyalty_number", "L1", "order-1"),
            Enc("orders.loyalty_number", "L1", "order-2"));
  EXPECT_EQ(Enc("orders.loyalty_number", "L1", ""), Enc("orders.loyalty_number", "L1", "x"));
}

TEST_F(FieldCryptorTest, BoundValueMovedToAnotherRowFails) {
  const std::string ct = Enc("orders.customer_email", "jane@example.com", "order-1");
  auto moved = cryptor_->Decrypt("orders.customer_email", ct, "order-2");
  ASSERT_THAT(moved, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(moved.status().message(), "orders.customer_email: decryption failed");
}

TEST_F(FieldCryptorTest, ValueMovedToAnotherFieldFails) {
  const std::string ct = Enc("orders.delivery_address", "1 Main St", "order-1");
  EXPECT_THAT(cryptor_->Decrypt("orders.billing_address", ct, "order-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A randomized value in a deterministic field: wrong mode, the same one message.
  auto wrong_mode = cryptor_->Decrypt("orders.loyalty_number", ct, "order-1");
  ASSERT_THAT(wrong_mode, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(wrong_mode.status().message(), "orders.loyalty_number: decryption failed");
}

TEST_F(FieldCryptorTest, BoundFieldsRequireARecord) {
  auto no_record = cryptor_->Encrypt("orders.customer_email", "jane@example.com");
  ASSERT_THAT(no_record, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(no_record.status().message(), HasSubstr("record id is required"));
  EXPECT_THAT(cryptor_->Decrypt("orders.customer_email", "AAAA"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // NULL needs no record.
  EXPECT_THAT(cryptor_->Encrypt("orders.customer_email", std::nullopt), IsOk());
}

TEST_F(FieldCryptorTest, TamperedTruncatedAndGarbageFailAlike) {
  const std::string ct = Enc("orders.customer_email", "jane@example.com", "order-1");
  std::string flipped = ct;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  const std::string bad[] = {
      flipped, ct.substr(0, ct.size() - 4), ct.substr(0, 8), "", "not base64!", ct + "=", "AQ"};
  for (const std::string& stored : bad) {
    auto out = cryptor_->Decrypt("orders.customer_email", stored, "order-1");
    ASSERT_THAT(out, StatusIs(absl::StatusCode::kInvalidArgument)) << stored;
    EXPECT_EQ(out.status().message(), "orders.customer_email: decryption failed");
  }
}

TEST_F(FieldCryptorTest, BinaryForm) {
  auto ct = cryptor_->EncryptBinary("orders.customer_email", "jane@example.com", "order-1");
  ASSERT_THAT(ct, IsOk());
  ASSERT_TRUE(ct->has_value());
  EXPECT_EQ(internal::Base64UrlEncode(**ct).size(),
            Enc("orders.customer_email", "jane@example.com", "order-1").size());
  EXPECT_THAT(cryptor_->DecryptBinary("orders.customer_email", **ct, "order-1").value(),
              Optional(std::string("jane@example.com")));
  EXPECT_THAT(cryptor_->DecryptBinary("orders.customer_email", "\x01garbage", "order-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(cryptor_->EncryptBinary("orders.customer_email", std::nullopt, "r").value(),
            std::nullopt);
  EXPECT_EQ(cryptor_->DecryptBinary("orders.customer_email", std::nullopt, "r").value(),
            std::nullopt);
  // FF1 values are text only.
  EXPECT_THAT(cryptor_->EncryptBinary("bookings.customer_phone", "+61 2 5550 0199", "r"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cryptor_->DecryptBinary("bookings.customer_phone", "+61 2 5550 0199", "r"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(FieldCryptorTest, UnknownFieldIsNotFound) {
  for (auto s :
       {cryptor_->Encrypt("orders.nope", "x", "r").status(),
        cryptor_->Decrypt("orders.nope", "x", "r").status(),
        cryptor_->EncryptBinary("orders.nope", "x", "r").status(),
        cryptor_->DecryptBinary("orders.nope", "x", "r").status(),
        cryptor_->BlindIndex("orders.nope", "x").status(),
        cryptor_->LookupIndexes("orders.nope", "x").status(),
        cryptor_->Normalize("orders.nope", "x").status(),
        cryptor_->Mask("orders.nope", "x").status(), cryptor_->WriteKeyId("orders.nope").status(),
        cryptor_->DecryptWithKey("orders.nope", 1, "x", "r").status()}) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(s.message(), HasSubstr("orders.nope"));
  }
}

TEST_F(FieldCryptorTest, BlindIndexNormalizesPerPolicy) {
  auto a = cryptor_->BlindIndex("orders.customer_email", "Jane.Doe@Example.com");
  auto b = cryptor_->BlindIndex("orders.customer_email", "  jane.doe@example.COM ");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ((*a)->size(), 4u);  // 16 bits in hex
  EXPECT_NE(**a, **cryptor_->BlindIndex("orders.customer_email", "john@example.com"));
  EXPECT_EQ(cryptor_->Normalize("orders.customer_email", " A@B.C ").value(), "a@b.c");

  // Phones: the default region AU lets local and international forms meet.
  EXPECT_EQ(cryptor_->BlindIndex("orders.customer_phone", "(02) 5550 0199").value(),
            cryptor_->BlindIndex("orders.customer_phone", "+61 2 5550 0199").value());
  // Another field, same value: another index (the field name selects the key).
  EXPECT_NE(cryptor_->BlindIndex("bookings.customer_email", "jane@example.com").value(),
            cryptor_->BlindIndex("orders.customer_email", "jane@example.com").value());
  EXPECT_EQ(cryptor_->BlindIndex("orders.customer_email", std::nullopt).value(), std::nullopt);
}

TEST_F(FieldCryptorTest, BlindIndexErrors) {
  auto invalid = cryptor_->BlindIndex("orders.customer_phone", "call me maybe");
  ASSERT_THAT(invalid, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(invalid.status().message(), HasSubstr("orders.customer_phone: not a phone number"));
  EXPECT_THAT(invalid.status().message(), Not(HasSubstr("maybe")));
  EXPECT_THAT(cryptor_->LookupIndexes("orders.customer_phone", "12"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->Normalize("orders.customer_phone", "12"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  for (auto s : {cryptor_->BlindIndex("orders.customer_name", "Jane").status(),
                 cryptor_->LookupIndexes("orders.customer_name", "Jane").status(),
                 cryptor_->Normalize("orders.customer_name", "Jane").status()}) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(s.message(), HasSubstr("no blind index"));
  }
}

TEST_F(FieldCryptorTest, RotationKeepsOldValuesReadableAndFindable) {
  const uint32_t old_key = keyset_->primary_key_id();
  const std::string old_ct = Enc("orders.customer_email", "jane@example.com", "order-1");
  const std::string old_det = Enc("orders.loyalty_number", "L-1", "");
  const std::string old_idx = **cryptor_->BlindIndex("orders.customer_email", "jane@example.com");

  const uint32_t new_key = keyset_->Rotate().value();
  Rebuild();
  EXPECT_EQ(cryptor_->WriteKeyId("orders.customer_email").value(), new_key);
  EXPECT_EQ(FieldCipher::KeyIdOfText(Enc("orders.customer_email", "x@y.z", "r")).value(), new_key);
  EXPECT_THAT(cryptor_->Decrypt("orders.customer_email", old_ct, "order-1").value(),
              Optional(std::string("jane@example.com")));
  EXPECT_THAT(cryptor_->Decrypt("orders.loyalty_number", old_det).value(),
              Optional(std::string("L-1")));

  // Lookups: the new index first, the old one too.
  auto lookup = cryptor_->LookupIndexes("orders.customer_email", "Jane@Example.com");
  ASSERT_THAT(lookup, IsOk());
  ASSERT_EQ(lookup->size(), 2u);
  EXPECT_EQ((*lookup)[0], **cryptor_->BlindIndex("orders.customer_email", "jane@example.com"));
  EXPECT_EQ((*lookup)[1], old_idx);

  // Disabled: kFailedPrecondition; destroyed: kNotFound; both name the key.
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  Rebuild();
  auto disabled = cryptor_->Decrypt("orders.customer_email", old_ct, "order-1");
  ASSERT_THAT(disabled, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(disabled.status().message(), HasSubstr("disabled"));
  EXPECT_EQ(cryptor_->LookupIndexes("orders.customer_email", "jane@example.com")->size(), 1u);
  ASSERT_THAT(keyset_->Destroy(old_key), IsOk());
  Rebuild();
  auto destroyed = cryptor_->Decrypt("orders.customer_email", old_ct, "order-1");
  ASSERT_THAT(destroyed, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(destroyed.status().message(), HasSubstr("destroyed"));
  auto destroyed_binary = cryptor_->DecryptBinary("orders.customer_email",
                                                  *internal::Base64UrlDecode(old_ct), "order-1");
  EXPECT_THAT(destroyed_binary, StatusIs(absl::StatusCode::kNotFound));

  // A value under a key of another keyset.
  auto other = Keyset::Generate().value();
  auto other_cryptor = FieldCryptor::Create(other, ExamplePolicy()).value();
  const std::string foreign =
      **other_cryptor->Encrypt("orders.customer_email", "jane@example.com", "order-1");
  auto unknown = cryptor_->Decrypt("orders.customer_email", foreign, "order-1");
  ASSERT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(unknown.status().message(), HasSubstr("not in the keyset"));
}

TEST_F(FieldCryptorTest, FormatPreservingFieldsKeepShapeAndKnowTheirKey) {
  const std::string ct = Enc("bookings.customer_phone", "+61 2 5550 0199", "booking-9");
  ASSERT_EQ(ct.size(), std::string("+61 2 5550 0199").size());
  EXPECT_EQ(ct[0], '+');
  EXPECT_EQ(ct[3], ' ');
  // Bound: another record decrypts to a wrong value (FF1 has no integrity), never the value.
  EXPECT_THAT(Dec("bookings.customer_phone", ct, "booking-8").value(),
              Not(Optional(std::string("+61 2 5550 0199"))));
  // Invalid input for the codec: a clear error without the value.
  auto letters = cryptor_->Encrypt("bookings.customer_phone", "+61 2 CALL ME", "booking-9");
  ASSERT_THAT(letters, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(letters.status().message(), HasSubstr("bookings.customer_phone"));
  EXPECT_THAT(letters.status().message(), Not(HasSubstr("CALL")));

  // The write key is the primary at Create; after a rotation a new cryptor writes under the
  // new primary, and DecryptWithKey reads values whose key-version column says otherwise.
  const uint32_t old_key = keyset_->primary_key_id();
  EXPECT_EQ(cryptor_->WriteKeyId("bookings.customer_phone").value(), old_key);
  const uint32_t new_key = keyset_->Rotate().value();
  Rebuild();
  EXPECT_EQ(cryptor_->WriteKeyId("bookings.customer_phone").value(), new_key);
  EXPECT_THAT(cryptor_->DecryptWithKey("bookings.customer_phone", old_key, ct, "booking-9").value(),
              Optional(std::string("+61 2 5550 0199")));
  EXPECT_EQ(cryptor_->DecryptWithKey("bookings.customer_phone", old_key, std::nullopt, "b").value(),
            std::nullopt);
  EXPECT_THAT(cryptor_->DecryptWithKey("bookings.customer_phone", 12345, ct, "booking-9"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cryptor_->DecryptWithKey("orders.customer_email", old_key, ct, "booking-9"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// An FF1 string decrypts to *something* under any key. A field whose values carry their
// key in a key-version column is never decrypted under a key the cryptor picks itself.
TEST_F(FieldCryptorTest, Ff1FieldWithKeyVersionColumnIsReadOnlyWithTheRowsKey) {
  const std::string ct = Enc("bookings.customer_phone", "+61 2 5550 0199", "booking-9");
  const uint32_t old_key = keyset_->primary_key_id();
  for (int rotated = 0; rotated < 2; ++rotated) {
    auto guessed = cryptor_->Decrypt("bookings.customer_phone", ct, "booking-9");
    ASSERT_THAT(guessed, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(guessed.status().message(),
                HasSubstr("bookings.customer_phone: the key of each value is in the key-version "
                          "column customer_phone_key: decrypt with DecryptWithKey"));
    EXPECT_THAT(
        cryptor_->DecryptWithKey("bookings.customer_phone", old_key, ct, "booking-9").value(),
        Optional(std::string("+61 2 5550 0199")));
    ASSERT_THAT(keyset_->Rotate(), IsOk());
    Rebuild();
  }
}

// A field without a key-version column pins its key: rotations do not move it.
TEST_F(FieldCryptorTest, PinnedFf1KeyOutlivesRotations) {
  FieldRule rule;
  rule.name = "legacy.postcode";
  rule.mode = FieldMode::kFormatPreserving;
  rule.format_preserving = FormatPreservingRule{};
  rule.format_preserving->codec.codec = FpeCodec::kAlphabet;
  rule.format_preserving->codec.alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  rule.format_preserving->codec.keep_characters = " ";
  rule.format_preserving->key_id = keyset_->primary_key_id();
  const Policy pinned = Policy::Create({rule}).value();
  const std::string ct =
      **FieldCryptor::Create(*keyset_, pinned).value()->Encrypt("legacy.postcode", "SW1A 1AA");
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  auto after = FieldCryptor::Create(*keyset_, pinned).value();
  EXPECT_THAT(after->Decrypt("legacy.postcode", ct).value(), Optional(std::string("SW1A 1AA")));
  EXPECT_THAT(after->Encrypt("legacy.postcode", "SW1A 1AA").value(), Optional(ct));
  EXPECT_EQ(after->WriteKeyId("legacy.postcode").value(), rule.format_preserving->key_id);
}

TEST_F(FieldCryptorTest, PinnedFf1KeyMustBeUsable) {
  const uint32_t old_key = keyset_->primary_key_id();
  const uint32_t new_key = keyset_->Rotate().value();
  FieldRule rule;
  rule.name = "legacy.phone";
  rule.mode = FieldMode::kFormatPreserving;
  rule.format_preserving = FormatPreservingRule{};
  rule.format_preserving->codec.codec = FpeCodec::kPhone;
  rule.format_preserving->key_id = old_key;
  Policy pinned = Policy::Create({rule}).value();
  auto cryptor = FieldCryptor::Create(*keyset_, pinned);
  ASSERT_THAT(cryptor, IsOk());
  EXPECT_EQ((*cryptor)->WriteKeyId("legacy.phone").value(), old_key);
  EXPECT_NE(old_key, new_key);

  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  EXPECT_THAT(FieldCryptor::Create(*keyset_, pinned),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(keyset_->Destroy(old_key), IsOk());
  EXPECT_THAT(FieldCryptor::Create(*keyset_, pinned), StatusIs(absl::StatusCode::kNotFound));
  rule.format_preserving->key_id = 424242;
  EXPECT_THAT(FieldCryptor::Create(*keyset_, Policy::Create({rule}).value()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(FieldCryptorTest, VaultTokenFieldsAreNotEncryptedHere) {
  FieldRule rule;
  rule.name = "orders.card_number";
  rule.kind = FieldKind::kCard;
  rule.mode = FieldMode::kVaultToken;
  auto cryptor = FieldCryptor::Create(*keyset_, Policy::Create({rule}).value()).value();
  EXPECT_THAT(cryptor->Encrypt("orders.card_number", "4111111111111111"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cryptor->Decrypt("orders.card_number", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cryptor->EncryptBinary("orders.card_number", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cryptor->WriteKeyId("orders.card_number"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(cryptor->Mask("orders.card_number", "4111 1111 1111 1111").value(),
            std::optional<std::string>("**** 1111"));
}

TEST_F(FieldCryptorTest, EncryptToReusesTheStringAndLeavesItEmptyOnFailure) {
  std::string out;
  out.reserve(256);
  const char* const buffer = out.data();
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(cryptor_->EncryptTo("orders.customer_email", "jane@example.com", "order-1", &out),
                IsOk());
    EXPECT_EQ(out.data(), buffer);  // no allocation: the capacity was enough
    EXPECT_THAT(cryptor_->Decrypt("orders.customer_email", out, "order-1").value(),
                Optional(std::string("jane@example.com")));
  }

  const auto fails = [&](absl::string_view field, absl::string_view value, absl::string_view record,
                         absl::StatusCode code) {
    out = "stale ciphertext";
    const absl::Status s = cryptor_->EncryptTo(field, value, record, &out);
    EXPECT_THAT(s, StatusIs(code)) << field;
    EXPECT_THAT(s.message(), HasSubstr(field));
    EXPECT_TRUE(out.empty()) << field;
  };
  fails("orders.nope", "x", "order-1", absl::StatusCode::kNotFound);
  fails("orders.customer_email", "jane@example.com", "", absl::StatusCode::kInvalidArgument);
  fails("bookings.customer_phone", "+61 2 CALL ME", "booking-9",
        absl::StatusCode::kInvalidArgument);

  FieldRule rule;
  rule.name = "orders.card_number";
  rule.kind = FieldKind::kCard;
  rule.mode = FieldMode::kVaultToken;
  cryptor_ = FieldCryptor::Create(*keyset_, Policy::Create({rule}).value()).value();
  fails("orders.card_number", "4111111111111111", "order-1", absl::StatusCode::kFailedPrecondition);
}

TEST_F(FieldCryptorTest, MasksPerRule) {
  EXPECT_EQ(**cryptor_->Mask("orders.customer_email", "jane@example.com"), "j***@example.com");
  EXPECT_EQ(**cryptor_->Mask("orders.customer_phone", "+61 2 5550 0199"), "*** *** 0199");
  EXPECT_EQ(**cryptor_->Mask("orders.customer_name", "Jane Doe"), "J. D.");
  EXPECT_EQ(**cryptor_->Mask("bookings.card_last4", "1234"), "**** 1234");
  EXPECT_EQ(**cryptor_->Mask("orders.delivery_address", "1 Main St"), "***");
  EXPECT_EQ(cryptor_->Mask("orders.customer_email", std::nullopt).value(), std::nullopt);
}

TEST_F(FieldCryptorTest, BatchesKeepOrderAndNulls) {
  const std::vector<NullableValue> values = {"a@example.com", std::nullopt, "", "b@example.com"};
  const std::vector<absl::string_view> records = {"1", "2", "3", "4"};
  auto cts = cryptor_->EncryptBatch("orders.customer_email", values, records);
  ASSERT_THAT(cts, IsOk());
  ASSERT_EQ(cts->size(), 4u);
  EXPECT_EQ((*cts)[1], std::nullopt);
  std::vector<NullableValue> stored;
  for (const auto& ct : *cts) stored.push_back(ct ? NullableValue(*ct) : std::nullopt);
  auto back = cryptor_->DecryptBatch("orders.customer_email", stored, records);
  ASSERT_THAT(back, IsOk());
  EXPECT_THAT(*back, ElementsAre(Optional(std::string("a@example.com")), std::nullopt,
                                 Optional(std::string()), Optional(std::string("b@example.com"))));

  // Rows swapped: the failing row is named.
  std::swap(stored[0], stored[3]);
  auto swapped = cryptor_->DecryptBatch("orders.customer_email", stored, records);
  ASSERT_THAT(swapped, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(swapped.status().message(), HasSubstr("row 0: orders.customer_email"));
  // Records must match the values one to one.
  EXPECT_THAT(cryptor_->EncryptBatch("orders.customer_email", values, {"1"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Unbound field, no records.
  EXPECT_THAT(cryptor_->EncryptBatch("orders.loyalty_number", values), IsOk());

  auto indexes =
      cryptor_->BlindIndexBatch("orders.customer_email", {"A@example.com", std::nullopt});
  ASSERT_THAT(indexes, IsOk());
  EXPECT_EQ((*indexes)[0], cryptor_->BlindIndex("orders.customer_email", "a@example.com").value());
  EXPECT_EQ((*indexes)[1], std::nullopt);
  auto bad = cryptor_->BlindIndexBatch("orders.customer_email", {"a@example.com", "nobody"});
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.status().message(), HasSubstr("row 1: "));
}

TEST_F(FieldCryptorTest, ManyThreadsShareOneCryptor) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string record = std::to_string(t * 1000 + i);
        const std::string value = "user" + record + "@example.com";
        auto ct = cryptor_->Encrypt("orders.customer_email", value, record);
        auto pt = ct.ok() ? cryptor_->Decrypt("orders.customer_email", **ct, record) : ct.status();
        auto idx = cryptor_->BlindIndex("orders.customer_email", value);
        if (!pt.ok() || **pt != value || !idx.ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(failures, ElementsAre(0, 0, 0, 0));
}

TEST(FieldCryptorCreateTest, NeedsAUsablePrimary) {
  Keyset keyset = Keyset::Generate().value();
  auto policy = Policy::Create({}).value();
  EXPECT_THAT(FieldCryptor::Create(keyset, policy), IsOk());
}

}  // namespace
}  // namespace piicrypt
