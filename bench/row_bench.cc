// A whole order row through RowCryptor against the same work field by field, in the same run:
// RowEncrypt/piicrypt/order (5 fields: name, e-mail, phone, delivery address, card number
// FF1; blind indexes of the e-mail and the phone) over the sum of its fields'
// FieldEncrypt/piicrypt/order.FIELD and FieldBlindIndex/piicrypt/order.FIELD is the figure
// bench/report.py checks (at most 1.15x): what the row API adds (matching columns, the
// row's result) on top of the field calls. RowDecrypt/piicrypt/order against the sum of
// FieldDecrypt/piicrypt/order.FIELD likewise.
//
// Like for like: a row returns a new string per column, so the field benchmarks call
// Encrypt, BlindIndex and Decrypt, which return new strings too (not EncryptTo/DecryptTo).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "benchmark/benchmark.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/row_cryptor.h"
#include "tests/order_fixture.h"

namespace piicrypt {
namespace {

constexpr int kFields = 5;
constexpr const char* kColumns[kFields] = {"customer_name", "customer_email", "customer_phone",
                                           "delivery_address", "card_number"};
constexpr const char* kFieldNames[kFields] = {"orders.customer_name", "orders.customer_email",
                                              "orders.customer_phone", "orders.delivery_address",
                                              "orders.card_number"};
constexpr absl::string_view kValues[kFields] = {"Jane Doe", "Customer.Name.0042@Example.co.uk",
                                                "+61255500199", "1 Long Street, Sydney NSW 2000",
                                                "4111 1111 1111 1111"};
constexpr int64_t kOrderId = 1234567;

// The policy of the order row; the card's FF1 key is pinned to the keyset's primary.
std::string OrderPolicy(uint32_t card_key) {
  return absl::StrCat(testing::kOrderNameField, testing::kOrderEmailField,
                      testing::kOrderPhoneField, testing::kOrderAddressField, R"pb(
                        field { name: "orders.card_number" kind: KIND_CARD
                                mode: MODE_FORMAT_PRESERVING
                                bind_record: true
                                format_preserving { card {}
                                                    key_id:)pb",
                      card_key, R"pb(}
                                     }
  )pb");
}

// One field cryptor and one row cryptor over the same keyset and policy, for the run.
struct Order {
  std::unique_ptr<FieldCryptor> fields;
  std::unique_ptr<RowCryptor> rows;
  std::string record = RecordIdFromInt64(kOrderId);
  std::vector<ColumnValue> plain;
  std::vector<std::string> stored;  // the value column of each field, in kColumns' order
};

const Order* TheOrder() {
  static const Order* const order = []() -> const Order* {
    auto keyset = Keyset::Generate();
    if (!keyset.ok()) return nullptr;
    auto policy = Policy::ParseTextProto(OrderPolicy(keyset->primary_key_id()));
    if (!policy.ok()) return nullptr;
    auto o = std::make_unique<Order>();
    auto fields = FieldCryptor::Create(*keyset, *policy);
    auto rows = RowCryptor::Create(*keyset, *policy, "orders");
    if (!fields.ok() || !rows.ok()) return nullptr;
    o->fields = *std::move(fields);
    o->rows = *std::move(rows);
    for (int i = 0; i < kFields; ++i) o->plain.emplace_back(kColumns[i], kValues[i]);
    auto row = o->rows->Encrypt(kOrderId, o->plain);
    if (!row.ok() || row->size() != kFields + 2) return nullptr;
    for (int i = 0; i < kFields; ++i) o->stored.push_back(**row->Find(kColumns[i]));
    return o.release();
  }();
  return order;
}

void RowEncrypt(benchmark::State& state) {
  const Order* o = TheOrder();
  if (o == nullptr) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto row = o->rows->Encrypt(kOrderId, o->plain);
    if (!row.ok()) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(row);
  }
  state.SetItemsProcessed(state.iterations());
}

void RowDecrypt(benchmark::State& state) {
  const Order* o = TheOrder();
  if (o == nullptr) return state.SkipWithError("setup failed");
  std::vector<ColumnValue> stored;
  for (int i = 0; i < kFields; ++i) stored.emplace_back(kColumns[i], o->stored[i]);
  auto check = o->rows->Decrypt(kOrderId, stored);
  if (!check.ok() || **check->Find("customer_email") != kValues[1]) {
    return state.SkipWithError("round trip failed");
  }
  for (auto _ : state) {
    auto row = o->rows->Decrypt(kOrderId, stored);
    if (!row.ok()) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(row);
  }
  state.SetItemsProcessed(state.iterations());
}

// The fields of the row one by one: Encrypt (a new string, as the row returns).
void FieldEncryptOf(benchmark::State& state, int i) {
  const Order* o = TheOrder();
  if (o == nullptr) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto ct = o->fields->Encrypt(kFieldNames[i], kValues[i], o->record);
    if (!ct.ok()) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(ct);
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldBlindIndexOf(benchmark::State& state, int i) {
  const Order* o = TheOrder();
  if (o == nullptr) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto idx = o->fields->BlindIndex(kFieldNames[i], kValues[i]);
    if (!idx.ok()) return state.SkipWithError("blind index failed");
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldDecryptOf(benchmark::State& state, int i) {
  const Order* o = TheOrder();
  if (o == nullptr) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto pt = o->fields->Decrypt(kFieldNames[i], o->stored[i], o->record);
    if (!pt.ok()) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(pt);
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  benchmark::RegisterBenchmark("RowEncrypt/piicrypt/order", RowEncrypt);
  benchmark::RegisterBenchmark("RowDecrypt/piicrypt/order", RowDecrypt);
  for (int i = 0; i < kFields; ++i) {
    const std::string size = absl::StrCat("order.", kColumns[i]);
    benchmark::RegisterBenchmark(("FieldEncrypt/piicrypt/" + size).c_str(), FieldEncryptOf, i);
    benchmark::RegisterBenchmark(("FieldDecrypt/piicrypt/" + size).c_str(), FieldDecryptOf, i);
  }
  for (int i : {1, 2}) {  // the e-mail and the phone
    const std::string size = absl::StrCat("order.", kColumns[i]);
    benchmark::RegisterBenchmark(("FieldBlindIndex/piicrypt/" + size).c_str(), FieldBlindIndexOf,
                                 i);
  }
  return 0;
}();

}  // namespace
}  // namespace piicrypt
