// The phone normalizer's short roads (normalizers.h) against libphonenumber alone, over
// more than 10,000 generated inputs each (fixed seeds): the memo, across regions and
// writing styles, valid and not, first or repeated; and the E.164 path, on numbers it has
// never seen, across every region libphonenumber knows. Every answer, rejections included,
// is libphonenumber's; and each road does answer the inputs it should.
#include <phonenumbers/phonenumberutil.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/field/normalizers.h"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;
using ::piicrypt::testing::IsOk;

const char* const kRegions[] = {"AU", "US", "GB", "DE", "FR", "IT", "IN", "JP", "BR", "NZ", "SG"};

// `length` random digits.
std::string RandomDigits(size_t length, std::mt19937& rng) {
  std::string digits(length, '0');
  for (char& c : digits) c = static_cast<char>('0' + rng() % 10);
  return digits;
}

// libphonenumber's example number of `type` in `region` in `example`, and in `nsn` its
// national significant number with the last four digits random; false where it has none.
bool RandomizedExample(const std::string& region, PhoneNumberUtil::PhoneNumberType type,
                       std::mt19937& rng, PhoneNumber& example, std::string& nsn) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (!util.GetExampleNumberForType(region, type, &example)) return false;
  nsn.clear();
  util.GetNationalSignificantNumber(example, &nsn);
  for (size_t i = nsn.size() > 4 ? nsn.size() - 4 : 0; i < nsn.size(); ++i) {
    nsn[i] = static_cast<char>('0' + rng() % 10);
  }
  return true;
}

// Inputs for `region`: libphonenumber's example numbers of several types with random
// last digits (many valid, some not), each written in E.164, international, national and
// RFC 3966 form, as bare national digits, with the national prefix kept after the country
// code, and with digits dropped or added; plus random digit strings.
std::vector<std::string> InputsFor(const std::string& region, std::mt19937& rng) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const PhoneNumberUtil::PhoneNumberType types[] = {
      PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE, PhoneNumberUtil::TOLL_FREE};
  std::vector<std::string> out;
  for (int round = 0; round < 40; ++round) {
    for (auto type : types) {
      PhoneNumber example;
      std::string nsn;
      if (!RandomizedExample(region, type, rng, example, nsn)) continue;
      PhoneNumber number;
      if (util.Parse(absl::StrCat("+", example.country_code(), nsn), region, &number) !=
          PhoneNumberUtil::NO_PARSING_ERROR) {
        out.push_back(absl::StrCat("+", example.country_code(), nsn));
        continue;
      }
      for (auto format : {PhoneNumberUtil::E164, PhoneNumberUtil::INTERNATIONAL,
                          PhoneNumberUtil::NATIONAL, PhoneNumberUtil::RFC3966}) {
        std::string s;
        util.Format(number, format, &s);
        out.push_back(s);
      }
      std::string prefix;
      util.GetNddPrefixForRegion(region, true, &prefix);
      out.push_back(absl::StrCat(prefix, nsn));
      out.push_back(absl::StrCat("+", number.country_code(), prefix, nsn));
      out.push_back(absl::StrCat("+", number.country_code(), nsn.substr(0, nsn.size() - 1)));
      out.push_back(absl::StrCat("+", number.country_code(), nsn, rng() % 10));
    }
  }
  for (int i = 0; i < 60; ++i) {
    const std::string digits = RandomDigits(3 + rng() % 14, rng);
    out.push_back(rng() % 2 ? absl::StrCat("+", digits) : digits);
  }
  return out;
}

void ExpectSameAnswer(const absl::StatusOr<std::string>& got,
                      const absl::StatusOr<std::string>& want) {
  ASSERT_EQ(got.ok(), want.ok());
  if (want.ok()) {
    EXPECT_EQ(*got, *want);
  } else {
    EXPECT_EQ(got.status(), want.status());
  }
}

TEST(PhoneFastPathTest, EveryAnswerIsLibphonenumbersOverTenThousandInputs) {
  std::mt19937 rng(17);
  size_t inputs = 0, accepted = 0, from_memo = 0, e164_accepted = 0, e164_from_memo = 0;
  for (const char* region : kRegions) {
    SCOPED_TRACE(region);
    auto normalizer = PhoneNormalizer::Create(region);
    ASSERT_THAT(normalizer, IsOk());
    for (const std::string& input : InputsFor(region, rng)) {
      SCOPED_TRACE(input);
      ++inputs;
      const auto want = normalizer->NormalizeWithLibphonenumber(input);
      ExpectSameAnswer(normalizer->Normalize(input), want);  // first sight
      const std::optional<std::string> memo = normalizer->FromMemo(input);
      if (memo.has_value()) {
        ASSERT_TRUE(want.ok());
        EXPECT_EQ(*memo, *want);
      }
      ExpectSameAnswer(normalizer->Normalize(input), want);  // again
      if (want.ok()) {
        ++accepted;
        from_memo += memo.has_value();
        if (input == *want) {
          ++e164_accepted;
          e164_from_memo += memo.has_value();
        }
      }
    }
  }
  EXPECT_GE(inputs, 10000u);
  // The memo is what answers repeated numbers: every valid number already in E.164 form,
  // and most others (not those whose proposal libphonenumber does not share: RFC 3966,
  // a national prefix kept after the country code, ...).
  EXPECT_GT(e164_accepted, 1000u);
  EXPECT_EQ(e164_from_memo, e164_accepted);
  EXPECT_GT(from_memo * 2, accepted);
}

