// MessageCryptor on an Order like the demo's: nested, repeated, oneof, bytes, record ids.
#include "piicrypt/message_cryptor.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/order_test.pb.h"  // generated from tests/proto/order_test.proto
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using test::Booking;
using test::Order;
using ::testing::HasSubstr;

Policy ExamplePolicy() {
  return Policy::ReadFile(std::string(PIICRYPT_SOURCE_DIR) + "/examples/policies/orders.textproto")
      .value();
}

// The example policy and the rule of the addresses' postcodes: FF1 pinned to `keyset`'s
// primary key.
Policy TestPolicy(const Keyset& keyset) {
  const Policy example = ExamplePolicy();
  std::vector<FieldRule> rules(example.rules().begin(), example.rules().end());
  FieldRule postcode;
  postcode.name = "orders.address_postcode";
  postcode.mode = FieldMode::kFormatPreserving;
  postcode.format_preserving = FormatPreservingRule{};
  postcode.format_preserving->codec.codec = FpeCodec::kAlphabet;
  postcode.format_preserving->codec.alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  postcode.format_preserving->codec.keep_characters = " ";
  postcode.format_preserving->key_id = keyset.primary_key_id();
  rules.push_back(postcode);
  return Policy::Create(std::move(rules)).value();
}

Order SampleOrder() {
  Order order;
  order.set_id(1001);
  order.set_customer_name("Jane Doe");
  order.set_customer_email("jane.doe@example.com");
  order.set_customer_phone("+61 2 5550 0199");
  order.mutable_delivery()->set_street("1 Main Street");
  order.mutable_delivery()->set_city("Sydney");
  order.mutable_delivery()->set_postcode("SW1A 1AA");
  order.mutable_billing()->set_street("PO Box 42");
  for (const char* details : {"2x vitamin D", "pregnancy test"}) {
    test::Item* item = order.add_items();
    item->set_sku("SKU-1");
    item->set_quantity(2);
    item->set_purchase_details(details);
  }
  order.mutable_card()->set_last4("1234");
  order.add_notes("leave at the back door");
  order.add_notes("");
  order.set_signature_image(std::string("\x89PNG\0\x01", 6));
  return order;
}

class MessageCryptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyset_ = std::make_unique<Keyset>(Keyset::Generate().value());
    cryptor_ = MessageCryptor::Create(*keyset_, TestPolicy(*keyset_), Order::descriptor()).value();
  }
  std::unique_ptr<Keyset> keyset_;
  std::unique_ptr<MessageCryptor> cryptor_;
};

TEST_F(MessageCryptorTest, EncryptsEveryMarkedFieldAndRoundTrips) {
  const Order plain = SampleOrder();
  Order order = plain;
  ASSERT_THAT(cryptor_->EncryptInPlace(order), IsOk());

  // Marked fields changed, others did not.
  EXPECT_EQ(order.id(), 1001u);
  EXPECT_EQ(order.delivery().city(), "Sydney");
  EXPECT_EQ(order.items(0).sku(), "SKU-1");
  EXPECT_EQ(order.items(0).quantity(), 2u);
  EXPECT_NE(order.customer_name(), plain.customer_name());
  EXPECT_NE(order.customer_email(), plain.customer_email());
  EXPECT_NE(order.customer_phone(), plain.customer_phone());
  EXPECT_NE(order.delivery().street(), plain.delivery().street());
  EXPECT_NE(order.billing().street(), plain.billing().street());
  EXPECT_NE(order.items(1).purchase_details(), plain.items(1).purchase_details());
  EXPECT_NE(order.card().last4(), "1234");
  EXPECT_NE(order.notes(1), "");  // the empty string is a value too
  EXPECT_NE(order.signature_image(), plain.signature_image());
  // FF1 postcode keeps its shape; strings are text form, bytes binary.
  EXPECT_EQ(order.delivery().postcode().size(), 8u);
  EXPECT_EQ(order.delivery().postcode()[4], ' ');
  EXPECT_EQ(order.signature_image()[0], '\x01');
  EXPECT_EQ(order.customer_email().find('='), std::string::npos);
  // Nothing of the plaintext is left anywhere in the serialized message.
  const std::string wire = order.SerializeAsString();
  for (const char* secret : {"Jane", "jane.doe", "5550", "Main Street", "PO Box", "pregnancy",
                             "vitamin", "back door", "SW1A"}) {
    EXPECT_EQ(wire.find(secret), std::string::npos) << secret;
  }

  ASSERT_THAT(cryptor_->DecryptInPlace(order), IsOk());
  EXPECT_EQ(order.SerializeAsString(), plain.SerializeAsString());
}

