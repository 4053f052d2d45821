// Lookups (lookup.h) and compound indexes (policy.h, FieldCryptor::CompoundIndex): the
// policy's checks, the index format pinned against an independent computation, each
// transform, the filter (collisions dropped, tampered rows refused) and the SQL helper.
#include "piicrypt/lookup.h"

#include <openssl/hmac.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/key_handle.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hkdf.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr char kFields[] = R"pb(
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 8 }
  }
  field {
    name: "orders.customer_phone"
    kind: KIND_PHONE
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 16 default_region: "AU" column: "phone_idx" }
  }
  field { name: "orders.surname" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.postcode" kind: KIND_IDENTIFIER mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.note" kind: KIND_TEXT mode: MODE_RANDOMIZED }
  field { name: "orders.code" kind: KIND_TEXT mode: MODE_RANDOMIZED }
  field { name: "orders.card_token" kind: KIND_CARD mode: MODE_VAULT_TOKEN }
  field {
    name: "orders.phone_ff1"
    kind: KIND_PHONE
    mode: MODE_FORMAT_PRESERVING
    format_preserving {
      phone {}
      key_version_column: "phone_ff1_key"
    }
  }
)pb";

constexpr char kIndexes[] = R"pb(
  index {
    name: "orders.phone_last4"
    bits: 8
    part { field: "orders.customer_phone" transform: TRANSFORM_LAST_DIGITS n: 4 }
  }
  index {
    name: "orders.surname_postcode"
    column: "sp_idx"
    bits: 16
    part { field: "orders.surname" transform: TRANSFORM_NORMALIZED }
    part { field: "orders.postcode" transform: TRANSFORM_NORMALIZED }
  }
  index {
    name: "orders.email_domain"
    bits: 8
    part { field: "orders.customer_email" transform: TRANSFORM_EMAIL_DOMAIN }
  }
  index {
    name: "orders.note_code"
    bits: 64
    part { field: "orders.note" transform: TRANSFORM_NORMALIZED }
    part { field: "orders.code" transform: TRANSFORM_NORMALIZED }
  }
  index {
    name: "orders.note_code_again"
    bits: 64
    part { field: "orders.note" transform: TRANSFORM_NORMALIZED }
    part { field: "orders.code" transform: TRANSFORM_NORMALIZED }
  }
  index {
    name: "orders.email_exact"
    bits: 8
    part { field: "orders.customer_email" transform: TRANSFORM_NORMALIZED }
  }
  index {
    name: "orders.name_start"
    bits: 32
    part { field: "orders.surname" transform: TRANSFORM_FIRST_CHARS n: 3 }
  }
  index {
    name: "orders.ff1_last4"
    bits: 8
    part { field: "orders.phone_ff1" transform: TRANSFORM_LAST_DIGITS n: 4 }
  }
  index {
    name: "orders.phone_digits"
    bits: 32
    part { field: "orders.customer_phone" transform: TRANSFORM_DIGITS_ONLY }
  }
)pb";

