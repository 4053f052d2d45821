// Token settings in the field policy (policy.proto: MODE_VAULT_TOKEN and token { }).
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/token_store.h"
#include "piicrypt/tokenizer.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.card_number"
    kind: KIND_CARD
    mode: MODE_VAULT_TOKEN
    token { format: TOKEN_FORMAT_CARD keep_first_six: true prefix: "C" ttl_seconds: 3600 }
  }
  field { name: "orders.customer_email" mode: MODE_VAULT_TOKEN }
  field {
    name: "orders.phone"
    mode: MODE_VAULT_TOKEN
    token { vaultless: true }
  }
  field { name: "orders.customer_name" mode: MODE_RANDOMIZED }
)pb";

TEST(TokenPolicyTest, RulesCarryTheTokenSettings) {
  auto policy = Policy::ParseTextProto(kPolicy);
  ASSERT_THAT(policy, IsOk());
  const FieldRule* card = policy->Find("orders.card_number");
  ASSERT_NE(card, nullptr);
  ASSERT_TRUE(card->token.has_value());
  EXPECT_EQ(card->token->field, "orders.card_number");
  EXPECT_EQ(card->token->format, TokenFormat::kCard);
  EXPECT_TRUE(card->token->card_keep_first_six);
  EXPECT_EQ(card->token->card_luhn, LuhnOutput::kInvalid);
  EXPECT_EQ(card->token->prefix, "C");
  EXPECT_EQ(card->token->ttl, absl::Hours(1));
  EXPECT_EQ(card->token->mode, TokenMode::kDeterministic);
  const FieldRule* email = policy->Find("orders.customer_email");
  ASSERT_TRUE(email->token.has_value());  // defaults
  EXPECT_EQ(email->token->format, TokenFormat::kPreserve);
  EXPECT_FALSE(email->token->vaultless);
  EXPECT_FALSE(policy->Find("orders.customer_name")->token.has_value());
}

TEST(TokenPolicyTest, TokenizersComeFromThePolicy) {
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  auto policy = Policy::ParseTextProto(kPolicy);
  ASSERT_THAT(policy, IsOk());
  TempDir dir;
  std::shared_ptr<TokenStore> store = *TokenStore::Open("sqlite:" + dir.File("t.db"));
  auto card = Tokenizer::CreateForField(*keyset, *policy, "orders.card_number", store);
  ASSERT_THAT(card, IsOk());
  auto token = (*card)->Tokenize("4111 1111 1111 1111");
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->substr(0, 8), "C4111 11");
  EXPECT_EQ(token->substr(token->size() - 4), "1111");
  EXPECT_EQ(*(*card)->Detokenize(*token), "4111 1111 1111 1111");
  auto phone = Tokenizer::CreateForField(*keyset, *policy, "orders.phone", nullptr);
  ASSERT_THAT(phone, IsOk());
  EXPECT_EQ(*(*phone)->Detokenize(*(*phone)->Tokenize("+61 2 5550 0199")), "+61 2 5550 0199");
  EXPECT_THAT(Tokenizer::CreateForField(*keyset, *policy, "orders.unknown", store),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Tokenizer::CreateForField(*keyset, *policy, "orders.customer_name", store),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TokenPolicyTest, BadTokenSettingsAreRejectedNamingTheField) {
  const char* bad[] = {
      R"pb(field { name: "orders.x" mode: MODE_RANDOMIZED token {} })pb",
      R"pb(field { name: "orders.x" mode: MODE_VAULT_TOKEN token { prefix: "a b" } })pb",
      R"pb(field { name: "orders.x" mode: MODE_VAULT_TOKEN token { vaultless: true random: true } })pb",
      R"pb(field {
             name: "orders.x"
             mode: MODE_VAULT_TOKEN
             token { format: TOKEN_FORMAT_ALPHANUMERIC length: 2 }
           })pb",
      R"pb(field { name: "orders.x" mode: MODE_VAULT_TOKEN token { vaultless: true ttl_seconds: 60 } })pb",
  };
  for (const char* text : bad) {
    auto policy = Policy::ParseTextProto(text);
    EXPECT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr("policy field \"orders.x\""));
  }
}

}  // namespace
}  // namespace piicrypt
