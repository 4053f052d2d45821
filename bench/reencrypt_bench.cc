// Rows per second of the re-encryption job (src/rotate/reencrypt.h) on SQLite: a table of
// three encrypted columns (one with a blind index) under an old key, re-encrypted under a
// new primary by one writer. The table is built outside the timed region.
//
// ctest runs a 2,000-row table; the README's figure comes from
//   PIICRYPT_BENCH_REENCRYPT_ROWS=1000000 build/bench/piicrypt_bench --benchmark_filter=Reencrypt
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "src/rotate/reencrypt.h"

namespace piicrypt {
namespace {

constexpr char kPolicy[] = R"pb(
  field { name: "orders.email" kind: KIND_EMAIL mode: MODE_RANDOMIZED bind_record: true
          blind_index { bits: 32 } }
  field { name: "orders.name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.address" kind: KIND_ADDRESS mode: MODE_RANDOMIZED bind_record: true }
)pb";

// Builds the table under the keyset's current primary; returns "" or an error.
std::string Fill(const std::string& path, const Keyset& keyset, const Policy& policy,
                 int64_t rows) {
  auto cryptor = FieldCryptor::Create(keyset, policy);
  if (!cryptor.ok()) return "cryptor";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "open";
  sqlite3_exec(db,
               "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, email_idx TEXT,"
               " name TEXT, address TEXT); BEGIN",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO orders VALUES (?, ?, ?, ?, ?)", -1, &s, nullptr);
  std::string error;
  for (int64_t id = 1; id <= rows && error.empty(); ++id) {
    const std::string rec = absl::StrCat(id);
    const std::string email = absl::StrCat("customer", id, "@example.com");
    const std::string name = absl::StrCat("Customer Name ", id);
    const std::string address = absl::StrCat(id, " Long Street, Springfield 2000");
    auto e = (*cryptor)->Encrypt("orders.email", email, rec);
    auto i = (*cryptor)->BlindIndex("orders.email", email);
    auto n = (*cryptor)->Encrypt("orders.name", name, rec);
    auto a = (*cryptor)->Encrypt("orders.address", address, rec);
    if (!e.ok() || !i.ok() || !n.ok() || !a.ok()) {
      error = "encrypt";
      break;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, (*e)->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, (*i)->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, (*n)->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, (*a)->c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) error = "insert";
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return error;
}

void BM_Reencrypt_sqlite(benchmark::State& state) {
  const int64_t rows = state.range(0);
  char templ[] = "/tmp/piicrypt-reenc-bench-XXXXXX";
  if (mkdtemp(templ) == nullptr) return state.SkipWithError("mkdtemp failed");
  const std::string dir = templ;
  auto policy = Policy::ParseTextProto(kPolicy);
  if (!policy.ok()) return state.SkipWithError("policy");
  for (auto _ : state) {
    state.PauseTiming();
    const std::string path = dir + "/orders.db";
    std::filesystem::remove(path);
    auto keyset = Keyset::Generate();
    if (!keyset.ok()) return state.SkipWithError("keyset");
    if (std::string e = Fill(path, *keyset, *policy, rows); !e.empty()) {
      return state.SkipWithError(e.c_str());
    }
    if (!keyset->Rotate().ok()) return state.SkipWithError("rotate");
    internal::ReencryptOptions options;
    options.db_url = "sqlite:" + path;
    options.table = "orders";
    options.key_column = "id";
    state.ResumeTiming();
    auto summary = internal::RunReencrypt(*keyset, *policy, options);
    if (!summary.ok() || summary->reencrypted != 3 * rows) {
      return state.SkipWithError("reencrypt failed");
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  state.SetItemsProcessed(state.iterations() * rows);  // items = rows
}

const int kRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("Reencrypt/sqlite/rows", BM_Reencrypt_sqlite)
                ->Arg(2000)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime()  // rows/s of wall time: the job waits for commits (fsync)
                ->Iterations(1);
  if (const char* env = std::getenv("PIICRYPT_BENCH_REENCRYPT_ROWS")) {
    b->Arg(std::atoll(env));
  }
  return 0;
}();

}  // namespace
}  // namespace piicrypt
