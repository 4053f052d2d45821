// Peer: MongoDB's libmongocrypt (client-side field level encryption), explicit encryption
// as a MongoDB driver runs it per field once its data key is cached: a whole
// explicit-encrypt (or -decrypt) context per value, the key document fed from memory
// whenever the context asks for it, a local KMS master key (so no network). Algorithms
// AEAD_AES_256_CBC_HMAC_SHA_512-Random (FieldEncrypt, FieldDecrypt) and -Deterministic
// (DetEncrypt, DetDecrypt, and equality lookups in its record). Values travel as the BSON
// documents {"v": value} and {"v": BinData(6, ciphertext)}, as libmongocrypt takes them.
// Built when pkg-config finds libmongocrypt (Debian libmongocrypt-dev).
#ifdef PIICRYPT_BENCH_HAVE_LIBMONGOCRYPT

#include <bson/bson.h>
extern "C" {  // (mongocrypt.h has no C++ guard of its own)
#include <mongocrypt/mongocrypt.h>
}

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr char kRandom[] = "AEAD_AES_256_CBC_HMAC_SHA_512-Random";
constexpr char kDeterministic[] = "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic";

// A non-owning mongocrypt_binary_t view of `bytes`.
struct View {
  explicit View(const Bytes& bytes)
      : b(mongocrypt_binary_new_from_data(const_cast<uint8_t*>(bytes.data()),
                                          static_cast<uint32_t>(bytes.size()))) {}
  ~View() { mongocrypt_binary_destroy(b); }
  mongocrypt_binary_t* b;
};

Bytes BsonBytes(const bson_t* doc) {
  const uint8_t* data = bson_get_data(doc);
  return Bytes(data, data + doc->len);
}

// {"v": value}
Bytes ValueDocument(const std::string& value) {
  bson_t doc;
  bson_init(&doc);
  bson_append_utf8(&doc, "v", 1, value.data(), static_cast<int>(value.size()));
  Bytes out = BsonBytes(&doc);
  bson_destroy(&doc);
  return out;
}

// The string "v" of a decrypted document, or "" (with *ok false).
std::string ValueOf(const Bytes& doc, bool* ok) {
  bson_t view;
  bson_iter_t it;
  *ok = bson_init_static(&view, doc.data(), doc.size()) && bson_iter_init_find(&it, &view, "v") &&
        BSON_ITER_HOLDS_UTF8(&it);
  if (!*ok) return "";
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  return std::string(s, len);
}

// One mongocrypt_t (a driver has one per client) with a local master key and one data key.
struct Mongo {
  mongocrypt_t* crypt = nullptr;
  Bytes key_document;  // as stored in the key vault collection
  Bytes key_id;        // its _id, a UUID

  // Runs `ctx` to the end as a driver does, feeding the key document when asked; the
  // finalized document in *out.
  bool Run(mongocrypt_ctx_t* ctx, Bytes* out) const {
    for (;;) {
      switch (mongocrypt_ctx_state(ctx)) {
        case MONGOCRYPT_CTX_NEED_MONGO_KEYS: {
          View doc(key_document);
          if (!mongocrypt_ctx_mongo_feed(ctx, doc.b) || !mongocrypt_ctx_mongo_done(ctx)) {
            return false;
          }
          break;
        }
        case MONGOCRYPT_CTX_NEED_KMS:
          if (!mongocrypt_ctx_kms_done(ctx)) return false;
          break;
        case MONGOCRYPT_CTX_READY: {
          mongocrypt_binary_t* result = mongocrypt_binary_new();
          const bool ok = mongocrypt_ctx_finalize(ctx, result);
          if (ok) {
            const uint8_t* data = mongocrypt_binary_data(result);
            out->assign(data, data + mongocrypt_binary_len(result));
          }
          mongocrypt_binary_destroy(result);
          return ok;
        }
        default:
          return false;
      }
    }
  }

