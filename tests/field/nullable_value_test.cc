// FieldCryptor's value parameters: a `const char*` (the null pointer sqlite3_column_text
// returns for SQL NULL) does not compile; NullableText maps it to NULL; the calls for values
// that cannot be NULL; MaskValue, which never fails.
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "tests/order_fixture.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::testing::Optional;

// ---- what compiles: detection of each call with a value argument of type `Arg` ----------

#define PIICRYPT_DETECT(NAME, ...)                                                                 \
  template <typename Arg, typename = void>                                                         \
  struct Takes##NAME : std::false_type {};                                                         \
  template <typename Arg>                                                                          \
  struct Takes##NAME<Arg,                                                                          \
                     std::void_t<decltype(std::declval<const FieldCryptor&>().NAME(__VA_ARGS__))>> \
      : std::true_type {};

#define PIICRYPT_VALUE std::declval<Arg>()
#define PIICRYPT_SV std::declval<absl::string_view>()
PIICRYPT_DETECT(Encrypt, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(Decrypt, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(EncryptBinary, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(DecryptBinary, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(EncryptTo, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV, std::declval<std::string*>())
PIICRYPT_DETECT(DecryptWithKey, PIICRYPT_SV, 1u, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(Normalize, PIICRYPT_SV, PIICRYPT_VALUE)
PIICRYPT_DETECT(BlindIndex, PIICRYPT_SV, PIICRYPT_VALUE)
PIICRYPT_DETECT(BlindIndexTo, PIICRYPT_SV, PIICRYPT_VALUE, std::declval<std::string*>())
PIICRYPT_DETECT(LookupIndexes, PIICRYPT_SV, PIICRYPT_VALUE)
PIICRYPT_DETECT(Mask, PIICRYPT_SV, PIICRYPT_VALUE)
PIICRYPT_DETECT(EncryptValue, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(DecryptValue, PIICRYPT_SV, PIICRYPT_VALUE, PIICRYPT_SV)
PIICRYPT_DETECT(BlindIndexValue, PIICRYPT_SV, PIICRYPT_VALUE)
PIICRYPT_DETECT(MaskValue, PIICRYPT_SV, PIICRYPT_VALUE)
#undef PIICRYPT_SV
#undef PIICRYPT_VALUE
#undef PIICRYPT_DETECT

// Every value parameter: refuses character pointers and nullptr, takes the string types.
template <template <typename, typename> class Takes>
constexpr bool RefusesPointersTakesStrings() {
  return !Takes<const char*&, void>::value && !Takes<const char*, void>::value &&
         !Takes<char*&, void>::value && !Takes<char* const&, void>::value &&
         !Takes<std::nullptr_t, void>::value && Takes<const char(&)[8], void>::value &&
         Takes<char(&)[8], void>::value && Takes<const std::string&, void>::value &&
         Takes<std::string, void>::value && Takes<absl::string_view, void>::value;
}
static_assert(RefusesPointersTakesStrings<TakesEncrypt>());
static_assert(RefusesPointersTakesStrings<TakesDecrypt>());
static_assert(RefusesPointersTakesStrings<TakesEncryptBinary>());
static_assert(RefusesPointersTakesStrings<TakesDecryptBinary>());
static_assert(RefusesPointersTakesStrings<TakesEncryptTo>());
static_assert(RefusesPointersTakesStrings<TakesDecryptWithKey>());
static_assert(RefusesPointersTakesStrings<TakesNormalize>());
static_assert(RefusesPointersTakesStrings<TakesBlindIndex>());
static_assert(RefusesPointersTakesStrings<TakesBlindIndexTo>());
static_assert(RefusesPointersTakesStrings<TakesLookupIndexes>());
static_assert(RefusesPointersTakesStrings<TakesMask>());
static_assert(RefusesPointersTakesStrings<TakesEncryptValue>());
static_assert(RefusesPointersTakesStrings<TakesDecryptValue>());
static_assert(RefusesPointersTakesStrings<TakesBlindIndexValue>());
static_assert(RefusesPointersTakesStrings<TakesMaskValue>());

// The nullable calls also take NULL itself; the calls for present values do not.
static_assert(TakesEncrypt<NullableValue, void>::value);
static_assert(TakesEncrypt<std::nullopt_t, void>::value);
static_assert(TakesBlindIndex<std::nullopt_t, void>::value);
static_assert(TakesMask<std::nullopt_t, void>::value);
static_assert(!TakesEncryptValue<NullableValue, void>::value);
static_assert(!TakesMaskValue<std::nullopt_t, void>::value);

// ---- what the calls do --------------------------------------------------------------------

Policy TestPolicy() {
  return Policy::ParseTextProto(absl::StrCat(::piicrypt::testing::kOrderEmailField, R"pb(
           field {
             name: "orders.customer_name"
             kind: KIND_NAME
             mode: MODE_RANDOMIZED
             mask: MASK_INITIALS
           }
         )pb"))
      .value();
}

class NullableValueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_ = std::make_unique<Keyset>(Keyset::Generate().value());
    cryptor_ = FieldCryptor::Create(*keyset_, TestPolicy()).value();
  }
  std::unique_ptr<Keyset> keyset_;
  std::unique_ptr<FieldCryptor> cryptor_;
};

constexpr char kEmail[] = "orders.customer_email";

// An OK result holding `expected`.
MATCHER_P(Holds, expected, "") {
  if (!arg.ok()) {
    *result_listener << "status: " << arg.status();
    return false;
  }
  return *arg == expected;
}

TEST_F(NullableValueTest, NullableTextMapsTheNullPointerToNull) {
  const char* sql_null = nullptr;
  EXPECT_EQ(NullableText(sql_null), std::nullopt);
  EXPECT_EQ(NullableText(sql_null, 0), std::nullopt);
  EXPECT_THAT(cryptor_->Encrypt(kEmail, NullableText(sql_null), "order-1"), Holds(std::nullopt));
  EXPECT_THAT(cryptor_->BlindIndex(kEmail, NullableText(sql_null)), Holds(std::nullopt));
  EXPECT_THAT(cryptor_->Mask(kEmail, NullableText(sql_null)), Holds(std::nullopt));

  // An empty string is a value, not NULL.
  const char empty[] = "";
  EXPECT_THAT(NullableText(empty), Optional(absl::string_view()));
  auto ct = cryptor_->Encrypt(kEmail, NullableText(empty), "order-1");
  ASSERT_THAT(ct, IsOk());
  ASSERT_TRUE(ct->has_value());
  EXPECT_THAT(cryptor_->DecryptValue(kEmail, **ct, "order-1"), Holds(std::string()));

  const char with_nul[] = {'a', '\0', 'b'};
  EXPECT_THAT(NullableText(with_nul, 3), Optional(absl::string_view(with_nul, 3)));
}

TEST_F(NullableValueTest, ValueCallsMatchTheNullableCalls) {
  const std::string email = "Jane.Doe@Example.com";
  auto ct = cryptor_->EncryptValue(kEmail, email, "order-7");
  ASSERT_THAT(ct, IsOk());
  EXPECT_THAT(cryptor_->Decrypt(kEmail, *ct, "order-7"), Holds(std::optional<std::string>(email)));
  EXPECT_THAT(cryptor_->DecryptValue(kEmail, *ct, "order-7"), Holds(email));
  // String literals are values too.
  auto literal = cryptor_->EncryptValue(kEmail, "jane.doe@example.com", "order-7");
  ASSERT_THAT(literal, IsOk());
  EXPECT_THAT(cryptor_->DecryptValue(kEmail, *literal, "order-7"),
              Holds(std::string("jane.doe@example.com")));

  auto index = cryptor_->BlindIndex(kEmail, NullableValue(email));
  ASSERT_THAT(index, IsOk());
  EXPECT_THAT(cryptor_->BlindIndexValue(kEmail, email), Holds(**index));
}

TEST_F(NullableValueTest, ValueCallsFailAsTheNullableCalls) {
  auto ct = cryptor_->EncryptValue(kEmail, "a@example.com", "order-7").value();
  EXPECT_THAT(cryptor_->DecryptValue(kEmail, ct, "order-8"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->EncryptValue(kEmail, "a@example.com"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->EncryptValue("orders.nope", "x", "order-7"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cryptor_->BlindIndexValue("orders.customer_name", "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(NullableValueTest, MaskValueNeverFails) {
  EXPECT_EQ(cryptor_->MaskValue(kEmail, "jane@example.com"),
            *cryptor_->Mask(kEmail, "jane@example.com").value());
  EXPECT_EQ(cryptor_->MaskValue("orders.customer_name", "Jane Doe"),
            *cryptor_->Mask("orders.customer_name", "Jane Doe").value());
  // A field not in the policy: Mask fails, MaskValue hides the whole value.
  EXPECT_THAT(cryptor_->Mask("orders.nope", "Jane Doe"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(cryptor_->MaskValue("orders.nope", "Jane Doe"), "***");
  EXPECT_EQ(cryptor_->MaskValue("orders.nope", ""), "***");
}

}  // namespace
}  // namespace piicrypt