MATCHER_P(IsOkAndHolds, matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status: " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

Policy TestPolicy() { return Policy::ParseTextProto(absl::StrCat(kFields, kIndexes)).value(); }

// ---- the policy's checks ----------------------------------------------------------------

TEST(CompoundIndexPolicyTest, LoadsAndResolvesDefaults) {
  const Policy policy = TestPolicy();
  ASSERT_EQ(policy.indexes().size(), 9u);
  const CompoundIndexRule* last4 = policy.FindIndex("orders.phone_last4");
  ASSERT_NE(last4, nullptr);
  EXPECT_EQ(last4->column, "phone_last4_idx");
  EXPECT_EQ(last4->parts[0].transform, IndexTransform::kLastDigits);
  EXPECT_EQ(last4->parts[0].normalizer, Normalizer::kExact);
  const CompoundIndexRule* sp = policy.FindIndex("orders.surname_postcode");
  ASSERT_NE(sp, nullptr);
  EXPECT_EQ(sp->column, "sp_idx");
  EXPECT_EQ(sp->parts[0].normalizer, Normalizer::kName);
  EXPECT_EQ(sp->parts[1].normalizer, Normalizer::kExact);
  // A part on a field with a blind index takes its normalizer and region.
  const CompoundIndexRule* digits = policy.FindIndex("orders.phone_digits");
  EXPECT_EQ(digits->parts[0].normalizer, Normalizer::kExact);
  EXPECT_EQ(policy.FindIndex("orders.customer_email"), nullptr);
}

struct BadIndex {
  const char* name;
  const char* index;
  const char* message;
};

class CompoundIndexRejected : public ::testing::TestWithParam<BadIndex> {};

TEST_P(CompoundIndexRejected, AtLoad) {
  auto policy = Policy::ParseTextProto(absl::StrCat(kFields, GetParam().index));
  EXPECT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(policy.status().message(), HasSubstr(GetParam().message));
}

const BadIndex kBadIndexes[] = {
    {"ColumnOfAField",
     R"pb(index {
            name: "i"
            column: "PHONE_idx"
            bits: 16
            part { field: "orders.customer_phone" transform: TRANSFORM_DIGITS_ONLY }
          })pb",
     "column orders.PHONE_idx is already a column of field \"orders.customer_phone\""},
    {"UnknownField", R"pb(index {
                            name: "i"
                            bits: 16
                            part { field: "orders.nope" transform: TRANSFORM_NORMALIZED }
                          })pb",
     "no such field"},
    {"LastDigitsZero",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.customer_phone" transform: TRANSFORM_LAST_DIGITS }
          })pb",
     "n must be 1 to 32"},
    {"LastDigitsTooMany",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.customer_phone" transform: TRANSFORM_LAST_DIGITS n: 33 }
          })pb",
     "n must be 1 to 32"},
    {"FirstCharsTooMany",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.surname" transform: TRANSFORM_FIRST_CHARS n: 65 }
          })pb",
     "n must be 1 to 64"},
    {"NOnNormalized", R"pb(index {
                             name: "i"
                             bits: 16
                             part { field: "orders.surname" transform: TRANSFORM_NORMALIZED n: 2 }
                           })pb",
     "n is only for"},
    {"BitsTooFew", R"pb(index {
                          name: "i"
                          bits: 7
                          part { field: "orders.surname" transform: TRANSFORM_NORMALIZED }
                        })pb",
     "bits must be 8 to 256"},
    {"BitsTooMany", R"pb(index {
                           name: "i"
                           bits: 257
                           part { field: "orders.surname" transform: TRANSFORM_NORMALIZED }
                         })pb",
     "bits must be 8 to 256"},
    {"DuplicateName",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.surname" transform: TRANSFORM_NORMALIZED }
          }
          index {
            name: "i"
            bits: 16
            part { field: "orders.note" transform: TRANSFORM_NORMALIZED }
          })pb",
     "already"},
    {"NameOfAField", R"pb(index {
                            name: "orders.surname"
                            bits: 16
                            part { field: "orders.surname" transform: TRANSFORM_NORMALIZED }
                          })pb",
     "already"},
    {"NoParts", R"pb(index { name: "i" bits: 16 })pb", "1 to 8 parts"},
    {"NoTransform", R"pb(index {
                           name: "i"
                           bits: 16
                           part { field: "orders.surname" }
                         })pb",
     "transform is required"},
    {"DomainOfAPhone",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.customer_phone" transform: TRANSFORM_EMAIL_DOMAIN }
          })pb",
     "EMAIL_DOMAIN needs an e-mail field"},
    {"VaultTokenField",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.card_token" transform: TRANSFORM_LAST_DIGITS n: 4 }
          })pb",
     "vault-token"},
    {"BadColumn", R"pb(index {
                         name: "i"
                         column: "x; DROP TABLE orders"
                         bits: 16
                         part { field: "orders.surname" transform: TRANSFORM_NORMALIZED }
                       })pb",
     "plain SQL identifier"},
    {"NormalizerOnDigits", R"pb(index {
                                  name: "i"
                                  bits: 16
                                  part {
                                    field: "orders.customer_phone"
                                    transform: TRANSFORM_DIGITS_ONLY
                                    normalizer: "phone"
                                  }
                                })pb",
     "take no normalizer"},
    {"NormalizerThatDoesNotFit",
     R"pb(index {
            name: "i"
            bits: 16
            part { field: "orders.surname" transform: TRANSFORM_NORMALIZED normalizer: "phone" }
          })pb",
     "does not fit"},
};

