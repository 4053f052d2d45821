// synthetic.h: a seeded generator of realistic, entirely made-up shop data.
//
// Customers come from a dozen locales, with names in their own scripts (Zoë, Łukasz,
// 佐藤 美咲, Δημήτρης), e-mail addresses derived from them, phone numbers in each country's
// international format and postal addresses laid out as that country writes them. Some
// customers come back: about a third of the orders are placed by an earlier customer, so
// a lookup by e-mail or phone may find several orders. The same seed always gives the same
// data; nothing is downloaded.
#ifndef PIICRYPT_EXAMPLES_ORDER_STORE_SYNTHETIC_H_
#define PIICRYPT_EXAMPLES_ORDER_STORE_SYNTHETIC_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace order_store {

struct Customer {
  std::string name;
  std::string email;  // as the customer typed it: may have capitals
  std::string phone;  // international format, e.g. "+44 20 7946 0958"
  std::string home_address;
  std::string work_address;
};

struct LineItem {
  std::string product;
  int quantity = 0;
  int64_t unit_price_cents = 0;
};

// An online shop's order.
struct Order {
  int64_t id = 0;
  int64_t placed_unix = 0;
  std::string customer_name;
  std::string email;
  std::string phone;
  std::string delivery_address;
  std::string billing_address;
  std::vector<LineItem> items;
  int64_t total_cents = 0;
};

// A click-and-collect booking.
struct Booking {
  int64_t id = 0;
  std::string customer_name;
  std::string email;
  std::string phone;
  std::string store;
  int64_t collect_unix = 0;
  std::string card_number;  // 16 digits in groups of four, Luhn-valid (test ranges)
};

// "2 x Wireless earbuds @ 49.99; 1 x USB-C cable @ 9.99": the purchase details as stored
// (encrypted) in one column.
std::string FormatItems(const std::vector<LineItem>& items);

class SyntheticShop {
 public:
  explicit SyntheticShop(uint64_t seed);

  // An order by a new or returning customer; with `returning_customer`, always by a
  // customer who has ordered before (if any).
  Order NextOrder(int64_t id, bool returning_customer = false);
  Booking NextBooking(int64_t id);

  // Every customer created so far.
  const std::vector<Customer>& customers() const { return customers_; }

 private:
  // The index of a new or earlier customer; with `returning_orderer`, of one who ordered.
  size_t PickCustomer(bool returning_orderer);
  Customer NewCustomer();
  uint64_t Below(uint64_t n) { return rng_() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  std::string Digits(int count);

  std::mt19937_64 rng_;
  std::vector<Customer> customers_;
  std::vector<size_t> orderers_;  // the customer of every order so far
  int64_t clock_unix_;
};

}  // namespace order_store

#endif  // PIICRYPT_EXAMPLES_ORDER_STORE_SYNTHETIC_H_
