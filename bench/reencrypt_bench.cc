// Rows per second of the re-encryption job (src/rotate/reencrypt.h): a table of three
// encrypted columns (one with a blind index) under an old key, re-encrypted under a new
// primary. The table is built outside the timed region.
//   Reencrypt/sqlite/rows:ROWS                 one writer, a database file in /tmp;
//   Reencrypt/postgresql/rows:ROWS/workers:W   a PostgreSQL server started by the benchmark
//                                              with fsync on (durable commits), over a unix
//                                              socket, W worker threads.
//
// ctest runs 2,000-row tables; the README's figures come from
//   PIICRYPT_BENCH_REENCRYPT_ROWS=1000000 build/bench/piicrypt_bench --benchmark_filter=Reencrypt
#include <libpq-fe.h>
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
#include "tests/pg/pg_server.h"

namespace piicrypt {
namespace {

constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 32 }
  }
  field { name: "orders.name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.address" kind: KIND_ADDRESS mode: MODE_RANDOMIZED bind_record: true }
)pb";

// One row's values under the keyset's current primary: email, its blind index, name,
// address. Returns false if encryption failed.
bool RowValues(const FieldCryptor& cryptor, int64_t id, std::string out[4]) {
  const std::string rec = absl::StrCat(id);
  const std::string email = absl::StrCat("customer", id, "@example.com");
  auto e = cryptor.Encrypt("orders.email", email, rec);
  auto i = cryptor.BlindIndex("orders.email", email);
  auto n = cryptor.Encrypt("orders.name", absl::StrCat("Customer Name ", id), rec);
  auto a =
      cryptor.Encrypt("orders.address", absl::StrCat(id, " Long Street, Springfield 2000"), rec);
  if (!e.ok() || !i.ok() || !n.ok() || !a.ok() || !e->has_value() || !i->has_value() ||
      !n->has_value() || !a->has_value()) {
    return false;
  }
  out[0] = **e;
  out[1] = **i;
  out[2] = **n;
  out[3] = **a;
  return true;
}

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
  std::string v[4];
  for (int64_t id = 1; id <= rows && error.empty(); ++id) {
    if (!RowValues(**cryptor, id, v)) {
      error = "encrypt";
      break;
    }
    sqlite3_bind_int64(s, 1, id);
    for (int k = 0; k < 4; ++k) {
      sqlite3_bind_text(s, k + 2, v[k].c_str(), -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(s) != SQLITE_DONE) error = "insert";
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return error;
}

// The same table in a new PostgreSQL database `url`, loaded with COPY.
std::string FillPostgres(const std::string& url, const Keyset& keyset, const Policy& policy,
                         int64_t rows) {
  auto cryptor = FieldCryptor::Create(keyset, policy);
  if (!cryptor.ok()) return "cryptor";
  PGconn* conn = PQconnectdb(url.c_str());
  std::string error;
  auto exec = [&](const char* sql, ExecStatusType want) {
    PGresult* r = PQexec(conn, sql);
    if (PQresultStatus(r) != want && error.empty()) error = PQresultErrorMessage(r);
    PQclear(r);
  };
  if (PQstatus(conn) != CONNECTION_OK) error = PQerrorMessage(conn);
  exec(
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, email TEXT, email_idx TEXT, name TEXT,"
      " address TEXT)",
      PGRES_COMMAND_OK);
  exec("COPY orders FROM STDIN", PGRES_COPY_IN);
  std::string data, v[4];
  for (int64_t id = 1; id <= rows && error.empty(); ++id) {
    if (!RowValues(**cryptor, id, v)) {
      error = "encrypt";
      break;
    }
    absl::StrAppend(&data, id, "\t", v[0], "\t", v[1], "\t", v[2], "\t", v[3], "\n");
    if (data.size() > (1 << 20) || id == rows) {
      if (PQputCopyData(conn, data.data(), static_cast<int>(data.size())) != 1) error = "copy";
      data.clear();
    }
  }
  if (PQputCopyEnd(conn, error.empty() ? nullptr : "failed") != 1 && error.empty()) {
    error = "copy end";
  }
  PGresult* r;
  while ((r = PQgetResult(conn)) != nullptr) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && error.empty()) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  exec("VACUUM ANALYZE orders", PGRES_COMMAND_OK);
  PQfinish(conn);
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

// A durable server for this process, started on first use and stopped at exit.
absl::StatusOr<std::unique_ptr<testing::PgServer>>& DurableServer() {
  static auto* server = [] {
    testing::PgServer::Options options;
    options.durable = true;
    auto* s =
        new absl::StatusOr<std::unique_ptr<testing::PgServer>>(testing::PgServer::Start(options));
    std::atexit([] { DurableServer() = absl::CancelledError("stopped"); });
    return s;
  }();
  return *server;
}

void BM_Reencrypt_postgresql(benchmark::State& state) {
  const int64_t rows = state.range(0);
  absl::StatusOr<std::unique_ptr<testing::PgServer>>& server = DurableServer();
  if (!server.ok()) {
    return state.SkipWithError(std::string(server.status().message()).c_str());
  }
  static int databases = 0;
  auto policy = Policy::ParseTextProto(kPolicy);
  if (!policy.ok()) return state.SkipWithError("policy");
  for (auto _ : state) {
    state.PauseTiming();
    const std::string db = absl::StrCat("reencrypt_bench_", databases++);
    if (!(*server)->CreateDatabase(db).ok()) return state.SkipWithError("create database");
    auto keyset = Keyset::Generate();
    if (!keyset.ok()) return state.SkipWithError("keyset");
    if (std::string e = FillPostgres((*server)->Url(db), *keyset, *policy, rows); !e.empty()) {
      return state.SkipWithError(e.c_str());
    }
    if (!keyset->Rotate().ok()) return state.SkipWithError("rotate");
    internal::ReencryptOptions options;
    options.db_url = (*server)->Url(db);
    options.table = "orders";
    options.key_column = "id";
    options.workers = static_cast<int>(state.range(1));
    state.ResumeTiming();
    auto summary = internal::RunReencrypt(*keyset, *policy, options);
    if (!summary.ok() || summary->reencrypted != 3 * rows) {
      return state.SkipWithError(summary.ok() ? "reencrypt: wrong count"
                                              : std::string(summary.status().message()).c_str());
    }
    state.PauseTiming();
    (void)(*server)->Psql(absl::StrCat("DROP DATABASE ", db));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * rows);  // items = rows
}

const int kRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("Reencrypt/sqlite/rows", BM_Reencrypt_sqlite)
                ->Arg(2000)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime()  // rows/s of wall time: the job waits for commits (fsync)
                ->Iterations(1);
  auto* p = benchmark::RegisterBenchmark("Reencrypt/postgresql", BM_Reencrypt_postgresql)
                ->ArgNames({"rows", "workers"})
                ->Args({2000, 1})
                ->Args({2000, 2})
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime()  // wall time: the job waits for the server and its commits
                ->Iterations(1);
  if (const char* env = std::getenv("PIICRYPT_BENCH_REENCRYPT_ROWS")) {
    b->Arg(std::atoll(env));
    p->Args({std::atoll(env), 1});
    p->Args({std::atoll(env), 2});
  }
  return 0;
}();

}  // namespace
}  // namespace piicrypt
