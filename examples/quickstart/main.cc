// Quickstart: what a backend team writes to protect its orders table (README.md, "Using the
// library").
//
//   piicrypt_quickstart DIR
//
// Provisions a KEK, a keyset and the policy in DIR (DIR must exist; in production the KEK
// and keyset come from `piicrypt kek create` and `piicrypt keyset create`), then serves from
// a KeyHandle as a service does: encrypts an order row with its e-mail and phone blind
// indexes into SQLite, finds it by its e-mail typed another way, decrypts it, rotates the
// data key while serving, finds and decrypts the old order again, and masks the row for a
// log line. Checks every result: exits 1 if one is not what it must be.
#include <sqlite3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "piicrypt/kek.h"
#include "piicrypt/key_handle.h"
#include "piicrypt/keyset.h"
#include "piicrypt/lookup.h"
#include "piicrypt/row_cryptor.h"
#include "piicrypt/status_macros.h"

namespace {

// How each personal column of the orders table is protected (docs/FIELDS.md). The card
// number is encrypted with FF1 (it stays a card number); its key id goes in card_number_key.
constexpr char kPolicy[] = R"(
field { name: "orders.customer_name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true
        mask: MASK_INITIALS }
field { name: "orders.customer_email" kind: KIND_EMAIL mode: MODE_RANDOMIZED bind_record: true
        blind_index { bits: 16 normalizer: "email" } mask: MASK_EMAIL }
field { name: "orders.customer_phone" kind: KIND_PHONE mode: MODE_RANDOMIZED bind_record: true
        blind_index { bits: 16 normalizer: "phone" default_region: "AU" } mask: MASK_PHONE }
field { name: "orders.delivery_address" kind: KIND_ADDRESS mode: MODE_RANDOMIZED bind_record: true }
field { name: "orders.card_number" kind: KIND_CARD mode: MODE_FORMAT_PRESERVING
        bind_record: true format_preserving { card {} key_version_column: "card_number_key" } }
)";

constexpr char kTable[] =
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_name TEXT, customer_email TEXT,"
    " customer_email_idx TEXT, customer_phone TEXT, customer_phone_idx TEXT,"
    " delivery_address TEXT, card_number TEXT, card_number_key INTEGER);"
    "CREATE INDEX orders_email ON orders (customer_email_idx);"
    "CREATE INDEX orders_phone ON orders (customer_phone_idx);";

using Stmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

// A statement with `values` bound to its parameters (std::nullopt as NULL).
absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql,
                             const std::vector<std::optional<std::string>>& values) {
  sqlite3_stmt* s = nullptr;
  Stmt stmt(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK ? s : nullptr,
            sqlite3_finalize);
  if (!stmt) return absl::InternalError("orders: cannot prepare a statement");
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i]) sqlite3_bind_text(s, i + 1, values[i]->c_str(), -1, SQLITE_TRANSIENT);
  }
  return stmt;
}

// Encrypts order `id` (every personal column and its blind indexes) and inserts it.
absl::Status StoreOrder(sqlite3* db, const piicrypt::RowCryptor& orders, int64_t id,
                        absl::Span<const piicrypt::ColumnValue> values) {
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Row stored, orders.Encrypt(id, values));
  std::vector<std::optional<std::string>> bound = {piicrypt::RecordIdFromInt64(id)};
  for (const piicrypt::Row::Column& c : stored) bound.push_back(c.value);
  const std::string sql =
      absl::StrCat("INSERT INTO orders (id, ", absl::StrJoin(stored.names(), ", "), ") VALUES (",
                   absl::StrJoin(std::vector<std::string>(bound.size(), "?"), ", "), ")");
  PIICRYPT_ASSIGN_OR_RETURN(Stmt insert, Prepare(db, sql, bound));
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return absl::InternalError("orders: insert");
  return absl::OkStatus();
}

// The orders whose e-mail is `typed`, however it is typed, decrypted.
absl::StatusOr<std::vector<piicrypt::Row>> FindByEmail(sqlite3* db, const piicrypt::KeyHandle& keys,
                                                       const piicrypt::RowCryptor& orders,
                                                       absl::string_view typed) {
  PIICRYPT_ASSIGN_OR_RETURN(auto lookup,
                            piicrypt::Lookup::Create(keys, "orders.customer_email", typed));
  PIICRYPT_ASSIGN_OR_RETURN(auto in, lookup.SqlIn(piicrypt::SqlPlaceholders::kQuestionMark));
  PIICRYPT_ASSIGN_OR_RETURN(Stmt query, Prepare(db, "SELECT * FROM orders WHERE " + in.sql,
                                                {in.bindings.begin(), in.bindings.end()}));
  std::vector<piicrypt::Row> found;
  int rc;
  for (sqlite3_stmt* s = query.get(); (rc = sqlite3_step(s)) == SQLITE_ROW;) {
    std::vector<piicrypt::ColumnValue> stored;  // every column but id: [1] is customer_email
    for (int i = 1; i < sqlite3_column_count(s); ++i) {
      const char* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      stored.emplace_back(sqlite3_column_name(s, i),
                          piicrypt::NullableText(text, sqlite3_column_bytes(s, i)));
    }
    const int64_t id = sqlite3_column_int64(s, 0);
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email,
                              lookup.MatchValue(piicrypt::RecordIdFromInt64(id), stored[1].value));
    if (!email) continue;  // another e-mail that shares the (truncated) index value
    PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Row row, orders.Decrypt(id, stored));
    found.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return absl::InternalError("orders: query failed");
  return found;
}