INSTANTIATE_TEST_SUITE_P(All, CompoundIndexRejected, ::testing::ValuesIn(kBadIndexes),
                         [](const auto& p) { return std::string(p.param.name); });

// ---- the index values ---------------------------------------------------------------------

class CompoundIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_ = std::make_unique<Keyset>(Keyset::Generate().value());
    cryptor_ = FieldCryptor::Create(*keyset_, TestPolicy()).value();
  }
  std::string Index(absl::string_view name, std::vector<NullableValue> values) {
    auto v = cryptor_->CompoundIndex(name, values);
    EXPECT_THAT(v, IsOk());
    return v.ok() && v->has_value() ? **v : std::string();
  }
  std::unique_ptr<Keyset> keyset_;
  std::unique_ptr<FieldCryptor> cryptor_;
};

void AppendLp(absl::string_view x, std::string* out) {
  const uint32_t n = static_cast<uint32_t>(x.size());
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>(n >> s));
  out->append(x.data(), x.size());
}

// docs/SPEC.md, "Compound and transformed indexes", computed here with OpenSSL's one-shot
// HMAC: key derivation (name, bits and every part bound) and length-prefixed parts.
TEST_F(CompoundIndexTest, FormatIsTheSpecs) {
  std::string definition;
  AppendLp("orders.surname_postcode", &definition);
  definition += std::string("\x00\x10\x02", 3);  // bits 16, 2 parts
  AppendLp("orders.surname", &definition);
  definition += std::string("\x01\x00", 2);  // NORMALIZED, n 0
  AppendLp("name", &definition);
  AppendLp("", &definition);
  AppendLp("orders.postcode", &definition);
  definition += std::string("\x01\x00", 2);
  AppendLp("exact", &definition);
  AppendLp("", &definition);
  const SecretData root =
      keyset_->KeyMaterial(keyset_->primary_key_id(), InsecureSecretKeyAccess::Get()).value();
  const SecretData key =
      internal::HkdfSha256(root, "", absl::StrCat("piicrypt/v1/cidx/", definition), 32).value();
  std::string message;
  AppendLp("o'brien", &message);  // NFKC case fold of "O'Brien"
  AppendLp("SW1A 1AA", &message);
  unsigned char mac[32];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_size);
  const std::string expected =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), 2));
  EXPECT_EQ(Index("orders.surname_postcode", {"  O'Brien ", "SW1A 1AA"}), expected);
}

TEST_F(CompoundIndexTest, LengthPrefixesKeepPartsApart) {
  EXPECT_NE(Index("orders.note_code", {"ab", "c"}), Index("orders.note_code", {"a", "bc"}));
  EXPECT_EQ(Index("orders.note_code", {"ab", "c"}), Index("orders.note_code", {"ab", "c"}));
}

TEST_F(CompoundIndexTest, EveryIndexHasItsOwnKey) {
  // Same parts, another name: unrelated values (64 bits: equal only by accident).
  EXPECT_NE(Index("orders.note_code", {"ab", "c"}), Index("orders.note_code_again", {"ab", "c"}));
  // A one-part index over a field with the field's own normalizer is not the field's blind
  // index: the two are domain-separated. 8 bits collide by chance once in 256, so several
  // values are compared.
  int equal = 0;
  for (int i = 0; i < 8; ++i) {
    const std::string email = absl::StrCat("user", i, "@example.com");
    equal += Index("orders.email_exact", {email}) ==
             cryptor_->BlindIndexValue("orders.customer_email", email).value();
  }
  EXPECT_LT(equal, 8);
}

