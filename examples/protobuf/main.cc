// Encrypts an application's protobuf message field by field with MessageCryptor, stores it
// serialized, reads it back and decrypts it; logs only a masked copy (shop/order.proto).
#include <cstdio>
#include <memory>
#include <string>

#include "piicrypt/keyset.h"
#include "piicrypt/message_cryptor.h"
#include "piicrypt/policy.h"
#include "piicrypt/status_macros.h"
#include "shop/order.pb.h"

namespace {

// The rules the message's fields name; bound to the order's id.
constexpr char kPolicy[] = R"pb(
  field { name: "orders.customer_name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.customer_email" kind: KIND_EMAIL mode: MODE_RANDOMIZED bind_record: true }
  field {
    name: "orders.delivery_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
    padding { buckets: [ 32, 64, 128 ] }
  }
)pb";

absl::Status Run() {
  // In production: the keyset from its file under a KEK (key_handle.h, docs/KEYS.md).
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ParseTextProto(kPolicy));
  PIICRYPT_ASSIGN_OR_RETURN(
      std::unique_ptr<piicrypt::MessageCryptor> orders,
      piicrypt::MessageCryptor::Create(keyset, policy, shop::Order::descriptor()));
  shop::Order order;
  order.set_id(1001);
  order.set_customer_name("Jane Doe");
  order.set_customer_email("jane@example.com");
  order.set_delivery_address("1 Example Street, Sydney NSW 2000");
  order.set_gift_note("Happy birthday!");
  order.set_sku("MUG-42");
  order.set_quantity(2);
  const shop::Order original = order;

  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<google::protobuf::Message> masked,
                            orders->Redact(order));
  std::printf("log: %s\n", masked->ShortDebugString().c_str());

  PIICRYPT_RETURN_IF_ERROR(orders->EncryptInPlace(order));
  const std::string stored = order.SerializeAsString();  // what the database holds
  if (stored.find("jane@example.com") != std::string::npos || order.sku() != "MUG-42") {
    return absl::InternalError("the stored message holds a plaintext e-mail, or lost its sku");
  }
  std::printf("stored: customer_email is %zu characters of ciphertext\n",
              order.customer_email().size());

  shop::Order read;
  if (!read.ParseFromString(stored)) return absl::DataLossError("stored order does not parse");
  shop::Order moved = read;  // the e-mail of order 1001 copied into order 1002
  moved.set_id(1002);
  PIICRYPT_RETURN_IF_ERROR(orders->DecryptInPlace(read));
  if (read.SerializeAsString() != original.SerializeAsString()) {
    return absl::InternalError("the decrypted order differs from the original");
  }
  std::printf("read back: %s, %s\n", read.customer_name().c_str(), read.customer_email().c_str());
  const absl::Status status = orders->DecryptInPlace(moved);
  if (status.ok()) return absl::InternalError("a value moved to another order decrypted");
  std::printf("moved to another order: %s\n", status.ToString().c_str());
  return absl::OkStatus();
}

}  // namespace

int main() {
  const absl::Status status = Run();
  if (!status.ok()) {
    std::fprintf(stderr, "protobuf example: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
