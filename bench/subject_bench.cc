// Subject fields (docs/SUBJECTS.md) against plain fields in the same run:
//   SubjectEncrypt/piicrypt/32  SubjectCryptor::EncryptTo with the subject's key cached, the
//                               same field name, record and value size as
//                               FieldEncrypt/piicrypt/32 (field_bench.cc); target <= 1.5x it.
//   SubjectFirstUse/sqlite      the first use of a subject in a process: a store read, the
//   SubjectFirstUse/postgresql  unwrap and the field key derivations, then the encryption
//                               (a cache of one subject, cycling over stored subjects).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subject_cryptor.h"
#include "piicrypt/subject_key_store.h"
#include "tests/pg/pg_server.h"

namespace piicrypt {
namespace {

constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    subject {}
  }
  field {
    name: "orders.customer_name"
    kind: KIND_NAME
    mode: MODE_RANDOMIZED
    bind_record: true
    subject {}
  }
)pb";
constexpr char kField[] = "orders.customer_email";
constexpr char kRecord[] = "order-0001234";
constexpr int kSubjects = 200;

struct Setup {
  std::unique_ptr<Keyset> keyset;
  std::unique_ptr<Policy> policy;
  std::shared_ptr<const SubjectKeyStore> store;
};

// A keyset, the policy and a store at `url` holding kSubjects subjects' keys.
std::unique_ptr<Setup> MakeSetup(const std::string& url) {
  auto setup = std::make_unique<Setup>();
  auto keyset = Keyset::Generate();
  auto policy = Policy::ParseTextProto(kPolicy);
  auto store = SubjectKeyStore::Open(url);
  if (!keyset.ok() || !policy.ok() || !store.ok()) return nullptr;
  setup->keyset = std::make_unique<Keyset>(*std::move(keyset));
  setup->policy = std::make_unique<Policy>(*std::move(policy));
  setup->store = *std::move(store);
  auto cryptor = SubjectCryptor::Create(*setup->keyset, *setup->policy, setup->store);
  if (!cryptor.ok()) return nullptr;
  for (int i = 0; i < kSubjects; ++i) {
    if (!(*cryptor)->EncryptValue(kField, absl::StrCat("cust-", i), "x", kRecord).ok()) {
      return nullptr;
    }
  }
  return setup;
}

const Setup* SqliteSetup() {
  static const Setup* setup = []() -> const Setup* {
    static char dir[] = "/tmp/piicrypt_subject_bench_XXXXXX";
    if (mkdtemp(dir) == nullptr) return nullptr;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return MakeSetup(absl::StrCat("sqlite:", dir, "/subjects.db")).release();
  }();
  return setup;
}

const Setup* PostgresSetup() {
  static const Setup* setup = []() -> const Setup* {
    testing::PgServer* server = testing::SharedPgServer();
    if (server == nullptr || !server->CreateDatabase("subject_bench").ok()) return nullptr;
    return MakeSetup(server->Url("subject_bench")).release();
  }();
  return setup;
}

void SubjectEncrypt(benchmark::State& state) {
  const Setup* setup = SqliteSetup();
  if (setup == nullptr) return state.SkipWithError("setup failed");
  auto cryptor = SubjectCryptor::Create(*setup->keyset, *setup->policy, setup->store);
  if (!cryptor.ok()) return state.SkipWithError("cryptor");
  const std::string value(state.range(0), 'x');
  std::string ct;
  if (!(*cryptor)->EncryptTo(kField, "cust-1", value, kRecord, &ct).ok()) {  // cached from here
    return state.SkipWithError("encrypt failed");
  }
  for (auto _ : state) {
    if (!(*cryptor)->EncryptTo(kField, "cust-1", value, kRecord, &ct).ok()) {
      return state.SkipWithError("encrypt failed");
    }
    benchmark::DoNotOptimize(ct.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void SubjectFirstUse(benchmark::State& state, const Setup* setup) {
  if (setup == nullptr) return state.SkipWithError("setup failed (no store)");
  SubjectCryptorOptions one;
  one.cache_size = 1;  // every call below is a subject's first use
  auto cryptor = SubjectCryptor::Create(*setup->keyset, *setup->policy, setup->store, one);
  if (!cryptor.ok()) return state.SkipWithError("cryptor");
  std::vector<std::string> subjects;
  for (int i = 0; i < kSubjects; ++i) subjects.push_back(absl::StrCat("cust-", i));
  std::string ct;
  size_t next = 0;
  for (auto _ : state) {
    if (!(*cryptor)->EncryptTo(kField, subjects[next], "x", kRecord, &ct).ok()) {
      return state.SkipWithError("encrypt failed");
    }
    next = (next + 1) % subjects.size();
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  benchmark::RegisterBenchmark("SubjectEncrypt/piicrypt", SubjectEncrypt)->Arg(32);
  benchmark::RegisterBenchmark("SubjectFirstUse/sqlite",
                               [](benchmark::State& s) { SubjectFirstUse(s, SqliteSetup()); });
  benchmark::RegisterBenchmark("SubjectFirstUse/postgresql",
                               [](benchmark::State& s) { SubjectFirstUse(s, PostgresSetup()); });
  return 0;
}();

}  // namespace
}  // namespace piicrypt
