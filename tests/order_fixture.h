// order_fixture.h: the fields of an order that tests and benchmarks encrypt, as policy text.
//
// Each constant is one `field { ... }` of a Policy text proto (proto/piicrypt/policy.proto);
// a test concatenates those it needs, with fields of its own:
//
//   auto policy = Policy::ParseTextProto(absl::StrCat(kOrderNameField, kOrderEmailField));
//
// Header only: the benchmarks (bench/) use it too.
#ifndef PIICRYPT_TESTS_ORDER_FIXTURE_H_
#define PIICRYPT_TESTS_ORDER_FIXTURE_H_

namespace piicrypt::testing {

// orders.customer_name: a name, randomized and bound to its record.
inline constexpr char kOrderNameField[] = R"pb(
  field { name: "orders.customer_name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
)pb";

// orders.customer_email: an e-mail address, randomized and bound to its record, with a
// 32-bit blind index.
inline constexpr char kOrderEmailField[] = R"pb(
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 32 }
  }
)pb";

// orders.customer_phone: a phone number, randomized and bound to its record, with a 32-bit
// blind index; numbers without a country code are Australian.
inline constexpr char kOrderPhoneField[] = R"pb(
  field {
    name: "orders.customer_phone"
    kind: KIND_PHONE
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 32 default_region: "AU" }
  }
)pb";

// orders.delivery_address: an address, randomized and bound to its record.
inline constexpr char kOrderAddressField[] = R"pb(
  field {
    name: "orders.delivery_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
  }
)pb";

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_ORDER_FIXTURE_H_
