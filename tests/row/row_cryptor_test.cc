// RowCryptor: a whole row in one call (every stored column: ciphertexts, FF1 values and their
// key-version columns, tokens, blind indexes), back in one call, masked in one call; the
// errors of each, record ids, columns renamed in the policy, and a KeyHandle's reloads.
#include "piicrypt/row_cryptor.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/key_handle.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subtle/token_store.h"
#include "tests/order_fixture.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A value `const char*` does not compile; what a column value may be.
static_assert(!std::is_constructible_v<ColumnValue, absl::string_view, const char*>);
static_assert(!std::is_constructible_v<ColumnValue, absl::string_view, char*>);
static_assert(!std::is_constructible_v<ColumnValue, absl::string_view, std::nullptr_t>);
static_assert(std::is_constructible_v<ColumnValue, absl::string_view, const char (&)[4]>);
static_assert(std::is_constructible_v<ColumnValue, absl::string_view, const std::string&>);
static_assert(std::is_constructible_v<ColumnValue, absl::string_view, std::nullopt_t>);
static_assert(std::is_constructible_v<ColumnValue, absl::string_view, NullableValue>);

std::string OrdersPolicy() {
  return absl::StrCat(::piicrypt::testing::kOrderNameField, ::piicrypt::testing::kOrderEmailField,
                      R"pb(
                        field {
                          name: "orders.customer_phone"
                          kind: KIND_PHONE
                          mode: MODE_RANDOMIZED
                          bind_record: true
                          blind_index { bits: 32 default_region: "AU" column: "phone_lookup" }
                        }
                        field { name: "customers.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED }
                        field {
                          name: "orders.card_number"
                          kind: KIND_CARD
                          mode: MODE_FORMAT_PRESERVING
                          bind_record: true
                          format_preserving {
                            card {}
                            key_version_column: "card_key"
                          }
                        }
                        field {
                          name: "orders.loyalty_number"
                          mode: MODE_VAULT_TOKEN
                          token { format: TOKEN_FORMAT_ALPHANUMERIC prefix: "tok_" }
                        }
                      )pb");
}

constexpr char kName[] = "Jane Doe";
constexpr char kEmail[] = "Jane.Doe@Example.com";
constexpr char kPhone[] = "(02) 5550 0199";
constexpr char kCard[] = "4111 1111 1111 1111";
constexpr char kLoyalty[] = "LOYAL-0042";

class RowCryptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keyset = Keyset::Generate();
    ASSERT_TRUE(keyset.ok());
    keyset_.emplace(*std::move(keyset));
    auto store = TokenStore::Open("sqlite:" + dir_.File("tokens.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    orders_ = Rows(OrdersPolicy());
    ASSERT_NE(orders_, nullptr);
  }

  std::unique_ptr<RowCryptor> Rows(const std::string& policy_text) {
    auto policy = Policy::ParseTextProto(policy_text);
    EXPECT_TRUE(policy.ok()) << policy.status();
    if (!policy.ok()) return nullptr;
    RowOptions options;
    options.token_store = store_;
    auto rows = RowCryptor::Create(*keyset_, *policy, "orders", options);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *std::move(rows) : nullptr;
  }

  absl::StatusOr<Row> EncryptOrder(const RowCryptor& rows, int64_t id, NullableValue phone = kPhone,
                                   NullableValue card = kCard) {
    return rows.Encrypt(id, {{"customer_name", kName},
                             {"customer_email", kEmail},
                             {"customer_phone", phone},
                             {"card_number", card},
                             {"loyalty_number", kLoyalty}});
  }

  // Every column of `row`, as Decrypt takes them.
  static std::vector<ColumnValue> AsValues(const Row& row) {
    std::vector<ColumnValue> values;
    for (const Row::Column& c : row) values.emplace_back(c.name, NullableValue(c.value));
    return values;
  }

  testing::TempDir dir_;
  std::optional<Keyset> keyset_;
  std::shared_ptr<TokenStore> store_;
  std::unique_ptr<RowCryptor> orders_;
};

TEST_F(RowCryptorTest, EncryptGivesEveryStoredColumnAndDecryptGivesTheRowBack) {
  auto stored = EncryptOrder(*orders_, 42);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_THAT(stored->names(),
              ElementsAre("customer_name", "customer_email", "customer_email_idx", "customer_phone",
                          "phone_lookup", "card_number", "card_key", "loyalty_number"));
  EXPECT_EQ(*orders_->StoredColumns(), stored->names());

  // Each column is what the field API gives for it.
  auto policy = Policy::ParseTextProto(OrdersPolicy());
  auto fields = FieldCryptor::Create(*keyset_, *policy);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(**stored->Find("customer_email_idx"),
            *(*fields)->BlindIndexValue("orders.customer_email", kEmail));
  EXPECT_EQ(**stored->Find("phone_lookup"),
            *(*fields)->BlindIndexValue("orders.customer_phone", kPhone));
  EXPECT_EQ(**stored->Find("card_key"), absl::StrCat(keyset_->primary_key_id()));
  EXPECT_EQ(*(*fields)->DecryptValue("orders.customer_name", **stored->Find("customer_name"), "42"),
            kName);
  const std::string& card = **stored->Find("card_number");
  EXPECT_NE(card, kCard);
  EXPECT_EQ(card.substr(card.size() - 4), "1111");  // FF1 keeps the format and last 4
  const std::string& token = **stored->Find("loyalty_number");
  EXPECT_EQ(token.substr(0, 4), "tok_");

  // Back in one call, from every stored column (blind indexes are taken and ignored).
  auto plain = orders_->Decrypt(42, AsValues(*stored));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_THAT(plain->names(), ElementsAre("customer_name", "customer_email", "customer_phone",
                                          "card_number", "loyalty_number"));
  EXPECT_EQ(**plain->Find("customer_name"), kName);
  EXPECT_EQ(**plain->Find("customer_email"), kEmail);
  EXPECT_EQ(**plain->Find("customer_phone"), kPhone);
  EXPECT_EQ(**plain->Find("card_number"), kCard);
  EXPECT_EQ(**plain->Find("loyalty_number"), kLoyalty);

  // Some columns only: the result holds those.
  auto email = orders_->Decrypt("42", {{"customer_email", *stored->Find("customer_email")}});
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_THAT(email->names(), ElementsAre("customer_email"));
  EXPECT_EQ(email->Find("customer_name"), nullptr);
}

TEST_F(RowCryptorTest, NullStaysNullInEveryDerivedColumn) {
  auto stored = EncryptOrder(*orders_, 7, std::nullopt, std::nullopt);
  ASSERT_TRUE(stored.ok()) << stored.status();
  for (const char* column : {"customer_phone", "phone_lookup", "card_number", "card_key"}) {
    ASSERT_NE(stored->Find(column), nullptr) << column;
    EXPECT_FALSE(stored->Find(column)->has_value()) << column;
  }
  auto plain = orders_->Decrypt(7, AsValues(*stored));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->Find("customer_phone")->has_value());
  EXPECT_FALSE(plain->Find("card_number")->has_value());
  EXPECT_EQ(**plain->Find("customer_name"), kName);
}

