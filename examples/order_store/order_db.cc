#include "order_db.h"

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace order_store {
namespace {

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  int Prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  }
  sqlite3_stmt* get() const { return stmt_; }

  void Text(int i, absl::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  std::string ColText(int i) const {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }
  int64_t ColInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS orders (
  id               INTEGER PRIMARY KEY,
  placed_at        INTEGER NOT NULL,
  customer_name    TEXT NOT NULL,
  customer_email   TEXT NOT NULL,
  email_idx        TEXT NOT NULL,
  phone            TEXT NOT NULL,
  phone_idx        TEXT NOT NULL,
  delivery_address TEXT NOT NULL,
  billing_address  TEXT NOT NULL,
  items            TEXT NOT NULL,
  total_cents      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_email_idx ON orders (email_idx);
CREATE INDEX IF NOT EXISTS orders_phone_idx ON orders (phone_idx);
CREATE TABLE IF NOT EXISTS bookings (
  id             INTEGER PRIMARY KEY,
  customer_name  TEXT NOT NULL,
  customer_email TEXT NOT NULL,
  email_idx      TEXT NOT NULL,
  phone          TEXT NOT NULL,
  phone_idx      TEXT NOT NULL,
  store          TEXT NOT NULL,
  collect_at     INTEGER NOT NULL,
  card_number    TEXT NOT NULL,
  card_key_id    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_email_idx ON bookings (email_idx);
CREATE INDEX IF NOT EXISTS bookings_phone_idx ON bookings (phone_idx);
)sql";

constexpr char kOrderColumns[] =
    "id, placed_at, customer_name, customer_email, email_idx, phone, phone_idx, "
    "delivery_address, billing_address, items, total_cents";
constexpr char kBookingColumns[] =
    "id, customer_name, customer_email, email_idx, phone, phone_idx, store, collect_at, "
    "card_number, card_key_id";

StoredOrder ReadOrder(const Stmt& s) {
  StoredOrder o;
  o.id = s.ColInt(0);
  o.placed_unix = s.ColInt(1);
  o.customer_name = s.ColText(2);
  o.email = s.ColText(3);
  o.email_bidx = s.ColText(4);
  o.phone = s.ColText(5);
  o.phone_bidx = s.ColText(6);
  o.delivery_address = s.ColText(7);
  o.billing_address = s.ColText(8);
  o.items = s.ColText(9);
  o.total_cents = s.ColInt(10);
  return o;
}

StoredBooking ReadBooking(const Stmt& s) {
  StoredBooking b;
  b.id = s.ColInt(0);
  b.customer_name = s.ColText(1);
  b.email = s.ColText(2);
  b.email_bidx = s.ColText(3);
  b.phone = s.ColText(4);
  b.phone_bidx = s.ColText(5);
  b.store = s.ColText(6);
  b.collect_unix = s.ColInt(7);
  b.card_token = s.ColText(8);
  b.card_key_id = static_cast<uint32_t>(s.ColInt(9));
  return b;
}

}  // namespace

struct OrderDb::Statements {
  Stmt begin, commit, insert_order, insert_booking, all_orders, all_bookings, copy_email, get_order;
};

OrderDb::OrderDb(sqlite3* db) : db_(db), st_(std::make_unique<Statements>()) {}

OrderDb::~OrderDb() {
  st_.reset();  // statements first
  sqlite3_close(db_);
}

absl::Status OrderDb::Error(absl::string_view what) const {
  return absl::UnavailableError(absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db_)));
}

absl::Status OrderDb::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error("exec");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OrderDb>> OrderDb::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<OrderDb> db(new OrderDb(raw));
  if (rc != SQLITE_OK) return db->Error("open");
  // A misspelt "column" in a lookup's IN condition must fail, not read as a string.
  if (sqlite3_db_config(raw, SQLITE_DBCONFIG_DQS_DML, 0, nullptr) != SQLITE_OK) {
    return db->Error("double-quoted strings off");
  }
  // WAL: the log file holds recent rows too, and the attacker's scan reads it.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    if (sqlite3_exec(raw, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return db->Error(pragma);
    }
  }
  if (auto s = db->Exec(kSchema); !s.ok()) return s;

  Statements& st = *db->st_;
  const std::string insert_order =
      absl::StrCat("INSERT INTO orders (", kOrderColumns, ") VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  const std::string insert_booking =
      absl::StrCat("INSERT INTO bookings (", kBookingColumns, ") VALUES (?,?,?,?,?,?,?,?,?,?)");
  const std::string all_orders = absl::StrCat("SELECT ", kOrderColumns, " FROM orders ORDER BY id");
  const std::string all_bookings =
      absl::StrCat("SELECT ", kBookingColumns, " FROM bookings ORDER BY id");
  const std::string get_order = absl::StrCat("SELECT ", kOrderColumns, " FROM orders WHERE id = ?");
  const std::pair<Stmt*, const char*> statements[] = {
      {&st.begin, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.insert_order, insert_order.c_str()},
      {&st.insert_booking, insert_booking.c_str()},
      {&st.all_orders, all_orders.c_str()},
      {&st.all_bookings, all_bookings.c_str()},
      {&st.copy_email,
       "UPDATE orders SET customer_email = (SELECT customer_email FROM orders WHERE id = ?1) "
       "WHERE id = ?2"},
      {&st.get_order, get_order.c_str()},
  };
  for (const auto& [stmt, sql] : statements) {
    if (stmt->Prepare(raw, sql) != SQLITE_OK) return db->Error("prepare");
  }
  return db;
}

