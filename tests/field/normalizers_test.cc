// Blind-index normalizers and display masks, with tricky inputs.
#include "src/field/normalizers.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

struct Case {
  const char* in;
  const char* out;  // nullptr: kInvalidArgument
};

TEST(NormalizeEmailTest, TrimsAndLowerCases) {
  const Case cases[] = {
      {"Jane.Doe@Example.COM", "jane.doe@example.com"},
      {"  jane@example.com \t\n", "jane@example.com"},
      {"\xE2\x80\x83jane@example.com\xC2\xA0", "jane@example.com"},  // em space, no-break space
      {"J\xC3\x96RG@B\xC3\x9C" "CHER.DE", "j\xC3\xB6rg@b\xC3\xBC" "cher.de"},  // JÖRG@BÜCHER.DE
      {"", nullptr},
      {"   ", nullptr},
      {"jane.example.com", nullptr},
      {"@example.com", nullptr},
      {"jane@", nullptr},
      {"a@b@c", nullptr},
      {"jane@exa\xFFmple.com", nullptr},  // invalid UTF-8
  };
  for (const Case& c : cases) {
    auto out = NormalizeEmail(c.in);
    if (c.out == nullptr) {
      EXPECT_THAT(out, StatusIs(absl::StatusCode::kInvalidArgument)) << c.in;
      if (!out.ok() && c.in[0] != '\0') {
        EXPECT_EQ(out.status().message().find(c.in), absl::string_view::npos);  // never the value
      }
    } else {
      ASSERT_THAT(out, IsOk()) << c.in;
      EXPECT_EQ(*out, c.out);
    }
  }
}

TEST(NormalizeNameTest, FoldsCaseAndCompatibilityFormsAndCollapsesSpace) {
  const Case cases[] = {
      {"Jane  Doe", "jane doe"},
      {"  JANE\t\nDOE  ", "jane doe"},
      {"Stra\xC3\x9F" "e", "strasse"},                  // ß folds to ss
      {"\xEF\xBC\xAA\xEF\xBD\x81\xEF\xBD\x8E\xEF\xBD\x85", "jane"},  // fullwidth Ｊａｎｅ
      {"Zo\xC3\xAB", "zo\xC3\xAB"},                     // precomposed ë
      {"Zoe\xCC\x88", "zo\xC3\xAB"},                    // e + combining diaeresis: same
      {"\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91", "\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1"},  // ΣΟΦΙΑ
      {"Jane\xE3\x80\x80" "Doe", "jane doe"},           // ideographic space
      {"Jo\xC2\xAD" "hn", "john"},                      // soft hyphen is ignorable
      {"", nullptr},
      {" \t ", nullptr},
      {"Ja\xC0\xAFne", nullptr},                        // overlong '/'
  };
  for (const Case& c : cases) {
    auto out = NormalizeName(c.in);
    if (c.out == nullptr) {
      EXPECT_THAT(out, StatusIs(absl::StatusCode::kInvalidArgument)) << c.in;
    } else {
      ASSERT_THAT(out, IsOk()) << c.in;
      EXPECT_EQ(*out, c.out) << c.in;
    }
  }
}

TEST(PhoneNormalizerTest, GivesE164) {
  auto au = PhoneNormalizer::Create("AU");
  ASSERT_THAT(au, IsOk());
  const Case cases[] = {
      {"+61 2 5550 0199", "+61255500199"},
      {"(02) 5550 0199", "+61255500199"},
      {"02-5550-0199", "+61255500199"},
      {"0412 345 678", "+61412345678"},
      {"+44 20 7946 0958", "+442079460958"},   // an international number despite the region
      {"+1 (650) 253-0000", "+16502530000"},
      {"0011 44 20 7946 0958", "+442079460958"},  // Australian international prefix
      {"\xEF\xBC\x8B\xEF\xBC\x96\xEF\xBC\x91 2 5550 0199", "+61255500199"},  // fullwidth +61
      {"12", nullptr},
      {"+61 2 5550", nullptr},
      {"+999 1234 5678", nullptr},
      {"not a number", nullptr},
      {"", nullptr},
  };
  for (const Case& c : cases) {
    auto out = au->Normalize(c.in);
    if (c.out == nullptr) {
      EXPECT_THAT(out, StatusIs(absl::StatusCode::kInvalidArgument)) << c.in;
    } else {
      ASSERT_THAT(out, IsOk()) << c.in;
      EXPECT_EQ(*out, c.out) << c.in;
    }
  }
}

TEST(PhoneNormalizerTest, WithoutRegionNumbersNeedACountryCode) {
  auto none = PhoneNormalizer::Create("");
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(none->Normalize("+61 2 5550 0199"), IsOk());
  auto local = none->Normalize("(02) 5550 0199");
  ASSERT_THAT(local, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(local.status().message(), ::testing::HasSubstr("international form"));
  EXPECT_THAT(PhoneNormalizer::Create("XX"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PhoneNormalizer::Create("au"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValueNormalizerTest, ExactKeepsBytes) {
  auto exact = ValueNormalizer::Create(Normalizer::kExact, "");
  ASSERT_THAT(exact, IsOk());
  EXPECT_EQ(exact->Normalize(" A\xFF ").value(), " A\xFF ");
  EXPECT_THAT(ValueNormalizer::Create(Normalizer::kPhone, "ZZZ"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MaskValueTest, DesignExamples) {
  EXPECT_EQ(MaskValue(MaskStyle::kEmail, "jane.doe@example.com"), "j***@example.com");
  EXPECT_EQ(MaskValue(MaskStyle::kPhone, "+61 2 5550 0199"), "*** *** 0199");
  EXPECT_EQ(MaskValue(MaskStyle::kInitials, "jane  doe"), "J. D.");
  EXPECT_EQ(MaskValue(MaskStyle::kLast4, "4111 1111 1111 1234"), "**** 1234");
  EXPECT_EQ(MaskValue(MaskStyle::kLast4, "1234"), "**** 1234");
  EXPECT_EQ(MaskValue(MaskStyle::kFull, "anything"), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kDefault, "anything"), "***");
}

TEST(MaskValueTest, ValuesThatDoNotFitAreFullyMasked) {
  EXPECT_EQ(MaskValue(MaskStyle::kEmail, "no-at-sign"), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kEmail, "@example.com"), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kEmail, "jane@"), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kEmail, "\xFF@example.com"), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kPhone, "0199"), "***");  // too short to show 4 digits
  EXPECT_EQ(MaskValue(MaskStyle::kLast4, "123"), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kInitials, "   "), "***");
  EXPECT_EQ(MaskValue(MaskStyle::kInitials, "\xC3"), "***");
}

TEST(MaskValueTest, UnicodeInitialsAndLocalParts) {
  EXPECT_EQ(MaskValue(MaskStyle::kInitials, "\xC3\xA9mile zola"), "\xC3\x89. Z.");  // émile → É.
  EXPECT_EQ(MaskValue(MaskStyle::kInitials, "\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E"),
            "\xE5\xB1\xB1. \xE5\xA4\xAA.");  // 山田 太郎 → 山. 太.
  EXPECT_EQ(MaskValue(MaskStyle::kEmail, "\xC3\xA9lise@example.fr"), "\xC3\xA9***@example.fr");
}

}  // namespace
}  // namespace piicrypt::internal
