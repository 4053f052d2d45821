// Field encryption through the whole public API (policy lookup, cached per-field state,
// format, base64url), to compare with the primitives of crypto_bench.cc in the same run:
// FieldEncrypt/piicrypt/32 against AeadEncrypt/piicrypt/32 is the figure of issue 5
// (at most 1.3x). Same context and record as crypto_bench's Aad().
//
// Like for like: AeadEncrypt/piicrypt writes into a buffer the loop keeps, so
// FieldEncrypt/piicrypt calls FieldCryptor::EncryptTo into a string the loop keeps.
// FieldEncryptNewString/piicrypt calls Encrypt, which returns a new string per value: the
// same work plus one allocation and free of the result.
#include <memory>
#include <optional>
#include <string>

#include "benchmark/benchmark.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace piicrypt {
namespace {

constexpr char kPolicy[] = R"pb(
  field { name: "orders.customer_name" kind: KIND_NAME mode: MODE_RANDOMIZED bind_record: true }
  field {
    name: "orders.customer_email"
    kind: KIND_EMAIL
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 32 }
  }
  field {
    name: "orders.customer_phone"
    kind: KIND_PHONE
    mode: MODE_RANDOMIZED
    bind_record: true
    blind_index { bits: 32 default_region: "AU" }
  }
  field {
    name: "orders.delivery_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
  }
  field {
    name: "orders.billing_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
  }
  field { name: "orders.purchase_details" mode: MODE_RANDOMIZED bind_record: true }
  field { name: "orders.loyalty_number" kind: KIND_IDENTIFIER mode: MODE_DETERMINISTIC }
)pb";

constexpr char kField[] = "orders.customer_email";
constexpr char kRecord[] = "order-0001234";

// One cryptor for the whole run, as an application holds one.
const FieldCryptor* Cryptor() {
  static const FieldCryptor* const cryptor = []() -> const FieldCryptor* {
    auto keyset = Keyset::Generate();
    if (!keyset.ok()) return nullptr;
    auto policy = Policy::ParseTextProto(kPolicy);
    if (!policy.ok()) return nullptr;
    auto created = FieldCryptor::Create(*keyset, *policy);
    return created.ok() ? created->release() : nullptr;
  }();
  return cryptor;
}

void FieldEncryptNewString(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  const std::string value(state.range(0), 'x');
  for (auto _ : state) {
    auto ct = fc->Encrypt(kField, value, kRecord);
    if (!ct.ok()) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(ct);
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldEncrypt(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  const std::string value(state.range(0), 'x');
  std::string ct;
  for (auto _ : state) {
    if (!fc->EncryptTo(kField, value, kRecord, &ct).ok()) {
      return state.SkipWithError("encrypt failed");
    }
    benchmark::DoNotOptimize(ct.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldDecrypt(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  const std::string value(state.range(0), 'x');
  auto ct = fc->Encrypt(kField, value, kRecord);
  if (!ct.ok()) return state.SkipWithError("encrypt failed");
  const std::string stored = **ct;
  for (auto _ : state) {
    auto pt = fc->Decrypt(kField, stored, kRecord);
    if (!pt.ok()) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(pt);
  }
  state.SetItemsProcessed(state.iterations());
}

// Blind index of an e-mail address through the API: e-mail normalizer (ICU lower-casing)
// and HMAC-SHA256 on a reused context; compare with BlindIndex/piicrypt (HMAC only).
void FieldBlindIndex(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  std::string value(state.range(0), 'x');
  value.replace(value.size() / 2, 1, "@");
  for (auto _ : state) {
    auto idx = fc->BlindIndex(kField, value);
    if (!idx.ok()) return state.SkipWithError("blind index failed");
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  for (int size : {16, 32, 64, 256}) {
    benchmark::RegisterBenchmark("FieldEncrypt/piicrypt", FieldEncrypt)->Arg(size);
    benchmark::RegisterBenchmark("FieldEncryptNewString/piicrypt", FieldEncryptNewString)
        ->Arg(size);
    benchmark::RegisterBenchmark("FieldDecrypt/piicrypt", FieldDecrypt)->Arg(size);
    benchmark::RegisterBenchmark("FieldBlindIndex/piicrypt", FieldBlindIndex)->Arg(size);
  }
  return 0;
}();

}  // namespace
}  // namespace piicrypt
