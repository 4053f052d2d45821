// FF1 benchmarks: piicrypt's FF1 against one AES block on a reused context (the unit of
// cost) and against a naive FF1 (a fresh EVP context per call and a CBC-MAC over the
// whole of P || Q in every round) in the same run. The figures that count are the
// ratios: Ff1Encrypt/piicrypt/10digits in AesBlock/openssl/1 units (target <= 24), and
// Ff1Encrypt/naive/10digits over Ff1Encrypt/piicrypt/10digits (target >= 3).
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/fpe/ff1.h"

namespace piicrypt::internal {
namespace {

__extension__ typedef unsigned __int128 Uint128;

const uint8_t kKey[32] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15,
                          0x88, 0x09, 0xcf, 0x4f, 0x3c, 0xef, 0x43, 0x59, 0xd8, 0xd5, 0x80,
                          0xaa, 0x4f, 0x7f, 0x03, 0x6d, 0x6f, 0x04, 0xfc, 0x6a, 0x94};
const uint8_t kTweak[8] = {'o', 'r', 'd', 'e', 'r', '-', '4', '2'};

std::unique_ptr<Ff1> MakeFf1() {
  auto ff1 = Ff1::Create(absl::MakeConstSpan(kKey));
  return ff1.ok() ? *std::move(ff1) : nullptr;
}

// A naive FF1 for radix-10 messages of up to 18 digits: straight from the standard,
// with a fresh cipher context per call (cipher lookup and key schedule every time) and
// the CBC-MAC recomputed over all of P || Q in every round. Its arithmetic is as cheap
// as piicrypt's fast path, so the comparison isolates the use of OpenSSL.
bool NaiveFf1Encrypt(const uint16_t* in, size_t n, uint16_t* out) {
  const uint32_t radix = 10;
  const size_t u = n / 2, v = n - u, t = sizeof(kTweak);
  uint64_t pow_u = 1, pow_v = 1;
  for (size_t i = 0; i < u; ++i) pow_u *= radix;
  for (size_t i = 0; i < v; ++i) pow_v *= radix;
  size_t b = 0;
  for (uint64_t x = pow_v - 1; x != 0; x >>= 8) ++b;
  const size_t d = 4 * ((b + 3) / 4) + 4;
  uint64_t a = 0, bb = 0;
  for (size_t i = 0; i < u; ++i) a = a * radix + in[i];
  for (size_t i = u; i < n; ++i) bb = bb * radix + in[i];

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const uint8_t zero_iv[16] = {};
  if (ctx == nullptr || EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, kKey, zero_iv) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return false;
  }
  uint8_t pq[64] = {1, 2, 1, 0, 0, static_cast<uint8_t>(radix), 10, static_cast<uint8_t>(u)};
  pq[11] = static_cast<uint8_t>(n);
  pq[15] = static_cast<uint8_t>(t);
  const size_t q_size = t + (16 - (t + b + 1) % 16) % 16 + 1 + b;
  uint8_t mac[64];
  bool ok = true;
  for (int i = 0; i < 10 && ok; ++i) {
    uint8_t* q = pq + 16;
    std::memset(q, 0, q_size);
    std::memcpy(q, kTweak, t);
    q[q_size - b - 1] = static_cast<uint8_t>(i);
    uint64_t x = bb;
    for (size_t k = 0; k < b; ++k, x >>= 8) q[q_size - 1 - k] = static_cast<uint8_t>(x);
    int len = 0;
    ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, zero_iv) == 1 &&
         EVP_EncryptUpdate(ctx, mac, &len, pq, static_cast<int>(16 + q_size)) == 1;
    const uint8_t* r = mac + 16 + q_size - 16;
    Uint128 y = 0;
    for (size_t k = 0; k < d; ++k) y = (y << 8) | r[k];
    const uint64_t m = (i % 2 == 0) ? pow_u : pow_v;
    const uint64_t c = static_cast<uint64_t>((a + y % m) % m);
    a = bb;
    bb = c;
  }
  EVP_CIPHER_CTX_free(ctx);
  for (size_t k = u; k-- > 0; a /= radix) out[k] = static_cast<uint16_t>(a % radix);
  for (size_t k = n; k-- > u; bb /= radix) out[k] = static_cast<uint16_t>(bb % radix);
  return ok;
}

constexpr std::array<uint16_t, 10> kTenDigits = {4, 1, 5, 5, 5, 0, 1, 9, 9, 2};
constexpr std::array<uint16_t, 16> kSixteenDigits = {4, 1, 1, 1, 1, 1, 1, 1,
                                                     1, 1, 1, 1, 1, 1, 1, 1};

