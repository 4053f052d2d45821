// Token benchmarks: vault tokens on SQLite and on PostgreSQL (a throw-away server started
// through tests/pg/pg_server.h), 1 and 2 threads, with vaultless FF1 tokens beside them.
//
//   Tokenize/<store>/random            a new token and row every time (one INSERT)
//   Tokenize/<store>/deterministic_hit a value tokenized before (one indexed SELECT)
//   Tokenize/<store>/deterministic_new a new value (SELECT, then INSERT)
//   Detokenize/<store>                 SELECT by token, AES-GCM decrypt
//   Tokenize|Detokenize/vaultless/...  FF1 only, no store: the floor under the others
//
// SQLite runs with synchronous=FULL (an fsync per new token, as in production); the
// PostgreSQL test server runs with fsync=off, so its figures show the protocol and
// query costs, not a disk's.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "piicrypt/keyset.h"
#include "piicrypt/subtle/token_store.h"
#include "piicrypt/tokenizer.h"
#include "tests/pg/pg_server.h"

namespace piicrypt {
namespace {

constexpr int kPreparedValues = 1000;

std::string Email(int i) { return absl::StrCat("customer", i, "@example.com"); }

struct Fixture {
  std::string error;  // set if the fixture could not be built
  std::unique_ptr<Keyset> keyset;
  std::shared_ptr<TokenStore> store;
  std::unique_ptr<Tokenizer> det, rand;
  std::vector<std::string> tokens;  // det tokens of Email(0..kPreparedValues)
  std::atomic<int64_t> next{0};
};

// A temporary directory for the SQLite file, removed at exit.
const std::string& SqliteDir() {
  static const std::string* dir = [] {
    char templ[] = "/tmp/piicrypt-bench-XXXXXX";
    auto* d = new std::string(mkdtemp(templ) != nullptr ? templ : "");
    atexit([] {
      std::error_code ec;
      if (!SqliteDir().empty()) std::filesystem::remove_all(SqliteDir(), ec);
    });
    return d;
  }();
  return *dir;
}

std::unique_ptr<Fixture> Build(const std::string& url) {
  auto f = std::make_unique<Fixture>();
  auto keyset = Keyset::Generate();
  if (!keyset.ok()) {
    f->error = "keyset";
    return f;
  }
  f->keyset = std::make_unique<Keyset>(*std::move(keyset));
  auto store = TokenStore::Open(url);
  if (!store.ok()) {
    f->error = std::string(store.status().message());
    return f;
  }
  f->store = *std::move(store);
  TokenizerOptions o;
  o.field = "orders.email";
  auto det = Tokenizer::Create(*f->keyset, o, f->store);
  o.mode = TokenMode::kRandom;
  o.field = "orders.email_random";
  auto rand = Tokenizer::Create(*f->keyset, o, f->store);
  if (!det.ok() || !rand.ok()) {
    f->error = "tokenizer";
    return f;
  }
  f->det = *std::move(det);
  f->rand = *std::move(rand);
  for (int i = 0; i < kPreparedValues; ++i) {
    auto token = f->det->Tokenize(Email(i));
    if (!token.ok()) {
      f->error = std::string(token.status().message());
      return f;
    }
    f->tokens.push_back(*token);
  }
  return f;
}

Fixture& SqliteFixture() {
  static Fixture* f = Build("sqlite:" + SqliteDir() + "/tokens.db").release();
  return *f;
}

Fixture& PostgresFixture() {
  static Fixture* f = [] {
    std::string error;
    testing::PgServer* server = testing::SharedPgServer(&error);
    if (server == nullptr) {
      auto failed = std::make_unique<Fixture>();
      failed->error = "cannot start a PostgreSQL server: " + error;
      return failed.release();
    }
    return Build(server->Url()).release();
  }();
  return *f;
}

using FixtureFn = Fixture& (*)();

// Setup (server start, 1000 tokens) happens once per process, outside the timed loops
// (function-local statics: a second thread waits for the first to finish it).
bool Ready(benchmark::State& state, Fixture& f) {
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return false;
  }
  return true;
}

void TokenizeRandom(benchmark::State& state, FixtureFn fixture) {
  Fixture& f = fixture();
  if (!Ready(state, f)) return;
  for (auto _ : state) {
    auto token = f.rand->Tokenize("jane.doe@example.com");
    if (!token.ok()) {
      state.SkipWithError(std::string(token.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(state.iterations());
}

void TokenizeDeterministicHit(benchmark::State& state, FixtureFn fixture) {
  Fixture& f = fixture();
  if (!Ready(state, f)) return;
  int i = state.thread_index() * 7;
  for (auto _ : state) {
    auto token = f.det->Tokenize(Email(i++ % kPreparedValues));
    if (!token.ok()) {
      state.SkipWithError(std::string(token.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(state.iterations());
}

void TokenizeDeterministicNew(benchmark::State& state, FixtureFn fixture) {
  Fixture& f = fixture();
  if (!Ready(state, f)) return;
  for (auto _ : state) {
    auto token = f.det->Tokenize(absl::StrCat("new", f.next++, "@example.com"));
    if (!token.ok()) {
      state.SkipWithError(std::string(token.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(state.iterations());
}

void Detokenize(benchmark::State& state, FixtureFn fixture) {
  Fixture& f = fixture();
  if (!Ready(state, f)) return;
  int i = state.thread_index() * 7;
  for (auto _ : state) {
    auto value = f.det->Detokenize(f.tokens[i++ % kPreparedValues]);
    if (!value.ok()) {
      state.SkipWithError(std::string(value.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

// Rekey: kRekeyEntries entries of their own field, moved back and forth between two keys
// (A and B of one keyset) in pages of kRekeyPage; items are entries re-encrypted. Compare
// with Detokenize (a read and a decryption) and Tokenize/.../random (a write) of the same
// store in the same run.
constexpr int kRekeyEntries = 500;
constexpr size_t kRekeyPage = 100;

struct RekeyFixture {
  std::string error;
  std::unique_ptr<Tokenizer> to_a, to_b;  // primary A (B enabled), primary B (A enabled)
  bool under_a = true;                    // where the entries are between runs
};

RekeyFixture* BuildRekey(Fixture& f) {
  auto r = std::make_unique<RekeyFixture>();
  if (!f.error.empty()) {
    r->error = f.error;
    return r.release();
  }
  // Tokenizers are snapshots of the keyset: the fixture's own ones keep key A alone, and
  // A is the primary again at the end.
  Keyset& keyset = *f.keyset;
  TokenizerOptions o;
  o.field = "orders.email_rekey";
  const uint32_t a = keyset.primary_key_id();
  absl::StatusOr<uint32_t> b = keyset.Add();
  if (!b.ok()) {
    r->error = "key B";
    return r.release();
  }
  auto to_a = Tokenizer::Create(keyset, o, f.store);
  absl::Status promoted = keyset.Promote(*b);
  auto to_b = Tokenizer::Create(keyset, o, f.store);
  if (!to_a.ok() || !promoted.ok() || !to_b.ok() || !keyset.Promote(a).ok()) {
    r->error = "rekey tokenizers";
    return r.release();
  }
  for (int i = 0; i < kRekeyEntries; ++i) {
    if (!(*to_a)->Tokenize(Email(i)).ok()) {
      r->error = "tokenize";
      return r.release();
    }
  }
  r->to_a = *std::move(to_a);
  r->to_b = *std::move(to_b);
  return r.release();
}

void Rekey(benchmark::State& state, FixtureFn fixture, RekeyFixture* (*rekey_fixture)()) {
  Fixture& f = fixture();
  if (!Ready(state, f)) return;
  RekeyFixture* r = rekey_fixture();
  if (!r->error.empty()) return state.SkipWithError(r->error.c_str());
  // Entries start under A: the first pass moves them to B, the next back to A, ...
  bool& under_a = r->under_a;
  std::string after;
  int64_t entries = 0;
  for (auto _ : state) {
    auto page = (under_a ? r->to_b : r->to_a)->Rekey(after, kRekeyPage);
    if (!page.ok()) {
      state.SkipWithError(std::string(page.status().message()).c_str());
      break;
    }
    entries += page->rekeyed;
    after = page->last_token;
    if (page->done) {
      under_a = !under_a;
      after.clear();
    }
  }
  // A pass cut short leaves entries under both keys: finish it, untimed, so that the next
  // run starts from one key again.
  while (!after.empty()) {
    auto page = (under_a ? r->to_b : r->to_a)->Rekey(after, kRekeyPage);
    if (!page.ok()) break;
    after = page->done ? std::string() : page->last_token;
    if (page->done) under_a = !under_a;
  }
  state.SetItemsProcessed(entries);
}

RekeyFixture* SqliteRekeyFixture() {
  static RekeyFixture* r = BuildRekey(SqliteFixture());
  return r;
}
RekeyFixture* PostgresRekeyFixture() {
  static RekeyFixture* r = BuildRekey(PostgresFixture());
  return r;
}

std::unique_ptr<Tokenizer> Vaultless(TokenFormat format) {
  static Keyset* keyset = [] {
    auto k = Keyset::Generate();
    return k.ok() ? new Keyset(*std::move(k)) : nullptr;
  }();
  if (keyset == nullptr) return nullptr;
  TokenizerOptions o;
  o.field = "orders.card";
  o.vaultless = true;
  o.vaultless_key_id = keyset->primary_key_id();
  o.format = format;
  auto t = Tokenizer::Create(*keyset, o, nullptr);
  return t.ok() ? *std::move(t) : nullptr;
}

void VaultlessTokenize(benchmark::State& state, TokenFormat format, const char* value) {
  static std::unique_ptr<Tokenizer> card = Vaultless(TokenFormat::kCard);
  static std::unique_ptr<Tokenizer> preserve = Vaultless(TokenFormat::kPreserve);
  Tokenizer* t = format == TokenFormat::kCard ? card.get() : preserve.get();
  if (t == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(t->Tokenize(value));
  state.SetItemsProcessed(state.iterations());
}

void VaultlessDetokenize(benchmark::State& state) {
  static std::unique_ptr<Tokenizer> card = Vaultless(TokenFormat::kCard);
  if (card == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  const auto token = card->Tokenize("4111 1111 1111 1111");
  if (!token.ok()) {
    state.SkipWithError("tokenize failed");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(card->Detokenize(*token));
  state.SetItemsProcessed(state.iterations());
}

const bool registered = [] {
  struct Store {
    const char* name;
    FixtureFn fixture;
  };
  for (const Store& s : {Store{"sqlite", &SqliteFixture}, Store{"postgresql", &PostgresFixture}}) {
    const FixtureFn fn = s.fixture;
    benchmark::RegisterBenchmark(absl::StrCat("Tokenize/", s.name, "/random").c_str(),
                                 [fn](benchmark::State& st) { TokenizeRandom(st, fn); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(absl::StrCat("Tokenize/", s.name, "/deterministic_hit").c_str(),
                                 [fn](benchmark::State& st) { TokenizeDeterministicHit(st, fn); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(absl::StrCat("Tokenize/", s.name, "/deterministic_new").c_str(),
                                 [fn](benchmark::State& st) { TokenizeDeterministicNew(st, fn); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(absl::StrCat("Detokenize/", s.name).c_str(),
                                 [fn](benchmark::State& st) { Detokenize(st, fn); })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("Rekey/sqlite", [](benchmark::State& st) {
    Rekey(st, &SqliteFixture, &SqliteRekeyFixture);
  })->UseRealTime();
  benchmark::RegisterBenchmark("Rekey/postgresql", [](benchmark::State& st) {
    Rekey(st, &PostgresFixture, &PostgresRekeyFixture);
  })->UseRealTime();
  benchmark::RegisterBenchmark("Tokenize/vaultless/card",
                               [](benchmark::State& st) {
                                 VaultlessTokenize(st, TokenFormat::kCard, "4111 1111 1111 1111");
                               })
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("Tokenize/vaultless/preserve",
                               [](benchmark::State& st) {
                                 VaultlessTokenize(st, TokenFormat::kPreserve, "+61 2 5550 0199");
                               })
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("Detokenize/vaultless/card", VaultlessDetokenize)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  return true;
}();

}  // namespace
}  // namespace piicrypt