  // {"v": value} -> {"v": BinData(6, ...)}
  bool Encrypt(const char* algorithm, const Bytes& value_doc, Bytes* out) const {
    mongocrypt_ctx_t* ctx = mongocrypt_ctx_new(crypt);
    View id(key_id), doc(value_doc);
    const bool ok = ctx != nullptr && mongocrypt_ctx_setopt_key_id(ctx, id.b) &&
                    mongocrypt_ctx_setopt_algorithm(ctx, algorithm, -1) &&
                    mongocrypt_ctx_explicit_encrypt_init(ctx, doc.b) && Run(ctx, out);
    mongocrypt_ctx_destroy(ctx);
    return ok;
  }

  bool Decrypt(const Bytes& encrypted_doc, Bytes* out) const {
    mongocrypt_ctx_t* ctx = mongocrypt_ctx_new(crypt);
    View doc(encrypted_doc);
    const bool ok =
        ctx != nullptr && mongocrypt_ctx_explicit_decrypt_init(ctx, doc.b) && Run(ctx, out);
    mongocrypt_ctx_destroy(ctx);
    return ok;
  }
};

bool CreateDataKey(Mongo& m) {
  mongocrypt_ctx_t* ctx = mongocrypt_ctx_new(m.crypt);
  bson_t kek;
  bson_init(&kek);
  BSON_APPEND_UTF8(&kek, "provider", "local");
  const Bytes kek_bytes = BsonBytes(&kek);
  bson_destroy(&kek);
  View kek_view(kek_bytes);
  const bool ok = ctx != nullptr && mongocrypt_ctx_setopt_key_encryption_key(ctx, kek_view.b) &&
                  mongocrypt_ctx_datakey_init(ctx) && m.Run(ctx, &m.key_document);
  mongocrypt_ctx_destroy(ctx);
  if (!ok) return false;
  bson_t doc;
  bson_iter_t it;
  bson_subtype_t subtype;
  uint32_t len = 0;
  const uint8_t* id = nullptr;
  if (!bson_init_static(&doc, m.key_document.data(), m.key_document.size()) ||
      !bson_iter_init_find(&it, &doc, "_id") || !BSON_ITER_HOLDS_BINARY(&it)) {
    return false;
  }
  bson_iter_binary(&it, &subtype, &len, &id);
  m.key_id.assign(id, id + len);
  return subtype == BSON_SUBTYPE_UUID && len == 16;
}

const Mongo* GetMongo() {
  static const Mongo* const mongo = []() -> const Mongo* {
    auto m = std::make_unique<Mongo>();
    m->crypt = mongocrypt_new();
    Bytes master(96, 0x42);  // a local KMS master key is 96 bytes
    View master_view(master);
    if (m->crypt == nullptr || !mongocrypt_setopt_kms_provider_local(m->crypt, master_view.b) ||
        !mongocrypt_init(m->crypt) || !CreateDataKey(*m)) {
      return nullptr;
    }
    return m.release();
  }();
  return mongo;
}

// Checks one round trip of `algorithm` before a run is timed.
bool RoundTrips(const Mongo& m, const char* algorithm, const std::string& value) {
  Bytes ct, back;
  bool ok = false;
  return m.Encrypt(algorithm, ValueDocument(value), &ct) && m.Decrypt(ct, &back) &&
         ValueOf(back, &ok) == value && ok;
}

