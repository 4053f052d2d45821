// message_cryptor.h: encrypts, decrypts and redacts every PII field of a protobuf message.
//
// Mark the fields of your own messages with the options of proto/piicrypt/options.proto
// (installed as piicrypt/options.proto):
//
//   import "piicrypt/options.proto";
//   message Order {
//     string id = 1 [(piicrypt.record_id) = true];
//     string customer_email = 2 [(piicrypt.pii).rule = "orders.customer_email"];
//     string note = 3 [(piicrypt.pii).inline = { mode: MODE_RANDOMIZED mask: MASK_FULL }];
//     Address delivery = 4;        // its marked fields are handled too
//     repeated Item items = 5;     // every element
//   }
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto orders, piicrypt::MessageCryptor::Create(
//                                              keyset, policy, shop::Order::descriptor()));
//   PIICRYPT_RETURN_IF_ERROR(orders->EncryptInPlace(order));   // before storing it
//   PIICRYPT_RETURN_IF_ERROR(orders->DecryptInPlace(order));   // after reading it
//   LOG(INFO) << orders->Redact(order)->ShortDebugString();    // masked copy for logs
//
// A marked field names a rule of the policy (`rule`; the rule's name is the CONTEXT), or
// carries its rule inline (`inline`; its name defaults to the field's full name, such as
// "shop.Order.note"). Marked fields must be string or bytes, singular or repeated, in
// oneofs or not: strings take the text form, bytes the binary form (FieldCryptor). Unset
// fields stay unset, like NULL. A proto3 singular field without `optional` cannot tell
// unset from empty, so its empty value is left empty; declare the field `optional` (or
// use a repeated element) to have an empty string encrypted like any value.
//
// Record id: the field marked (piicrypt.record_id) (string, or an integer written in
// decimal) is the record of every bound field of the message and of the messages inside
// it; an inner message with its own record id field uses that one for its subtree. An
// unset record id (for proto3 integers: 0) is missing, and bound fields then fail; a
// record id holding a NUL byte is refused (kInvalidArgument; see Positions).
//
// Positions: a value of a bound randomized or deterministic rule inside a repeated field
// (an element of a repeated string, or a field of an element of a repeated message) is
// bound to its position too: the record bound into it is the record id followed, for
// each repeated field on the way down from the message holding the record id, by a NUL
// byte, the field's name and the element's index ("1001\0items[2]"). Reordering the
// elements, or exchanging values between them, then fails to decrypt. Values written
// without their position (the record id alone) still decrypt, at any position, and are
// bound at their next encryption. Removing the last elements is not detected, nor are
// reorderings of unbound or FF1 values (FF1 decrypts any string to some value: a position
// in its tweak could not be told from an old value's). FF1 rules with a key-version
// column are refused (a message has no column to read the key from): pin their key_id.
//
// All of the message's structure is checked in Create: a marked field of another type, a
// rule missing from the policy, FF1 on a bytes field are errors there, naming the field.
// EncryptInPlace/DecryptInPlace change the message only if every field succeeds.
//
// Thread safety: every method is const and safe to call from many threads.
#ifndef PIICRYPT_MESSAGE_CRYPTOR_H_
#define PIICRYPT_MESSAGE_CRYPTOR_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "piicrypt/export.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace google::protobuf {
class Descriptor;
class Message;
}  // namespace google::protobuf

namespace piicrypt {

class PIICRYPT_EXPORT MessageCryptor {
 public:
  // `descriptor` is the message type handled; messages passed later must be of it.
  static absl::StatusOr<std::unique_ptr<MessageCryptor>> Create(
      const Keyset& keyset, const Policy& policy, const google::protobuf::Descriptor* descriptor);
  ~MessageCryptor();
  MessageCryptor(const MessageCryptor&) = delete;
  MessageCryptor& operator=(const MessageCryptor&) = delete;

  [[nodiscard]] absl::Status EncryptInPlace(google::protobuf::Message& message) const;
  [[nodiscard]] absl::Status DecryptInPlace(google::protobuf::Message& message) const;
  // A copy of the (plaintext) message with every marked field masked per its rule.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Redact(
      const google::protobuf::Message& message) const;

  // The FieldCryptor of the policy and the inline rules, for columns outside messages.
  const FieldCryptor& field_cryptor() const;

 private:
  struct Rep;
  explicit MessageCryptor(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace piicrypt

#endif  // PIICRYPT_MESSAGE_CRYPTOR_H_
