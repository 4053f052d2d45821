#include "shop_crypto.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "piicrypt/status_macros.h"

namespace order_store {

bool Matches(const Order& written, const OpenedOrder& read) {
  return written.customer_name == read.customer_name && written.email == read.email &&
         written.phone == read.phone && written.delivery_address == read.delivery_address &&
         written.billing_address == read.billing_address &&
         FormatItems(written.items) == read.items;
}

bool Matches(const Booking& written, const OpenedBooking& read) {
  return written.customer_name == read.customer_name && written.email == read.email &&
         written.phone == read.phone && written.card_number == read.card_number;
}

absl::StatusOr<std::unique_ptr<ShopCrypto>> ShopCrypto::Create(const piicrypt::Keyset& keyset,
                                                               const piicrypt::Policy& policy) {
  PIICRYPT_ASSIGN_OR_RETURN(auto cryptor, piicrypt::FieldCryptor::Create(keyset, policy));
  return std::unique_ptr<ShopCrypto>(new ShopCrypto(std::move(cryptor)));
}

absl::StatusOr<StoredOrder> ShopCrypto::Protect(const Order& order) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(order.id);
  StoredOrder row;
  row.id = order.id;
  row.placed_unix = order.placed_unix;
  row.total_cents = order.total_cents;
  PIICRYPT_ASSIGN_OR_RETURN(row.customer_name,
                            c.EncryptValue("orders.customer_name", order.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email,
                            c.EncryptValue("orders.customer_email", order.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email_bidx,
                            c.BlindIndexValue("orders.customer_email", order.email));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone,
                            c.EncryptValue("orders.customer_phone", order.phone, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone_bidx,
                            c.BlindIndexValue("orders.customer_phone", order.phone));
  PIICRYPT_ASSIGN_OR_RETURN(row.delivery_address, c.EncryptValue("orders.delivery_address",
                                                                 order.delivery_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(
      row.billing_address, c.EncryptValue("orders.billing_address", order.billing_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(
      row.items, c.EncryptValue("orders.purchase_details", FormatItems(order.items), record));
  return row;
}

absl::StatusOr<OpenedOrder> ShopCrypto::Open(const StoredOrder& row) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(row.id);
  OpenedOrder out;
  PIICRYPT_ASSIGN_OR_RETURN(out.customer_name,
                            c.DecryptValue("orders.customer_name", row.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.email, c.DecryptValue("orders.customer_email", row.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.phone, c.DecryptValue("orders.customer_phone", row.phone, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.delivery_address, c.DecryptValue("orders.delivery_address",
                                                                 row.delivery_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.billing_address,
                            c.DecryptValue("orders.billing_address", row.billing_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.items,
                            c.DecryptValue("orders.purchase_details", row.items, record));
  return out;
}

absl::StatusOr<StoredBooking> ShopCrypto::Protect(const Booking& booking) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(booking.id);
  StoredBooking row;
  row.id = booking.id;
  row.store = booking.store;
  row.collect_unix = booking.collect_unix;
  PIICRYPT_ASSIGN_OR_RETURN(
      row.customer_name, c.EncryptValue("bookings.customer_name", booking.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email,
                            c.EncryptValue("bookings.customer_email", booking.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email_bidx,
                            c.BlindIndexValue("bookings.customer_email", booking.email));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone,
                            c.EncryptValue("bookings.customer_phone", booking.phone, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone_bidx,
                            c.BlindIndexValue("bookings.customer_phone", booking.phone));
  PIICRYPT_ASSIGN_OR_RETURN(row.card_token,
                            c.EncryptValue("bookings.card_number", booking.card_number, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.card_key_id, c.WriteKeyId("bookings.card_number"));
  return row;
}

absl::StatusOr<OpenedBooking> ShopCrypto::Open(const StoredBooking& row) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(row.id);
  OpenedBooking out;
  PIICRYPT_ASSIGN_OR_RETURN(out.customer_name,
                            c.DecryptValue("bookings.customer_name", row.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.email,
                            c.DecryptValue("bookings.customer_email", row.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.phone,
                            c.DecryptValue("bookings.customer_phone", row.phone, record));
  // An FF1 token names no key: the row's key-version column does (docs/FPE.md).
  PIICRYPT_ASSIGN_OR_RETURN(
      std::optional<std::string> card,
      c.DecryptWithKey("bookings.card_number", row.card_key_id, row.card_token, record));
  if (!card.has_value()) return absl::InternalError("bookings.card_number: no plaintext");
  out.card_number = std::move(*card);
  return out;
}

absl::StatusOr<std::string> ShopCrypto::NormalizeEmail(absl::string_view email) const {
  return cryptor_->Normalize("orders.customer_email", email);
}
absl::StatusOr<std::string> ShopCrypto::NormalizePhone(absl::string_view phone) const {
  return cryptor_->Normalize("orders.customer_phone", phone);
}

std::string ShopCrypto::Mask(absl::string_view field, absl::string_view value) const {
  return cryptor_->MaskValue(field, value);
}

}  // namespace order_store
