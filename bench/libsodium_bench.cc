// Peer: libsodium used as CipherSweet's modern backend uses it. Field encryption:
// XChaCha20-Poly1305 (IETF) with a fresh randombytes_buf nonce per value, the field and
// record as associated data, stored as "nacl:" + base64url(nonce || ciphertext || tag).
// Blind index: keyed BLAKE2b (crypto_generichash) of the lower-cased value, its first 32
// bits in hex. No deterministic mode. And, as a primitive-level peer of AeadEncrypt and
// AeadDecrypt, libsodium's binary AES-256-GCM. Built when pkg-config finds libsodium (Debian
// libsodium-dev).
#ifdef PIICRYPT_BENCH_HAVE_LIBSODIUM

#include <sodium.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "benchmark/benchmark.h"

namespace {

constexpr char kPrefix[] = "nacl:";
constexpr size_t kPrefixSize = sizeof(kPrefix) - 1;
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

// The field and record bound into each value, as piicrypt binds them.
const std::string kAd = "orders.customer_email|order-0001234";

struct Keys {
  uint8_t aead[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  uint8_t index[crypto_generichash_KEYBYTES];
};

const Keys* GetKeys() {
  static const Keys* const keys = []() -> const Keys* {
    if (sodium_init() < 0) return nullptr;
    auto* k = new Keys;
    crypto_aead_xchacha20poly1305_ietf_keygen(k->aead);
    randombytes_buf(k->index, sizeof(k->index));
    return k;
  }();
  return keys;
}

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Encrypts `value` into `*text` (its capacity reused), with `scratch` for the binary form.
bool Encrypt(const Keys& k, const std::string& value, std::string* scratch, std::string* text) {
  scratch->resize(kNonce + value.size() + kTag);
  auto* bin = reinterpret_cast<uint8_t*>(scratch->data());
  randombytes_buf(bin, kNonce);
  unsigned long long clen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(bin + kNonce, &clen, U8(value), value.size(),
                                                 U8(kAd), kAd.size(), nullptr, bin, k.aead) != 0) {
    return false;
  }
  const size_t chars = sodium_base64_encoded_len(scratch->size(), kVariant);  // with its NUL
  text->resize(kPrefixSize + chars);
  std::memcpy(text->data(), kPrefix, kPrefixSize);
  sodium_bin2base64(text->data() + kPrefixSize, chars, bin, scratch->size(), kVariant);
  text->resize(kPrefixSize + chars - 1);
  return true;
}

// Decrypts `text` into `*plain` (its capacity reused), with `scratch` for the binary form.
bool Decrypt(const Keys& k, const std::string& text, std::string* scratch, std::string* plain) {
  if (text.compare(0, kPrefixSize, kPrefix) != 0) return false;
  scratch->resize(text.size());
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<uint8_t*>(scratch->data()), scratch->size(),
                        text.data() + kPrefixSize, text.size() - kPrefixSize, nullptr, &len,
                        nullptr, kVariant) != 0 ||
      len < kNonce + kTag) {
    return false;
  }
  const auto* bin = reinterpret_cast<const uint8_t*>(scratch->data());
  plain->resize(len - kNonce - kTag);
  unsigned long long plen = 0;
  return crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<uint8_t*>(plain->data()),
                                                    &plen, nullptr, bin + kNonce, len - kNonce,
                                                    U8(kAd), kAd.size(), bin, k.aead) == 0;
}

// Lower-case keyed BLAKE2b, first 32 bits in hex.
std::string BlindIndex(const Keys& k, const std::string& value) {
  std::string lower = value;
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  uint8_t hash[32];
  crypto_generichash(hash, sizeof(hash), U8(lower), lower.size(), k.index, sizeof(k.index));
  char hex[2 * 4 + 1];
  sodium_bin2hex(hex, sizeof(hex), hash, 4);
  sodium_memzero(&lower[0], lower.size());
  return std::string(hex, 8);
}

bool RoundTrips(const Keys& k, const std::string& value) {
  std::string scratch, text, back;
  return Encrypt(k, value, &scratch, &text) && Decrypt(k, text, &scratch, &back) && back == value;
}