// The key binds the whole definition: the same name over a changed part (here a transform
// that gives the same input) is a new, unrelated index, never a silent mix of old values.
TEST(CompoundIndexKeyTest, ChangingADefinitionGivesAnUnrelatedIndex) {
  const Keyset keyset = Keyset::Generate().value();
  auto value = [&](absl::string_view part) {
    const Policy policy =
        Policy::ParseTextProto(
            absl::StrCat(kFields, R"pb(index { name: "orders.x" bits: 64)pb", " ", part, " }"))
            .value();
    auto cryptor = FieldCryptor::Create(keyset, policy).value();
    return **cryptor->CompoundIndex("orders.x", {"abc"});
  };
  EXPECT_NE(value(R"pb(part { field: "orders.note" transform: TRANSFORM_NORMALIZED })pb"),
            value(R"pb(part { field: "orders.note" transform: TRANSFORM_FIRST_CHARS n: 64 })pb"));
  EXPECT_NE(value(R"pb(part { field: "orders.note" transform: TRANSFORM_NORMALIZED })pb"),
            value(R"pb(part { field: "orders.code" transform: TRANSFORM_NORMALIZED })pb"));
}

TEST_F(CompoundIndexTest, Transforms) {
  EXPECT_EQ(Index("orders.phone_last4", {"+61 2 5550 0199"}),
            Index("orders.phone_last4", {"(02) 5550-0199"}));
  EXPECT_EQ(cryptor_->CompoundIndexPart("orders.phone_last4", 0, "+61 2 5550 0199").value(),
            "0199");
  EXPECT_EQ(cryptor_->CompoundIndexPart("orders.email_domain", 0, " Jane@Example.COM").value(),
            "example.com");
  EXPECT_EQ(cryptor_->CompoundIndexPart("orders.name_start", 0, "ÉLODIE Dupont").value(), "élo");
  EXPECT_EQ(cryptor_->CompoundIndexPart("orders.name_start", 0, "Li").value(), "li");
  EXPECT_EQ(cryptor_->CompoundIndexPart("orders.phone_digits", 0, "+61 (2) 5550").value(),
            "6125550");
  EXPECT_EQ(Index("orders.email_domain", {"a@shop.example"}),
            Index("orders.email_domain", {"B@SHOP.example"}));
}

