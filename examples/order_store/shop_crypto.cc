#include "shop_crypto.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "piicrypt/status_macros.h"

namespace order_store {
namespace {

// Encrypts a value that is never NULL in this shop.
absl::StatusOr<std::string> Seal(const piicrypt::FieldCryptor& c, absl::string_view field,
                                 absl::string_view value, absl::string_view record) {
  PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> out, c.Encrypt(field, value, record));
  if (!out.has_value()) return absl::InternalError(std::string(field) + ": no ciphertext");
  return std::move(*out);
}
absl::StatusOr<std::string> Unseal(const piicrypt::FieldCryptor& c, absl::string_view field,
                                   absl::string_view stored, absl::string_view record) {
  PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> out, c.Decrypt(field, stored, record));
  if (!out.has_value()) return absl::InternalError(std::string(field) + ": no plaintext");
  return std::move(*out);
}
absl::StatusOr<std::string> Index(const piicrypt::FieldCryptor& c, absl::string_view field,
                                  absl::string_view value) {
  PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> out, c.BlindIndex(field, value));
  if (!out.has_value()) return absl::InternalError(std::string(field) + ": no blind index");
  return std::move(*out);
}

}  // namespace

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
                            Seal(c, "orders.customer_name", order.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email, Seal(c, "orders.customer_email", order.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email_bidx, Index(c, "orders.customer_email", order.email));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone, Seal(c, "orders.customer_phone", order.phone, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone_bidx, Index(c, "orders.customer_phone", order.phone));
  PIICRYPT_ASSIGN_OR_RETURN(row.delivery_address,
                            Seal(c, "orders.delivery_address", order.delivery_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.billing_address,
                            Seal(c, "orders.billing_address", order.billing_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.items,
                            Seal(c, "orders.purchase_details", FormatItems(order.items), record));
  return row;
}

absl::StatusOr<OpenedOrder> ShopCrypto::Open(const StoredOrder& row) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(row.id);
  OpenedOrder out;
  PIICRYPT_ASSIGN_OR_RETURN(out.customer_name,
                            Unseal(c, "orders.customer_name", row.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.email, Unseal(c, "orders.customer_email", row.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.phone, Unseal(c, "orders.customer_phone", row.phone, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.delivery_address,
                            Unseal(c, "orders.delivery_address", row.delivery_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.billing_address,
                            Unseal(c, "orders.billing_address", row.billing_address, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.items, Unseal(c, "orders.purchase_details", row.items, record));
  return out;
}

absl::StatusOr<StoredBooking> ShopCrypto::Protect(const Booking& booking) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(booking.id);
  StoredBooking row;
  row.id = booking.id;
  row.store = booking.store;
  row.collect_unix = booking.collect_unix;
  PIICRYPT_ASSIGN_OR_RETURN(row.customer_name,
                            Seal(c, "bookings.customer_name", booking.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email, Seal(c, "bookings.customer_email", booking.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.email_bidx, Index(c, "bookings.customer_email", booking.email));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone, Seal(c, "bookings.customer_phone", booking.phone, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.phone_bidx, Index(c, "bookings.customer_phone", booking.phone));
  PIICRYPT_ASSIGN_OR_RETURN(row.card_token,
                            Seal(c, "bookings.card_number", booking.card_number, record));
  PIICRYPT_ASSIGN_OR_RETURN(row.card_key_id, c.WriteKeyId("bookings.card_number"));
  return row;
}

absl::StatusOr<OpenedBooking> ShopCrypto::Open(const StoredBooking& row) const {
  const piicrypt::FieldCryptor& c = *cryptor_;
  const std::string record = std::to_string(row.id);
  OpenedBooking out;
  PIICRYPT_ASSIGN_OR_RETURN(out.customer_name,
                            Unseal(c, "bookings.customer_name", row.customer_name, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.email, Unseal(c, "bookings.customer_email", row.email, record));
  PIICRYPT_ASSIGN_OR_RETURN(out.phone, Unseal(c, "bookings.customer_phone", row.phone, record));
  // An FF1 token names no key: the row's key-version column does (docs/FPE.md).
  PIICRYPT_ASSIGN_OR_RETURN(
      std::optional<std::string> card,
      c.DecryptWithKey("bookings.card_number", row.card_key_id, row.card_token, record));
  if (!card.has_value()) return absl::InternalError("bookings.card_number: no plaintext");
  out.card_number = std::move(*card);
  return out;
}

absl::StatusOr<std::vector<std::string>> ShopCrypto::OrderEmailIndexes(
    absl::string_view email) const {
  return cryptor_->LookupIndexes("orders.customer_email", email);
}
absl::StatusOr<std::vector<std::string>> ShopCrypto::OrderPhoneIndexes(
    absl::string_view phone) const {
  return cryptor_->LookupIndexes("orders.customer_phone", phone);
}
absl::StatusOr<std::vector<std::string>> ShopCrypto::BookingEmailIndexes(
    absl::string_view email) const {
  return cryptor_->LookupIndexes("bookings.customer_email", email);
}
absl::StatusOr<std::string> ShopCrypto::NormalizeEmail(absl::string_view email) const {
  return cryptor_->Normalize("orders.customer_email", email);
}
absl::StatusOr<std::string> ShopCrypto::NormalizePhone(absl::string_view phone) const {
  return cryptor_->Normalize("orders.customer_phone", phone);
}

std::string ShopCrypto::Mask(absl::string_view field, absl::string_view value) const {
  auto masked = cryptor_->Mask(field, value);
  if (!masked.ok() || !masked->has_value()) return "***";
  return std::move(**masked);
}

}  // namespace order_store
