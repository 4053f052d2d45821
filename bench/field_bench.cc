// Field encryption through the whole public API (policy lookup, cached per-field state,
// format, base64url), to compare with the primitives of crypto_bench.cc in the same run:
// FieldEncrypt/piicrypt/32 against AeadEncrypt/piicrypt/32 is the figure of issue 5
// (at most 1.3x). Same context and record as crypto_bench's Aad().
//
// Like for like: AeadEncrypt/piicrypt writes into a buffer the loop keeps, so
// FieldEncrypt/piicrypt calls FieldCryptor::EncryptTo into a string the loop keeps.
// FieldEncryptNewString/piicrypt calls Encrypt, which returns a new string per value: the
// same work plus one allocation and free of the result.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace piicrypt {
namespace {

// The order fields of the tests, and more.
std::string PolicyText() {
  return absl::StrCat(testing::kOrderNameField, testing::kOrderEmailField,
                      testing::kOrderPhoneField, testing::kOrderAddressField, R"pb(
    field {
      name: "orders.billing_address"
      kind: KIND_ADDRESS
      mode: MODE_RANDOMIZED
      bind_record: true
    }
    field { name: "orders.purchase_details" mode: MODE_RANDOMIZED bind_record: true }
    field { name: "orders.loyalty_number" kind: KIND_IDENTIFIER mode: MODE_DETERMINISTIC }
  )pb");
}

constexpr char kField[] = "orders.customer_email";
constexpr char kRecord[] = "order-0001234";

// One cryptor for the whole run, as an application holds one.
const FieldCryptor* Cryptor() {
  static const FieldCryptor* const cryptor = bench::NewFieldCryptor(PolicyText()).release();
  return cryptor;
}

// Encrypts `value` into `ct` and checks that it decrypts back: what each benchmark makes
// sure of before it measures.
bool RoundTrip(const FieldCryptor& fc, absl::string_view field, absl::string_view value,
               absl::string_view record, std::string* ct) {
  std::string back;
  return fc.EncryptTo(field, value, record, ct).ok() &&
         fc.DecryptTo(field, *ct, record, &back).ok() && back == value;
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

// A valid stored value of `size` bytes of plaintext, or "" if encryption failed.
std::string StoredValue(const FieldCryptor& fc, size_t size) {
  auto ct = fc.Encrypt(kField, std::string(size, 'x'), kRecord);
  return ct.ok() && ct->has_value() ? **ct : std::string();
}

// Like for like with AeadDecrypt/piicrypt: DecryptTo into a string the loop keeps.
void FieldDecrypt(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  const std::string stored = StoredValue(*fc, state.range(0));
  std::string pt;
  if (stored.empty() || !fc->DecryptTo(kField, stored, kRecord, &pt).ok() ||
      pt != std::string(state.range(0), 'x')) {
    return state.SkipWithError("round trip failed");
  }
  for (auto _ : state) {
    if (!fc->DecryptTo(kField, stored, kRecord, &pt).ok()) {
      return state.SkipWithError("decrypt failed");
    }
    benchmark::DoNotOptimize(pt.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// Decrypt: a new string per value.
void FieldDecryptNewString(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  const std::string stored = StoredValue(*fc, state.range(0));
  if (stored.empty()) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto pt = fc->Decrypt(kField, stored, kRecord);
    if (!pt.ok()) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(pt);
  }
  state.SetItemsProcessed(state.iterations());
}

// Blind index through the API: normalizer, then HMAC-SHA256 from precomputed states, the
// hex text written into a string the loop keeps (BlindIndexTo); compare with
// BlindIndex/piicrypt/32 (the HMAC alone, its tag on the stack).
void FieldBlindIndexOf(benchmark::State& state, absl::string_view field, absl::string_view value) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  std::string idx;
  if (!fc->BlindIndexTo(field, value, &idx).ok() ||
      idx != fc->BlindIndexValue(field, value).value_or("")) {
    return state.SkipWithError("BlindIndexTo differs from BlindIndex");
  }
  for (auto _ : state) {
    if (!fc->BlindIndexTo(field, value, &idx).ok()) {
      return state.SkipWithError("blind index failed");
    }
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// The same through BlindIndex: a new string per value.
void FieldBlindIndexNewStringEmail(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto idx = fc->BlindIndex(kField, "Customer.Name.0042@Example.co.uk");
    if (!idx.ok()) return state.SkipWithError("blind index failed");
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

// A 32-byte e-mail address (e-mail normalizer: trim and lower-case).
void FieldBlindIndexEmail(benchmark::State& state) {
  FieldBlindIndexOf(state, kField, "Customer.Name.0042@Example.co.uk");
}

// A phone number in E.164 form, indexed again (the phone normalizer's memo of
// libphonenumber's answers; see src/field/normalizers.h).
void FieldBlindIndexPhone(benchmark::State& state) {
  FieldBlindIndexOf(state, "orders.customer_phone", "+61255500199");
}

// A phone number in national form (default region AU), indexed again.
void FieldBlindIndexPhoneLocal(benchmark::State& state) {
  FieldBlindIndexOf(state, "orders.customer_phone", "(02) 5550 0199");
}

// Australian mobile numbers, `prefix` and six digits from `n`, never the same one twice in a
// run (a million of them).
void FieldBlindIndexPhonesFirstSeen(benchmark::State& state, const char* prefix, uint32_t& n) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  char value[16];
  for (auto _ : state) {
    std::snprintf(value, sizeof(value), "%s%06u", prefix, n++ % 1000000);
    auto idx = fc->BlindIndex("orders.customer_phone", value);
    if (!idx.ok()) return state.SkipWithError("blind index failed");
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

// Phone numbers in E.164 form seen for the first time (no memo hit): the normalizer's
// E.164 road, libphonenumber's number-type check once (see src/field/normalizers.h).
void FieldBlindIndexPhoneFirstSeen(benchmark::State& state) {
  static uint32_t n = 0;
  FieldBlindIndexPhonesFirstSeen(state, "+61400", n);
}

// Phone numbers in national form seen for the first time: every call runs libphonenumber
// (parse, validity check and E.164 format), the cost a memo miss pays for them.
void FieldBlindIndexPhoneLocalFirstSeen(benchmark::State& state) {
  static uint32_t n = 0;
  FieldBlindIndexPhonesFirstSeen(state, "0400 ", n);
}

// Deterministic fields (AES-SIV), text form, like for like with FieldEncrypt/FieldDecrypt.
constexpr char kDetField[] = "orders.loyalty_number";

// DetEncrypt (kDecrypt false) and DetDecrypt: one value of state.range(0) bytes, again
// and again, into a string the loop keeps.
template <bool kDecrypt>
void Det(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  const std::string value(state.range(0), 'x');
  std::string ct, back;
  if (!RoundTrip(*fc, kDetField, value, "", &ct)) return state.SkipWithError("round trip failed");
  for (auto _ : state) {
    if constexpr (kDecrypt) {
      if (!fc->DecryptTo(kDetField, ct, "", &back).ok()) {
        return state.SkipWithError("decrypt failed");
      }
      benchmark::DoNotOptimize(back.data());
    } else {
      if (!fc->EncryptTo(kDetField, value, "", &ct).ok()) {
        return state.SkipWithError("encrypt failed");
      }
      benchmark::DoNotOptimize(ct.data());
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// An order record: four personal fields encrypted (text form, bound to the order) and the
// e-mail address's blind index; the peers (libsodium_bench.cc, libmongocrypt_bench.cc)
// do the same record their way.
const char* const kOrderFields[] = {"orders.customer_name", "orders.customer_email",
                                    "orders.customer_phone", "orders.delivery_address"};
constexpr absl::string_view kOrder[] = {"Jane Doe", "Customer.Name.0042@Example.co.uk",
                                        "+61255500199", "1 Long Street, Sydney NSW 2000"};

void RecordEncrypt(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  std::string ct[4];
  for (int i = 0; i < 4; ++i) {
    if (!RoundTrip(*fc, kOrderFields[i], kOrder[i], kRecord, &ct[i])) {
      return state.SkipWithError("round trip failed");
    }
  }
  for (auto _ : state) {
    bool ok = true;
    for (int i = 0; i < 4; ++i)
      ok &= fc->EncryptTo(kOrderFields[i], kOrder[i], kRecord, &ct[i]).ok();
    auto idx = fc->BlindIndex(kOrderFields[1], kOrder[1]);
    if (!ok || !idx.ok()) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(ct);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

void RecordDecrypt(benchmark::State& state) {
  const FieldCryptor* fc = Cryptor();
  if (fc == nullptr) return state.SkipWithError("setup failed");
  std::string ct[4], back[4];
  for (int i = 0; i < 4; ++i) {
    if (!RoundTrip(*fc, kOrderFields[i], kOrder[i], kRecord, &ct[i])) {
      return state.SkipWithError("round trip failed");
    }
  }
  for (auto _ : state) {
    bool ok = true;
    for (int i = 0; i < 4; ++i) ok &= fc->DecryptTo(kOrderFields[i], ct[i], kRecord, &back[i]).ok();
    if (!ok) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(back);
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  for (int size : {8, 16, 32, 64, 256, 1024, 4096}) {
    benchmark::RegisterBenchmark("FieldEncrypt/piicrypt", FieldEncrypt)->Arg(size);
    benchmark::RegisterBenchmark("FieldEncryptNewString/piicrypt", FieldEncryptNewString)
        ->Arg(size);
    benchmark::RegisterBenchmark("FieldDecrypt/piicrypt", FieldDecrypt)->Arg(size);
    benchmark::RegisterBenchmark("FieldDecryptNewString/piicrypt", FieldDecryptNewString)
        ->Arg(size);
  }
  // Scaling: 1 and 2 threads sharing the cryptor, each with its own output string.
  benchmark::RegisterBenchmark("FieldEncrypt/piicrypt", FieldEncrypt)
      ->Arg(32)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("FieldDecrypt/piicrypt", FieldDecrypt)
      ->Arg(32)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  benchmark::RegisterBenchmark("DetEncrypt/piicrypt", Det<false>)->Arg(32);
  benchmark::RegisterBenchmark("DetDecrypt/piicrypt", Det<true>)->Arg(32);
  benchmark::RegisterBenchmark("RecordEncrypt/piicrypt/order", RecordEncrypt);
  benchmark::RegisterBenchmark("RecordDecrypt/piicrypt/order", RecordDecrypt);
  benchmark::RegisterBenchmark("FieldBlindIndex/piicrypt/email", FieldBlindIndexEmail);
  benchmark::RegisterBenchmark("FieldBlindIndexNewString/piicrypt/email",
                               FieldBlindIndexNewStringEmail);
  benchmark::RegisterBenchmark("FieldBlindIndex/piicrypt/phone", FieldBlindIndexPhone);
  benchmark::RegisterBenchmark("FieldBlindIndex/piicrypt/phone_local", FieldBlindIndexPhoneLocal);
  benchmark::RegisterBenchmark("FieldBlindIndex/piicrypt/phone_first_seen",
                               FieldBlindIndexPhoneFirstSeen);
  benchmark::RegisterBenchmark("FieldBlindIndex/piicrypt/phone_local_first_seen",
                               FieldBlindIndexPhoneLocalFirstSeen);
  return 0;
}();

}  // namespace
}  // namespace piicrypt
