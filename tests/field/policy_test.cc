// Policy loading and validation: the example policy, and every rule that makes no sense.
#include "piicrypt/policy.h"

#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::testing::HasSubstr;

std::string ExamplePolicyPath() {
  return std::string(PIICRYPT_SOURCE_DIR) + "/examples/policies/orders.textproto";
}

TEST(PolicyTest, LoadsTheExamplePolicyWithDefaultsResolved) {
  auto policy = Policy::ReadFile(ExamplePolicyPath());
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->rules().size(), 12u);

  const FieldRule* email = policy->Find("orders.customer_email");
  ASSERT_NE(email, nullptr);
  EXPECT_EQ(email->kind, FieldKind::kEmail);
  EXPECT_EQ(email->mode, FieldMode::kRandomized);
  EXPECT_TRUE(email->bind_record);
  ASSERT_TRUE(email->blind_index.has_value());
  EXPECT_EQ(email->blind_index->bits, 16);
  EXPECT_EQ(email->blind_index->normalizer, Normalizer::kEmail);
  EXPECT_EQ(email->mask, MaskStyle::kEmail);

  // Defaults from the kind: normalizer of bookings.customer_email, mask of addresses.
  EXPECT_EQ(policy->Find("bookings.customer_email")->blind_index->normalizer, Normalizer::kEmail);
  EXPECT_EQ(policy->Find("orders.delivery_address")->mask, MaskStyle::kFull);
  EXPECT_EQ(policy->Find("bookings.customer_name")->mask, MaskStyle::kInitials);

  const FieldRule* phone = policy->Find("bookings.customer_phone");
  ASSERT_NE(phone, nullptr);
  ASSERT_TRUE(phone->format_preserving.has_value());
  EXPECT_EQ(phone->format_preserving->codec.codec, FpeCodec::kPhone);
  EXPECT_EQ(phone->format_preserving->codec.context, "bookings.customer_phone");
  EXPECT_EQ(phone->blind_index->default_region, "AU");

  EXPECT_EQ(policy->Find("orders.no_such_field"), nullptr);

  // Padding of names, addresses and purchase details; none where the policy says none.
  EXPECT_EQ(policy->Find("orders.customer_name")->padding.buckets,
            (std::vector<uint32_t>{16, 32, 64}));
  EXPECT_EQ(policy->Find("orders.delivery_address")->padding.buckets,
            (std::vector<uint32_t>{32, 64, 128}));
  EXPECT_EQ(policy->Find("orders.purchase_details")->padding.buckets,
            (std::vector<uint32_t>{64, 256, 1024}));
  EXPECT_FALSE(email->padding.enabled());
}

// One vocabulary: the policy file's MODE_X is FieldRule::mode FieldMode::kX, and the older
// C++ name FieldProtection still names the same type.
TEST(PolicyTest, EachModeOfThePolicyFileIsItsFieldMode) {
  static_assert(std::is_same_v<FieldProtection, FieldMode>);
  struct Case {
    const char* text;
    FieldMode mode;
  };
  const Case cases[] = {
      {R"pb(field { name: "f" mode: MODE_RANDOMIZED })pb", FieldMode::kRandomized},
      {R"pb(field { name: "f" mode: MODE_DETERMINISTIC })pb", FieldMode::kDeterministic},
      {R"pb(field {
              name: "f"
              mode: MODE_FORMAT_PRESERVING
              format_preserving {
                key_id: 7
                phone {}
              }
            })pb",
       FieldMode::kFormatPreserving},
      {R"pb(field { name: "f" mode: MODE_VAULT_TOKEN })pb", FieldMode::kVaultToken},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Policy> policy = Policy::ParseTextProto(c.text);
    ASSERT_TRUE(policy.ok()) << c.text << ": " << policy.status();
    EXPECT_EQ(policy->Find("f")->mode, c.mode) << c.text;
  }
}