template <size_t N>
void Ff1EncryptDigits(benchmark::State& state, const std::array<uint16_t, N>& in) {
  auto ff1 = MakeFf1();
  if (ff1 == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  std::array<uint16_t, N> out;
  for (auto _ : state) {
    absl::Status s = ff1->Encrypt(10, absl::MakeConstSpan(kTweak), in, absl::MakeSpan(out));
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Ff1Encrypt10(benchmark::State& state) { Ff1EncryptDigits(state, kTenDigits); }
void BM_Ff1Encrypt16(benchmark::State& state) { Ff1EncryptDigits(state, kSixteenDigits); }

void BM_Ff1Decrypt10(benchmark::State& state) {
  auto ff1 = MakeFf1();
  std::array<uint16_t, 10> ct, out;
  if (ff1 == nullptr ||
      !ff1->Encrypt(10, absl::MakeConstSpan(kTweak), kTenDigits, absl::MakeSpan(ct)).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = ff1->Decrypt(10, absl::MakeConstSpan(kTweak), ct, absl::MakeSpan(out));
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  if (out != kTenDigits) state.SkipWithError("decryption does not round-trip");
  state.SetItemsProcessed(state.iterations());
}

// A 16-digit card (last four kept, deliberately Luhn-invalid output: cycle-walking, about
// ten FF1 calls on 12 digits per value), over a rotating set of Luhn-valid numbers.
void BM_Ff1EncryptCard16(benchmark::State& state) {
  FpeFieldOptions options;
  options.context = "orders.card";
  options.codec = FpeCodec::kCard;
  auto field =
      FormatPreservingField::CreateWithKey(options, SecretDataFromBytes(absl::MakeConstSpan(kKey)));
  if (!field.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  std::mt19937 rng(16);
  std::vector<std::string> cards;
  while (cards.size() < 64) {
    std::string card = "4";
    for (int i = 0; i < 15; ++i) card += static_cast<char>('0' + rng() % 10);
    int sum = 0;
    for (int i = 15, pos = 0; i >= 0; --i, ++pos) {
      int digit = card[i] - '0';
      if (pos % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
      sum += digit;
    }
    if (sum % 10 == 0) cards.push_back(card);
  }
  size_t i = 0;
  for (auto _ : state) {
    auto ct = (*field)->Encrypt(cards[i++ % cards.size()], "order-42");
    benchmark::DoNotOptimize(ct);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AesBlock(benchmark::State& state) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr);
  if (ctx == nullptr || cipher == nullptr ||
      EVP_EncryptInit_ex2(ctx, cipher, kKey, nullptr, nullptr) != 1) {
    state.SkipWithError("setup failed");
    EVP_CIPHER_free(cipher);
    EVP_CIPHER_CTX_free(ctx);
    return;
  }
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  uint8_t block[16] = {1, 2, 3};
  for (auto _ : state) {
    int len = 0;
    EVP_EncryptUpdate(ctx, block, &len, block, 16);
    benchmark::DoNotOptimize(block);
  }
  state.SetItemsProcessed(state.iterations());
  EVP_CIPHER_free(cipher);
  EVP_CIPHER_CTX_free(ctx);
}

void BM_NaiveFf1Encrypt10(benchmark::State& state) {
  auto ff1 = MakeFf1();
  std::array<uint16_t, 10> expected, out;
  if (ff1 == nullptr ||
      !ff1->Encrypt(10, absl::MakeConstSpan(kTweak), kTenDigits, absl::MakeSpan(expected)).ok() ||
      !NaiveFf1Encrypt(kTenDigits.data(), kTenDigits.size(), out.data()) || out != expected) {
    state.SkipWithError("the naive FF1 disagrees with piicrypt's");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(NaiveFf1Encrypt(kTenDigits.data(), kTenDigits.size(), out.data()));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// Setup, measured apart from the steady state: key check and the first keyed context.
void BM_Ff1Create(benchmark::State& state) {
  for (auto _ : state) {
    auto ff1 = Ff1::Create(absl::MakeConstSpan(kKey));
    benchmark::DoNotOptimize(ff1);
  }
}

BENCHMARK(BM_AesBlock)->Name("AesBlock/openssl/1");
BENCHMARK(BM_Ff1Encrypt10)->Name("Ff1Encrypt/piicrypt/10digits");
BENCHMARK(BM_Ff1Encrypt16)->Name("Ff1Encrypt/piicrypt/16digits");
BENCHMARK(BM_Ff1EncryptCard16)->Name("Ff1Encrypt/piicrypt/card16");
BENCHMARK(BM_Ff1Decrypt10)->Name("Ff1Decrypt/piicrypt/10digits");
BENCHMARK(BM_NaiveFf1Encrypt10)->Name("Ff1Encrypt/naive/10digits");
BENCHMARK(BM_Ff1Create)->Name("Ff1Create/piicrypt");

}  // namespace
}  // namespace piicrypt::internal