void FieldEncrypt(benchmark::State& state) {
  const Keys* k = GetKeys();
  const std::string value(state.range(0), 'x');
  if (k == nullptr || !RoundTrips(*k, value)) return state.SkipWithError("round trip failed");
  std::string scratch, text;
  for (auto _ : state) {
    if (!Encrypt(*k, value, &scratch, &text)) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(text.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldDecrypt(benchmark::State& state) {
  const Keys* k = GetKeys();
  const std::string value(state.range(0), 'x');
  std::string scratch, text, plain;
  if (k == nullptr || !RoundTrips(*k, value) || !Encrypt(*k, value, &scratch, &text)) {
    return state.SkipWithError("round trip failed");
  }
  for (auto _ : state) {
    if (!Decrypt(*k, text, &scratch, &plain)) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(plain.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldBlindIndexEmail(benchmark::State& state) {
  const Keys* k = GetKeys();
  if (k == nullptr) return state.SkipWithError("setup failed");
  const std::string value = "Customer.Name.0042@Example.co.uk";
  if (BlindIndex(*k, value) != BlindIndex(*k, "customer.name.0042@example.co.uk")) {
    return state.SkipWithError("index not normalized");
  }
  for (auto _ : state) {
    std::string idx = BlindIndex(*k, value);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

// The order record of field_bench.cc: four fields and the e-mail's blind index.
const char* const kOrder[] = {"Jane Doe", "Customer.Name.0042@Example.co.uk", "+61255500199",
                              "1 Long Street, Sydney NSW 2000"};

void RecordEncrypt(benchmark::State& state) {
  const Keys* k = GetKeys();
  if (k == nullptr || !RoundTrips(*k, kOrder[0])) return state.SkipWithError("round trip failed");
  const std::string values[] = {kOrder[0], kOrder[1], kOrder[2], kOrder[3]};
  std::string scratch, text[4], idx;
  for (auto _ : state) {
    bool ok = true;
    for (int i = 0; i < 4; ++i) ok &= Encrypt(*k, values[i], &scratch, &text[i]);
    idx = BlindIndex(*k, values[1]);
    if (!ok) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(text);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}

void RecordDecrypt(benchmark::State& state) {
  const Keys* k = GetKeys();
  if (k == nullptr) return state.SkipWithError("setup failed");
  std::string scratch, text[4], plain[4];
  for (int i = 0; i < 4; ++i) {
    if (!Encrypt(*k, kOrder[i], &scratch, &text[i]) || !Decrypt(*k, text[i], &scratch, &plain[i]) ||
        plain[i] != kOrder[i]) {
      return state.SkipWithError("round trip failed");
    }
  }
  for (auto _ : state) {
    bool ok = true;
    for (int i = 0; i < 4; ++i) ok &= Decrypt(*k, text[i], &scratch, &plain[i]);
    if (!ok) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(plain);
  }
  state.SetItemsProcessed(state.iterations());
}

// Binary AES-256-GCM on precomputed key state (crypto_aead_aes256gcm_beforenm), with a
// randombytes_buf nonce per value: libsodium's fastest AEAD where the CPU has AES-NI,
// against AeadEncrypt/AeadDecrypt (crypto_bench.cc), same associated data size class.
struct GcmState {
  crypto_aead_aes256gcm_state state;
};

const GcmState* GetGcm() {
  static const GcmState* const gcm = []() -> const GcmState* {
    if (GetKeys() == nullptr || crypto_aead_aes256gcm_is_available() == 0) return nullptr;
    auto* g = static_cast<GcmState*>(sodium_malloc(sizeof(GcmState)));  // 16-byte aligned
    uint8_t key[crypto_aead_aes256gcm_KEYBYTES];
    randombytes_buf(key, sizeof(key));
    crypto_aead_aes256gcm_beforenm(&g->state, key);
    sodium_memzero(key, sizeof(key));
    return g;
  }();
  return gcm;
}

constexpr size_t kGcmNonce = crypto_aead_aes256gcm_NPUBBYTES;  // 12

bool GcmEncrypt(const GcmState& g, const std::string& value, std::string* out) {
  out->resize(kGcmNonce + value.size() + crypto_aead_aes256gcm_ABYTES);
  auto* bin = reinterpret_cast<uint8_t*>(out->data());
  randombytes_buf(bin, kGcmNonce);
  unsigned long long clen = 0;
  return crypto_aead_aes256gcm_encrypt_afternm(bin + kGcmNonce, &clen, U8(value), value.size(),
                                               U8(kAd), kAd.size(), nullptr, bin, &g.state) == 0;
}

bool GcmDecrypt(const GcmState& g, const std::string& in, std::string* plain) {
  plain->resize(in.size() - kGcmNonce - crypto_aead_aes256gcm_ABYTES);
  unsigned long long plen = 0;
  return crypto_aead_aes256gcm_decrypt_afternm(reinterpret_cast<uint8_t*>(plain->data()), &plen,
                                               nullptr, U8(in) + kGcmNonce, in.size() - kGcmNonce,
                                               U8(kAd), kAd.size(), U8(in), &g.state) == 0;
}

// AeadEncrypt (kDecrypt false) and AeadDecrypt: one value of state.range(0) bytes, again
// and again, into a buffer the loop keeps.
template <bool kDecrypt>
void Aead(benchmark::State& state) {
  const GcmState* g = GetGcm();
  const std::string value(state.range(0), 'x');
  std::string ct, back;
  if (g == nullptr || !GcmEncrypt(*g, value, &ct) || !GcmDecrypt(*g, ct, &back) || back != value) {
    return state.SkipWithError("AES-GCM unavailable or round trip failed");
  }
  for (auto _ : state) {
    if constexpr (kDecrypt) {
      if (!GcmDecrypt(*g, ct, &back)) return state.SkipWithError("decrypt failed");
      benchmark::DoNotOptimize(back.data());
    } else {
      if (!GcmEncrypt(*g, value, &ct)) return state.SkipWithError("encrypt failed");
      benchmark::DoNotOptimize(ct.data());
    }
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  for (int size : {8, 16, 32, 64, 256, 1024, 4096}) {
    benchmark::RegisterBenchmark("FieldEncrypt/libsodium", FieldEncrypt)->Arg(size);
    benchmark::RegisterBenchmark("FieldDecrypt/libsodium", FieldDecrypt)->Arg(size);
  }
  for (int size : {16, 32, 64, 256}) {
    benchmark::RegisterBenchmark("AeadEncrypt/libsodium", Aead<false>)->Arg(size);
    benchmark::RegisterBenchmark("AeadDecrypt/libsodium", Aead<true>)->Arg(size);
  }
  benchmark::RegisterBenchmark("FieldBlindIndex/libsodium/email", FieldBlindIndexEmail);
  benchmark::RegisterBenchmark("RecordEncrypt/libsodium/order", RecordEncrypt);
  benchmark::RegisterBenchmark("RecordDecrypt/libsodium/order", RecordDecrypt);
  return 0;
}();

}  // namespace

#endif  // PIICRYPT_BENCH_HAVE_LIBSODIUM
