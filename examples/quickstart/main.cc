// Quickstart: what a backend team writes to protect an orders table (README.md, "Using the
// library").
//
//   piicrypt_quickstart DIR
//
// Provisions a KEK, a keyset and the orders policy in DIR (DIR must exist; in production the
// KEK and keyset come from `piicrypt kek create` and `piicrypt keyset create`), then serves
// from a KeyHandle, as a service does: it encrypts order rows with their e-mail and phone
// blind indexes into SQLite, finds an order by its e-mail typed another way, decrypts it,
// rotates the data key while serving and finds and decrypts the old order again, and masks a
// row for a log line. Checks every result: exits 1 if one is not what it must be.
#include <sqlite3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "piicrypt/kek.h"
#include "piicrypt/key_handle.h"
#include "piicrypt/keyset.h"
#include "piicrypt/lookup.h"
#include "piicrypt/row_cryptor.h"
#include "piicrypt/status_macros.h"

namespace {

// Where each column of the orders table is protected, and how (docs/FIELDS.md). The card
// number is encrypted with FF1 (it stays 16 digits); its key id goes in card_number_key.
constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.customer_name"
    kind: KIND_NAME
    mode: MODE_RANDOMIZED
    bind_record: true
    mask: MASK_INITIALS
  }
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 16 normalizer: "email" }
    mask: MASK_EMAIL
  }
  field {
    name: "orders.customer_phone"
    kind: KIND_PHONE
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 16 normalizer: "phone" default_region: "AU" }
    mask: MASK_PHONE
  }
  field {
    name: "orders.delivery_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
  }
  field {
    name: "orders.card_number"
    kind: KIND_CARD
    mode: MODE_FORMAT_PRESERVING
    bind_record: true
    mask: MASK_LAST4
    format_preserving {
      card {}
      key_version_column: "card_number_key"
    }
  }
)pb";

constexpr char kTable[] =
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_name TEXT, customer_email TEXT,"
    " customer_email_idx TEXT, customer_phone TEXT, customer_phone_idx TEXT,"
    " delivery_address TEXT, card_number TEXT, card_number_key INTEGER);"
    "CREATE INDEX orders_email ON orders (customer_email_idx);"
    "CREATE INDEX orders_phone ON orders (customer_phone_idx);";

using Stmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    return absl::InternalError("orders: cannot prepare a statement");
  }
  return Stmt(s, sqlite3_finalize);
}

void Bind(sqlite3_stmt* s, int i, const std::optional<std::string>& value) {
  if (!value) {
    sqlite3_bind_null(s, i);
  } else {
    sqlite3_bind_text(s, i, value->data(), static_cast<int>(value->size()), SQLITE_TRANSIENT);
  }
}

piicrypt::NullableValue Column(sqlite3_stmt* s, int i) {
  const char* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return piicrypt::NullableText(text, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

// Encrypts order `id` (every protected column and its blind indexes) and inserts it.
absl::Status StoreOrder(sqlite3* db, const piicrypt::RowCryptor& orders, int64_t id,
                        absl::Span<const piicrypt::ColumnValue> values) {
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Row stored, orders.Encrypt(id, values));
  const std::vector<std::string> marks(stored.size() + 1, "?");
  PIICRYPT_ASSIGN_OR_RETURN(
      Stmt insert,
      Prepare(db, absl::StrCat("INSERT INTO orders (id, ", absl::StrJoin(stored.names(), ", "),
                               ") VALUES (", absl::StrJoin(marks, ", "), ")")));
  sqlite3_bind_int64(insert.get(), 1, id);
  int i = 2;
  for (const piicrypt::Row::Column& c : stored) Bind(insert.get(), i++, c.value);
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return absl::InternalError("orders: insert");
  return absl::OkStatus();
}

// The orders whose e-mail is `typed`, however it is typed, decrypted.
absl::StatusOr<std::vector<piicrypt::Row>> FindByEmail(sqlite3* db, const piicrypt::KeyHandle& keys,
                                                       const piicrypt::RowCryptor& orders,
                                                       absl::string_view typed) {
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Lookup lookup,
                            piicrypt::Lookup::Create(keys, "orders.customer_email", typed));
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SqlInList in,
                            lookup.SqlIn(piicrypt::SqlPlaceholders::kQuestionMark));
  PIICRYPT_ASSIGN_OR_RETURN(
      Stmt query, Prepare(db,
                          "SELECT id, customer_name, customer_email, customer_phone,"
                          " delivery_address, card_number, card_number_key FROM orders WHERE " +
                              in.sql));
  for (size_t i = 0; i < in.bindings.size(); ++i) Bind(query.get(), i + 1, in.bindings[i]);
  std::vector<piicrypt::Row> found;
  sqlite3_stmt* s = query.get();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(s, 0);
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<std::string> email,
                              lookup.MatchValue(piicrypt::RecordIdFromInt64(id), Column(s, 2)));
    if (!email) continue;  // another e-mail sharing the truncated index value
    PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Row row,
                              orders.Decrypt(id, {{"customer_name", Column(s, 1)},
                                                  {"customer_email", Column(s, 2)},
                                                  {"customer_phone", Column(s, 3)},
                                                  {"delivery_address", Column(s, 4)},
                                                  {"card_number", Column(s, 5)},
                                                  {"card_number_key", Column(s, 6)}}));
    found.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return absl::InternalError("orders: query failed");
  return found;
}

