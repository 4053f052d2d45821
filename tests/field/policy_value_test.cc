// policy.h is a value type: including it (and only it, first) must not pull in the
// tokenizer, the token store, keysets or KEKs, so that code that only reads or builds a
// policy compiles without them.
#include "piicrypt/policy.h"

#if defined(PIICRYPT_TOKENIZER_H_) || defined(PIICRYPT_SUBTLE_TOKEN_STORE_H_) || \
    defined(PIICRYPT_KEYSET_H_) || defined(PIICRYPT_KEK_H_) ||                   \
    defined(PIICRYPT_SUBTLE_FIELD_CIPHER_H_)
#error "policy.h must not include the tokenizer, token store, keyset, KEK or FieldCipher headers"
#endif

#include <type_traits>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace piicrypt {
namespace {

static_assert(std::is_copy_constructible_v<Policy> && std::is_copy_assignable_v<Policy>);
static_assert(std::is_copy_constructible_v<FieldRule>);

TEST(PolicyValueTest, CopiesAreIndependentValues) {
  FieldRule card;
  card.name = "orders.card_number";
  card.kind = FieldKind::kCard;
  card.mode = FieldMode::kVaultToken;
  card.token = TokenizerOptions{};
  card.token->format = TokenFormat::kCard;
  FieldRule note;
  note.name = "orders.note";
  note.padding.buckets = {32, 64};
  absl::StatusOr<Policy> policy = Policy::Create({card, note});
  ASSERT_TRUE(policy.ok()) << policy.status();

  Policy copy = *policy;
  *policy = *Policy::Create({});
  ASSERT_NE(copy.Find("orders.card_number"), nullptr);
  EXPECT_EQ(copy.Find("orders.card_number")->token->format, TokenFormat::kCard);
  EXPECT_THAT(copy.Find("orders.note")->padding.buckets, testing::ElementsAre(32, 64));
  EXPECT_EQ(policy->Find("orders.card_number"), nullptr);
}

}  // namespace
}  // namespace piicrypt
