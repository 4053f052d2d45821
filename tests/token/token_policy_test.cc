// Token settings in the field policy (policy.proto: MODE_VAULT_TOKEN and token { }).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subtle/token_store.h"
#include "piicrypt/tokenizer.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;

// The policy, its vaultless field pinned to key `vaultless_key`.
std::string PolicyText(uint32_t vaultless_key) {
  return absl::StrCat(
      "field { name: \"orders.card_number\" kind: KIND_CARD mode: MODE_VAULT_TOKEN\n"
      "  token { format: TOKEN_FORMAT_CARD keep_first_six: true prefix: \"C\" "
      "ttl_seconds: 3600 } }\n"
      "field { name: \"orders.customer_email\" mode: MODE_VAULT_TOKEN }\n"
      "field { name: \"orders.phone\" mode: MODE_VAULT_TOKEN token { vaultless: true key_id: ",
      vaultless_key,
      " } }\n"
      "field { name: \"orders.customer_name\" mode: MODE_RANDOMIZED }\n");
}

TEST(TokenPolicyTest, RulesCarryTheTokenSettings) {
  auto policy = Policy::ParseTextProto(PolicyText(4242));
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
  EXPECT_EQ(policy->Find("orders.phone")->token->vaultless_key_id, 4242u);
  EXPECT_FALSE(policy->Find("orders.customer_name")->token.has_value());
}

TEST(TokenPolicyTest, TokenizersComeFromThePolicy) {
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  auto policy = Policy::ParseTextProto(PolicyText(keyset->primary_key_id()));
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
  // After a rotation the vaultless field keeps its pinned key: old tokens still detokenize
  // to their values, and new ones are the same.
  const std::string phone_token = *(*phone)->Tokenize("+61 2 5550 0199");
  ASSERT_THAT(keyset->Rotate(), IsOk());
  auto rotated = Tokenizer::CreateForField(*keyset, *policy, "orders.phone", nullptr);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_EQ(*(*rotated)->Detokenize(phone_token), "+61 2 5550 0199");
  EXPECT_EQ(*(*rotated)->Tokenize("+61 2 5550 0199"), phone_token);
}

TEST(TokenPolicyTest, BadTokenSettingsAreRejectedNamingTheField) {
  const char* bad[] = {
      R"pb(field {
             name: "orders.x"
             mode: MODE_RANDOMIZED
             token {}
           })pb",
      R"pb(field {
             name: "orders.x"
             mode: MODE_VAULT_TOKEN
             token { prefix: "a b" }
           })pb",
      R"pb(field {
             name: "orders.x"
             mode: MODE_VAULT_TOKEN
             token { vaultless: true random: true }
           })pb",
      R"pb(field {
             name: "orders.x"
             mode: MODE_VAULT_TOKEN
             token { format: TOKEN_FORMAT_ALPHANUMERIC length: 2 }
           })pb",
      R"pb(field {
             name: "orders.x"
             mode: MODE_VAULT_TOKEN
             token { vaultless: true ttl_seconds: 60 }
           })pb",
      R"pb(field {
             name: "orders.x"
             mode: MODE_VAULT_TOKEN
             token { vaultless: true }
           })pb", R"pb(field { name: "orders.x" mode: MODE_VAULT_TOKEN bind_record: true })pb",
  };
  for (const char* text : bad) {
    auto policy = Policy::ParseTextProto(text);
    EXPECT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr("policy field \"orders.x\""));
  }
}

}  // namespace
}  // namespace piicrypt
