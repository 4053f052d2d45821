// Vaultless (FF1) tokens through the Tokenizer API: no store, deterministic, per field.
#include <cctype>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/keyset.h"
#include "piicrypt/tokenizer.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

class VaultlessTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    keyset_ = std::make_unique<Keyset>(*std::move(keyset));
  }
  std::unique_ptr<Tokenizer> Make(TokenizerOptions o, const std::string& field = "orders.f") {
    o.field = field;
    o.vaultless = true;
    if (o.vaultless_key_id == 0) o.vaultless_key_id = keyset_->primary_key_id();
    auto t = Tokenizer::Create(*keyset_, o, nullptr);
    EXPECT_THAT(t, IsOk());
    return t.ok() ? *std::move(t) : nullptr;
  }
  std::unique_ptr<Keyset> keyset_;
};

TEST_F(VaultlessTokenizerTest, EveryFormatRoundTripsDeterministically) {
  struct Case {
    TokenizerOptions options;
    std::string value;
  };
  TokenizerOptions preserve, card, six, alnum;
  preserve.prefix = "T";
  card.format = TokenFormat::kCard;
  six = card;
  six.card_keep_first_six = true;
  alnum.format = TokenFormat::kAlphanumeric;
  const Case cases[] = {{preserve, "+61 2 5550 0199"},
                        {preserve, "Jane Doe"},
                        {preserve, "Flat 120B, 221 Baker Street"},
                        {card, "4111 1111 1111 1111"},
                        {six, "4111-1111-1111-1111"},
                        {alnum, "CUST0012345"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    auto t = Make(c.options);
    auto token = t->Tokenize(c.value);
    ASSERT_THAT(token, IsOk());
    EXPECT_NE(*token, c.value);
    EXPECT_EQ(token->size(), c.options.prefix.size() + c.value.size());
    EXPECT_EQ(*t->Tokenize(c.value), *token);
    EXPECT_EQ(*t->Detokenize(*token), c.value);
    if (c.options.format == TokenFormat::kCard) {
      EXPECT_EQ(token->substr(token->size() - 4), c.value.substr(c.value.size() - 4));
    }
    if (c.options.format == TokenFormat::kPreserve) {
      const std::string body = token->substr(c.options.prefix.size());
      for (size_t i = 0; i < c.value.size(); ++i) {
        const char v = c.value[i], k = body[i];
        EXPECT_EQ(std::isdigit(static_cast<unsigned char>(v)) != 0,
                  std::isdigit(static_cast<unsigned char>(k)) != 0);
        EXPECT_EQ(std::isupper(static_cast<unsigned char>(v)) != 0,
                  std::isupper(static_cast<unsigned char>(k)) != 0);
        EXPECT_EQ(std::islower(static_cast<unsigned char>(v)) != 0,
                  std::islower(static_cast<unsigned char>(k)) != 0);
        if (!std::isalnum(static_cast<unsigned char>(v))) {
          EXPECT_EQ(k, v);
        }
      }
    }
  }
}

TEST_F(VaultlessTokenizerTest, FieldsAndKeysGiveDifferentTokens) {
  auto a = Make({}, "orders.a"), b = Make({}, "orders.b");
  EXPECT_NE(*a->Tokenize("+61 2 5550 0199"), *b->Tokenize("+61 2 5550 0199"));
  // After a rotation, tokens stay readable only with the key pinned.
  const uint32_t first = keyset_->primary_key_id();
  const std::string token = *a->Tokenize("+61 2 5550 0199");
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  TokenizerOptions pinned;
  pinned.vaultless_key_id = first;
  EXPECT_EQ(*Make(pinned, "orders.a")->Detokenize(token), "+61 2 5550 0199");
  EXPECT_NE(*Make({}, "orders.a")->Tokenize("+61 2 5550 0199"), token);
  ASSERT_THAT(keyset_->Disable(first), IsOk());
  TokenizerOptions o;
  o.field = "orders.a";
  o.vaultless = true;
  o.vaultless_key_id = first;
  EXPECT_THAT(Tokenizer::Create(*keyset_, o, nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  o.vaultless_key_id = 12345;
  EXPECT_THAT(Tokenizer::Create(*keyset_, o, nullptr), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(VaultlessTokenizerTest, TheKeyIsPinnedNeverThePrimaryOfTheMoment) {
  TokenizerOptions o;
  o.field = "orders.a";
  o.vaultless = true;
  auto unpinned = Tokenizer::Create(*keyset_, o, nullptr);
  ASSERT_THAT(unpinned, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(unpinned.status().message()),
              ::testing::HasSubstr("orders.a: vaultless tokens carry no key id"));
  // Pinned: a rotation changes nothing for the field.
  o.vaultless_key_id = keyset_->primary_key_id();
  const std::string token = *(*Tokenizer::Create(*keyset_, o, nullptr))->Tokenize("4111 2222");
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  auto after = Tokenizer::Create(*keyset_, o, nullptr);
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(*(*after)->Detokenize(token), "4111 2222");
  EXPECT_EQ(*(*after)->Tokenize("4111 2222"), token);
}

TEST_F(VaultlessTokenizerTest, ValuesOutsideTheDomainAreRejected) {
  auto preserve = Make({});
  EXPECT_THAT(preserve->Tokenize("12345"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(preserve->Tokenize("Ann 123456"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(preserve->Tokenize("-- --"), StatusIs(absl::StatusCode::kInvalidArgument));
  TokenizerOptions card;
  card.format = TokenFormat::kCard;
  EXPECT_THAT(Make(card)->Tokenize("4111 1111 1111 1112"),  // fails the Luhn check
              StatusIs(absl::StatusCode::kInvalidArgument));
  TokenizerOptions alnum;
  alnum.format = TokenFormat::kAlphanumeric;
  EXPECT_THAT(Make(alnum)->Tokenize("CUST-0012345"), StatusIs(absl::StatusCode::kInvalidArgument));
  TokenizerOptions prefixed;
  prefixed.prefix = "tok_";
  EXPECT_THAT(Make(prefixed)->Detokenize("+61 2 5550 0199"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(VaultlessTokenizerTest, StoreOperationsAreRefused) {
  auto t = Make({});
  EXPECT_THAT(t->DeleteToken("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(t->EraseValue("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(t->DeleteExpired(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace piicrypt