TEST_F(CompoundIndexTest, ValuesATransformRefusesAreErrorsWithoutTheValue) {
  auto few = cryptor_->CompoundIndex("orders.phone_last4", {"+1 9"});
  EXPECT_THAT(few, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(few.status().message(), HasSubstr("orders.customer_phone"));
  EXPECT_THAT(few.status().message(), ::testing::Not(HasSubstr("+1 9")));
  EXPECT_THAT(cryptor_->CompoundIndex("orders.phone_digits", {"none"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->CompoundIndex("orders.surname_postcode", {"one"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->CompoundIndex("orders.nope", {"x"}), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CompoundIndexTest, ANullPartMakesANullIndex) {
  EXPECT_THAT(cryptor_->CompoundIndex("orders.surname_postcode", {"Doe", std::nullopt}),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TEST_F(CompoundIndexTest, LookupValuesCoverEveryEnabledKeyPrimaryFirst) {
  const std::string old_value = Index("orders.surname_postcode", {"Doe", "2000"});
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  cryptor_ = FieldCryptor::Create(*keyset_, TestPolicy()).value();
  const std::string new_value = Index("orders.surname_postcode", {"Doe", "2000"});
  EXPECT_THAT(cryptor_->CompoundLookupIndexes("orders.surname_postcode", {"DOE ", "2000"}),
              IsOkAndHolds(ElementsAre(new_value, old_value)));
}

// ---- lookups -------------------------------------------------------------------------------

class LookupTest : public CompoundIndexTest {
 protected:
  std::string Enc(absl::string_view field, absl::string_view value, absl::string_view record) {
    return cryptor_->EncryptValue(field, value, record).value();
  }
};

TEST_F(LookupTest, AFieldLookupFindsTheValueTypedDifferently) {
  const std::string ct = Enc("orders.customer_email", "jane.doe@example.com", "17");
  auto lookup = Lookup::Create(*cryptor_, "orders.customer_email", "  Jane.Doe@EXAMPLE.com ");
  ASSERT_THAT(lookup, IsOk());
  EXPECT_EQ(lookup->column(), "customer_email_idx");
  EXPECT_THAT(
      lookup->index_values(),
      ElementsAre(
          cryptor_->BlindIndexValue("orders.customer_email", "jane.doe@example.com").value()));
  EXPECT_THAT(lookup->MatchValue("17", ct),
              IsOkAndHolds(Optional(std::string("jane.doe@example.com"))));
  EXPECT_THAT(lookup->Matches({"17", {ct}}), IsOkAndHolds(true));
  EXPECT_THAT(lookup->MatchValue("17", std::nullopt), IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_EQ(Lookup::Create(*cryptor_, "orders.customer_phone", "0255500199")->column(),
            "phone_idx");
}

// With 8 bits, about one e-mail in 256 shares the index value of the one looked up: such a
// row is returned by the query and must be dropped by the filter.
TEST_F(LookupTest, ARowThatOnlySharesTheIndexDoesNotMatch) {
  auto lookup = Lookup::Create(*cryptor_, "orders.customer_email", "jane@example.com").value();
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    const std::string email = absl::StrCat("customer", i, "@example.com");
    if (cryptor_->BlindIndexValue("orders.customer_email", email).value() ==
        lookup.index_values()[0]) {
      other = email;
    }
  }
  const std::string ct = Enc("orders.customer_email", other, "5");
  EXPECT_THAT(lookup.MatchValue("5", ct), IsOkAndHolds(::testing::Eq(std::nullopt)));
  const std::string mine = Enc("orders.customer_email", "jane@example.com", "6");
  EXPECT_THAT(lookup.Filter({{"5", {ct}}, {"6", {mine}}}), IsOkAndHolds(ElementsAre(1u)));
}

TEST_F(LookupTest, ACandidateThatDoesNotAuthenticateIsAnErrorNeverAMatch) {
  const std::string ct = Enc("orders.customer_email", "jane@example.com", "6");
  auto lookup = Lookup::Create(*cryptor_, "orders.customer_email", "jane@example.com").value();
  std::string tampered = ct;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_THAT(lookup.MatchValue("6", tampered), StatusIs(absl::StatusCode::kInvalidArgument));
  // Copied into another row: bound to row 6, it fails in row 7.
  EXPECT_THAT(lookup.MatchValue("7", ct), StatusIs(absl::StatusCode::kInvalidArgument));
  auto filtered = lookup.Filter({{"6", {ct}}, {"7", {ct}}});
  EXPECT_THAT(filtered, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(filtered.status().message(), HasSubstr("row 1: orders.customer_email"));
  EXPECT_THAT(filtered.status().message(), ::testing::Not(HasSubstr("jane")));
}

TEST_F(LookupTest, ACompoundLookupMatchesEveryPart) {
  const std::string surname = Enc("orders.surname", "O'Brien", "9");
  const std::string postcode = Enc("orders.postcode", "2000", "9");
  const std::string other_postcode = Enc("orders.postcode", "2001", "9");
  std::vector<absl::string_view> typed = {"o'brien ", "2000"};
  auto lookup = Lookup::Create(*cryptor_, "orders.surname_postcode", typed);
  ASSERT_THAT(lookup, IsOk());
  EXPECT_THAT(lookup->fields(), ElementsAre("orders.surname", "orders.postcode"));
  EXPECT_EQ(lookup->column(), "sp_idx");
  EXPECT_THAT(lookup->index_values(),
              ElementsAre(Index("orders.surname_postcode", {"O'Brien", "2000"})));
  EXPECT_THAT(lookup->Matches({"9", {surname, postcode}}), IsOkAndHolds(true));
  EXPECT_THAT(lookup->Matches({"9", {surname, other_postcode}}), IsOkAndHolds(false));
  EXPECT_THAT(lookup->Matches({"9", {surname}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(lookup->MatchValue("9", surname), StatusIs(absl::StatusCode::kFailedPrecondition));

  auto last4 = Lookup::Create(*cryptor_, "orders.phone_last4", "0199").value();
  const std::string phone = Enc("orders.customer_phone", "+61 2 5550 0199", "3");
  EXPECT_THAT(last4.MatchValue("3", phone), IsOkAndHolds(Optional(std::string("+61 2 5550 0199"))));
}

// An FF1 part whose key is in a key-version column is decrypted under the row's key id.
TEST_F(LookupTest, AnFf1PartTakesTheRowsKeyId) {
  const uint32_t key = cryptor_->WriteKeyId("orders.phone_ff1").value();
  const std::string stored = Enc("orders.phone_ff1", "+61 2 5550 0199", "4");
  auto lookup = Lookup::Create(*cryptor_, "orders.ff1_last4", "0199").value();
  EXPECT_THAT(lookup.Matches({"4", {stored}, {key}}), IsOkAndHolds(true));
  EXPECT_THAT(lookup.MatchValue("4", stored, key),
              IsOkAndHolds(Optional(std::string("+61 2 5550 0199"))));
  // Without the key id it cannot know the key: an error, not a guess.
  EXPECT_THAT(lookup.Matches({"4", {stored}}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// The example policy's support-desk indexes: phone last 4, and name + postcode (an FF1
// postcode whose key is in the row's key-version column).
TEST(LookupExamplePolicyTest, PhoneLast4AndNamePostcode) {
  const Keyset keyset = Keyset::Generate().value();
  auto c = FieldCryptor::Create(keyset, Policy::ReadFile(std::string(PIICRYPT_SOURCE_DIR) +
                                                         "/examples/policies/orders.textproto")
                                            .value())
               .value();
  const std::string name = c->EncryptValue("orders.customer_name", "Jane Doe", "42").value();
  const std::string phone =
      c->EncryptValue("orders.customer_phone", "+61 2 5550 0199", "42").value();
  const std::string postcode =
      c->EncryptValue("orders.delivery_postcode", "SW1A 1AA", "42").value();
  const uint32_t postcode_key = c->WriteKeyId("orders.delivery_postcode").value();

  auto last4 = Lookup::Create(*c, "orders.phone_last4", "0199").value();
  EXPECT_EQ(last4.column(), "phone_last4_idx");
  EXPECT_EQ(last4.index_values()[0],
            *c->CompoundIndex("orders.phone_last4", {"(02) 5550 0199"}).value());
  EXPECT_THAT(last4.MatchValue("42", phone),
              IsOkAndHolds(Optional(std::string("+61 2 5550 0199"))));

  std::vector<absl::string_view> typed = {"  JANE   doe", "SW1A 1AA"};
  auto by_name = Lookup::Create(*c, "orders.name_postcode", typed).value();
  EXPECT_EQ(by_name.index_values()[0],
            *c->CompoundIndex("orders.name_postcode", {"Jane Doe", "SW1A 1AA"}).value());
  EXPECT_THAT(by_name.Matches({"42", {name, postcode}, {0, postcode_key}}), IsOkAndHolds(true));
  typed[1] = "SW1A 1AB";
  auto other = Lookup::Create(*c, "orders.name_postcode", typed).value();
  EXPECT_THAT(other.Matches({"42", {name, postcode}, {0, postcode_key}}), IsOkAndHolds(false));
}

TEST(LookupKeyHandleTest, ALookupKeepsItsSnapshotWhileTheHandleReloads) {
  testing::TempDir dir;
  const std::string kek_uri = "file:" + dir.File("kek.key");
  ASSERT_THAT(Kek::Create(kek_uri), IsOk());
  auto kek = Kek::Open(kek_uri).value();
  ASSERT_THAT(Keyset::Generate().value().WriteNew(dir.File("keyset"), *kek), IsOk());
  { std::ofstream(dir.File("policy.textproto")) << kFields << kIndexes; }
  KeyHandleOptions options;
  options.keyset_path = dir.File("keyset");
  options.kek = Kek::Open(kek_uri).value();
  options.policy_path = dir.File("policy.textproto");
  options.check_interval = absl::ZeroDuration();
  auto keys = KeyHandle::Open(std::move(options)).value();
  const std::string ct =
      keys->EncryptValue("orders.customer_email", "jane@example.com", "1").value();
  auto before = Lookup::Create(*keys, "orders.customer_email", " JANE@example.com").value();
  ASSERT_EQ(before.index_values().size(), 1u);

  ASSERT_THAT(
      Keyset::Update(dir.File("keyset"), *kek, [](Keyset& k) { return k.Rotate().status(); }),
      IsOk());
  ASSERT_THAT(keys->Reload(), IsOk());
  EXPECT_EQ(before.index_values().size(), 1u);  // its own snapshot, still valid
  EXPECT_THAT(before.MatchValue("1", ct), IsOkAndHolds(Optional(std::string("jane@example.com"))));
  auto after = Lookup::Create(*keys, "orders.customer_email", "jane@example.com").value();
  ASSERT_EQ(after.index_values().size(), 2u);
  EXPECT_EQ(after.index_values()[1], before.index_values()[0]);
  EXPECT_THAT(after.MatchValue("1", ct), IsOkAndHolds(Optional(std::string("jane@example.com"))));
}

TEST_F(LookupTest, NamesAndValuesItRefuses) {
  EXPECT_THAT(Lookup::Create(*cryptor_, "orders.nope", "x"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Lookup::Create(*cryptor_, "orders.surname", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition));  // no blind index
  auto bad = Lookup::Create(*cryptor_, "orders.customer_email", "not an address");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.status().message(), ::testing::Not(HasSubstr("not an address")));
}

// ---- the SQL side --------------------------------------------------------------------------

TEST(SqlInTest, BuildsPlaceholdersAndBindingsInOrder) {
  const std::vector<std::string> values = {"ab12", "cd34"};
  auto q = SqlIn("email_idx", values, SqlPlaceholders::kQuestionMark);
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->sql, "\"email_idx\" IN (?,?)");
  EXPECT_THAT(q->bindings, ElementsAre("ab12", "cd34"));
  EXPECT_EQ(q->next_parameter, 3);
  auto pg = SqlIn("o.email_idx", values, SqlPlaceholders::kDollarNumbered, 3);
  ASSERT_THAT(pg, IsOk());
  EXPECT_EQ(pg->sql, "\"o\".\"email_idx\" IN ($3,$4)");
  EXPECT_EQ(pg->first_parameter, 3);
  EXPECT_EQ(pg->next_parameter, 5);
  const std::vector<const char*> params = pg->ParamValues();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_STREQ(params[1], "cd34");
}

TEST(SqlInTest, RefusesWhatIsNotAPlainIdentifier) {
  const std::vector<std::string> values = {"ab"};
  for (const char* column : {"", "email_idx; DROP TABLE orders", "\"email_idx\"", "a.b.c", "1col",
                             "a.", ".a", "e-mail", "col umn", "a\"b"}) {
    EXPECT_THAT(SqlIn(column, values, SqlPlaceholders::kDollarNumbered),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << column;
  }
  EXPECT_THAT(SqlIn("email_idx", {}, SqlPlaceholders::kQuestionMark),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SqlIn("email_idx", values, SqlPlaceholders::kDollarNumbered, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace piicrypt
