// piicrypt_order_store: an online shop's order database, protected by piicrypt, and what
// an attacker who steals it gets. See docs/DEMO.md.
//
//   piicrypt_order_store [--orders N] [--dir DIR] [--keep] [--seed S]
//
// Exit status: 0 if every check passed, 1 if one failed or an operation failed, 2 on bad
// usage.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attacker.h"
#include "forget_step.h"
#include "order_db.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/lookup.h"
#include "piicrypt/policy.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/field_cipher.h"
#include "shop_crypto.h"
#include "synthetic.h"

namespace order_store {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t orders = 10000;
  std::string dir;
  bool keep = false;
  uint64_t seed = 20240301;
  std::string policy = PIICRYPT_ORDER_STORE_POLICY;
  std::string sqlite3 = PIICRYPT_SQLITE3_CLI;
};

// ---- output ---------------------------------------------------------------------------

// 12345 -> "12,345".
std::string Num(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Rate(double count, double seconds) {
  return Num(static_cast<int64_t>(count / std::max(seconds, 1e-9)));
}

std::string Megabytes(size_t bytes) { return absl::StrFormat("%.1f MB", bytes / 1e6); }

// At most `width` characters of `s` (counting UTF-8 code points), with "…" if cut.
std::string Clip(absl::string_view s, size_t width) {
  size_t chars = 0, i = 0;
  while (i < s.size() && chars < width) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  return i < s.size() ? absl::StrCat(s.substr(0, i), "…") : std::string(s);
}

bool g_color = false;  // bold headings on a terminal

std::string Bold(absl::string_view s) {
  return g_color ? absl::StrCat("\033[1m", s, "\033[0m") : std::string(s);
}

void Section(absl::string_view title) { absl::PrintF("\n%s\n", Bold(title)); }

class Checks {
 public:
  // Prints a check's outcome and remembers failures.
  void Expect(bool ok, absl::string_view what) {
    absl::PrintF("  %s %s\n", ok ? "\u2714" : "\u2718 FAILED:", what);
    ++total_;
    if (!ok) ++failed_;
  }
  int total() const { return total_; }
  int failed() const { return failed_; }

 private:
  int total_ = 0;
  int failed_ = 0;
};

// ---- the shop --------------------------------------------------------------------------

struct Truth {
  std::vector<Order> orders;      // orders[i].id == i + 1
  std::vector<Booking> bookings;  // bookings[i].id == i + 1
};

constexpr int kOrdersPerTransaction = 100;
constexpr size_t kLookupSample = 500;  // customers looked up by e-mail and by phone

// Generates, protects and stores `count` orders (and a booking for every fifth) from id
// `truth.orders.size() + 1` on. The first `returning` orders are by earlier customers.
absl::Status WriteOrders(SyntheticShop& shop, const ShopCrypto& crypto, OrderDb& db, int64_t count,
                         int64_t returning, Truth& truth, double& seconds) {
  const Clock::time_point start = Clock::now();
  for (int64_t done = 0; done < count;) {
    PIICRYPT_RETURN_IF_ERROR(db.Begin());
    for (int i = 0; i < kOrdersPerTransaction && done < count; ++i, ++done) {
      Order order = shop.NextOrder(static_cast<int64_t>(truth.orders.size()) + 1, done < returning);
      PIICRYPT_ASSIGN_OR_RETURN(StoredOrder row, crypto.Protect(order));
      PIICRYPT_RETURN_IF_ERROR(db.InsertOrder(row));
      truth.orders.push_back(std::move(order));
      if (truth.orders.size() % 5 == 0) {
        Booking booking = shop.NextBooking(static_cast<int64_t>(truth.bookings.size()) + 1);
        PIICRYPT_ASSIGN_OR_RETURN(StoredBooking brow, crypto.Protect(booking));
        PIICRYPT_RETURN_IF_ERROR(db.InsertBooking(brow));
        truth.bookings.push_back(std::move(booking));
      }
    }
    PIICRYPT_RETURN_IF_ERROR(db.Commit());
  }
  seconds = Since(start);
  return absl::OkStatus();
}

// What lookups should return: normalized e-mail (or phone) -> order ids.
struct Expected {
  absl::flat_hash_map<std::string, std::set<int64_t>> orders_by_email, orders_by_phone;
  absl::flat_hash_map<std::string, std::set<int64_t>> bookings_by_email;
};

// Adds the orders from `first_order` on, and the bookings from `first_booking` on.
absl::Status AddExpected(const ShopCrypto& crypto, const Truth& truth, size_t first_order,
                         size_t first_booking, Expected& e) {
  for (size_t i = first_order; i < truth.orders.size(); ++i) {
    const Order& o = truth.orders[i];
    PIICRYPT_ASSIGN_OR_RETURN(std::string email, crypto.NormalizeEmail(o.email));
    PIICRYPT_ASSIGN_OR_RETURN(std::string phone, crypto.NormalizePhone(o.phone));
    e.orders_by_email[email].insert(o.id);
    e.orders_by_phone[phone].insert(o.id);
  }
  for (size_t i = first_booking; i < truth.bookings.size(); ++i) {
    const Booking& b = truth.bookings[i];
    PIICRYPT_ASSIGN_OR_RETURN(std::string email, crypto.NormalizeEmail(b.email));
    e.bookings_by_email[email].insert(b.id);
  }
  return absl::OkStatus();
}

// "+44 20 7946 0958" -> "+442079460958".
std::string DigitsOnly(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '+' || absl::ascii_isdigit(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

// How a customer might type their e-mail at the help desk: capitals, stray spaces.
std::string TypedEmail(absl::string_view email) {
  return absl::StrCat("  ", absl::AsciiStrToUpper(email), " ");
}
// ... and their phone number: no spaces or punctuation.
std::string TypedPhone(absl::string_view phone) { return DigitsOnly(phone); }

struct LookupResult {
  std::set<int64_t> ids;
  std::set<int64_t> ids_primary_index_only;  // what querying only the newest index finds
  std::map<int64_t, uint32_t> key_of;        // order id -> key its e-mail is under
  int64_t false_positives = 0;               // rows sharing a truncated index, dropped
  size_t indexes = 0;
};

// Finds orders by a blind-indexed field as an application does, through piicrypt::Lookup:
// the index values under every enabled key in one `IN (...)` query, and the lookup's filter,
// which decrypts each row and keeps exactly the matches (rows that merely share a truncated
// index value are dropped; a row that fails to decrypt fails the lookup).
absl::StatusOr<LookupResult> FindOrders(const ShopCrypto& crypto, OrderDb& db,
                                        absl::string_view field, absl::string_view typed) {
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Lookup lookup,
                            piicrypt::Lookup::Create(crypto.cryptor(), field, typed));
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SqlInList in,
                            lookup.SqlIn(piicrypt::SqlPlaceholders::kQuestionMark));
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<StoredOrder> rows, db.OrdersWhere(in));
  const bool by_email = field == "orders.customer_email";
  LookupResult r;
  r.indexes = lookup.index_values().size();
  for (const StoredOrder& row : rows) {
    const std::string& stored = by_email ? row.email : row.phone;
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> value,
                              lookup.MatchValue(std::to_string(row.id), stored));
    if (!value.has_value()) {
      ++r.false_positives;
      continue;
    }
    r.ids.insert(row.id);
    if ((by_email ? row.email_bidx : row.phone_bidx) == lookup.index_values().front()) {
      r.ids_primary_index_only.insert(row.id);
    }
    PIICRYPT_ASSIGN_OR_RETURN(r.key_of[row.id], piicrypt::FieldCipher::KeyIdOfText(stored));
  }
  return r;
}
absl::StatusOr<LookupResult> FindOrdersByEmail(const ShopCrypto& crypto, OrderDb& db,
                                               absl::string_view email) {
  return FindOrders(crypto, db, "orders.customer_email", email);
}
absl::StatusOr<LookupResult> FindOrdersByPhone(const ShopCrypto& crypto, OrderDb& db,
                                               absl::string_view phone) {
  return FindOrders(crypto, db, "orders.customer_phone", phone);
}

