// Lookup/piicrypt/sqlite: finding a customer's orders by an e-mail typed differently, as an
// application does it through lookup.h: Lookup::Create (the index values), the IN query on
// an in-memory SQLite table of N orders with an index on the blind-index column, the
// lookup's filter (decrypt and compare each candidate row) and the decryption of each
// matching order's name. One iteration is one lookup.
//
// Counters: `rows` (matching orders returned per second), `candidates` (rows the query
// returned per second, matches and rows that only share the index value), and items per
// second (lookups). Arguments: orders in the table, bits of the e-mail index; at 8 bits a
// query returns about N / 256 rows of other customers, which the filter drops.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/lookup.h"
#include "piicrypt/policy.h"

namespace piicrypt {
namespace {

// orders.customer_email with a blind index of BITS bits in its own column, email_idx.
constexpr char kEmailField[] = R"pb(
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: BITS column: "email_idx" }
  }
)pb";

std::string PolicyText(int bits) {
  return absl::StrCat(testing::kOrderNameField,
                      absl::StrReplaceAll(kEmailField, {{"BITS", std::to_string(bits)}}));
}

std::string Email(int64_t customer) { return absl::StrCat("customer", customer, "@example.com"); }

// The table of one benchmark run: N orders by N / 2 customers (two orders each).
struct Shop {
  ~Shop() {
    sqlite3_finalize(select);
    sqlite3_close(db);
  }
  std::unique_ptr<FieldCryptor> cryptor;
  sqlite3* db = nullptr;
  sqlite3_stmt* select = nullptr;
  std::string select_sql;
  int64_t customers = 0;
};

bool Exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

std::unique_ptr<Shop> MakeShop(int64_t orders, int bits) {
  auto shop = std::make_unique<Shop>();
  shop->cryptor = bench::NewFieldCryptor(PolicyText(bits));
  if (shop->cryptor == nullptr) return nullptr;
  shop->customers = orders / 2;
  if (sqlite3_open(":memory:", &shop->db) != SQLITE_OK ||
      !Exec(shop->db,
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_name TEXT NOT NULL, "
            "customer_email TEXT NOT NULL, email_idx TEXT NOT NULL);"
            "CREATE INDEX orders_email_idx ON orders (email_idx); BEGIN")) {
    return nullptr;
  }
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(shop->db, "INSERT INTO orders VALUES (?,?,?,?)", -1, &insert, nullptr) !=
      SQLITE_OK) {
    return nullptr;
  }
  const FieldCryptor& c = *shop->cryptor;
  bool ok = true;
  for (int64_t id = 1; id <= orders && ok; ++id) {
    const std::string record = std::to_string(id);
    const std::string email = Email(id % shop->customers);
    auto name = c.EncryptValue("orders.customer_name", absl::StrCat("Customer ", id), record);
    auto email_ct = c.EncryptValue("orders.customer_email", email, record);
    auto idx = c.BlindIndexValue("orders.customer_email", email);
    ok = name.ok() && email_ct.ok() && idx.ok();
    if (!ok) break;
    sqlite3_bind_int64(insert, 1, id);
    sqlite3_bind_text(insert, 2, name->data(), static_cast<int>(name->size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, email_ct->data(), static_cast<int>(email_ct->size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 4, idx->data(), static_cast<int>(idx->size()), SQLITE_TRANSIENT);
    ok = sqlite3_step(insert) == SQLITE_DONE;
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  if (!ok || !Exec(shop->db, "COMMIT")) return nullptr;
  // The statement text depends only on how many keys are enabled (one here): prepared once,
  // as an application caches its statements.
  auto probe = Lookup::Create(c, "orders.customer_email", Email(0));
  if (!probe.ok()) return nullptr;
  auto in = probe->SqlIn(SqlPlaceholders::kQuestionMark);
  if (!in.ok()) return nullptr;
  shop->select_sql =
      absl::StrCat("SELECT id, customer_name, customer_email FROM orders WHERE ", in->sql);
  if (sqlite3_prepare_v2(shop->db, shop->select_sql.c_str(), -1, &shop->select, nullptr) !=
      SQLITE_OK) {
    return nullptr;
  }
  return shop;
}

absl::string_view Text(sqlite3_stmt* s, int column) {
  return absl::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s, column)),
                           static_cast<size_t>(sqlite3_column_bytes(s, column)));
}

void LookupSqlite(benchmark::State& state) {
  const std::unique_ptr<Shop> shop = MakeShop(state.range(0), static_cast<int>(state.range(1)));
  if (shop == nullptr) return state.SkipWithError("setup failed");
  const FieldCryptor& c = *shop->cryptor;
  int64_t next = 0, rows = 0, candidates = 0;
  std::string name;
  for (auto _ : state) {
    // As typed at the help desk: capitals and stray spaces.
    const std::string typed =
        absl::StrCat(" ", absl::AsciiStrToUpper(Email(next++ % shop->customers)), " ");
    auto lookup = Lookup::Create(c, "orders.customer_email", typed);
    if (!lookup.ok()) return state.SkipWithError("lookup failed");
    auto in = lookup->SqlIn(SqlPlaceholders::kQuestionMark);
    if (!in.ok() || absl::StrCat("SELECT id, customer_name, customer_email FROM orders WHERE ",
                                 in->sql) != shop->select_sql) {
      return state.SkipWithError("unexpected SQL");
    }
    for (size_t i = 0; i < in->bindings.size(); ++i) {
      sqlite3_bind_text(shop->select, static_cast<int>(i + 1), in->bindings[i].data(),
                        static_cast<int>(in->bindings[i].size()), SQLITE_STATIC);
    }
    while (sqlite3_step(shop->select) == SQLITE_ROW) {
      ++candidates;
      const absl::string_view record = Text(shop->select, 0);
      auto email = lookup->MatchValue(record, Text(shop->select, 2));
      if (!email.ok()) return state.SkipWithError("filter failed");
      if (!email->has_value()) continue;
      if (!c.DecryptTo("orders.customer_name", Text(shop->select, 1), record, &name).ok()) {
        return state.SkipWithError("decrypt failed");
      }
      benchmark::DoNotOptimize(name);
      ++rows;
    }
    sqlite3_reset(shop->select);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rows"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["candidates"] =
      benchmark::Counter(static_cast<double>(candidates), benchmark::Counter::kIsRate);
}

BENCHMARK(LookupSqlite)
    ->Name("Lookup/piicrypt/sqlite")
    ->ArgNames({"orders", "bits"})
    ->Args({10000, 16})
    ->Args({10000, 8})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace piicrypt