// OK if `rows` are `n` copies of the order `want`.
absl::Status Expect(const std::vector<piicrypt::Row>& rows, size_t n,
                    absl::Span<const piicrypt::ColumnValue> want) {
  if (rows.size() != n) return absl::InternalError(absl::StrCat("found ", rows.size(), " orders"));
  for (const piicrypt::Row& row : rows) {
    for (const piicrypt::ColumnValue& c : want) {
      const std::optional<std::string>* got = row.Find(c.column);
      if (got == nullptr || !*got || **got != *c.value) {
        return absl::InternalError(absl::StrCat("decrypted a wrong ", c.column));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Run(const std::string& dir) {
  // Provisioning, once: a KEK, a keyset under it, the policy.
  const std::string kek_uri = "file:" + dir + "/kek.key";
  const std::string keyset_path = dir + "/orders.keyset", policy_path = dir + "/orders.textproto";
  PIICRYPT_RETURN_IF_ERROR(piicrypt::Kek::Create(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<piicrypt::Kek> kek, piicrypt::Kek::Open(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  PIICRYPT_RETURN_IF_ERROR(keyset.WriteNew(keyset_path, *kek));
  if (!(std::ofstream(policy_path) << kPolicy)) return absl::InternalError("cannot write policy");

  // The service: keys and policy from their files, reloaded while it runs (key_handle.h).
  piicrypt::KeyHandleOptions options;
  options.keyset_path = keyset_path;
  options.policy_path = policy_path;
  PIICRYPT_ASSIGN_OR_RETURN(options.kek, piicrypt::Kek::Open(kek_uri));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<piicrypt::KeyHandle> keys,
                            piicrypt::KeyHandle::Open(std::move(options)));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<piicrypt::RowCryptor> orders,
                            piicrypt::RowCryptor::Create(*keys, "orders"));

  sqlite3* db = nullptr;
  const int opened = sqlite3_open(":memory:", &db);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
  if (opened != SQLITE_OK || sqlite3_exec(db, kTable, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return absl::UnavailableError("orders: cannot create the table");
  }

  // Write: one call encrypts the row and computes its blind indexes.
  using V = absl::string_view;
  const piicrypt::ColumnValue jane[] = {{"customer_name", V("Jane Doe")},
                                        {"customer_email", V("jane.doe@example.com")},
                                        {"customer_phone", V("+61 2 5550 0199")},
                                        {"delivery_address", V("1 Long St, Sydney")},
                                        {"card_number", V("4111 1111 1111 1111")}};
  const piicrypt::ColumnValue john[] = {{"customer_name", V("John Roe")},
                                        {"customer_email", V("john.roe@example.com")},
                                        {"customer_phone", std::nullopt},
                                        {"delivery_address", V("2 Short St, Perth")},
                                        {"card_number", V("5555 5555 5555 4444")}};
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *orders, 1, jane));
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *orders, 2, john));

  // Find: the help desk types the customer's e-mail as the customer says it.
  constexpr absl::string_view kTyped = "  Jane.Doe@Example.COM ";
  PIICRYPT_ASSIGN_OR_RETURN(auto found, FindByEmail(db, *keys, *orders, kTyped));
  PIICRYPT_RETURN_IF_ERROR(Expect(found, 1, jane));
  std::printf("found and decrypted order 1 by its e-mail\n");

  // Rotate while serving (`piicrypt keyset rotate`); the handle reloads the file.
  const uint32_t old_key = keys->Snapshot()->keyset().primary_key_id();
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset rotated,
                            piicrypt::Keyset::Update(keyset_path, *kek, [](piicrypt::Keyset& k) {
                              return k.Rotate().status();
                            }));
  PIICRYPT_RETURN_IF_ERROR(keys->Reload());  // or wait for the watcher (one second)
  if (keys->Snapshot()->keyset().primary_key_id() != rotated.primary_key_id() ||
      rotated.primary_key_id() == old_key) {
    return absl::InternalError("the handle does not serve the rotated keyset");
  }
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *orders, 3, jane));  // under the new key
  PIICRYPT_ASSIGN_OR_RETURN(found, FindByEmail(db, *keys, *orders, kTyped));
  PIICRYPT_RETURN_IF_ERROR(Expect(found, 2, jane));  // order 1 (old key) and order 3 (new)
  std::printf("after the rotation: found and decrypted orders 1 and 3\n");

  // Log: the row masked per field; no value appears in clear.
  const std::string line = orders->Mask(jane);
  std::printf("log: order 1: %s\n", line.c_str());
  for (const piicrypt::ColumnValue& c : jane) {
    if (line.find(*c.value) != std::string::npos) {
      return absl::InternalError(absl::StrCat("the log line shows ", c.column));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const absl::Status status = Run(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "quickstart: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("quickstart: all checks passed\n");
  return 0;
}