// OK if `rows` are `n` orders holding the values `want`.
absl::Status Expect(const std::vector<piicrypt::Row>& rows, size_t n,
                    absl::Span<const piicrypt::ColumnValue> want) {
  bool ok = rows.size() == n;
  for (const piicrypt::Row& row : rows) {
    for (const auto& c : want) ok = ok && row.Find(c.column) && *row.Find(c.column) == c.value;
  }
  return ok ? absl::OkStatus() : absl::InternalError("the orders found are not those written");
}

absl::Status Run(const std::string& dir) {
  // Provisioning, once: a KEK, a keyset under it, the policy.
  const std::string kek_uri = "file:" + dir + "/kek.key";
  const std::string keyset_path = dir + "/orders.keyset", policy_path = dir + "/orders.textproto";
  PIICRYPT_RETURN_IF_ERROR(piicrypt::Kek::Create(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(auto kek, piicrypt::Kek::Open(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  PIICRYPT_RETURN_IF_ERROR(keyset.WriteNew(keyset_path, *kek));
  if (!(std::ofstream(policy_path) << kPolicy)) return absl::InternalError("cannot write policy");

  // The service: keys and policy from their files, reloaded when they change (key_handle.h).
  piicrypt::KeyHandleOptions options;
  options.keyset_path = keyset_path;
  options.policy_path = policy_path;
  PIICRYPT_ASSIGN_OR_RETURN(options.kek, piicrypt::Kek::Open(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(auto keys, piicrypt::KeyHandle::Open(std::move(options)));
  PIICRYPT_ASSIGN_OR_RETURN(auto orders, piicrypt::RowCryptor::Create(*keys, "orders"));
  sqlite3* db = nullptr;
  const int opened = sqlite3_open(":memory:", &db);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
  // A misspelt "column" in SqlIn's query must fail, not be read as a string (lookup.h).
  if (opened != SQLITE_OK ||
      sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, kTable, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return absl::UnavailableError("orders: cannot create the table");
  }

  // Write: one call encrypts the row and computes its blind indexes.
  using V = absl::string_view;
  const piicrypt::ColumnValue jane[] = {{"customer_name", V("Jane Doe")},
                                        {"customer_email", V("jane.doe@example.com")},
                                        {"customer_phone", V("+61 2 5550 0199")},
                                        {"delivery_address", V("1 Long St, Sydney NSW 2000")},
                                        {"card_number", V("4111 1111 1111 1111")}};
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *orders, 1, jane));

  // Find: the help desk types the customer's e-mail as the customer says it.
  constexpr absl::string_view kTyped = "  Jane.Doe@Example.COM ";
  PIICRYPT_ASSIGN_OR_RETURN(auto found, FindByEmail(db, *keys, *orders, kTyped));
  PIICRYPT_RETURN_IF_ERROR(Expect(found, 1, jane));

  // Rotate while serving (what `piicrypt keyset rotate` does); the handle reloads the file.
  auto rotate = [](piicrypt::Keyset& k) { return k.Rotate().status(); };
  PIICRYPT_ASSIGN_OR_RETURN(auto rotated, piicrypt::Keyset::Update(keyset_path, *kek, rotate));
  PIICRYPT_RETURN_IF_ERROR(keys->Reload());  // or wait for the watcher (one second)
  if (keys->Snapshot()->keyset().primary_key_id() != rotated.primary_key_id()) {
    return absl::InternalError("the handle does not serve the rotated keyset");
  }
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *orders, 2, jane));  // a new order, under the new key
  PIICRYPT_ASSIGN_OR_RETURN(found, FindByEmail(db, *keys, *orders, kTyped));
  PIICRYPT_RETURN_IF_ERROR(Expect(found, 2, jane));  // order 1 (old key) and order 2 (new)

  // Log: the row masked per field; no value shows in clear.
  const std::string line = orders->Mask(jane);
  std::printf("found and decrypted before and after a key rotation: %s\n", line.c_str());
  for (const piicrypt::ColumnValue& c : jane) {
    if (absl::StrContains(line, *c.value)) return absl::InternalError("the log shows a value");
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const absl::Status status =
      argc == 2 ? Run(argv[1]) : absl::InvalidArgumentError("usage: piicrypt_quickstart DIR");
  if (!status.ok()) std::fprintf(stderr, "quickstart: %s\n", status.ToString().c_str());
  return status.ok() ? 0 : 1;
}