absl::StatusOr<std::set<int64_t>> FindBookingsByEmail(const ShopCrypto& crypto, OrderDb& db,
                                                      absl::string_view email) {
  PIICRYPT_ASSIGN_OR_RETURN(
      piicrypt::Lookup lookup,
      piicrypt::Lookup::Create(crypto.cryptor(), "bookings.customer_email", email));
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SqlInList in,
                            lookup.SqlIn(piicrypt::SqlPlaceholders::kQuestionMark));
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<StoredBooking> rows, db.BookingsWhere(in));
  std::set<int64_t> ids;
  for (const StoredBooking& row : rows) {
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> value,
                              lookup.MatchValue(std::to_string(row.id), row.email));
    if (value.has_value()) ids.insert(row.id);
  }
  return ids;
}

std::string IdList(const std::set<int64_t>& ids,
                   const std::map<int64_t, uint32_t>* key_of = nullptr) {
  std::vector<std::string> parts;
  for (int64_t id : ids) {
    if (parts.size() == 6) {
      parts.push_back(absl::StrCat("… (", ids.size(), " in all)"));
      break;
    }
    std::string part = absl::StrCat("#", id);
    if (key_of != nullptr && key_of->count(id) > 0) {
      absl::StrAppend(&part, " (key ", key_of->at(id), ")");
    }
    parts.push_back(std::move(part));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

// Looks up every order of `emails` by e-mail and of their phones by phone, and every
// booking by e-mail; counts the lookups whose result differs from `expected`.
struct LookupStats {
  int64_t lookups = 0;
  int64_t wrong = 0;
  int64_t false_positives = 0;
  int64_t expected_rows = 0;
  int64_t primary_index_only_rows = 0;
  double seconds = 0;
};

absl::StatusOr<LookupStats> LookupAll(const ShopCrypto& crypto, OrderDb& db,
                                      const Expected& expected, const std::vector<Order>& orders,
                                      const std::vector<size_t>& sample) {
  LookupStats s;
  const Clock::time_point start = Clock::now();
  for (size_t i : sample) {
    const Order* o = &orders[i];
    PIICRYPT_ASSIGN_OR_RETURN(std::string email, crypto.NormalizeEmail(o->email));
    PIICRYPT_ASSIGN_OR_RETURN(std::string phone, crypto.NormalizePhone(o->phone));
    PIICRYPT_ASSIGN_OR_RETURN(LookupResult by_email,
                              FindOrdersByEmail(crypto, db, TypedEmail(o->email)));
    PIICRYPT_ASSIGN_OR_RETURN(LookupResult by_phone,
                              FindOrdersByPhone(crypto, db, TypedPhone(o->phone)));
    PIICRYPT_ASSIGN_OR_RETURN(std::set<int64_t> bookings,
                              FindBookingsByEmail(crypto, db, o->email));
    const auto& want_bookings = expected.bookings_by_email;
    auto wb = want_bookings.find(email);
    s.lookups += 3;
    s.wrong += by_email.ids != expected.orders_by_email.at(email);
    s.wrong += by_phone.ids != expected.orders_by_phone.at(phone);
    s.wrong += bookings != (wb == want_bookings.end() ? std::set<int64_t>() : wb->second);
    s.false_positives += by_email.false_positives + by_phone.false_positives;
    s.expected_rows += static_cast<int64_t>(expected.orders_by_email.at(email).size());
    s.primary_index_only_rows += static_cast<int64_t>(by_email.ids_primary_index_only.size());
  }
  s.seconds = Since(start);
  return s;
}

// ---- the attacker --------------------------------------------------------------------

enum Category { kNames, kEmails, kPhones, kAddresses, kPurchases, kCards, kCategories };
constexpr const char* kCategoryNames[kCategories] = {"names",
                                                     "e-mail addresses",
                                                     "phone numbers (as typed and E.164)",
                                                     "postal addresses",
                                                     "purchase details",
                                                     "card numbers (grouped and plain)"};

// Every distinct plaintext value of `orders` and `bookings`, for the finder.
// With `derived_forms`, also the forms an attacker would try that the shop never stored:
// phones in E.164, card numbers without spaces.
void AddPlaintexts(const std::vector<Order>& orders, const std::vector<Booking>& bookings,
                   bool derived_forms, PlaintextFinder& finder) {
  absl::flat_hash_set<std::string> seen[kCategories];
  auto add = [&](Category c, std::string value) {
    if (value.size() >= PlaintextFinder::kMinPatternSize && seen[c].insert(value).second) {
      finder.Add(value, c);
    }
  };
  auto add_phone = [&](const std::string& phone) {
    add(kPhones, phone);
    if (derived_forms) add(kPhones, DigitsOnly(phone));  // E.164, for these numbers
  };
  for (const Order& o : orders) {
    add(kNames, o.customer_name);
    add(kEmails, o.email);
    add_phone(o.phone);
    add(kAddresses, o.delivery_address);
    add(kAddresses, o.billing_address);
    add(kPurchases, FormatItems(o.items));
  }
  for (const Booking& b : bookings) {
    add(kNames, b.customer_name);
    add(kEmails, b.email);
    add_phone(b.phone);
    add(kCards, b.card_number);
    if (!derived_forms) continue;
    add(kCards, DigitsOnly(b.card_number));
  }
}

struct Exposure {
  size_t found_in_dump[kCategories] = {};
  size_t found_in_files[kCategories] = {};
  size_t dump_bytes = 0;
  std::string dump;
  std::vector<std::string> files;  // "orders.db (2.1 MB)"
  size_t file_bytes = 0;
};

// Dumps the database as an attacker would and searches both views for every pattern.
absl::StatusOr<Exposure> Attack(const Options& options, const std::string& db_path,
                                PlaintextFinder& finder) {
  Exposure e;
  PIICRYPT_ASSIGN_OR_RETURN(e.dump, DumpWithSqliteCli(options.sqlite3, db_path));
  e.dump_bytes = e.dump.size();
  finder.ClearFound();
  finder.Scan(e.dump);
  for (int c = 0; c < kCategories; ++c) e.found_in_dump[c] = finder.FoundOf(c);

  PIICRYPT_ASSIGN_OR_RETURN(std::vector<RawFile> files, ReadDatabaseFiles(db_path));
  finder.ClearFound();
  for (const RawFile& f : files) {
    finder.Scan(f.bytes);
    e.file_bytes += f.bytes.size();
    e.files.push_back(
        absl::StrCat(fs::path(f.path).filename().string(), " (", Megabytes(f.bytes.size()), ")"));
  }
  for (int c = 0; c < kCategories; ++c) e.found_in_files[c] = finder.FoundOf(c);
  return e;
}

// The first line of the dump that starts with `prefix`.
std::string DumpLine(absl::string_view dump, absl::string_view prefix) {
  size_t pos = dump.find(prefix);
  if (pos == absl::string_view::npos) return "(none)";
  size_t end = dump.find('\n', pos);
  return std::string(dump.substr(pos, end == absl::string_view::npos ? end : end - pos));
}

// ---- the working directory -------------------------------------------------------------

class WorkDir {
 public:
  static absl::StatusOr<std::unique_ptr<WorkDir>> Create(const std::string& requested, bool keep) {
    std::unique_ptr<WorkDir> w(new WorkDir);
    w->keep_ = keep;
    std::error_code ec;
    if (requested.empty()) {
      const char* tmp = getenv("TMPDIR");
      std::string templ =
          absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/piicrypt-demo-XXXXXX");
      if (mkdtemp(templ.data()) == nullptr) {
        return absl::UnavailableError("cannot create a temporary directory");
      }
      w->path_ = templ;
      w->created_root_ = true;
    } else {
      w->path_ = requested;
      if (!fs::exists(requested)) {
        if (!fs::create_directories(requested, ec)) {
          return absl::UnavailableError("cannot create directory " + requested);
        }
        w->created_root_ = true;
      } else if (!fs::is_directory(requested) || !fs::is_empty(requested)) {
        return absl::AlreadyExistsError("--dir " + requested +
                                        " exists and is not an empty directory");
      }
    }
    for (const char* sub : {"secrets", "db", "careless"}) {
      if (!fs::create_directory(w->Path(sub), ec)) {
        return absl::UnavailableError("cannot create " + w->Path(sub));
      }
    }
    // The KEK's directory: the application's servers only, never the database host.
    chmod(w->Path("secrets").c_str(), 0700);
    return w;
  }
  ~WorkDir() {
    if (keep_) return;
    std::error_code ec;
    if (created_root_) {
      fs::remove_all(path_, ec);
    } else {
      for (const char* sub : {"secrets", "db", "careless"}) fs::remove_all(Path(sub), ec);
    }
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;

  std::string Path(absl::string_view name) const { return absl::StrCat(path_, "/", name); }
  const std::string& path() const { return path_; }
  bool keep() const { return keep_; }

 private:
  WorkDir() = default;
  std::string path_;
  bool created_root_ = false;
  bool keep_ = false;
};

// ---- the demo --------------------------------------------------------------------------

absl::StatusOr<int> RunDemo(const Options& options, const WorkDir& work, Checks& checks) {
  const Clock::time_point demo_start = Clock::now();
  const std::string kek_uri = "file:" + work.Path("secrets/kek.key");
  const std::string keyset_path = work.Path("secrets/orders.keyset");
  const std::string db_path = work.Path("db/orders.db");
  const int64_t n = options.orders;

  absl::PrintF("%s: an online shop whose database is stolen\n", Bold("piicrypt order store"));
  absl::PrintF("Working directory %s (%s)\n", work.path(),
               work.keep() ? "kept: --keep" : "removed at the end; --keep keeps it");

  // 1. Keys.
  Section("1. Keys, held apart from the database");
  PIICRYPT_RETURN_IF_ERROR(piicrypt::Kek::Create(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<piicrypt::Kek> kek, piicrypt::Kek::Open(kek_uri));
  {
    PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset fresh, piicrypt::Keyset::Generate());
    PIICRYPT_RETURN_IF_ERROR(fresh.WriteNew(keyset_path, *kek));
  }
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Read(keyset_path, *kek));
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ReadFile(options.policy));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<ShopCrypto> crypto, ShopCrypto::Create(keyset, policy));
  const uint32_t first_key = keyset.primary_key_id();
  absl::PrintF("  KEK      %s\n           32 random bytes, mode 0600, in secrets/: never in db/\n",
               kek_uri);
  absl::PrintF("  keyset   %s\n           data key %u, stored encrypted under the KEK\n",
               keyset_path, first_key);
  absl::PrintF("  policy   %s: %u fields\n", options.policy, policy.rules().size());
  absl::PrintF(
      "           names, e-mails, phones, addresses, items: AES-256-GCM bound to the row\n"
      "           e-mail and phone: blind indexes (16 bits on orders, 13 on bookings);\n"
      "           card numbers: FF1, last 4 kept\n");

  // 2. Writing.
  Section("2. Taking orders");
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<OrderDb> db, OrderDb::Open(db_path));
  SyntheticShop shop(options.seed);
  Truth truth;
  double write_seconds = 0;
  PIICRYPT_RETURN_IF_ERROR(WriteOrders(shop, *crypto, *db, n, 0, truth, write_seconds));
  absl::PrintF("  %s orders and %s click-and-collect bookings from %s customers in 12 countries\n",
               Num(n), Num(static_cast<int64_t>(truth.bookings.size())),
               Num(static_cast<int64_t>(shop.customers().size())));
  absl::PrintF(
      "  written in %.2f s: %s orders/s (each: 6 fields encrypted, 2 blind indexes, "
      "one INSERT; %d orders per transaction)\n",
      write_seconds, Rate(static_cast<double>(n), write_seconds), kOrdersPerTransaction);
  {
    const Order& o = truth.orders.front();
    absl::PrintF("  order #%d, as the shop's staff see it:\n", o.id);
    absl::PrintF("      %s  <%s>  %s\n", o.customer_name, o.email, o.phone);
    absl::PrintF("      deliver to  %s\n", o.delivery_address);
    absl::PrintF("      bill to     %s\n", o.billing_address);
    absl::PrintF("      items       %s\n", Clip(FormatItems(o.items), 80));
    absl::PrintF("    and masked, for logs: %s  %s  %s\n",
                 crypto->Mask("orders.customer_name", o.customer_name),
                 crypto->Mask("orders.customer_email", o.email),
                 crypto->Mask("orders.customer_phone", o.phone));
  }

  // 3. Lookups.
  Section("3. Finding a customer's orders through the blind indexes");
  Expected expected;
  PIICRYPT_RETURN_IF_ERROR(AddExpected(*crypto, truth, 0, 0, expected));
  std::vector<size_t> sample;  // indexes into truth.orders
  {
    const size_t step = std::max<size_t>(1, truth.orders.size() / kLookupSample);
    for (size_t i = 0; i < truth.orders.size(); i += step) sample.push_back(i);
  }
  {
    // A returning customer makes the better example (one whose phone is theirs alone: the
    // generator gives a few customers the same number, as households share one).
    const Order* example = &truth.orders.front();
    for (const Order& o : truth.orders) {
      auto email = crypto->NormalizeEmail(o.email);
      auto phone = crypto->NormalizePhone(o.phone);
      if (email.ok() && phone.ok() && expected.orders_by_email.at(*email).size() > 1 &&
          expected.orders_by_email.at(*email) == expected.orders_by_phone.at(*phone)) {
        example = &o;
        break;
      }
    }
    PIICRYPT_ASSIGN_OR_RETURN(LookupResult by_email,
                              FindOrdersByEmail(*crypto, *db, TypedEmail(example->email)));
    PIICRYPT_ASSIGN_OR_RETURN(LookupResult by_phone,
                              FindOrdersByPhone(*crypto, *db, TypedPhone(example->phone)));
    absl::PrintF("  e-mail \"%s\"  ->  orders %s\n", TypedEmail(example->email),
                 IdList(by_email.ids));
    absl::PrintF("  phone  \"%s\"  ->  orders %s\n", TypedPhone(example->phone),
                 IdList(by_phone.ids));
  }
  PIICRYPT_ASSIGN_OR_RETURN(LookupStats before,
                            LookupAll(*crypto, *db, expected, truth.orders, sample));
  checks.Expect(before.wrong == 0,
                absl::StrFormat("%s lookups (orders by e-mail and by phone, bookings by e-mail, "
                                "typed differently from what was stored): %s returned "
                                "exactly the expected rows (%.3f ms each)",
                                Num(before.lookups), Num(before.lookups - before.wrong),
                                before.seconds * 1e3 / std::max<int64_t>(1, before.lookups)));
  absl::PrintF(
      "    %s rows shared a blind index value with another value and were dropped after "
      "decryption\n",
      Num(before.false_positives));

  // 4. Key rotation.
  Section("4. Rotating the data key while the shop keeps trading");
  PIICRYPT_ASSIGN_OR_RETURN(
      keyset, piicrypt::Keyset::Update(keyset_path, *kek,
                                       [](piicrypt::Keyset& k) { return k.Rotate().status(); }));
  const uint32_t new_key = keyset.primary_key_id();
  PIICRYPT_ASSIGN_OR_RETURN(crypto, ShopCrypto::Create(keyset, policy));
  absl::PrintF("  new primary key %u; key %u stays enabled for what it encrypted\n", new_key,
               first_key);
  const int64_t more = std::max<int64_t>(10, n / 20);
  double more_seconds = 0;
  const size_t first_new = truth.orders.size();
  const size_t first_new_booking = truth.bookings.size();
  PIICRYPT_RETURN_IF_ERROR(WriteOrders(shop, *crypto, *db, more, 5, truth, more_seconds));
  absl::PrintF("  %s more orders written under key %u (the first 5 by returning customers)\n",
               Num(more), new_key);
  PIICRYPT_RETURN_IF_ERROR(AddExpected(*crypto, truth, first_new, first_new_booking, expected));
  {
    const Order& o = truth.orders[first_new];
    PIICRYPT_ASSIGN_OR_RETURN(LookupResult r, FindOrdersByEmail(*crypto, *db, TypedEmail(o.email)));
    absl::PrintF("  e-mail \"%s\": %u blind indexes (one per enabled key)  ->  orders %s\n",
                 TypedEmail(o.email), r.indexes, IdList(r.ids, &r.key_of));
    std::set<uint32_t> keys;
    for (const auto& [id, key] : r.key_of) keys.insert(key);
    checks.Expect(r.ids == expected.orders_by_email.at(*crypto->NormalizeEmail(o.email)) &&
                      keys.count(first_key) == 1 && keys.count(new_key) == 1,
                  "a returning customer's lookup finds the orders under the old and the new key");
  }
  std::vector<size_t> mixed_sample = sample;
  for (size_t i = first_new; i < truth.orders.size(); ++i) mixed_sample.push_back(i);
  PIICRYPT_ASSIGN_OR_RETURN(LookupStats during,
                            LookupAll(*crypto, *db, expected, truth.orders, mixed_sample));
  checks.Expect(during.wrong == 0,
                absl::StrFormat("%s lookups over old and new orders: %s returned exactly the "
                                "expected rows",
                                Num(during.lookups), Num(during.lookups - during.wrong)));
  absl::PrintF(
      "    (querying the new key's index alone would have found %s of their %s orders "
      "by e-mail)\n",
      Num(during.primary_index_only_rows), Num(during.expected_rows));

  // 5. The attacker.
  Section("5. The attacker's view: the stolen database, without the KEK");
  PlaintextFinder finder;
  AddPlaintexts(truth.orders, truth.bookings, /*derived_forms=*/true, finder);
  const Clock::time_point attack_start = Clock::now();
  PIICRYPT_ASSIGN_OR_RETURN(Exposure exposure, Attack(options, db_path, finder));
  const double attack_seconds = Since(attack_start);
  absl::PrintF("  sqlite3 orders.db .dump   %s of SQL\n", Megabytes(exposure.dump_bytes));
  absl::PrintF("  raw bytes                 %s: %s\n", Megabytes(exposure.file_bytes),
               absl::StrJoin(exposure.files, ", "));
  absl::PrintF("  searched for every one of %s plaintext values (%.2f s):\n",
               Num(static_cast<int64_t>(finder.size())), attack_seconds);
  absl::PrintF("      %-36s %10s %8s %11s\n", "", "values", "in dump", "in files");
  size_t leaked = 0;
  for (int c = 0; c < kCategories; ++c) {
    absl::PrintF("      %-36s %10s %8s %11s\n", kCategoryNames[c],
                 Num(static_cast<int64_t>(finder.CountOf(c))),
                 Num(static_cast<int64_t>(exposure.found_in_dump[c])),
                 Num(static_cast<int64_t>(exposure.found_in_files[c])));
    if (c != kCards) leaked += exposure.found_in_dump[c] + exposure.found_in_files[c];
  }
  checks.Expect(leaked == 0, absl::StrFormat("0 of the plaintext names, e-mails, phones, "
                                             "addresses and purchases appear (%s found)",
                                             Num(static_cast<int64_t>(leaked))));
  checks.Expect(exposure.found_in_dump[kCards] + exposure.found_in_files[kCards] == 0,
                "0 card numbers appear (the FF1 tokens keep only the last four digits)");
  absl::PrintF("  what the attacker does see, in the dump:\n");
  absl::PrintF("      %s\n", Clip(DumpLine(exposure.dump, "INSERT INTO orders"), 118));
  absl::PrintF("      %s\n", Clip(DumpLine(exposure.dump, "INSERT INTO bookings"), 118));
  {
    PIICRYPT_ASSIGN_OR_RETURN(StoredOrder row, db->GetOrder(1));
    absl::PrintF("  order #1, column by column:\n");
    const std::pair<const char*, const std::string*> columns[] = {
        {"customer_name", &row.customer_name},
        {"customer_email", &row.email},
        {"email_idx", &row.email_bidx},
        {"phone", &row.phone},
        {"phone_idx", &row.phone_bidx},
        {"delivery_address", &row.delivery_address},
        {"items", &row.items}};
    for (const auto& [name, value] : columns) {
      absl::PrintF("      %-17s %-60s %s\n", name, Clip(*value, 58),
                   value->size() > 58 ? absl::StrCat("(", value->size(), " chars)") : "");
    }
    absl::PrintF("      %-17s %d (%s)\n", "total_cents", row.total_cents,
                 "in clear: the business needs it");
  }

  // The same search over a careless copy: proof that the search would have found them.
  {
    const size_t count = std::min<size_t>(truth.orders.size(), 1000);
    const std::vector<Order> orders(truth.orders.begin(), truth.orders.begin() + count);
    const std::vector<Booking> bookings(truth.bookings.begin(), truth.bookings.begin() + count / 5);
    const std::string careless_path = work.Path("careless/orders.db");
    PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<OrderDb> careless, OrderDb::Open(careless_path));
    PIICRYPT_RETURN_IF_ERROR(careless->Begin());
    for (const Order& o : orders) {
      StoredOrder row{o.id,
                      o.placed_unix,
                      o.customer_name,
                      o.email,
                      "",
                      o.phone,
                      "",
                      o.delivery_address,
                      o.billing_address,
                      FormatItems(o.items),
                      o.total_cents};
      PIICRYPT_RETURN_IF_ERROR(careless->InsertOrder(row));
    }
    for (const Booking& b : bookings) {
      StoredBooking row{b.id,    b.customer_name, b.email,       "", b.phone, "",
                        b.store, b.collect_unix,  b.card_number, 0};
      PIICRYPT_RETURN_IF_ERROR(careless->InsertBooking(row));
    }
    PIICRYPT_RETURN_IF_ERROR(careless->Commit());
    PlaintextFinder control;
    AddPlaintexts(orders, bookings, /*derived_forms=*/false, control);
    PIICRYPT_ASSIGN_OR_RETURN(Exposure shown, Attack(options, careless_path, control));
    size_t values = 0, in_dump = 0, in_files = 0;
    for (int c = 0; c < kCategories; ++c) {
      values += control.CountOf(c);
      in_dump += shown.found_in_dump[c];
      in_files += shown.found_in_files[c];
    }
    const bool all = in_dump == values && in_files == values;
    checks.Expect(
        all,
        absl::StrFormat("control: the same search over a careless copy of the first %s "
                        "orders (no piicrypt) finds %s and %s of its %s values in dump and files",
                        Num(static_cast<int64_t>(count)), Num(static_cast<int64_t>(in_dump)),
                        Num(static_cast<int64_t>(in_files)), Num(static_cast<int64_t>(values))));
  }

  // 6. Reading back.
  Section("6. Reading every order back through piicrypt");
  const Clock::time_point read_start = Clock::now();
  int64_t orders_ok = 0, orders_read = 0, bookings_ok = 0, bookings_read = 0;
  PIICRYPT_RETURN_IF_ERROR(db->ForEachOrder([&](const StoredOrder& row) -> absl::Status {
    ++orders_read;
    PIICRYPT_ASSIGN_OR_RETURN(OpenedOrder opened, crypto->Open(row));
    const size_t i = static_cast<size_t>(row.id - 1);
    orders_ok += i < truth.orders.size() && Matches(truth.orders[i], opened) &&
                 truth.orders[i].total_cents == row.total_cents;
    return absl::OkStatus();
  }));
  const double read_orders_seconds = Since(read_start);
  PIICRYPT_RETURN_IF_ERROR(db->ForEachBooking([&](const StoredBooking& row) -> absl::Status {
    ++bookings_read;
    PIICRYPT_ASSIGN_OR_RETURN(OpenedBooking opened, crypto->Open(row));
    const size_t i = static_cast<size_t>(row.id - 1);
    bookings_ok += i < truth.bookings.size() && Matches(truth.bookings[i], opened);
    return absl::OkStatus();
  }));
  const double read_seconds = Since(read_start);
  const auto total_orders = static_cast<int64_t>(truth.orders.size());
  const auto total_bookings = static_cast<int64_t>(truth.bookings.size());
  checks.Expect(orders_read == total_orders && orders_ok == total_orders,
                absl::StrFormat("%s of %s orders decrypt to exactly what was written "
                                "(%.2f s: %s orders/s)",
                                Num(orders_ok), Num(total_orders), read_orders_seconds,
                                Rate(static_cast<double>(orders_read), read_orders_seconds)));
  checks.Expect(bookings_read == total_bookings && bookings_ok == total_bookings,
                absl::StrFormat("%s of %s bookings too, card numbers from their FF1 tokens "
                                "under the key their row names",
                                Num(bookings_ok), Num(total_bookings)));

  // 7. An attacker who can write.
  Section("7. An attacker who can write: moving a ciphertext to another row");
  PIICRYPT_RETURN_IF_ERROR(db->CopyOrderEmail(1, 2));
  PIICRYPT_ASSIGN_OR_RETURN(StoredOrder moved, db->GetOrder(2));
  absl::StatusOr<OpenedOrder> opened = crypto->Open(moved);
  absl::PrintF("  order #1's e-mail ciphertext copied into order #2; reading order #2: %s\n",
               opened.ok() ? "it decrypted!" : std::string(opened.status().message()));
  checks.Expect(!opened.ok() && opened.status().code() == absl::StatusCode::kInvalidArgument,
                "the moved value fails to decrypt: it is bound to its row");

  // 8. Erasure.
  Section("8. A customer asks to be erased: keys of their own, destroyed");
  {
    PIICRYPT_ASSIGN_OR_RETURN(ForgetOutcome f,
                              RunForgetStep(truth.orders, work.Path("db"), work.Path("stolen")));
    absl::PrintF(
        "  names and delivery addresses of %s orders (%s customers) under per-customer keys\n"
        "  the attacker steals a backup (profiles and subject key store) and later the keys\n"
        "  %s is forgotten: the key is erased; then the store's data key is rotated, the\n"
        "  store rewrapped and the old key destroyed\n",
        Num(f.orders), Num(f.customers), f.forgotten);
    checks.Expect(f.live_forgotten == 0 && f.live_others == f.other_values,
                  absl::StrFormat("the stolen backup, with the keyset and KEK, yields %s of %s "
                                  "of the forgotten customer's values and %s of %s of the others'",
                                  Num(f.live_forgotten), Num(f.forgotten_values),
                                  Num(f.live_others), Num(f.other_values)));
    checks.Expect(f.copy_forgotten_before == f.forgotten_values && f.copy_values_after == 0,
                  absl::StrFormat("the backup's own copy of the subject key store yielded them "
                                  "(%s values) until the old key was destroyed, and now %s",
                                  Num(f.copy_forgotten_before), Num(f.copy_values_after)));
  }

  // Summary.
  Section("Summary");
  const double total_seconds = Since(demo_start);
  absl::PrintF("  written  %s orders/s   (%s orders and %s bookings, encrypted and stored)\n",
               Rate(static_cast<double>(n + more), write_seconds + more_seconds), Num(total_orders),
               Num(total_bookings));
  absl::PrintF("  read     %s orders/s   (decrypted and checked, bookings included: %.2f s)\n",
               Rate(static_cast<double>(orders_read), read_orders_seconds), read_seconds);
  absl::PrintF("  whole demo %.1f s\n", total_seconds);
  return checks.failed();
}

}  // namespace
}  // namespace order_store

