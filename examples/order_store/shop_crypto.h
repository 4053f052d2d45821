// shop_crypto.h: the shop's personal fields through piicrypt's FieldCryptor.
//
// Turns an order or booking into the row the database stores (ciphertexts, blind indexes,
// an FF1 card token) and back, as examples/order_store/orders.textproto says. The record
// id bound into every ciphertext is the row's primary key.
#ifndef PIICRYPT_EXAMPLES_ORDER_STORE_SHOP_CRYPTO_H_
#define PIICRYPT_EXAMPLES_ORDER_STORE_SHOP_CRYPTO_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "order_db.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "synthetic.h"

namespace order_store {

// The personal fields of a row after decryption.
struct OpenedOrder {
  std::string customer_name;
  std::string email;
  std::string phone;
  std::string delivery_address;
  std::string billing_address;
  std::string items;
};
struct OpenedBooking {
  std::string customer_name;
  std::string email;
  std::string phone;
  std::string card_number;
};

bool Matches(const Order& written, const OpenedOrder& read);
bool Matches(const Booking& written, const OpenedBooking& read);

class ShopCrypto {
 public:
  // A snapshot of `keyset`: after a rotation, create a new one.
  static absl::StatusOr<std::unique_ptr<ShopCrypto>> Create(const piicrypt::Keyset& keyset,
                                                            const piicrypt::Policy& policy);

  absl::StatusOr<StoredOrder> Protect(const Order& order) const;
  absl::StatusOr<OpenedOrder> Open(const StoredOrder& row) const;
  absl::StatusOr<StoredBooking> Protect(const Booking& booking) const;
  absl::StatusOr<OpenedBooking> Open(const StoredBooking& row) const;

  // The normalized forms that the blind indexes are computed over (the demo's expected
  // lookup results are sets of them; lookups themselves go through piicrypt::Lookup).
  absl::StatusOr<std::string> NormalizeEmail(absl::string_view email) const;
  absl::StatusOr<std::string> NormalizePhone(absl::string_view phone) const;

  // A display mask of a field's value ("j***@example.com"), as the policy says.
  std::string Mask(absl::string_view field, absl::string_view value) const;

  const piicrypt::FieldCryptor& cryptor() const { return *cryptor_; }

 private:
  explicit ShopCrypto(std::unique_ptr<piicrypt::FieldCryptor> cryptor)
      : cryptor_(std::move(cryptor)) {}
  std::unique_ptr<piicrypt::FieldCryptor> cryptor_;
};

}  // namespace order_store

#endif  // PIICRYPT_EXAMPLES_ORDER_STORE_SHOP_CRYPTO_H_
