// FieldCryptor::DecryptTo and BlindIndexTo: the plaintext (or the error) of Decrypt, and
// the index (or the error) of BlindIndex, written into the caller's string, for every field
// of the example policy; the same errors; the string left empty on every failure; and no
// allocation when the string's capacity is enough.
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "src/crypto/field_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

Policy ExamplePolicy() {
  return Policy::ReadFile(std::string(PIICRYPT_SOURCE_DIR) + "/examples/policies/orders.textproto")
      .value();
}

// A value of the right shape for each field of the example policy.
const std::map<std::string, std::string>& ValueFor() {
  static const auto* const values = new std::map<std::string, std::string>{
      {"orders.customer_name", "Jane Doe"},
      {"orders.customer_email", "jane.doe@example.com"},
      {"orders.customer_phone", "+61 2 5550 0199"},
      {"orders.delivery_address", "1 Long Street, Sydney NSW 2000"},
      {"orders.billing_address", ""},
      {"orders.purchase_details", std::string(3000, 'p')},  // past the stack-sized path
      {"orders.loyalty_number", "LOYAL-000123"},
      {"orders.delivery_postcode", "SW1A 1AA"},
      {"bookings.customer_name", "J\xC3\xB6rg M\xC3\xBCller"},
      {"bookings.customer_email", "jorg@example.de"},
      {"bookings.customer_phone", "+61 2 5550 0199"},
      {"bookings.card_last4", "4111 1111 1111 1111"},
  };
  return *values;
}

class DecryptToTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_ = std::make_unique<Keyset>(Keyset::Generate().value());
    cryptor_ = FieldCryptor::Create(*keyset_, ExamplePolicy()).value();
  }
  std::unique_ptr<Keyset> keyset_;
  std::unique_ptr<FieldCryptor> cryptor_;
};

TEST_F(DecryptToTest, GivesDecryptsPlaintextForEveryFieldOfTheExamplePolicy) {
  int checked = 0;
  for (const FieldRule& rule : cryptor_->policy().rules()) {
    SCOPED_TRACE(rule.name);
    ASSERT_EQ(ValueFor().count(rule.name), 1u) << "no test value for this field";
    const std::string& value = ValueFor().at(rule.name);
    auto ct = cryptor_->Encrypt(rule.name, value, "order-1");
    ASSERT_THAT(ct, IsOk());
    std::string out = "held before, longer than some plaintexts";
    const absl::Status got = cryptor_->DecryptTo(rule.name, **ct, "order-1", &out);
    const auto want = cryptor_->Decrypt(rule.name, **ct, "order-1");
    ++checked;
    if (!want.ok()) {  // an FF1 field whose key is in a key-version column
      EXPECT_EQ(got, want.status());
      EXPECT_EQ(out, "");
      continue;
    }
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(out, want->value());
    EXPECT_EQ(out, value);
  }
  EXPECT_EQ(checked, static_cast<int>(ValueFor().size()));
}

// Every failure: the status of Decrypt, and an empty string (whatever it held).
TEST_F(DecryptToTest, EveryFailureHasDecryptsStatusAndLeavesTheStringEmpty) {
  const std::string email = cryptor_->Encrypt("orders.customer_email", "a@b.c", "r1")->value();
  const std::string loyalty = cryptor_->Encrypt("orders.loyalty_number", "L1", "")->value();
  std::string tampered = email;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  auto binary = internal::Base64UrlDecode(email).value();
  binary[1] ^= 0x40;  // another key id
  const std::string unknown_key = internal::Base64UrlEncode(binary);
  struct Failure {
    const char* name;
    const char* field;
    std::string stored;
    const char* record;
  };
  const Failure failures[] = {
      {"unknown field", "orders.nope", email, "r1"},
      {"record missing", "orders.customer_email", email, ""},
      {"other record", "orders.customer_email", email, "r2"},
      {"other field", "orders.customer_name", email, "r1"},
      {"tampered", "orders.customer_email", tampered, "r1"},
      {"truncated", "orders.customer_email", email.substr(0, email.size() - 4), "r1"},
      {"not base64url", "orders.customer_email", "!!!!", "r1"},
      {"bad length", "orders.customer_email", email.substr(0, 5), "r1"},
      {"empty", "orders.customer_email", "", "r1"},
      {"unknown key", "orders.customer_email", unknown_key, "r1"},
      {"wrong mode", "orders.customer_email", loyalty, "r1"},
      {"deterministic tampered", "orders.loyalty_number", loyalty.substr(1), ""},
      {"long garbage", "orders.purchase_details", std::string(4000, 'A'), "r1"},
      {"FF1 not a postcode", "orders.delivery_postcode", "sw1a-1aa!", "r1"},
  };
  for (const Failure& f : failures) {
    SCOPED_TRACE(f.name);
    const absl::Status expected = cryptor_->Decrypt(f.field, f.stored, f.record).status();
    ASSERT_FALSE(expected.ok());
    std::string out = "held before";
    const absl::Status got = cryptor_->DecryptTo(f.field, f.stored, f.record, &out);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(out, "");
  }
}