TEST(PolicyTest, PaddingOfBothFormsLoadsAndIsCheckedInCodeToo) {
  auto policy = Policy::ParseTextProto(
      R"(field { name: "f.a" mode: MODE_DETERMINISTIC padding { multiple: 4096 } }
         field { name: "f.b" mode: MODE_RANDOMIZED padding { buckets: [1, 65536] } })");
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->Find("f.a")->padding.multiple, 4096u);
  EXPECT_EQ(policy->Find("f.b")->padding.buckets, (std::vector<uint32_t>{1, 65536}));
  FieldRule rule;
  rule.name = "f.c";
  rule.padding.buckets = {64, 32};
  EXPECT_THAT(Policy::Create({rule}), StatusIs(absl::StatusCode::kInvalidArgument));
  rule.padding.buckets = {32, 64};
  EXPECT_THAT(Policy::Create({rule}), IsOk());
  rule.mode = FieldMode::kVaultToken;
  EXPECT_THAT(Policy::Create({rule}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PolicyTest, CreateInCodeMatchesTheTextForm) {
  FieldRule rule;
  rule.name = "orders.customer_email";
  rule.kind = FieldKind::kEmail;
  rule.blind_index = BlindIndexRule{};
  auto policy = Policy::Create({rule});
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->rules()[0].blind_index->normalizer, Normalizer::kEmail);
  EXPECT_EQ(policy->rules()[0].mask, MaskStyle::kEmail);
  // Resolved rules validate again unchanged.
  auto again = Policy::Create({policy->rules().begin(), policy->rules().end()});
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->rules()[0].mask, MaskStyle::kEmail);
}

struct BadPolicy {
  const char* name;
  const char* text;
  const char* expected;  // a part of the message; the field name is checked too
};