// The memo answers only what libphonenumber said for that very input: a number with its
// national prefix after the country code is proposed wrongly ("+610255500199") and so
// always goes to libphonenumber, which knows better.
TEST(PhoneFastPathTest, AWrongProposalIsNeverRemembered) {
  auto au = PhoneNormalizer::Create("AU");
  ASSERT_THAT(au, IsOk());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(au->Normalize("+61 (0)2 5550 0199").value(), "+61255500199");
    EXPECT_EQ(au->FromMemo("+61 (0)2 5550 0199"), std::nullopt);
  }
  EXPECT_EQ(au->FromMemo("(02) 5550 0199"), std::nullopt);  // not seen yet
  EXPECT_EQ(au->Normalize("(02) 5550 0199").value(), "+61255500199");
  EXPECT_EQ(au->FromMemo("(02) 5550 0199"), "+61255500199");
  // Rejections are never remembered, and each normalizer has its own memo.
  EXPECT_FALSE(au->Normalize("+61 2 5550").ok());
  EXPECT_EQ(au->FromMemo("+61 2 5550"), std::nullopt);
  auto nz = PhoneNormalizer::Create("NZ");
  ASSERT_THAT(nz, IsOk());
  EXPECT_EQ(nz->FromMemo("(02) 5550 0199"), std::nullopt);
}

// Never-seen numbers in canonical E.164 form for every region: example numbers of many
// types with random last digits (valid and not), one digit short or long, with the
// national prefix after the country code (which libphonenumber strips: the E.164 path
// must leave those to it), a leading zero, and random digit strings after a '+'.
std::vector<std::string> E164InputsFor(const std::string& region, std::mt19937& rng) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const PhoneNumberUtil::PhoneNumberType types[] = {
      PhoneNumberUtil::FIXED_LINE,      PhoneNumberUtil::MOBILE,     PhoneNumberUtil::TOLL_FREE,
      PhoneNumberUtil::PREMIUM_RATE,    PhoneNumberUtil::VOIP,       PhoneNumberUtil::UAN,
      PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::SHARED_COST};
  std::string prefix;
  util.GetNddPrefixForRegion(region, true, &prefix);
  std::vector<std::string> out;
  for (int round = 0; round < 6; ++round) {
    for (auto type : types) {
      PhoneNumber example;
      std::string nsn;
      if (!RandomizedExample(region, type, rng, example, nsn)) continue;
      const std::string cc = absl::StrCat("+", example.country_code());
      out.push_back(absl::StrCat(cc, nsn));
      out.push_back(absl::StrCat(cc, nsn.substr(0, nsn.size() - 1)));
      out.push_back(absl::StrCat(cc, nsn, rng() % 10));
      if (round == 0) {
        out.push_back(absl::StrCat(cc, prefix, nsn));
        out.push_back(absl::StrCat(cc, "0", nsn));
      }
    }
  }
  for (int i = 0; i < 4; ++i) {
    const std::string digits = RandomDigits(4 + rng() % 14, rng);
    out.push_back(absl::StrCat("+", digits));
  }
  return out;
}

TEST(PhoneFastPathTest, TheE164PathGivesLibphonenumbersAnswerOnNeverSeenNumbers) {
  std::mt19937 rng(1717);
  std::set<std::string> regions;
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  // The default region matters to libphonenumber's parse (not to its answer for these
  // inputs): no default, and a few.
  std::vector<PhoneNormalizer> normalizers;
  for (const char* default_region : {"", "AU", "US", "GB", "BR"}) {
    auto n = PhoneNormalizer::Create(default_region);
    ASSERT_THAT(n, IsOk());
    normalizers.push_back(*std::move(n));
  }
  size_t answered = 0, accepted = 0, rejected = 0, left = 0;
  size_t i = 0;
  for (const std::string& region : regions) {
    for (const std::string& input : E164InputsFor(region, rng)) {
      SCOPED_TRACE(input);
      const PhoneNormalizer& normalizer = normalizers[i++ % normalizers.size()];
      const std::optional<absl::StatusOr<std::string>> fast = normalizer.FromE164(input);
      if (!fast.has_value()) {
        ++left;
        continue;
      }
      ++answered;
      const auto want = normalizer.NormalizeWithLibphonenumber(input);
      ExpectSameAnswer(*fast, want);
      if (fast->ok()) {
        ++accepted;
        EXPECT_EQ(**fast, input);
      } else {
        ++rejected;
      }
    }
  }
  EXPECT_GE(answered, 10000u);
  EXPECT_GT(accepted, 5000u);
  EXPECT_GT(rejected, 1000u);
  EXPECT_GT(left, 500u);
}

// What the E.164 path leaves to libphonenumber: anything but "+" and digits, a national
// prefix or zero after the country code, unknown and non-geographic country codes.
TEST(PhoneFastPathTest, TheE164PathLeavesWhatLibphonenumberWouldRewrite) {
  auto au = PhoneNormalizer::Create("AU");
  ASSERT_THAT(au, IsOk());
  EXPECT_EQ(au->FromE164("+61255500199").value().value(), "+61255500199");
  EXPECT_EQ(au->FromE164("+4915123456789").value().value(), "+4915123456789");
  EXPECT_FALSE(au->FromE164("+6125550019").value().ok());  // too short for AU
  for (const char* input :
       {"+61 2 5550 0199", "61255500199", "+610255500199", "+0255500199", "+80012345678",
        "+99912345678", "+6125550019x", "+61", "+612555001990000000000"}) {
    SCOPED_TRACE(input);
    EXPECT_EQ(au->FromE164(input), std::nullopt);
  }
  // The national prefix, stripped: libphonenumber's answer, not the input.
  EXPECT_EQ(au->Normalize("+610255500199").value(), "+61255500199");
}

}  // namespace
}  // namespace piicrypt::internal
