// A field encryption through a KeyHandle, to compare with FieldEncrypt/piicrypt/32
// (field_bench.cc) in the same run: FieldEncrypt/handle/32 against FieldEncrypt/piicrypt/32
// is what the handle adds to a call (at most 5%). The same field, record and call
// (EncryptTo into a string the loop keeps); the handle's watcher runs as in a service,
// checking the files every second.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "piicrypt/kek.h"
#include "piicrypt/key_handle.h"
#include "piicrypt/keyset.h"
#include "tests/order_fixture.h"

namespace piicrypt {
namespace {

constexpr const char* kPolicy = ::piicrypt::testing::kOrderEmailField;

constexpr char kField[] = "orders.customer_email";
constexpr char kRecord[] = "order-0001234";

// The files the handle serves from, removed when the run ends.
std::string& Dir() {
  static std::string dir;
  return dir;
}
void RemoveFiles() {
  for (const char* name : {"/kek.key", "/orders.keyset", "/policy.textproto"}) {
    std::remove((Dir() + name).c_str());
  }
  ::rmdir(Dir().c_str());
}

// One handle for the whole run, as a service holds one.
const KeyHandle* Handle() {
  static const KeyHandle* const handle = []() -> const KeyHandle* {
    char tmpl[] = "/tmp/piicrypt-handle-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return nullptr;
    Dir() = tmpl;
    std::atexit(RemoveFiles);
    const std::string kek_uri = "file:" + Dir() + "/kek.key";
    KeyHandleOptions options;
    options.keyset_path = Dir() + "/orders.keyset";
    options.policy_path = Dir() + "/policy.textproto";
    if (!Kek::Create(kek_uri).ok()) return nullptr;
    auto kek = Kek::Open(kek_uri);
    auto keyset = Keyset::Generate();
    if (!kek.ok() || !keyset.ok() || !keyset->WriteNew(options.keyset_path, **kek).ok()) {
      return nullptr;
    }
    std::ofstream(options.policy_path) << kPolicy;
    options.kek = *std::move(kek);
    auto opened = KeyHandle::Open(std::move(options));
    return opened.ok() ? opened->release() : nullptr;
  }();
  return handle;
}

void HandleEncrypt(benchmark::State& state) {
  const KeyHandle* handle = Handle();
  if (handle == nullptr) return state.SkipWithError("setup failed");
  const std::string value(state.range(0), 'x');
  std::string ct;
  for (auto _ : state) {
    if (!handle->EncryptTo(kField, value, kRecord, &ct).ok()) {
      return state.SkipWithError("encrypt failed");
    }
    benchmark::DoNotOptimize(ct.data());
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  for (int size : {16, 32, 64, 256}) {
    benchmark::RegisterBenchmark("FieldEncrypt/handle", HandleEncrypt)->Arg(size);
  }
  return 0;
}();

}  // namespace
}  // namespace piicrypt