namespace {

// Runs a statement that returns no rows.
absl::Status Step(sqlite3* db, Stmt& s) {
  const int rc = sqlite3_step(s.get());
  s.Reset();
  if (rc != SQLITE_DONE) {
    return absl::UnavailableError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
  }
  return absl::OkStatus();
}

// Runs `sql` (a lookup's query) with the lookup's bindings. The statement text depends on
// how many keys are enabled, so it is prepared per call.
template <typename Row, typename Read>
absl::StatusOr<std::vector<Row>> Query(sqlite3* db, const std::string& sql,
                                       const piicrypt::SqlInList& in, Read read) {
  Stmt s;
  if (s.Prepare(db, sql.c_str()) != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
  }
  for (size_t i = 0; i < in.bindings.size(); ++i) {
    s.Text(in.first_parameter + static_cast<int>(i), in.bindings[i]);
  }
  std::vector<Row> rows;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) rows.push_back(read(s));
  if (rc != SQLITE_DONE) {
    return absl::UnavailableError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
  }
  return rows;
}

template <typename Row, typename Read, typename Visit>
absl::Status ForEach(sqlite3* db, Stmt& s, Read read, Visit visit) {
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    absl::Status status = visit(read(s));
    if (!status.ok()) {
      s.Reset();
      return status;
    }
  }
  s.Reset();
  if (rc != SQLITE_DONE) {
    return absl::UnavailableError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status OrderDb::Begin() { return Step(db_, st_->begin); }
absl::Status OrderDb::Commit() { return Step(db_, st_->commit); }

absl::Status OrderDb::InsertOrder(const StoredOrder& o) {
  Stmt& s = st_->insert_order;
  s.Int(1, o.id);
  s.Int(2, o.placed_unix);
  s.Text(3, o.customer_name);
  s.Text(4, o.email);
  s.Text(5, o.email_bidx);
  s.Text(6, o.phone);
  s.Text(7, o.phone_bidx);
  s.Text(8, o.delivery_address);
  s.Text(9, o.billing_address);
  s.Text(10, o.items);
  s.Int(11, o.total_cents);
  return Step(db_, s);
}

absl::Status OrderDb::InsertBooking(const StoredBooking& b) {
  Stmt& s = st_->insert_booking;
  s.Int(1, b.id);
  s.Text(2, b.customer_name);
  s.Text(3, b.email);
  s.Text(4, b.email_bidx);
  s.Text(5, b.phone);
  s.Text(6, b.phone_bidx);
  s.Text(7, b.store);
  s.Int(8, b.collect_unix);
  s.Text(9, b.card_token);
  s.Int(10, b.card_key_id);
  return Step(db_, s);
}

absl::StatusOr<std::vector<StoredOrder>> OrderDb::OrdersWhere(const piicrypt::SqlInList& in) {
  return Query<StoredOrder>(
      db_, absl::StrCat("SELECT ", kOrderColumns, " FROM orders WHERE ", in.sql, " ORDER BY id"),
      in, ReadOrder);
}
absl::StatusOr<std::vector<StoredBooking>> OrderDb::BookingsWhere(const piicrypt::SqlInList& in) {
  return Query<StoredBooking>(
      db_,
      absl::StrCat("SELECT ", kBookingColumns, " FROM bookings WHERE ", in.sql, " ORDER BY id"), in,
      ReadBooking);
}

absl::Status OrderDb::ForEachOrder(absl::FunctionRef<absl::Status(const StoredOrder&)> visit) {
  return ForEach<StoredOrder>(db_, st_->all_orders, ReadOrder, visit);
}
absl::Status OrderDb::ForEachBooking(absl::FunctionRef<absl::Status(const StoredBooking&)> visit) {
  return ForEach<StoredBooking>(db_, st_->all_bookings, ReadBooking, visit);
}

absl::Status OrderDb::CopyOrderEmail(int64_t from, int64_t to) {
  Stmt& s = st_->copy_email;
  s.Int(1, from);
  s.Int(2, to);
  return Step(db_, s);
}

absl::StatusOr<StoredOrder> OrderDb::GetOrder(int64_t id) {
  Stmt& s = st_->get_order;
  s.Int(1, id);
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) {
    s.Reset();
    if (rc == SQLITE_DONE) return absl::NotFoundError(absl::StrCat("no order ", id));
    return Error("get order");
  }
  StoredOrder o = ReadOrder(s);
  s.Reset();
  return o;
}

}  // namespace order_store