TEST_F(MessageCryptorTest, FieldsAreBoundToTheOrderId) {
  Order order = SampleOrder();
  ASSERT_THAT(cryptor_->EncryptInPlace(order), IsOk());
  const Order encrypted = order;
  order.set_id(1002);  // the same ciphertexts presented as another order's
  auto moved = cryptor_->DecryptInPlace(order);
  ASSERT_THAT(moved, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(moved.message(), HasSubstr("piicrypt.test.Order.customer_name"));
  // A failed decryption changes nothing.
  order.set_id(1001);
  EXPECT_EQ(order.SerializeAsString(), encrypted.SerializeAsString());
}

// Values inside repeated fields are bound to their position: reordering the elements of a
// repeated PII field, or moving a value between elements of a repeated message, fails.
TEST_F(MessageCryptorTest, RepeatedElementsAreBoundToTheirPosition) {
  Order order = SampleOrder();
  order.clear_notes();
  for (const char* note : {"leave at the back door", "call first", "fragile"}) {
    order.add_notes(note);
  }
  ASSERT_THAT(cryptor_->EncryptInPlace(order), IsOk());
  const Order encrypted = order;

  order.mutable_notes()->SwapElements(0, 2);
  auto swapped = cryptor_->DecryptInPlace(order);
  ASSERT_THAT(swapped, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(swapped.message(),
              HasSubstr("piicrypt.test.Order.notes: orders.notes: decryption failed"));

  order = encrypted;
  *order.mutable_notes(1) = encrypted.notes(0);  // a copy of another element
  EXPECT_THAT(cryptor_->DecryptInPlace(order), StatusIs(absl::StatusCode::kInvalidArgument));

  order = encrypted;  // the purchase details of two items exchanged
  order.mutable_items(0)->set_purchase_details(encrypted.items(1).purchase_details());
  order.mutable_items(1)->set_purchase_details(encrypted.items(0).purchase_details());
  auto exchanged = cryptor_->DecryptInPlace(order);
  ASSERT_THAT(exchanged, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(exchanged.message(), HasSubstr("Item.purchase_details"));

  order = encrypted;
  ASSERT_THAT(cryptor_->DecryptInPlace(order), IsOk());
  EXPECT_THAT(order.notes(),
              ::testing::ElementsAre("leave at the back door", "call first", "fragile"));
  EXPECT_EQ(order.items(1).purchase_details(), "pregnancy test");
}

// A NUL byte separates the record id from the positions: it is refused in record ids.
TEST_F(MessageCryptorTest, RecordIdsWithNulAreRefused) {
  Booking booking;
  booking.set_booking_ref(std::string("B-1\0notes[0]", 12));
  booking.mutable_card()->set_last4("1234");
  auto bookings =
      MessageCryptor::Create(*keyset_, TestPolicy(*keyset_), Booking::descriptor()).value();
  auto s = bookings->EncryptInPlace(booking);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("record id cannot contain a NUL byte"));
}

// Elements written without their position (the record id alone) still decrypt.
TEST_F(MessageCryptorTest, ElementsWrittenWithoutTheirPositionStillDecrypt) {
  const FieldCryptor& fields = cryptor_->field_cryptor();
  Order order;
  order.set_id(1001);
  order.add_notes(**fields.Encrypt("orders.notes", "first", "1001"));
  order.add_notes(**fields.Encrypt("orders.notes", "second", "1001"));
  order.add_items()->set_purchase_details(
      **fields.Encrypt("orders.purchase_details", "vitamin D", "1001"));
  ASSERT_THAT(cryptor_->DecryptInPlace(order), IsOk());
  EXPECT_THAT(order.notes(), ::testing::ElementsAre("first", "second"));
  EXPECT_EQ(order.items(0).purchase_details(), "vitamin D");
  // Encrypted again, they carry their position.
  ASSERT_THAT(cryptor_->EncryptInPlace(order), IsOk());
  EXPECT_THAT(fields.Decrypt("orders.notes", order.notes(0), "1001"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MessageCryptorTest, UnsetFieldsStayUnsetLikeNull) {
  Order order;
  order.set_id(7);
  order.set_voucher_code("SPRING-24");  // the other oneof member
  ASSERT_THAT(cryptor_->EncryptInPlace(order), IsOk());
  EXPECT_FALSE(order.has_customer_phone());
  EXPECT_FALSE(order.has_delivery());
  EXPECT_FALSE(order.has_card());
  EXPECT_TRUE(order.has_voucher_code());
  EXPECT_NE(order.voucher_code(), "SPRING-24");
  // The voucher's inline rule is deterministic: equal codes, equal ciphertexts.
  Order again;
  again.set_id(8);
  again.set_voucher_code("SPRING-24");
  ASSERT_THAT(cryptor_->EncryptInPlace(again), IsOk());
  EXPECT_EQ(again.voucher_code(), order.voucher_code());
  ASSERT_THAT(cryptor_->DecryptInPlace(order), IsOk());
  EXPECT_EQ(order.voucher_code(), "SPRING-24");
  EXPECT_EQ(order.customer_name(), "");
}

TEST_F(MessageCryptorTest, BoundFieldsNeedARecordId) {
  Order order = SampleOrder();
  order.clear_id();
  auto s = cryptor_->EncryptInPlace(order);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("record id is required"));
  EXPECT_EQ(order.customer_name(), "Jane Doe");  // unchanged
}

TEST_F(MessageCryptorTest, RedactMasksACopy) {
  const Order plain = SampleOrder();
  auto redacted = cryptor_->Redact(plain);
  ASSERT_THAT(redacted, IsOk());
  const auto& r = static_cast<const Order&>(**redacted);
  EXPECT_EQ(r.customer_name(), "J. D.");
  EXPECT_EQ(r.customer_email(), "j***@example.com");
  EXPECT_EQ(r.customer_phone(), "*** *** 0199");
  EXPECT_EQ(r.delivery().street(), "***");
  EXPECT_EQ(r.delivery().city(), "Sydney");
  EXPECT_EQ(r.items(0).purchase_details(), "***");
  EXPECT_EQ(r.card().last4(), "**** 1234");
  EXPECT_EQ(r.signature_image(), "***");
  EXPECT_EQ(r.id(), 1001u);
  EXPECT_EQ(plain.customer_name(), "Jane Doe");  // the original is untouched
}

TEST_F(MessageCryptorTest, InnerRecordIdsBindTheirSubtree) {
  auto bookings = MessageCryptor::Create(*keyset_, TestPolicy(*keyset_), Booking::descriptor());
  ASSERT_THAT(bookings, IsOk());
  Booking booking;
  booking.set_booking_ref("B-77");
  booking.mutable_card()->set_last4("9876");
  ASSERT_THAT((*bookings)->EncryptInPlace(booking), IsOk());
  auto direct =
      (*bookings)->field_cryptor().Decrypt("bookings.card_last4", booking.card().last4(), "B-77");
  ASSERT_THAT(direct, IsOk());
  EXPECT_EQ(**direct, "9876");
  // Another message type is refused.
  Order order = SampleOrder();
  EXPECT_THAT((*bookings)->EncryptInPlace(order), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MessageCryptorTest, InlineRulesJoinThePolicy) {
  const FieldCryptor& fields = cryptor_->field_cryptor();
  EXPECT_EQ(fields.policy().Find("piicrypt.test.Order.voucher_code")->mode,
            FieldMode::kDeterministic);
  EXPECT_NE(fields.policy().Find("orders.address_postcode"), nullptr);
  EXPECT_NE(fields.policy().Find("orders.customer_email"), nullptr);
}

TEST(MessageCryptorCreateTest, RejectsStructuresThatMakeNoSense) {
  Keyset keyset = Keyset::Generate().value();
  const Policy policy = ExamplePolicy();
  struct Bad {
    const google::protobuf::Descriptor* type;
    absl::StatusCode code;
    const char* message;
  };
  const Bad bad[] = {
      {test::BadType::descriptor(), absl::StatusCode::kInvalidArgument, "BadType.age: only string"},
      {test::MissingRule::descriptor(), absl::StatusCode::kNotFound, "orders.no_such_rule"},
      {test::FpeBytes::descriptor(), absl::StatusCode::kInvalidArgument, "bytes field"},
      {test::TwoRecordIds::descriptor(), absl::StatusCode::kInvalidArgument, "second record id"},
      {test::EmptyMark::descriptor(), absl::StatusCode::kInvalidArgument, "rule name or an inline"},
      // A message has no key-version column to read an FF1 value's key from.
      {test::Ff1WithKeyVersionColumn::descriptor(), absl::StatusCode::kInvalidArgument,
       "Ff1WithKeyVersionColumn.phone: rule \"bookings.customer_phone\" keeps each value's key "
       "in the key-version column customer_phone_key"},
  };
  for (const Bad& b : bad) {
    auto created = MessageCryptor::Create(keyset, policy, b.type);
    ASSERT_THAT(created, StatusIs(b.code)) << b.type->full_name();
    EXPECT_THAT(created.status().message(), HasSubstr(b.message));
  }
  EXPECT_THAT(MessageCryptor::Create(keyset, policy, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // An inline rule that clashes with a policy rule of the same name.
  Policy clash =
      Policy::ParseTextProto(R"(field { name: "orders.address_postcode" mode: MODE_RANDOMIZED })")
          .value();
  auto merged = MessageCryptor::Create(keyset, clash, test::Address::descriptor());
  ASSERT_THAT(merged, StatusIs(absl::StatusCode::kNotFound));  // street's rule is missing first
}

TEST(MessageCryptorCreateTest, RecursiveTypes) {
  Keyset keyset = Keyset::Generate().value();
  auto cryptor =
      MessageCryptor::Create(keyset, Policy::Create({}).value(), test::Recursive::descriptor());
  ASSERT_THAT(cryptor, IsOk());
  test::Recursive m;
  m.set_secret("outer");
  m.mutable_child()->set_secret("inner");
  m.mutable_child()->mutable_child()->set_secret("innermost");
  const test::Recursive plain = m;
  ASSERT_THAT((*cryptor)->EncryptInPlace(m), IsOk());
  EXPECT_NE(m.child().child().secret(), "innermost");
  ASSERT_THAT((*cryptor)->DecryptInPlace(m), IsOk());
  EXPECT_EQ(m.SerializeAsString(), plain.SerializeAsString());
}

}  // namespace
}  // namespace piicrypt