TEST_F(RowCryptorTest, EncryptErrorsNameTheColumnNeverTheValue) {
  const NullableValue name = kName;
  struct Case {
    std::vector<ColumnValue> values;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<ColumnValue> all = {{"customer_name", name},
                                        {"customer_email", kEmail},
                                        {"customer_phone", kPhone},
                                        {"card_number", kCard},
                                        {"loyalty_number", kLoyalty}};
  auto with = [&](ColumnValue extra) {
    std::vector<ColumnValue> v = all;
    v.push_back(extra);
    return v;
  };
  auto without = [&](size_t i) {
    std::vector<ColumnValue> v = all;
    v.erase(v.begin() + i);
    return v;
  };
  auto replaced = [&](size_t i, NullableValue value) {
    std::vector<ColumnValue> v = all;
    v[i].value = value;
    return v;
  };
  const std::vector<Case> cases = {
      {with({"customer_mail", kEmail}), absl::StatusCode::kNotFound,
       "column customer_mail is no field of table orders"},
      {with({"email", kEmail}), absl::StatusCode::kNotFound, "column email is no field"},
      {with({"customer_name", "John"}), absl::StatusCode::kInvalidArgument,
       "column customer_name is given twice"},
      {with({"customer_email_idx", "abcd"}), absl::StatusCode::kInvalidArgument,
       "column customer_email_idx is the blind-index column of field \"orders.customer_email\""},
      {with({"card_key", "1"}), absl::StatusCode::kInvalidArgument,
       "column card_key is the key-version column of field \"orders.card_number\""},
      {without(2), absl::StatusCode::kInvalidArgument,
       "table orders: missing column customer_phone (pass std::nullopt for NULL"},
      {replaced(2, "55x99"), absl::StatusCode::kInvalidArgument, "column customer_phone: "},
  };
  for (const Case& c : cases) {
    auto row = orders_->Encrypt(42, c.values);
    EXPECT_THAT(row, StatusIs(c.code)) << c.message;
    EXPECT_THAT(std::string(row.status().message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(row.status().message()),
                Not(::testing::AnyOf(HasSubstr("Jane"), HasSubstr("4111"), HasSubstr("John"),
                                     HasSubstr("55x99"))));
  }
  // A bound field needs a record.
  EXPECT_THAT(orders_->Encrypt("", all), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RowCryptorTest, EncryptColumnsForAnUpdateOfSomeColumns) {
  auto some = orders_->EncryptColumns(42, {{"customer_phone", "+61 2 5550 0100"}});
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_THAT(some->names(), ElementsAre("customer_phone", "phone_lookup"));
  EXPECT_THAT(orders_->EncryptColumns(42, {{"nope", "x"}}), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RowCryptorTest, DecryptErrorsNameTheColumnNeverTheValue) {
  auto stored = EncryptOrder(*orders_, 42);
  ASSERT_TRUE(stored.ok()) << stored.status();
  const NullableValue email = *stored->Find("customer_email");
  const NullableValue card = *stored->Find("card_number");
  const NullableValue card_key = *stored->Find("card_key");

  // Moved to another row: fails, naming the column and the field.
  auto moved = orders_->Decrypt(43, {{"customer_email", email}});
  EXPECT_THAT(moved, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(moved.status().message(),
            "column customer_email: orders.customer_email: decryption failed");
  // Moved to another column.
  EXPECT_THAT(orders_->Decrypt(42, {{"customer_name", email}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // "042" is another record than 42.
  EXPECT_THAT(orders_->Decrypt("042", {{"customer_email", email}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(orders_->Decrypt("42", {{"customer_email", email}}).ok());

  // An FF1 value needs its key-version column, which must be a key id.
  auto no_key = orders_->Decrypt(42, {{"card_number", card}});
  EXPECT_THAT(no_key, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(no_key.status().message()),
              HasSubstr("column card_number: needs its key-version column card_key"));
  const std::string leading_zero = absl::StrCat("0", **stored->Find("card_key"));
  for (NullableValue bad : {NullableValue(std::nullopt), NullableValue("0"), NullableValue("x"),
                            NullableValue(leading_zero)}) {
    EXPECT_THAT(orders_->Decrypt(42, {{"card_number", card}, {"card_key", bad}}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_TRUE(orders_->Decrypt(42, {{"card_number", card}, {"card_key", card_key}}).ok());

  EXPECT_THAT(orders_->Decrypt(42, {{"customer_email", email}, {"customer_email", email}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(orders_->Decrypt(42, {{"status", "paid"}}), StatusIs(absl::StatusCode::kNotFound));
  // An unknown token.
  auto token = orders_->Decrypt(42, {{"loyalty_number", "tok_unknown000000000"}});
  EXPECT_THAT(token, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(token.status().message()), HasSubstr("column loyalty_number: "));
}

TEST_F(RowCryptorTest, MaskIsOneLogLineThatNeverFails) {
  const std::string line = orders_->Mask({{"customer_name", kName},
                                          {"customer_email", kEmail},
                                          {"customer_phone", std::nullopt},
                                          {"card_number", kCard},
                                          {"comment", "call Jane on 0255500199"}});
  EXPECT_EQ(line,
            "customer_name=\"J. D.\", customer_email=\"J***@Example.com\", customer_phone=NULL, "
            "card_number=\"**** 1111\", comment=\"***\"");
}

// A row keeps its column names alive after its cryptor is gone (a KeyHandle's reload drops
// the policy the names come from in the same way).
TEST_F(RowCryptorTest, RowOutlivesItsCryptor) {
  std::unique_ptr<RowCryptor> rows = Rows(OrdersPolicy());
  ASSERT_NE(rows, nullptr);
  auto stored = rows->EncryptColumns(1, {{"customer_email", kEmail}});
  ASSERT_TRUE(stored.ok());
  rows.reset();
  const Row copy = *stored;
  stored = Row();
  EXPECT_THAT(copy.names(), ElementsAre("customer_email", "customer_email_idx"));
}

TEST(RecordIdTest, DecimalWithoutLeadingZerosAndOnlyThatForm) {
  EXPECT_EQ(RecordIdFromInt64(42), "42");
  EXPECT_EQ(RecordIdFromInt64(0), "0");
  EXPECT_EQ(RecordIdFromInt64(-7), "-7");
  EXPECT_EQ(RecordIdFromInt64(std::numeric_limits<int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(RecordIdFromInt64(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  for (int64_t id : {int64_t{42}, int64_t{0}, int64_t{-7}, std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(*ParseRecordId(RecordIdFromInt64(id)), id);
  }
  for (const char* text : {"042", "+42", " 42", "42 ", "-0", "00", "", "4.2e1", "0x2a", "42a",
                           "9223372036854775808", "-9223372036854775809"}) {
    EXPECT_THAT(ParseRecordId(text), StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  }
}

TEST_F(RowCryptorTest, IntegerRecordIsItsDecimalForm) {
  auto stored = orders_->EncryptColumns(int64_t{-7}, {{"customer_name", kName}});
  ASSERT_TRUE(stored.ok());
  const NullableValue ct = *stored->Find("customer_name");
  EXPECT_EQ(**orders_->Decrypt("-7", {{"customer_name", ct}})->Find("customer_name"), kName);
  EXPECT_FALSE(orders_->Decrypt("-07", {{"customer_name", ct}}).ok());
}

// The field name is the encryption context; the column is where the policy says the values
// are. A column renamed in the policy reads the values written under the old column name.
TEST_F(RowCryptorTest, ColumnRenamedInThePolicyStillDecryptsOldValues) {
  auto stored = EncryptOrder(*orders_, 42);
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::string renamed = OrdersPolicy();
  const std::string from = "blind_index { bits: 32 }";
  renamed.replace(renamed.find(from), from.size(),
                  "column: \"email_ct\" blind_index { bits: 32 column: \"email_hash\" }");
  std::unique_ptr<RowCryptor> after = Rows(renamed);
  ASSERT_NE(after, nullptr);
  auto plain = after->Decrypt(42, {{"email_ct", *stored->Find("customer_email")}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(**plain->Find("email_ct"), kEmail);
  EXPECT_THAT(after->Decrypt(42, {{"customer_email", *stored->Find("customer_email")}}),
              StatusIs(absl::StatusCode::kNotFound));
  auto again = after->EncryptColumns(42, {{"email_ct", kEmail}});
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->names(), ElementsAre("email_ct", "email_hash"));
  EXPECT_EQ(**again->Find("email_hash"), **stored->Find("customer_email_idx"));
}

TEST_F(RowCryptorTest, CreateRefusesATableWithoutFieldsAndVaultTokensWithoutAStore) {
  auto policy = Policy::ParseTextProto(OrdersPolicy());
  ASSERT_TRUE(policy.ok());
  EXPECT_THAT(RowCryptor::Create(*keyset_, *policy, "order"),
              StatusIs(absl::StatusCode::kNotFound));
  auto no_store = RowCryptor::Create(*keyset_, *policy, "orders");
  EXPECT_THAT(no_store, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(no_store.status().message()),
              HasSubstr("column loyalty_number: field \"orders.loyalty_number\" is a vault-token "
                        "field; RowOptions::token_store is required"));
  // Another table of the same policy needs none.
  EXPECT_TRUE(RowCryptor::Create(*keyset_, *policy, "customers").ok());
}

// A vaultless token field: FF1 tokens, no store needed, the same token for the same value.
TEST_F(RowCryptorTest, VaultlessTokenFieldNeedsNoStore) {
  auto policy = Policy::ParseTextProto(
      absl::StrCat("field { name: \"payments.card\" kind: KIND_CARD mode: MODE_VAULT_TOKEN"
                   " token { format: TOKEN_FORMAT_CARD vaultless: true key_id: ",
                   keyset_->primary_key_id(), " } }"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto payments = RowCryptor::Create(*keyset_, *policy, "payments");
  ASSERT_TRUE(payments.ok()) << payments.status();
  auto stored = (*payments)->Encrypt(1, {{"card", kCard}});
  ASSERT_TRUE(stored.ok()) << stored.status();
  const std::string token = **stored->Find("card");
  EXPECT_NE(token, kCard);
  EXPECT_EQ(token.substr(token.size() - 4), "1111");
  EXPECT_EQ(**(*payments)->Encrypt(2, {{"card", kCard}})->Find("card"), token);
  auto plain = (*payments)->Decrypt(2, {{"card", token}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(**plain->Find("card"), kCard);
}

// Rows served through a KeyHandle follow its reloads: new rows under the new primary, a
// column renamed in the reloaded policy from the next call on.
TEST(RowCryptorHandleTest, FollowsKeyAndPolicyReloads) {
  testing::TempDir dir;
  const std::string kek_uri = "file:" + dir.File("kek.key");
  ASSERT_TRUE(Kek::Create(kek_uri).ok());
  auto kek = Kek::Open(kek_uri);
  ASSERT_TRUE(kek.ok());
  const std::string keyset_path = dir.File("k.keyset");
  ASSERT_TRUE(Keyset::Generate()->WriteNew(keyset_path, **kek).ok());
  const std::string policy_path = dir.File("policy.textproto");
  auto write_policy = [&](const std::string& column) {
    FILE* f = std::fopen(policy_path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(absl::StrCat("field { name: \"orders.customer_email\" kind: KIND_EMAIL"
                            " mode: MODE_RANDOMIZED bind_record: true column: \"",
                            column, "\" blind_index { bits: 16 } }")
                   .c_str(),
               f);
    std::fclose(f);
  };
  write_policy("customer_email");
  KeyHandleOptions options;
  options.keyset_path = keyset_path;
  options.kek = *Kek::Open(kek_uri);
  options.policy_path = policy_path;
  options.check_interval = absl::ZeroDuration();
  auto keys = KeyHandle::Open(std::move(options));
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto rows = RowCryptor::Create(**keys, "orders");
  ASSERT_TRUE(rows.ok()) << rows.status();

  auto before = (*rows)->Encrypt(1, {{"customer_email", kEmail}});
  ASSERT_TRUE(before.ok()) << before.status();
  const uint32_t old_key = Keyset::Read(keyset_path, **kek)->primary_key_id();
  // Rotate, and rename the column in the policy.
  ASSERT_TRUE(
      Keyset::Update(keyset_path, **kek, [](Keyset& k) { return k.Rotate().status(); }).ok());
  write_policy("email_ct");
  ASSERT_TRUE((*keys)->Reload().ok()) << (*keys)->last_reload_status();

  EXPECT_THAT((*rows)->Encrypt(2, {{"customer_email", kEmail}}),
              StatusIs(absl::StatusCode::kNotFound));
  auto after = (*rows)->Encrypt(2, {{"email_ct", kEmail}});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(after->names(), ElementsAre("email_ct", "email_ct_idx"));
  // The old row still decrypts under the renamed column; disabling the old key stops it
  // and leaves the new row readable, so the new row is under the new primary.
  auto old_plain = (*rows)->Decrypt(1, {{"email_ct", *before->Find("customer_email")}});
  ASSERT_TRUE(old_plain.ok()) << old_plain.status();
  EXPECT_EQ(**old_plain->Find("email_ct"), kEmail);
  ASSERT_TRUE(
      Keyset::Update(keyset_path, **kek, [&](Keyset& k) { return k.Disable(old_key); }).ok());
  ASSERT_TRUE((*keys)->Reload().ok()) << (*keys)->last_reload_status();
  EXPECT_THAT((*rows)->Decrypt(1, {{"email_ct", *before->Find("customer_email")}}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto new_plain = (*rows)->Decrypt(2, {{"email_ct", *after->Find("email_ct")}});
  ASSERT_TRUE(new_plain.ok()) << new_plain.status();
  EXPECT_EQ(**new_plain->Find("email_ct"), kEmail);
}

}  // namespace
}  // namespace piicrypt
