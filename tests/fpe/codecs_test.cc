#include "src/fpe/codecs.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/fpe/utf8.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::internal::Alphabet;
using ::piicrypt::internal::AppendUtf8;
using ::piicrypt::internal::DecodeUtf8;
using ::piicrypt::internal::LuhnSum;
using ::piicrypt::internal::MinimumFf1Length;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// ---- UTF-8 ------------------------------------------------------------------------------

TEST(Utf8Test, DecodesAndEncodesEveryLength) {
  const std::string text = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // A é € 😀
  auto cps = DecodeUtf8(text);
  ASSERT_THAT(cps, IsOk());
  EXPECT_EQ(*cps, (std::vector<char32_t>{0x41, 0xE9, 0x20AC, 0x1F600}));
  std::string back;
  for (char32_t cp : *cps) AppendUtf8(cp, back);
  EXPECT_EQ(back, text);
  // The boundaries of each length.
  for (char32_t cp :
       {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    AppendUtf8(cp, s);
    auto decoded = DecodeUtf8(s);
    ASSERT_THAT(decoded, IsOk()) << cp;
    EXPECT_EQ(*decoded, std::vector<char32_t>{cp});
  }
}

TEST(Utf8Test, RejectsMalformedInput) {
  const std::vector<std::string> bad = {
      std::string("\x80"),              // stray continuation byte
      std::string("\xC0\x80"),          // overlong NUL
      std::string("\xC1\xBF"),          // overlong
      std::string("\xE0\x80\x80"),      // overlong
      std::string("\xE0\x9F\xBF"),      // overlong (U+07FF)
      std::string("\xF0\x8F\xBF\xBF"),  // overlong (U+FFFF)
      std::string("\xED\xA0\x80"),      // surrogate U+D800
      std::string("\xED\xBF\xBF"),      // surrogate U+DFFF
      std::string("\xF4\x90\x80\x80"),  // U+110000
      std::string("\xF5\x80\x80\x80"),  // bad lead byte
      std::string("\xFF"),              // bad lead byte
      std::string("\xE2\x82"),          // truncated
      std::string("abc\xF0\x9F\x98"),   // truncated at the end
      std::string("\xC3\x28"),          // bad continuation
  };
  for (const std::string& s : bad) {
    EXPECT_THAT(DecodeUtf8(s), StatusIs(absl::StatusCode::kInvalidArgument))
        << ::piicrypt::testing::HexEncode(s);
  }
}

// ---- Alphabet and Luhn --------------------------------------------------------------------

TEST(AlphabetTest, AsciiAndNonAscii) {
  auto digits = Alphabet::Create("0123456789");
  ASSERT_THAT(digits, IsOk());
  EXPECT_EQ(digits->radix(), 10u);
  EXPECT_EQ(digits->IndexOf('7'), 7);
  EXPECT_EQ(digits->IndexOf('a'), -1);
  EXPECT_EQ(digits->IndexOf(0x0967), -1);

  // Devanagari digits, Greek letters and an emoji: 21 code points.
  const std::string mixed =
      "\xE0\xA5\xA6\xE0\xA5\xA7\xE0\xA5\xA8\xE0\xA5\xA9\xE0\xA5\xAA\xE0\xA5\xAB\xE0\xA5\xAC"
      "\xE0\xA5\xAD\xE0\xA5\xAE\xE0\xA5\xAF"
      "\xCE\xB1\xCE\xB2\xCE\xB3\xCE\xB4\xCE\xB5\xCE\xB6\xCE\xB7\xCE\xB8\xCE\xB9\xCE\xBA"
      "\xF0\x9F\x98\x80";
  auto alphabet = Alphabet::Create(mixed);
  ASSERT_THAT(alphabet, IsOk());
  EXPECT_EQ(alphabet->radix(), 21u);
  EXPECT_EQ(alphabet->IndexOf(0x0966), 0);
  EXPECT_EQ(alphabet->IndexOf(0x03B1), 10);
  EXPECT_EQ(alphabet->IndexOf(0x1F600), 20);
  std::vector<uint16_t> numerals;
  ASSERT_THAT(alphabet->ToNumerals("\xCE\xB2\xE0\xA5\xA7\xF0\x9F\x98\x80", numerals), IsOk());
  EXPECT_EQ(numerals, (std::vector<uint16_t>{11, 1, 20}));
  EXPECT_EQ(alphabet->FromNumerals(numerals), "\xCE\xB2\xE0\xA5\xA7\xF0\x9F\x98\x80");
  EXPECT_THAT(alphabet->ToNumerals("1", numerals), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(alphabet->ToNumerals("\xCE", numerals), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AlphabetTest, RejectsBadAlphabets) {
  EXPECT_THAT(Alphabet::Create(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Alphabet::Create("a"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Alphabet::Create("abca"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Alphabet::Create("\xCE\xB1x\xCE\xB1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Alphabet::Create("ab\xFF"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Alphabet::Create("ab"), IsOk());
  // 65536 distinct code points is the most; 65537 is too many.
  std::string big;
  for (char32_t cp = 0x10000; cp < 0x10000 + 65536; ++cp) AppendUtf8(cp, big);
  EXPECT_THAT(Alphabet::Create(big), IsOk());
  AppendUtf8(0x41, big);
  EXPECT_THAT(Alphabet::Create(big), StatusIs(absl::StatusCode::kInvalidArgument));
}

std::vector<uint16_t> Digits(absl::string_view s) {
  std::vector<uint16_t> out;
  for (char c : s) out.push_back(static_cast<uint16_t>(c - '0'));
  return out;
}

TEST(LuhnTest, KnownNumbers) {
  EXPECT_EQ(LuhnSum(Digits("4111111111111111")), 0);
  EXPECT_EQ(LuhnSum(Digits("79927398713")), 0);
  EXPECT_EQ(LuhnSum(Digits("5555555555554444")), 0);
  EXPECT_EQ(LuhnSum(Digits("79927398710")), 7);
  EXPECT_EQ(LuhnSum(Digits("4111111111111112")), 1);
}

TEST(MinimumLengthTest, Values) {
  EXPECT_EQ(MinimumFf1Length(10), 6u);
  EXPECT_EQ(MinimumFf1Length(36), 4u);
  EXPECT_EQ(MinimumFf1Length(2), 20u);
  EXPECT_EQ(MinimumFf1Length(65536), 2u);
}

// ---- Fields -------------------------------------------------------------------------------

SecretData TestKey() { return SecretDataFromString(std::string(32, '\x42')); }

std::unique_ptr<FormatPreservingField> MakeField(FpeFieldOptions options) {
  auto field = FormatPreservingField::CreateWithKey(options, TestKey());
  EXPECT_THAT(field, IsOk());
  return field.ok() ? *std::move(field) : nullptr;
}

FpeFieldOptions PhoneOptions() {
  FpeFieldOptions options;
  options.context = "orders.phone";
  options.codec = FpeCodec::kPhone;
  return options;
}

FpeFieldOptions CardOptions(bool keep_first_six, LuhnOutput luhn) {
  FpeFieldOptions options;
  options.context = "orders.card";
  options.codec = FpeCodec::kCard;
  options.card_keep_first_six = keep_first_six;
  options.card_luhn = luhn;
  return options;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Same length, same non-digit characters in the same places.
void ExpectSameShape(absl::string_view a, absl::string_view b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(IsDigit(a[i]), IsDigit(b[i])) << i;
    if (!IsDigit(a[i])) {
      EXPECT_EQ(a[i], b[i]) << i;
    }
  }
}

TEST(PhoneFieldTest, KeepsPunctuationAndRoundTrips) {
  auto field = MakeField(PhoneOptions());
  ASSERT_NE(field, nullptr);
  EXPECT_EQ(field->context(), "orders.phone");
  EXPECT_EQ(field->codec(), FpeCodec::kPhone);
  for (const char* value : {"+61 2 5550 0199", "(02) 5550-0199", "+1.212.555.0100", "0612345678",
                            "020/7946 0958", "555-0100", "+441632960961"}) {
    SCOPED_TRACE(value);
    auto ct = field->Encrypt(value, "order-17");
    ASSERT_THAT(ct, IsOk());
    ExpectSameShape(value, *ct);
    EXPECT_NE(*ct, value);
    auto pt = field->Decrypt(*ct, "order-17");
    ASSERT_THAT(pt, IsOk());
    EXPECT_EQ(*pt, value);
    // Deterministic under one record, different under another.
    EXPECT_EQ(*field->Encrypt(value, "order-17"), *ct);
    EXPECT_NE(*field->Encrypt(value, "order-18"), *ct);
    EXPECT_NE(*field->Decrypt(*ct, "order-18"), value);
  }
}

TEST(PhoneFieldTest, ErrorsNameTheFieldNotTheValue) {
  auto field = MakeField(PhoneOptions());
  ASSERT_NE(field, nullptr);
  struct Bad {
    const char* value;
    const char* reason;
  };
  for (const Bad& bad :
       {Bad{"55501", "too few digits"}, Bad{"+61 2 5550 0199 ext 12", "phone codec"},
        Bad{"61+2 5550 0199", "phone codec"}, Bad{"", "too few digits"},
        Bad{"+61\t2555500199", "phone codec"}}) {
    SCOPED_TRACE(bad.value);
    for (bool encrypt : {true, false}) {
      auto result = encrypt ? field->Encrypt(bad.value) : field->Decrypt(bad.value);
      ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
      EXPECT_THAT(result.status().message(), HasSubstr("orders.phone: "));
      EXPECT_THAT(result.status().message(), HasSubstr(bad.reason));
      if (*bad.value != '\0') {
        EXPECT_THAT(result.status().message(), Not(HasSubstr(bad.value)));
      }
    }
  }
  EXPECT_THAT(field->Encrypt(std::string(kMaxFpeValueSize + 1, '1')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(field->Encrypt("555 0100", std::string(5000, 'r')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Random Luhn-valid card numbers of `digits` digits.
std::vector<std::string> RandomCards(size_t count, size_t digits, std::mt19937& rng) {
  std::vector<std::string> out;
  while (out.size() < count) {
    std::string card;
    for (size_t i = 0; i < digits; ++i) card += static_cast<char>('0' + rng() % 10);
    // Fix the check digit.
    card.back() = '0';
    const int sum = LuhnSum(Digits(card));
    card.back() = static_cast<char>('0' + (10 - sum) % 10);
    out.push_back(card);
  }
  return out;
}

TEST(CardFieldTest, DefaultIsDeliberatelyLuhnInvalidAndKeepsLastFour) {
  auto field = MakeField(CardOptions(false, LuhnOutput::kInvalid));
  ASSERT_NE(field, nullptr);
  std::mt19937 rng(7);
  std::set<std::string> seen;
  for (size_t digits : {12, 13, 15, 16, 19}) {
    for (const std::string& card : RandomCards(40, digits, rng)) {
      SCOPED_TRACE(card);
      ASSERT_EQ(LuhnSum(Digits(card)), 0);
      auto ct = field->Encrypt(card, "order-1");
      ASSERT_THAT(ct, IsOk());
      ASSERT_EQ(ct->size(), card.size());
      EXPECT_EQ(ct->substr(ct->size() - 4), card.substr(card.size() - 4));
      EXPECT_EQ(LuhnSum(Digits(*ct)), 5);
      EXPECT_NE(*ct, card);
      seen.insert(*ct);
      auto pt = field->Decrypt(*ct, "order-1");
      ASSERT_THAT(pt, IsOk());
      EXPECT_EQ(*pt, card);
    }
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(CardFieldTest, LuhnValidOutputAndFirstSix) {
  auto field = MakeField(CardOptions(true, LuhnOutput::kValid));
  ASSERT_NE(field, nullptr);
  std::mt19937 rng(8);
  for (size_t digits : {16, 19}) {
    for (const std::string& card : RandomCards(40, digits, rng)) {
      SCOPED_TRACE(card);
      auto ct = field->Encrypt(card);
      ASSERT_THAT(ct, IsOk());
      EXPECT_EQ(ct->substr(0, 6), card.substr(0, 6));
      EXPECT_EQ(ct->substr(ct->size() - 4), card.substr(card.size() - 4));
      EXPECT_EQ(LuhnSum(Digits(*ct)), 0);
      auto pt = field->Decrypt(*ct);
      ASSERT_THAT(pt, IsOk());
      EXPECT_EQ(*pt, card);
    }
  }
}

TEST(CardFieldTest, SeparatorsStayInPlace) {
  auto field = MakeField(CardOptions(false, LuhnOutput::kInvalid));
  ASSERT_NE(field, nullptr);
  for (const char* card : {"4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005"}) {
    auto ct = field->Encrypt(card);
    ASSERT_THAT(ct, IsOk());
    ExpectSameShape(card, *ct);
    EXPECT_EQ(*field->Decrypt(*ct), card);
  }
}

TEST(CardFieldTest, Errors) {
  auto field = MakeField(CardOptions(false, LuhnOutput::kInvalid));
  auto first_six = MakeField(CardOptions(true, LuhnOutput::kInvalid));
  auto valid_out = MakeField(CardOptions(false, LuhnOutput::kValid));
  ASSERT_TRUE(field && first_six && valid_out);
  struct Bad {
    const FormatPreservingField* field;
    bool encrypt;
    const char* value;
    const char* reason;
  };
  const Bad cases[] = {
      {field.get(), true, "4111111111111112", "Luhn check"},
      {field.get(), true, "41111111111", "12 to 19 digits"},
      {field.get(), true, "41111111111111111111", "12 to 19 digits"},
      {field.get(), true, "4111 1111 1111 111x", "card codec"},
      {first_six.get(), true, "378282246310005", "first six"},
      // A Luhn-valid value is not a token of a kInvalid field, and vice versa.
      {field.get(), false, "4111111111111111", "Luhn state"},
      {valid_out.get(), false, "4111111111111112", "Luhn state"},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.value);
    auto result = bad.encrypt ? bad.field->Encrypt(bad.value) : bad.field->Decrypt(bad.value);
    ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(result.status().message(), HasSubstr("orders.card: "));
    EXPECT_THAT(result.status().message(), HasSubstr(bad.reason));
    EXPECT_THAT(result.status().message(), Not(HasSubstr(bad.value)));
  }
}

FpeFieldOptions AlphabetOptions(std::string alphabet, std::string keep = "") {
  FpeFieldOptions options;
  options.context = "orders.postcode";
  options.codec = FpeCodec::kAlphabet;
  options.alphabet = std::move(alphabet);
  options.keep_characters = std::move(keep);
  return options;
}

TEST(AlphabetFieldTest, PostcodesKeepSpaces) {
  auto field = MakeField(AlphabetOptions(std::string(kUpperAlphanumericAlphabet), " "));
  ASSERT_NE(field, nullptr);
  for (const char* postcode : {"SW1A 1AA", "EC1A 1BB", "M1 1AE", "10115", "K1A 0B1"}) {
    SCOPED_TRACE(postcode);
    auto ct = field->Encrypt(postcode, "customer-9");
    ASSERT_THAT(ct, IsOk());
    ASSERT_EQ(ct->size(), std::string(postcode).size());
    for (size_t i = 0; i < ct->size(); ++i) {
      EXPECT_EQ((*ct)[i] == ' ', postcode[i] == ' ');
      if ((*ct)[i] != ' ') {
        EXPECT_NE(kUpperAlphanumericAlphabet.find((*ct)[i]), absl::string_view::npos) << i;
      }
    }
    EXPECT_EQ(*field->Decrypt(*ct, "customer-9"), postcode);
  }
  auto lower = field->Encrypt("sw1a 1aa");
  EXPECT_THAT(lower, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(lower.status().message(), HasSubstr("alphabet"));
  EXPECT_THAT(lower.status().message(), Not(HasSubstr("sw1a")));
  auto short_value = field->Encrypt("AB 1");
  EXPECT_THAT(short_value, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(short_value.status().message(), HasSubstr("at least 4"));
}

TEST(AlphabetFieldTest, NonAsciiAlphabet) {
  // The 28 letters of the Arabic alphabet (U+0627 .. U+064A, a selection) plus digits.
  std::string alphabet;
  for (char32_t cp : {0x627, 0x628, 0x62A, 0x62B, 0x62C, 0x62D, 0x62E, 0x62F, 0x630, 0x631,
                      0x632, 0x633, 0x634, 0x635, 0x636, 0x637, 0x638, 0x639, 0x63A, 0x641,
                      0x642, 0x643, 0x644, 0x645, 0x646, 0x647, 0x648, 0x64A}) {
    AppendUtf8(cp, alphabet);
  }
  alphabet += "0123456789";
  auto field = MakeField(AlphabetOptions(alphabet, "-"));
  ASSERT_NE(field, nullptr);
  std::string value;
  for (char32_t cp : {0x628, 0x62A, 0x62B}) AppendUtf8(cp, value);
  value += "-4711";
  auto ct = field->Encrypt(value);
  ASSERT_THAT(ct, IsOk());
  auto cps = DecodeUtf8(*ct);
  ASSERT_THAT(cps, IsOk());
  ASSERT_EQ(cps->size(), 8u);
  EXPECT_EQ((*cps)[3], U'-');
  EXPECT_NE(*ct, value);
  EXPECT_EQ(*field->Decrypt(*ct), value);
  EXPECT_THAT(field->Encrypt("abc-4711"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(field->Encrypt("\xD8"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AlphabetFieldTest, DefaultIsDigits) {
  FpeFieldOptions options;
  options.context = "orders.customer_number";
  auto field = MakeField(options);
  ASSERT_NE(field, nullptr);
  auto ct = field->Encrypt("00012345");
  ASSERT_THAT(ct, IsOk());
  EXPECT_EQ(ct->size(), 8u);
  EXPECT_EQ(*field->Decrypt(*ct), "00012345");
  EXPECT_THAT(field->Encrypt("12345"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FieldCreateTest, RejectsBadOptionsAndKeys) {
  EXPECT_THAT(FormatPreservingField::CreateWithKey(FpeFieldOptions{}, TestKey()),
              StatusIs(absl::StatusCode::kInvalidArgument));  // no context
  EXPECT_THAT(FormatPreservingField::CreateWithKey(PhoneOptions(),
                                                   SecretDataFromString(std::string(20, 'k'))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FormatPreservingField::CreateWithKey(AlphabetOptions("A"), TestKey()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FormatPreservingField::CreateWithKey(AlphabetOptions("ABCA"), TestKey()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FormatPreservingField::CreateWithKey(AlphabetOptions("ABC", "C"), TestKey()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FormatPreservingField::CreateWithKey(AlphabetOptions("ABC", "\xFF"), TestKey()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FormatPreservingField::CreateFromRoot(PhoneOptions(),
                                                    SecretDataFromString(std::string(16, 'r'))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  for (size_t size : {16, 24, 32}) {
    EXPECT_THAT(FormatPreservingField::CreateWithKey(PhoneOptions(),
                                                     SecretDataFromString(std::string(size, 'k'))),
                IsOk());
  }
}

// CreateFromRoot uses HKDF-SHA256(salt = "", ikm = root, info = "piicrypt/v1/ff1/" CONTEXT),
// 32 bytes, computed here with OpenSSL directly.
TEST(FieldCreateTest, CreateFromRootDerivesTheFf1FieldKey) {
  const SecretData root = SecretDataFromString(std::string(32, '\x07'));
  const FpeFieldOptions options = PhoneOptions();
  const std::string info = "piicrypt/v1/ff1/orders.phone";
  SecretData key(32);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  ASSERT_NE(kdf, nullptr);
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(root.data()), root.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
                         OSSL_PARAM_construct_end()};
  ASSERT_EQ(EVP_KDF_derive(kctx, key.data(), key.size(), params), 1);
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);

  auto derived = FormatPreservingField::CreateFromRoot(options, root);
  auto direct = FormatPreservingField::CreateWithKey(options, key);
  auto other_context = options;
  other_context.context = "orders.other_phone";
  auto other = FormatPreservingField::CreateFromRoot(other_context, root);
  ASSERT_THAT(derived, IsOk());
  ASSERT_THAT(direct, IsOk());
  ASSERT_THAT(other, IsOk());
  const std::string value = "+61 2 5550 0199";
  EXPECT_EQ(*(*derived)->Encrypt(value, "r1"), *(*direct)->Encrypt(value, "r1"));
  EXPECT_NE(*(*derived)->Encrypt(value, "r1"), *(*other)->Encrypt(value, "r1"));
}

}  // namespace
}  // namespace piicrypt