const BadPolicy kBadPolicies[] = {
    {"TwoBitBlindIndex", R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index { bits: 2 } })",
     "bits must be 8 to 256"},
    {"ZeroBitBlindIndex", R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index {} })",
     "bits must be 8 to 256"},
    {"TooManyBits", R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index { bits: 257 } })",
     "bits must be 8 to 256"},
    {"HugeBits", R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index { bits: 4000000000 } })",
     "bits must be 8 to 256"},
    {"UnknownNormalizer",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index { bits: 16 normalizer: "soundex" } })",
     "unknown normalizer \"soundex\""},
    {"NormalizerOfAnotherKind",
     R"(field { name: "f.x" kind: KIND_EMAIL mode: MODE_RANDOMIZED blind_index { bits: 16 normalizer: "phone" } })",
     "does not fit a KIND_EMAIL field"},
    {"RegionWithoutPhone",
     R"(field { name: "f.x" kind: KIND_EMAIL mode: MODE_RANDOMIZED blind_index { bits: 16 default_region: "AU" } })",
     "default_region is only for the phone normalizer"},
    {"UnknownRegion",
     R"(field { name: "f.x" kind: KIND_PHONE mode: MODE_RANDOMIZED blind_index { bits: 16 default_region: "XX" } })",
     "unknown phone region"},
    {"Ff1OnFreeText",
     R"(field { name: "f.x" kind: KIND_ADDRESS mode: MODE_FORMAT_PRESERVING format_preserving { phone {} } })",
     "FF1 codec on a free-text field"},
    {"Ff1OnName",
     R"(field { name: "f.x" kind: KIND_NAME mode: MODE_FORMAT_PRESERVING format_preserving { alphabet {} } })",
     "FF1 codec on a free-text field"},
    {"Ff1CodecOfAnotherKind",
     R"(field { name: "f.x" kind: KIND_PHONE mode: MODE_FORMAT_PRESERVING format_preserving { card {} } })",
     "does not fit a KIND_PHONE field"},
    {"Ff1WithoutOptions", R"(field { name: "f.x" kind: KIND_PHONE mode: MODE_FORMAT_PRESERVING })",
     "needs format_preserving"},
    {"Ff1WithoutCodec",
     R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { key_id: 7 } })",
     "needs a codec"},
    {"Ff1KeyVersionColumnNotAnIdentifier",
     R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { phone {} key_version_column: "k; drop" } })",
     "key_version_column must be a plain SQL identifier"},
    {"Ff1BadAlphabet",
     R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { key_id: 7 alphabet { alphabet: "AAB" } } })",
     "f.x"},
    {"Ff1OptionsOnRandomized",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED format_preserving { phone {} } })",
     "only for MODE_FORMAT_PRESERVING"},
    {"PointlessBlindIndexOnDeterministic",
     R"(field { name: "f.x" mode: MODE_DETERMINISTIC blind_index { bits: 32 } })", "adds nothing"},
    {"PointlessBlindIndexOnUnboundFf1",
     R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { key_id: 7 phone {} } blind_index { bits: 32 normalizer: "exact" } })",
     "adds nothing"},
    {"BlindIndexOnToken",
     R"(field { name: "f.x" mode: MODE_VAULT_TOKEN blind_index { bits: 32 } })", "reserved"},
    {"NoMode", R"(field { name: "f.x" })", "mode is required"},
    // An FF1 value names no key: the rule must (or a key-version column per row).
    {"Ff1WithoutKey",
     R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { phone {} } })",
     "an FF1 value carries no key id, so the field must say where its key is: add "
     "format_preserving { key_id: N }"},
    {"VaultlessTokenWithoutKey",
     R"(field { name: "f.x" mode: MODE_VAULT_TOKEN token { vaultless: true } })",
     "a vaultless token carries no key id, so the field must pin its key: add token { key_id: N }"},
    {"BindRecordOnToken", R"(field { name: "f.x" mode: MODE_VAULT_TOKEN bind_record: true })",
     "bind_record does not apply to MODE_VAULT_TOKEN"},
    {"BlindIndexColumnNotAnIdentifier",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index { bits: 16 column: "x_idx; DROP TABLE t" } })",
     "blind_index column must be a plain SQL identifier"},
    {"BlindIndexColumnQuoted",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED blind_index { bits: 16 column: "\"x\"" } })",
     "blind_index column must be a plain SQL identifier"},
    {"MaskLast4OnEmail",
     R"(field { name: "f.x" kind: KIND_EMAIL mode: MODE_RANDOMIZED mask: MASK_LAST4 })",
     "MASK_LAST4 does not fit a KIND_EMAIL field"},
    {"MaskLast4OnAddress",
     R"(field { name: "f.x" kind: KIND_ADDRESS mode: MODE_RANDOMIZED mask: MASK_LAST4 })",
     "MASK_LAST4 does not fit a KIND_ADDRESS field"},
    {"MaskEmailOnName",
     R"(field { name: "f.x" kind: KIND_NAME mode: MODE_RANDOMIZED mask: MASK_EMAIL })",
     "MASK_EMAIL does not fit a KIND_NAME field"},
    {"MaskPhoneOnCard",
     R"(field { name: "f.x" kind: KIND_CARD mode: MODE_RANDOMIZED mask: MASK_PHONE })",
     "MASK_PHONE does not fit a KIND_CARD field"},
    {"MaskInitialsOnText", R"(field { name: "f.x" mode: MODE_RANDOMIZED mask: MASK_INITIALS })",
     "MASK_INITIALS does not fit a KIND_TEXT field"},
    {"Duplicate",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED } field { name: "f.x" mode: MODE_DETERMINISTIC })",
     "appears twice"},
    {"PaddingOnFf1",
     R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { key_id: 7 phone {} } padding { multiple: 16 } })",
     "padding is only for MODE_RANDOMIZED and MODE_DETERMINISTIC"},
    {"PaddingOnToken", R"(field { name: "f.x" mode: MODE_VAULT_TOKEN padding { buckets: [16] } })",
     "padding is only for MODE_RANDOMIZED and MODE_DETERMINISTIC"},
    {"PaddingEmpty", R"(field { name: "f.x" mode: MODE_RANDOMIZED padding {} })",
     "padding needs a multiple or buckets"},
    {"PaddingBoth",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED padding { multiple: 16 buckets: [16] } })",
     "padding takes a multiple or buckets, not both"},
    {"PaddingMultipleTooLarge",
     R"(field { name: "f.x" mode: MODE_DETERMINISTIC padding { multiple: 4097 } })",
     "padding multiple must be 1 to 4096"},
    {"PaddingBucketZero",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED padding { buckets: [0, 16] } })",
     "padding buckets must be 1 to 65536 bytes"},
    {"PaddingBucketTooLarge",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED padding { buckets: [16, 65537] } })",
     "padding buckets must be 1 to 65536 bytes"},
    {"PaddingBucketsDescending",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED padding { buckets: [32, 16] } })",
     "padding buckets must be in ascending order"},
    {"PaddingBucketsRepeated",
     R"(field { name: "f.x" mode: MODE_RANDOMIZED padding { buckets: [16, 16] } })",
     "padding buckets must be in ascending order"},
};

