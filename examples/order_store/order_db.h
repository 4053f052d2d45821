// order_db.h: the shop's SQLite database, holding only what piicrypt lets it see.
//
// Two tables. `orders`: an online order, with the customer's name, e-mail, phone, delivery
// and billing address and the purchased items encrypted (randomized, bound to the order
// id), blind indexes of e-mail and phone for lookups, and in clear only what the business
// needs to count and bill (time, total). `bookings`: click-and-collect bookings, with
// name, e-mail and phone encrypted the same way, and the card number as an FF1 token that
// keeps its last four digits (the collection desk asks for them) and the id of the key it
// was made under (FF1 values carry no key id, see docs/FPE.md).
//
// Every statement is prepared once; writes go in explicit transactions; the database runs
// in WAL mode, so a scan of the files includes the write-ahead log.
#ifndef PIICRYPT_EXAMPLES_ORDER_STORE_ORDER_DB_H_
#define PIICRYPT_EXAMPLES_ORDER_STORE_ORDER_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/lookup.h"

namespace order_store {

// An order row as stored: every personal field is ciphertext (text form) or a blind index.
struct StoredOrder {
  int64_t id = 0;
  int64_t placed_unix = 0;
  std::string customer_name;
  std::string email;
  std::string email_bidx;
  std::string phone;
  std::string phone_bidx;
  std::string delivery_address;
  std::string billing_address;
  std::string items;
  int64_t total_cents = 0;
};

struct StoredBooking {
  int64_t id = 0;
  std::string customer_name;
  std::string email;
  std::string email_bidx;
  std::string phone;
  std::string phone_bidx;
  std::string store;
  int64_t collect_unix = 0;
  std::string card_token;  // FF1: last four digits kept
  uint32_t card_key_id = 0;
};

class OrderDb {
 public:
  // Opens (creating if needed) the database at `path` and its schema.
  static absl::StatusOr<std::unique_ptr<OrderDb>> Open(const std::string& path);
  ~OrderDb();
  OrderDb(const OrderDb&) = delete;
  OrderDb& operator=(const OrderDb&) = delete;

  [[nodiscard]] absl::Status Begin();
  [[nodiscard]] absl::Status Commit();

  [[nodiscard]] absl::Status InsertOrder(const StoredOrder& order);
  [[nodiscard]] absl::Status InsertBooking(const StoredBooking& booking);

  // Rows that satisfy a lookup's condition (piicrypt::Lookup::SqlIn, `?` placeholders), in
  // id order: the candidates its filter then decrypts and compares.
  absl::StatusOr<std::vector<StoredOrder>> OrdersWhere(const piicrypt::SqlInList& in);
  absl::StatusOr<std::vector<StoredBooking>> BookingsWhere(const piicrypt::SqlInList& in);

  // Every row, in id order.
  [[nodiscard]] absl::Status ForEachOrder(
      absl::FunctionRef<absl::Status(const StoredOrder&)> visit);
  [[nodiscard]] absl::Status ForEachBooking(
      absl::FunctionRef<absl::Status(const StoredBooking&)> visit);

  // An attacker with write access: copies order `from`'s e-mail ciphertext into order `to`.
  [[nodiscard]] absl::Status CopyOrderEmail(int64_t from, int64_t to);
  absl::StatusOr<StoredOrder> GetOrder(int64_t id);

 private:
  struct Statements;
  explicit OrderDb(sqlite3* db);
  [[nodiscard]] absl::Status Exec(const char* sql);
  absl::Status Error(absl::string_view what) const;

  sqlite3* db_;
  std::unique_ptr<Statements> st_;
};

}  // namespace order_store

#endif  // PIICRYPT_EXAMPLES_ORDER_STORE_ORDER_DB_H_