void EncryptWith(benchmark::State& state, const char* algorithm) {
  const Mongo* m = GetMongo();
  const std::string value(state.range(0), 'x');
  if (m == nullptr || !RoundTrips(*m, algorithm, value)) {
    return state.SkipWithError("libmongocrypt round trip failed");
  }
  Bytes ct;
  for (auto _ : state) {
    if (!m->Encrypt(algorithm, ValueDocument(value), &ct)) {
      return state.SkipWithError("encrypt failed");
    }
    benchmark::DoNotOptimize(ct.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void DecryptWith(benchmark::State& state, const char* algorithm) {
  const Mongo* m = GetMongo();
  const std::string value(state.range(0), 'x');
  Bytes ct, back;
  if (m == nullptr || !RoundTrips(*m, algorithm, value) ||
      !m->Encrypt(algorithm, ValueDocument(value), &ct)) {
    return state.SkipWithError("libmongocrypt round trip failed");
  }
  for (auto _ : state) {
    bool ok = false;
    if (!m->Decrypt(ct, &back) || ValueOf(back, &ok).size() != value.size() || !ok) {
      return state.SkipWithError("decrypt failed");
    }
    benchmark::DoNotOptimize(back.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void FieldEncrypt(benchmark::State& state) { EncryptWith(state, kRandom); }
void FieldDecrypt(benchmark::State& state) { DecryptWith(state, kRandom); }
void DetEncrypt(benchmark::State& state) { EncryptWith(state, kDeterministic); }
void DetDecrypt(benchmark::State& state) { DecryptWith(state, kDeterministic); }

// The order record of field_bench.cc: four Random fields, and the e-mail address also
// encrypted Deterministic (libmongocrypt's way to look a value up by equality).
const char* const kOrder[] = {"Jane Doe", "Customer.Name.0042@Example.co.uk", "+61255500199",
                              "1 Long Street, Sydney NSW 2000"};

void RecordEncrypt(benchmark::State& state) {
  const Mongo* m = GetMongo();
  if (m == nullptr || !RoundTrips(*m, kRandom, kOrder[0])) {
    return state.SkipWithError("libmongocrypt round trip failed");
  }
  Bytes ct[5];
  for (auto _ : state) {
    bool ok = true;
    for (int i = 0; i < 4; ++i) ok &= m->Encrypt(kRandom, ValueDocument(kOrder[i]), &ct[i]);
    ok &= m->Encrypt(kDeterministic, ValueDocument(kOrder[1]), &ct[4]);
    if (!ok) return state.SkipWithError("encrypt failed");
    benchmark::DoNotOptimize(ct);
  }
  state.SetItemsProcessed(state.iterations());
}

void RecordDecrypt(benchmark::State& state) {
  const Mongo* m = GetMongo();
  if (m == nullptr) return state.SkipWithError("setup failed");
  Bytes ct[4], back[4];
  for (int i = 0; i < 4; ++i) {
    bool ok = false;
    if (!m->Encrypt(kRandom, ValueDocument(kOrder[i]), &ct[i]) || !m->Decrypt(ct[i], &back[i]) ||
        ValueOf(back[i], &ok) != kOrder[i] || !ok) {
      return state.SkipWithError("libmongocrypt round trip failed");
    }
  }
  for (auto _ : state) {
    bool ok = true;
    for (int i = 0; i < 4; ++i) ok &= m->Decrypt(ct[i], &back[i]);
    if (!ok) return state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(back);
  }
  state.SetItemsProcessed(state.iterations());
}

const int kRegistered = [] {
  for (int size : {8, 32, 256, 4096}) {
    benchmark::RegisterBenchmark("FieldEncrypt/libmongocrypt", FieldEncrypt)->Arg(size);
    benchmark::RegisterBenchmark("FieldDecrypt/libmongocrypt", FieldDecrypt)->Arg(size);
  }
  benchmark::RegisterBenchmark("DetEncrypt/libmongocrypt", DetEncrypt)->Arg(32);
  benchmark::RegisterBenchmark("DetDecrypt/libmongocrypt", DetDecrypt)->Arg(32);
  benchmark::RegisterBenchmark("RecordEncrypt/libmongocrypt/order", RecordEncrypt);
  benchmark::RegisterBenchmark("RecordDecrypt/libmongocrypt/order", RecordDecrypt);
  return 0;
}();

}  // namespace

#endif  // PIICRYPT_BENCH_HAVE_LIBMONGOCRYPT