int main(int argc, char** argv) {
  using order_store::Options;
  Options options;
  CLI::App app{
      "piicrypt_order_store: an online shop's orders and click-and-collect bookings in SQLite, "
      "every personal field protected by piicrypt. Creates a KEK and a keyset, stores N "
      "synthetic orders, finds them by e-mail and phone through blind indexes (also across a "
      "key rotation), then plays the attacker: dumps the database (sqlite3 .dump and the raw "
      "files) and searches it for every plaintext value. Finally reads every order back and "
      "checks it.\n\nExit status: 0 if every check passed, 1 if one failed, 2 on bad usage."};
  app.add_option("--orders", options.orders, "Number of orders to store (default 10000)")
      ->check(CLI::Range(int64_t{10}, int64_t{10'000'000}));
  app.add_option("--dir", options.dir,
                 "Working directory: must not exist or be empty (default: a new temporary "
                 "directory)");
  app.add_flag("--keep", options.keep, "Keep the working directory at the end");
  app.add_option("--seed", options.seed, "Seed of the synthetic data (default 20240301)");
  app.add_option("--policy", options.policy,
                 "Field policy (default: examples/order_store/"
                 "orders.textproto of the source tree)");
  app.add_option(
      "--sqlite3", options.sqlite3,
      "The sqlite3 command-line program the attacker uses (default: " + options.sqlite3 + ")");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  order_store::g_color = isatty(STDOUT_FILENO) != 0;

  auto work = order_store::WorkDir::Create(options.dir, options.keep);
  if (!work.ok()) {
    std::fprintf(stderr, "piicrypt_order_store: %s\n",
                 std::string(work.status().message()).c_str());
    return work.status().code() == absl::StatusCode::kAlreadyExists ? 2 : 1;
  }
  order_store::Checks checks;
  absl::StatusOr<int> failed = order_store::RunDemo(options, **work, checks);
  if (!failed.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "piicrypt_order_store: %s\n",
                 std::string(failed.status().message()).c_str());
    return 1;
  }
  if (*failed == 0) {
    absl::PrintF("\n%s\n",
                 order_store::Bold(absl::StrCat("All ", checks.total(), " checks passed.")));
    return 0;
  }
  absl::PrintF("\n%s\n",
               order_store::Bold(absl::StrCat(*failed, " of ", checks.total(), " checks FAILED.")));
  return 1;
}
