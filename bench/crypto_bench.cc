// piicrypt_bench: field-sized work for piicrypt and for baselines in the same binary.
// Names are OP/IMPL/SIZE. Compare ratios within one run; absolute times vary by machine.
//
//   openssl_naive: how most wrappers use OpenSSL (a fresh context, cipher lookup and key
//                  set-up per call, RAND_bytes per nonce, one-shot HMAC()).
//   openssl_floor: one reused keyed context and a counter nonce: the best plain EVP can
//                  do (and not safe to ship: counter nonces collide across processes).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac_sha256_fast.h"
#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {
namespace {

const std::vector<uint8_t> kKey32(32, 0x42);
const std::vector<uint8_t> kKey64(64, 0x42);

// The associated data of a typical field: header || lp(context) || lp(record).
const std::string& Aad() {
  static const std::string* const ad = new std::string(AssociatedData(
      std::string("\x01\x00\x00\x00\x07", 5), "orders.customer_email", "order-0001234"));
  return *ad;
}

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
uint8_t* U8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

void Fail(benchmark::State& state, const char* what) { state.SkipWithError(what); }

// ---- AES-256-GCM ------------------------------------------------------------------

void AeadEncryptPiicrypt(benchmark::State& state) {
  auto gcm = AesGcm::Create(kKey32);
  if (!gcm.ok()) return Fail(state, "setup failed");
  const std::string pt(state.range(0), 'x');
  std::string out(pt.size() + AesGcm::kOverhead, '\0');
  for (auto _ : state) {
    if (!(*gcm)->EncryptRandomNonce(pt, Aad(), absl::MakeSpan(U8(out), out.size())).ok()) {
      return Fail(state, "encrypt failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void AeadEncryptNaive(benchmark::State& state) {
  const std::string pt(state.range(0), 'x');
  std::string out(pt.size() + 28, '\0');
  for (auto _ : state) {
    uint8_t* nonce = U8(out);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    bool ok =
        ctx != nullptr && RAND_bytes(nonce, 12) == 1 &&
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, kKey32.data(), nonce) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, U8(Aad()), static_cast<int>(Aad().size())) == 1 &&
        EVP_EncryptUpdate(ctx, nonce + 12, &len, U8(pt), static_cast<int>(pt.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, nullptr, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, nonce + 12 + pt.size()) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return Fail(state, "encrypt failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void AeadEncryptFloor(benchmark::State& state) {
  SslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (EVP_EncryptInit_ex(ctx.get(), AesCipher(AesMode::kGcm, 32), nullptr, kKey32.data(),
                         nullptr) != 1) {
    return Fail(state, "setup failed");
  }
  const std::string pt(state.range(0), 'x');
  std::string out(pt.size() + 28, '\0');
  uint64_t counter = 0;
  for (auto _ : state) {
    uint8_t* nonce = U8(out);
    ++counter;
    std::memset(nonce, 0, 4);
    std::memcpy(nonce + 4, &counter, 8);
    int len = 0;
    if (EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, U8(Aad()), static_cast<int>(Aad().size())) !=
            1 ||
        EVP_EncryptUpdate(ctx.get(), nonce + 12, &len, U8(pt), static_cast<int>(pt.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), nullptr, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, 16, nonce + 12 + pt.size()) != 1) {
      return Fail(state, "encrypt failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// A valid nonce || ciphertext || tag of `size` bytes of plaintext, for the decrypt runs.
std::string GcmCiphertext(size_t size) {
  auto gcm = *AesGcm::Create(kKey32);
  const std::string pt(size, 'x');
  std::string out(size + AesGcm::kOverhead, '\0');
  if (!gcm->EncryptRandomNonce(pt, Aad(), absl::MakeSpan(U8(out), out.size())).ok()) return "";
  return out;
}

void AeadDecryptPiicrypt(benchmark::State& state) {
  auto gcm = AesGcm::Create(kKey32);
  const std::string ct = GcmCiphertext(state.range(0));
  if (!gcm.ok() || ct.empty()) return Fail(state, "setup failed");
  std::string pt(state.range(0), '\0');
  for (auto _ : state) {
    if (!(*gcm)->DecryptWithNonce(ct, Aad(), absl::MakeSpan(U8(pt), pt.size())).ok()) {
      return Fail(state, "decrypt failed");
    }
    benchmark::DoNotOptimize(pt.data());
  }
  state.SetItemsProcessed(state.iterations());
}

bool EvpGcmDecrypt(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher, const std::string& ct,
                   std::string& pt) {
  const size_t n = ct.size() - 28;
  int len = 0;
  return EVP_DecryptInit_ex(ctx, cipher, nullptr, cipher ? kKey32.data() : nullptr, U8(ct)) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &len, U8(Aad()), static_cast<int>(Aad().size())) == 1 &&
         EVP_DecryptUpdate(ctx, U8(pt), &len, U8(ct) + 12, static_cast<int>(n)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
                             const_cast<uint8_t*>(U8(ct) + 12 + n)) == 1 &&
         EVP_DecryptFinal_ex(ctx, nullptr, &len) == 1;
}

void AeadDecryptNaive(benchmark::State& state) {
  const std::string ct = GcmCiphertext(state.range(0));
  if (ct.empty()) return Fail(state, "setup failed");
  std::string pt(state.range(0), '\0');
  for (auto _ : state) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const bool ok = ctx != nullptr && EvpGcmDecrypt(ctx, EVP_aes_256_gcm(), ct, pt);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return Fail(state, "decrypt failed");
    benchmark::DoNotOptimize(pt.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void AeadDecryptFloor(benchmark::State& state) {
  const std::string ct = GcmCiphertext(state.range(0));
  SslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ct.empty() || EVP_DecryptInit_ex(ctx.get(), AesCipher(AesMode::kGcm, 32), nullptr,
                                       kKey32.data(), nullptr) != 1) {
    return Fail(state, "setup failed");
  }
  std::string pt(state.range(0), '\0');
  for (auto _ : state) {
    if (!EvpGcmDecrypt(ctx.get(), nullptr, ct, pt)) return Fail(state, "decrypt failed");
    benchmark::DoNotOptimize(pt.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- AES-SIV ----------------------------------------------------------------------

void DaeadEncryptPiicrypt(benchmark::State& state) {
  auto siv = AesSiv::Create(kKey64);
  if (!siv.ok()) return Fail(state, "setup failed");
  const std::string pt(state.range(0), 'x');
  std::string out(pt.size() + 16, '\0');
  const absl::string_view ads[] = {Aad()};
  for (auto _ : state) {
    if (!(*siv)->Encrypt(ads, pt, absl::MakeSpan(U8(out), out.size())).ok()) {
      return Fail(state, "encrypt failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void DaeadEncryptNaive(benchmark::State& state) {
  const std::string pt(state.range(0), 'x');
  std::string out(pt.size() + 16, '\0');
  for (auto _ : state) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER* siv = EVP_CIPHER_fetch(nullptr, "AES-256-SIV", nullptr);
    int len = 0;
    const bool ok =
        ctx != nullptr && siv != nullptr &&
        EVP_EncryptInit_ex(ctx, siv, nullptr, kKey64.data(), nullptr) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, U8(Aad()), static_cast<int>(Aad().size())) == 1 &&
        EVP_EncryptUpdate(ctx, U8(out) + 16, &len, U8(pt), static_cast<int>(pt.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, nullptr, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, U8(out)) == 1;
    EVP_CIPHER_free(siv);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return Fail(state, "encrypt failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void DaeadDecryptPiicrypt(benchmark::State& state) {
  auto siv = AesSiv::Create(kKey64);
  if (!siv.ok()) return Fail(state, "setup failed");
  const std::string pt(state.range(0), 'x');
  std::string ct(pt.size() + 16, '\0');
  const absl::string_view ads[] = {Aad()};
  if (!(*siv)->Encrypt(ads, pt, absl::MakeSpan(U8(ct), ct.size())).ok()) {
    return Fail(state, "setup failed");
  }
  std::string back(pt.size(), '\0');
  for (auto _ : state) {
    if (!(*siv)->Decrypt(ads, ct, absl::MakeSpan(U8(back), back.size())).ok()) {
      return Fail(state, "decrypt failed");
    }
    benchmark::DoNotOptimize(back.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void DaeadDecryptNaive(benchmark::State& state) {
  auto siv = AesSiv::Create(kKey64);
  const std::string pt(state.range(0), 'x');
  std::string ct(pt.size() + 16, '\0');
  const absl::string_view ads[] = {Aad()};
  if (!siv.ok() || !(*siv)->Encrypt(ads, pt, absl::MakeSpan(U8(ct), ct.size())).ok()) {
    return Fail(state, "setup failed");
  }
  std::string back(pt.size(), '\0');
  for (auto _ : state) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-SIV", nullptr);
    int len = 0;
    const bool ok =
        ctx != nullptr && cipher != nullptr &&
        EVP_DecryptInit_ex(ctx, cipher, nullptr, kKey64.data(), nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, U8(ct)) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &len, U8(Aad()), static_cast<int>(Aad().size())) == 1 &&
        EVP_DecryptUpdate(ctx, U8(back), &len, U8(ct) + 16, static_cast<int>(pt.size())) == 1 &&
        EVP_DecryptFinal_ex(ctx, nullptr, &len) == 1;
    EVP_CIPHER_free(cipher);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return Fail(state, "decrypt failed");
    benchmark::DoNotOptimize(back.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- HMAC-SHA256 (blind index) ------------------------------------------------------

// The blind index's HMAC: precomputed inner and outer SHA-256 states (hmac_sha256_fast.h).
void BlindIndexPiicrypt(benchmark::State& state) {
  const HmacSha256Fast hmac(kKey32);
  const std::string value(state.range(0), 'x');
  for (auto _ : state) {
    HmacSha256Fast::Tag tag = hmac.Compute(value);
    benchmark::DoNotOptimize(tag.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// The same midstate HMAC through EVP: keyed inner and outer digest contexts cloned per
// call (EVP_MD_CTX_copy_ex), the alternative hmac_sha256_fast.h was measured against.
void BlindIndexEvpMidstate(benchmark::State& state) {
  SslPtr<EVP_MD_CTX> inner(EVP_MD_CTX_new()), outer(EVP_MD_CTX_new()), work(EVP_MD_CTX_new());
  uint8_t ipad[64] = {}, opad[64] = {};
  for (size_t i = 0; i < 64; ++i) {
    const uint8_t k = i < kKey32.size() ? kKey32[i] : 0;
    ipad[i] = k ^ 0x36;
    opad[i] = k ^ 0x5c;
  }
  if (inner == nullptr || outer == nullptr || work == nullptr ||
      EVP_DigestInit_ex(inner.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(inner.get(), ipad, 64) != 1 ||
      EVP_DigestInit_ex(outer.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(outer.get(), opad, 64) != 1) {
    return Fail(state, "setup failed");
  }
  const std::string value(state.range(0), 'x');
  uint8_t hash[32], tag[32];
  unsigned int len = 0;
  for (auto _ : state) {
    if (EVP_MD_CTX_copy_ex(work.get(), inner.get()) != 1 ||
        EVP_DigestUpdate(work.get(), value.data(), value.size()) != 1 ||
        EVP_DigestFinal_ex(work.get(), hash, &len) != 1 ||
        EVP_MD_CTX_copy_ex(work.get(), outer.get()) != 1 ||
        EVP_DigestUpdate(work.get(), hash, sizeof(hash)) != 1 ||
        EVP_DigestFinal_ex(work.get(), tag, &len) != 1) {
      return Fail(state, "hmac failed");
    }
    benchmark::DoNotOptimize(tag);
  }
  state.SetItemsProcessed(state.iterations());
}

void BlindIndexNaive(benchmark::State& state) {
  const std::string value(state.range(0), 'x');
  uint8_t tag[32];
  unsigned int len = 0;
  for (auto _ : state) {
    if (HMAC(EVP_sha256(), kKey32.data(), 32, U8(value), value.size(), tag, &len) == nullptr) {
      return Fail(state, "hmac failed");
    }
    benchmark::DoNotOptimize(tag);
  }
  state.SetItemsProcessed(state.iterations());
}

void BlindIndexFloor(benchmark::State& state) {
  SslPtr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(HmacAlgorithm()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                         OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx.get(), kKey32.data(), 32, params) != 1) {
    return Fail(state, "setup failed");
  }
  const std::string value(state.range(0), 'x');
  uint8_t tag[32];
  size_t len = 0;
  for (auto _ : state) {
    if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(ctx.get(), U8(value), value.size()) != 1 ||
        EVP_MAC_final(ctx.get(), tag, &len, sizeof(tag)) != 1) {
      return Fail(state, "hmac failed");
    }
    benchmark::DoNotOptimize(tag);
  }
  state.SetItemsProcessed(state.iterations());
}

// One AesGcm shared by every thread of the run, as an application shares one keyset.
void AeadEncryptShared(benchmark::State& state) {
  static const AesGcm* const gcm = AesGcm::Create(kKey32)->release();
  const std::string pt(state.range(0), 'x');
  std::string out(pt.size() + AesGcm::kOverhead, '\0');
  for (auto _ : state) {
    if (!gcm->EncryptRandomNonce(pt, Aad(), absl::MakeSpan(U8(out), out.size())).ok()) {
      return Fail(state, "encrypt failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldSizes(benchmark::internal::Benchmark* b) {
  for (int size : {16, 32, 64, 256}) b->Arg(size);
}

const int kRegistered = [] {
  struct Entry {
    const char* name;
    void (*fn)(benchmark::State&);
  };
  const Entry entries[] = {
      {"AeadEncrypt/piicrypt", AeadEncryptPiicrypt},
      {"AeadEncrypt/openssl_naive", AeadEncryptNaive},
      {"AeadEncrypt/openssl_floor", AeadEncryptFloor},
      {"AeadDecrypt/piicrypt", AeadDecryptPiicrypt},
      {"AeadDecrypt/openssl_naive", AeadDecryptNaive},
      {"AeadDecrypt/openssl_floor", AeadDecryptFloor},
      {"DaeadEncrypt/piicrypt", DaeadEncryptPiicrypt},
      {"DaeadEncrypt/openssl_naive", DaeadEncryptNaive},
      {"DaeadDecrypt/piicrypt", DaeadDecryptPiicrypt},
      {"DaeadDecrypt/openssl_naive", DaeadDecryptNaive},
      {"BlindIndex/piicrypt", BlindIndexPiicrypt},
      {"BlindIndex/openssl_naive", BlindIndexNaive},
      {"BlindIndex/openssl_floor", BlindIndexFloor},
      {"BlindIndex/openssl_evp_midstate", BlindIndexEvpMidstate},
  };
  for (const Entry& e : entries) benchmark::RegisterBenchmark(e.name, e.fn)->Apply(FieldSizes);
  // Longer messages, on both sides of AesGcm's switch from the GCM mode code to EVP's
  // stitched AES-GCM (above 1 KiB).
  for (const Entry& e : {entries[0], entries[2], entries[3], entries[5]}) {
    benchmark::RegisterBenchmark(e.name, e.fn)->Arg(512)->Arg(1024)->Arg(2048)->Arg(16384);
  }
  // Scaling: the same encrypt from 1 and 2 threads sharing one object.
  benchmark::RegisterBenchmark("AeadEncrypt/piicrypt", AeadEncryptShared)
      ->Arg(32)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  return 0;
}();

}  // namespace
}  // namespace piicrypt::internal

BENCHMARK_MAIN();