// The header's failures keep their statuses, whichever way DecryptTo finds the key: a
// known key id under an unknown format byte, with a body too short, or a zero key id is a
// failed decryption; an unknown key id is kNotFound only in an otherwise well-formed header.
TEST_F(DecryptToTest, HeaderFailuresKeepTheirStatus) {
  const std::string email = cryptor_->Encrypt("orders.customer_email", "a@b.c", "r1")->value();
  const std::string binary = internal::Base64UrlDecode(email).value();
  std::string unknown_format = binary, other_key = binary, zero_key = binary;
  unknown_format[0] = '\x07';
  other_key[1] ^= 0x40;
  std::string other_key_unknown_format = other_key;
  other_key_unknown_format[0] = '\x07';
  for (int i = 1; i < 5; ++i) zero_key[i] = '\0';
  const absl::Status failed =
      absl::InvalidArgumentError("orders.customer_email: decryption failed");
  struct Case {
    const char* name;
    std::string binary;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"unknown format", unknown_format, absl::StatusCode::kInvalidArgument},
      {"short body", binary.substr(0, internal::kHeaderSize + 10),
       absl::StatusCode::kInvalidArgument},
      {"header only", binary.substr(0, internal::kHeaderSize), absl::StatusCode::kInvalidArgument},
      {"zero key id", zero_key, absl::StatusCode::kInvalidArgument},
      {"other key, unknown format", other_key_unknown_format, absl::StatusCode::kInvalidArgument},
      {"other key", other_key, absl::StatusCode::kNotFound},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string out = "held before";
    const absl::Status got = cryptor_->DecryptTo("orders.customer_email",
                                                 internal::Base64UrlEncode(c.binary), "r1", &out);
    EXPECT_EQ(got.code(), c.code);
    if (c.code == absl::StatusCode::kInvalidArgument) {
      EXPECT_EQ(got, failed);
    }
    EXPECT_EQ(out, "");
  }
}

TEST_F(DecryptToTest, DisabledKeyIsFailedPreconditionAndLeavesTheStringEmpty) {
  const uint32_t old_key = keyset_->primary_key_id();
  const std::string ct = cryptor_->Encrypt("orders.customer_email", "a@b.c", "r1")->value();
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  cryptor_ = FieldCryptor::Create(*keyset_, ExamplePolicy()).value();
  std::string out = "held before";
  EXPECT_THAT(cryptor_->DecryptTo("orders.customer_email", ct, "r1", &out),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(out, "");
}

TEST_F(DecryptToTest, VaultTokenFieldIsFailedPreconditionLikeDecrypt) {
  auto policy = Policy::ParseTextProto(R"pb(field { name: "t.x" mode: MODE_VAULT_TOKEN })pb");
  ASSERT_THAT(policy, IsOk());
  auto cryptor = FieldCryptor::Create(*keyset_, *policy);
  ASSERT_THAT(cryptor, IsOk());
  std::string out = "held before";
  const absl::Status got = (*cryptor)->DecryptTo("t.x", "tok", "", &out);
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(got, (*cryptor)->Decrypt("t.x", "tok", "").status());
  EXPECT_EQ(out, "");
}

// A string with enough capacity is reused: its buffer does not move, for values of the
// stack-sized path and of the longer one.
TEST_F(DecryptToTest, NoReallocationWhenCapacitySuffices) {
  for (size_t size : {0, 1, 31, 32, 100, 480, 2000}) {
    SCOPED_TRACE(size);
    const std::string value(size, 'v');
    const std::string ct = cryptor_->Encrypt("orders.purchase_details", value, "r")->value();
    std::string out;
    out.reserve(4096);
    const char* buffer = out.data();
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(cryptor_->DecryptTo("orders.purchase_details", ct, "r", &out), IsOk());
      EXPECT_EQ(out, value);
      EXPECT_EQ(out.data(), buffer);
    }
  }
}

// BlindIndexTo gives BlindIndex's bytes or its status for every field of the example
// policy (fields without an index included), for the value as typed and for values every
// normalizer refuses, whatever the string held before.
TEST_F(DecryptToTest, BlindIndexToGivesBlindIndexsResultForEveryField) {
  int indexed = 0, refused = 0;
  for (const FieldRule& rule : cryptor_->policy().rules()) {
    for (const std::string& value :
         {ValueFor().at(rule.name), std::string("  Not An Address  "), std::string(),
          std::string(300, 'x') + "@EXAMPLE.com", std::string("J\xC3\xB6RG@Example.DE")}) {
      SCOPED_TRACE(rule.name + ": " + value.substr(0, 40));
      std::string out = "held before, longer than some indexes: 0123456789abcdef";
      const absl::Status got = cryptor_->BlindIndexTo(rule.name, value, &out);
      const auto want = cryptor_->BlindIndex(rule.name, value);
      if (!want.ok()) {
        EXPECT_EQ(got, want.status());
        EXPECT_EQ(out, "");
        ++refused;
        continue;
      }
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ(out, want->value());
      ++indexed;
    }
  }
  EXPECT_GE(indexed, 8);  // the index fields' typical, long and non-ASCII values
  EXPECT_GE(refused, 20);
  std::string out = "held before";
  EXPECT_EQ(cryptor_->BlindIndexTo("orders.nope", "a@b.c", &out),
            cryptor_->BlindIndex("orders.nope", "a@b.c").status());
  EXPECT_THAT(cryptor_->BlindIndexTo("orders.nope", "a@b.c", &out),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(out, "");
}

// An index written into a string with enough capacity does not move its buffer, and is
// the index of the value, not what the string held (shorter or longer).
TEST_F(DecryptToTest, BlindIndexToReusesTheStringAndReplacesItsContents) {
  const std::string want = cryptor_->BlindIndexValue("orders.customer_email", "a@b.c").value();
  for (const std::string& held : {std::string(), std::string(3, 'h'), std::string(200, 'h')}) {
    std::string out = held;
    out.reserve(256);
    const char* buffer = out.data();
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(cryptor_->BlindIndexTo("orders.customer_email", " A@B.c", &out), IsOk());
      EXPECT_EQ(out, want);
      EXPECT_EQ(out.data(), buffer);
    }
  }
}

}  // namespace
}  // namespace piicrypt