class BadPolicyTest : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(BadPolicyTest, IsRejectedNamingTheField) {
  auto policy = Policy::ParseTextProto(GetParam().text);
  ASSERT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(policy.status().message(), HasSubstr("\"f.x\""));
  EXPECT_THAT(policy.status().message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(AllChecks, BadPolicyTest, ::testing::ValuesIn(kBadPolicies),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(PolicyTest, RejectsNamelessAndOverlongFields) {
  EXPECT_THAT(Policy::ParseTextProto(R"(field { mode: MODE_RANDOMIZED })"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  FieldRule rule;
  rule.name = std::string(1025, 'n');
  auto policy = Policy::Create({rule});
  ASSERT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(policy.status().message(), HasSubstr("longer than 1024"));
}

TEST(PolicyTest, RejectsControlAndInvalidBytesInNamesWithoutPrintingThem) {
  const std::string names[] = {std::string("f.x\0y", 5),
                               "f.\x01x",
                               "f.x\n",
                               "f.\x7fx",
                               "f.\xc2\x85x" /* U+0085, a C1 control */,
                               "f.\xffx",
                               "f.\xc0\xaex" /* overlong '.' */};
  for (const std::string& name : names) {
    FieldRule rule;
    rule.name = name;
    auto policy = Policy::Create({rule});
    ASSERT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument)) << absl::CHexEscape(name);
    const std::string message(policy.status().message());
    EXPECT_THAT(message, HasSubstr("valid UTF-8 without control characters"));
    EXPECT_THAT(message, HasSubstr(absl::CHexEscape(name)));  // named, escaped
    EXPECT_EQ(message.find(name), std::string::npos);         // never raw
  }
  // The textproto form: an escaped NUL in a name.
  auto nul = Policy::ParseTextProto(R"(field { name: "f.x\000y" mode: MODE_RANDOMIZED })");
  EXPECT_THAT(nul, StatusIs(absl::StatusCode::kInvalidArgument));
  // Printable Unicode is a name like any other.
  FieldRule unicode;
  unicode.name =
      "bestellungen.stra\xc3\x9f"
      "e";
  EXPECT_THAT(Policy::Create({unicode}), IsOk());
}

TEST(PolicyTest, MasksFitTheirKinds) {
  struct Fit {
    const char* kind;
    const char* mask;
  };
  const Fit fits[] = {{"KIND_EMAIL", "MASK_EMAIL"}, {"KIND_PHONE", "MASK_PHONE"},
                      {"KIND_PHONE", "MASK_LAST4"}, {"KIND_NAME", "MASK_INITIALS"},
                      {"KIND_CARD", "MASK_LAST4"},  {"KIND_IDENTIFIER", "MASK_LAST4"},
                      {"KIND_TEXT", "MASK_FULL"},   {"KIND_ADDRESS", "MASK_FULL"},
                      {"KIND_EMAIL", "MASK_FULL"}};
  for (const Fit& fit : fits) {
    const std::string text = absl::StrCat(
        "field { name: \"f.x\" mode: MODE_RANDOMIZED kind: ", fit.kind, " mask: ", fit.mask, " }");
    EXPECT_THAT(Policy::ParseTextProto(text), IsOk()) << text;
  }
}

TEST(PolicyTest, Ff1FieldsSayWhereTheirKeyIs) {
  auto pinned = Policy::ParseTextProto(
      R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { key_id: 7 phone {} } })");
  ASSERT_THAT(pinned, IsOk());
  EXPECT_EQ(pinned->rules()[0].format_preserving->key_id, 7u);
  auto column = Policy::ParseTextProto(
      R"(field { name: "f.x" mode: MODE_FORMAT_PRESERVING format_preserving { phone {} key_version_column: "x_key" } })");
  ASSERT_THAT(column, IsOk());
  EXPECT_EQ(column->rules()[0].format_preserving->key_version_column, "x_key");
  // In code, the same check.
  FieldRule rule;
  rule.name = "f.x";
  rule.mode = FieldMode::kFormatPreserving;
  rule.format_preserving = FormatPreservingRule{};
  rule.format_preserving->codec.codec = FpeCodec::kPhone;
  EXPECT_THAT(Policy::Create({rule}), StatusIs(absl::StatusCode::kInvalidArgument));
  rule.mode = FieldMode::kVaultToken;
  rule.format_preserving.reset();
  rule.token = TokenizerOptions{};
  rule.token->vaultless = true;
  EXPECT_THAT(Policy::Create({rule}), StatusIs(absl::StatusCode::kInvalidArgument));
  rule.token->vaultless_key_id = 7;
  EXPECT_THAT(Policy::Create({rule}), IsOk());
}

TEST(PolicyTest, SyntaxErrorsNameLineAndColumn) {
  auto policy = Policy::ParseTextProto("field {\n  name: \"f.x\"\n  mode: MODE_SHUFFLED\n}\n");
  ASSERT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument));
  // Protobuf places an unknown enum value's error at the token after it.
  EXPECT_THAT(std::string(policy.status().message()), ::testing::ContainsRegex("line [34] column"));
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr("MODE_SHUFFLED"));
  EXPECT_THAT(Policy::ParseTextProto("field { colour: 1 }"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PolicyTest, ReadFileErrorsNameThePath) {
  testing::TempDir dir;
  auto missing = Policy::ReadFile(dir.File("nope.textproto"));
  ASSERT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.textproto"));

  const std::string bad = dir.File("bad.textproto");
  FILE* f = std::fopen(bad.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("field { name: \"f.x\" mode: MODE_RANDOMIZED blind_index { bits: 2 } }\n", f);
  std::fclose(f);
  auto invalid = Policy::ReadFile(bad);
  ASSERT_THAT(invalid, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(invalid.status().message(), HasSubstr("bad.textproto: policy field \"f.x\""));
}

TEST(PolicyTest, EmptyPolicyIsValid) {
  auto policy = Policy::ParseTextProto("");
  ASSERT_THAT(policy, IsOk());
  EXPECT_TRUE(policy->rules().empty());
}

TEST(NormalizerNameTest, RoundTripsAndRejectsUnknown) {
  for (Normalizer n :
       {Normalizer::kExact, Normalizer::kEmail, Normalizer::kPhone, Normalizer::kName}) {
    auto parsed = ParseNormalizer(NormalizerName(n));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, n);
  }
  EXPECT_THAT(ParseNormalizer("Email"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseNormalizer("default"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace piicrypt
