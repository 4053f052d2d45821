#include "src/fpe/ff1.h"

#include <openssl/bn.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/ssl_util.h"

namespace piicrypt::internal {

// One leased context: the keyed AES-ECB context, and the encryptions of the last few
// fixed blocks P (which depend only on radix, length and tweak length).
struct Ff1Context {
  struct PBlock {
    uint32_t radix = 0;  // 0: empty entry
    uint32_t length = 0;
    uint32_t tweak_size = 0;
    uint8_t encrypted[16] = {};
  };

  Ff1Context() = default;
  Ff1Context(const Ff1Context&) = delete;
  Ff1Context& operator=(const Ff1Context&) = delete;
  ~Ff1Context() { SecureWipe(p_cache.data(), sizeof(p_cache)); }

  SslPtr<EVP_CIPHER_CTX> ecb;
  std::array<PBlock, 4> p_cache{};
  size_t p_next = 0;
};

namespace {

__extension__ typedef unsigned __int128 Uint128;

constexpr size_t kBlock = 16;
constexpr size_t kRounds = 10;
// The fast path keeps each half in a Uint128 while radix^v <= 2^96: then b <= 12, so
// [i] || NUM(B) fits in the last block of Q and d <= 16 (S is R itself), and a sum of
// two values below radix^v cannot overflow.
constexpr size_t kFastMaxB = 12;

bool AesBlocks(EVP_CIPHER_CTX* ctx, const uint8_t* in, uint8_t* out, size_t blocks) {
  if (blocks == 0) return true;
  if (blocks > static_cast<size_t>(INT_MAX) / kBlock) return false;
  const int size = static_cast<int>(blocks * kBlock);
  int written = 0;
  return EVP_EncryptUpdate(ctx, out, &written, in, size) == 1 && written == size;
}

// A running AES CBC-MAC (zero IV): `x` is the chaining value with the first `fill`
// bytes of the current block already XORed in.
struct MacState {
  uint8_t x[kBlock];
  size_t fill;
};

bool MacAbsorb(EVP_CIPHER_CTX* ctx, MacState& st, const uint8_t* data, size_t size) {
  while (size > 0) {
    const size_t take = std::min(kBlock - st.fill, size);
    for (size_t k = 0; k < take; ++k) st.x[st.fill + k] ^= data[k];
    st.fill += take;
    data += take;
    size -= take;
    if (st.fill == kBlock) {
      if (!AesBlocks(ctx, st.x, st.x, 1)) return false;
      st.fill = 0;
    }
  }
  return true;
}

// Zero bytes leave the chaining value as it is; only completed blocks are encrypted.
bool MacAbsorbZeros(EVP_CIPHER_CTX* ctx, MacState& st, size_t size) {
  while (size > 0) {
    const size_t take = std::min(kBlock - st.fill, size);
    st.fill += take;
    size -= take;
    if (st.fill == kBlock) {
      if (!AesBlocks(ctx, st.x, st.x, 1)) return false;
      st.fill = 0;
    }
  }
  return true;
}

// P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 || [u mod 256]^1 || [n]^4 || [t]^4.
void BuildP(uint32_t radix, uint32_t n, uint32_t t, uint8_t p[kBlock]) {
  const uint32_t u = n / 2;
  p[0] = 1;
  p[1] = 2;
  p[2] = 1;
  p[3] = static_cast<uint8_t>(radix >> 16);
  p[4] = static_cast<uint8_t>(radix >> 8);
  p[5] = static_cast<uint8_t>(radix);
  p[6] = 10;
  p[7] = static_cast<uint8_t>(u & 0xff);
  for (int k = 0; k < 4; ++k) {
    p[8 + k] = static_cast<uint8_t>(n >> (24 - 8 * k));
    p[12 + k] = static_cast<uint8_t>(t >> (24 - 8 * k));
  }
}

// CIPH_K(P), from the context's cache when the same shape was seen recently.
bool EncryptedP(Ff1Context& ctx, uint32_t radix, uint32_t n, uint32_t t, uint8_t out[kBlock]) {
  for (const Ff1Context::PBlock& entry : ctx.p_cache) {
    if (entry.radix == radix && entry.length == n && entry.tweak_size == t) {
      std::memcpy(out, entry.encrypted, kBlock);
      return true;
    }
  }
  uint8_t p[kBlock];
  BuildP(radix, n, t, p);
  if (!AesBlocks(ctx.ecb.get(), p, out, 1)) return false;
  Ff1Context::PBlock& slot = ctx.p_cache[ctx.p_next];
  ctx.p_next = (ctx.p_next + 1) % ctx.p_cache.size();
  slot.radix = radix;
  slot.length = n;
  slot.tweak_size = t;
  std::memcpy(slot.encrypted, out, kBlock);
  return true;
}

// radix^e if it is at most `limit` (<= 2^112 so that nothing overflows), else 0.
Uint128 PowerAtMost(uint32_t radix, size_t e, Uint128 limit) {
  Uint128 p = 1;
  for (size_t i = 0; i < e; ++i) {
    p *= radix;
    if (p > limit) return 0;
  }
  return p;
}

int BitLength(Uint128 x) {
  int bits = 0;
  const uint64_t hi = static_cast<uint64_t>(x >> 64);
  const uint64_t lo = static_cast<uint64_t>(x);
  if (hi != 0) {
    bits = 128 - __builtin_clzll(hi);
  } else if (lo != 0) {
    bits = 64 - __builtin_clzll(lo);
  }
  return bits;
}

// NUM_radix(digits) for a value below 2^96: word-sized steps while the value fits.
Uint128 NumRadix(absl::Span<const uint16_t> digits, uint32_t radix) {
  uint64_t x64 = 0;
  size_t k = 0;
  for (; k < digits.size() && x64 <= (UINT64_MAX - 0xffff) / kFf1MaxRadix; ++k) {
    x64 = x64 * radix + digits[k];
  }
  Uint128 x = x64;
  for (; k < digits.size(); ++k) x = x * radix + digits[k];
  return x;
}

// STR^m_radix(x) into out (m = out.size()), most significant numeral first. Word-sized
// divisions once x fits in 64 bits; `Radix` is a compile-time radix (so that the compiler
// divides by multiplication) or 0 for `radix`.
template <uint32_t Radix>
void StrRadixImpl(Uint128 x, uint32_t radix, absl::Span<uint16_t> out) {
  const uint32_t r = Radix != 0 ? Radix : radix;
  size_t k = out.size();
  while (k > 0 && (x >> 64) != 0) {
    out[--k] = static_cast<uint16_t>(x % r);
    x /= r;
  }
  uint64_t x64 = static_cast<uint64_t>(x);
  while (k > 0) {
    out[--k] = static_cast<uint16_t>(x64 % r);
    x64 /= r;
  }
}

void StrRadix(Uint128 x, uint32_t radix, absl::Span<uint16_t> out) {
  if (radix == 10) {
    StrRadixImpl<10>(x, radix, out);
  } else {
    StrRadixImpl<0>(x, radix, out);
  }
}

// x mod m, with a word-sized division when both fit in 64 bits (the common case).
Uint128 Mod(Uint128 x, Uint128 m) {
  if ((x >> 64) == 0 && (m >> 64) == 0) {
    return static_cast<uint64_t>(x) % static_cast<uint64_t>(m);
  }
  return x % m;
}

uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t x;
  std::memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  x = __builtin_bswap64(x);
#endif
  return x;
}

uint32_t LoadBigEndian32(const uint8_t* p) {
  uint32_t x;
  std::memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  x = __builtin_bswap32(x);
#endif
  return x;
}

void StoreBigEndian128(Uint128 x, uint8_t* p) {
  uint64_t hi = static_cast<uint64_t>(x >> 64);
  uint64_t lo = static_cast<uint64_t>(x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  hi = __builtin_bswap64(hi);
  lo = __builtin_bswap64(lo);
#endif
  std::memcpy(p, &hi, sizeof(hi));
  std::memcpy(p + 8, &lo, sizeof(lo));
}

// NUM(S) for the d <= 16 bytes of S; d is always a multiple of 4 (d = 4 ceil(b/4) + 4).
Uint128 LoadBigEndian(const uint8_t* p, size_t size) {
  Uint128 x = 0;
  size_t k = 0;
  if (size % 8 != 0) {
    x = LoadBigEndian32(p);
    k = 4;
  }
  for (; k < size; k += 8) x = (x << 64) | LoadBigEndian64(p + k);
  return x;
}

// ---- the general path: OpenSSL BIGNUMs ----

using BnPtr = SslPtr<BIGNUM>;
using BnCtxPtr = SslPtr<BN_CTX>;

// The largest power of `radix` that fits in 32 bits, and its exponent, so that numeral
// conversions work on whole words whatever the size of BN_ULONG.
std::pair<BN_ULONG, size_t> WordChunk(uint32_t radix) {
  uint64_t mul = 1;
  size_t k = 0;
  while (mul <= 0xffffffffu / radix) {
    mul *= radix;
    ++k;
  }
  return {static_cast<BN_ULONG>(mul), k};
}

bool BnNumRadix(absl::Span<const uint16_t> digits, uint32_t radix, BIGNUM* x) {
  BN_zero(x);
  size_t i = 0;
  while (i < digits.size()) {
    uint64_t mul = 1, val = 0;
    while (i < digits.size() && mul <= 0xffffffffu / radix) {
      mul *= radix;
      val = val * radix + digits[i];
      ++i;
    }
    if (BN_mul_word(x, static_cast<BN_ULONG>(mul)) != 1 ||
        BN_add_word(x, static_cast<BN_ULONG>(val)) != 1) {
      return false;
    }
  }
  return true;
}

// Consumes x (it ends as 0).
bool BnStrRadix(BIGNUM* x, uint32_t radix, absl::Span<uint16_t> out) {
  const auto [chunk, chunk_digits] = WordChunk(radix);
  size_t pos = out.size();
  while (pos > 0) {
    const size_t k = std::min(chunk_digits, pos);
    BN_ULONG divisor = chunk;
    if (k < chunk_digits) {
      divisor = 1;
      for (size_t j = 0; j < k; ++j) divisor *= radix;
    }
    BN_ULONG r = BN_div_word(x, divisor);
    if (r == static_cast<BN_ULONG>(-1)) return false;
    for (size_t j = 0; j < k; ++j) {
      out[--pos] = static_cast<uint16_t>(r % radix);
      r /= radix;
    }
  }
  return BN_is_zero(x);
}

// One FF1 call (NIST SP 800-38G, Algorithms 7 and 8): its direction, radix, tweak, the
// numerals in and out, and the lengths u = floor(n/2), v = n - u of the halves A and B.
struct Ff1Call {
  bool encrypt;
  uint32_t radix;
  absl::Span<const uint8_t> tweak;
  absl::Span<const uint16_t> in;
  absl::Span<uint16_t> out;
  size_t u;
  size_t v;
};

// The fast path, for radix^v < 2^96: NUM, the round function and the modular arithmetic
// on 128-bit integers, one AES block per round. `prefix` holds CIPH(P) (the MAC of P).
absl::Status RunFast(EVP_CIPHER_CTX* aes, const Ff1Call& call, Uint128 pow_v, MacState& prefix) {
  const size_t t = call.tweak.size();
  const Uint128 pow_u = (call.u == call.v) ? pow_v : pow_v / call.radix;
  // b = ceil(ceil(v * log2(radix)) / 8), the byte length of radix^v - 1.
  const size_t b = static_cast<size_t>((BitLength(pow_v - 1) + 7) / 8);
  const size_t d = 4 * ((b + 3) / 4) + 4;
  // T || [0]^((-t-b-1) mod 16) is the same in every round: MAC it once.
  const size_t pad = (kBlock - (t + b + 1) % kBlock) % kBlock;
  if (!MacAbsorb(aes, prefix, call.tweak.data(), t) || !MacAbsorbZeros(aes, prefix, pad)) {
    return OpenSslError("EVP_EncryptUpdate");
  }
  if (b > kFastMaxB || d > kBlock || prefix.fill + 1 + b != kBlock) {
    return absl::InternalError("FF1: inconsistent block layout");
  }
  uint8_t block[kBlock];
  absl::Cleanup wipe = [&] { SecureWipe(block, sizeof(block)); };
  Uint128 a = NumRadix(call.in.subspan(0, call.u), call.radix);
  Uint128 bb = NumRadix(call.in.subspan(call.u), call.radix);
  // The round's block, as a big-endian 128-bit integer: the prefix state XOR
  // ([i]^1 || [NUM(B)]^b), which occupy its last 1 + b bytes.
  const Uint128 prefix_block = LoadBigEndian(prefix.x, kBlock);
  for (size_t r = 0; r < kRounds; ++r) {
    const size_t i = call.encrypt ? r : kRounds - 1 - r;
    StoreBigEndian128(prefix_block ^ (static_cast<Uint128>(i) << (8 * b)) ^ (call.encrypt ? bb : a),
                      block);
    if (!AesBlocks(aes, block, block, 1)) return OpenSslError("EVP_EncryptUpdate");
    const Uint128 m = (i % 2 == 0) ? pow_u : pow_v;
    const Uint128 y = Mod(LoadBigEndian(block, d), m);
    if (call.encrypt) {
      Uint128 c = a + y;
      if (c >= m) c -= m;
      a = bb;
      bb = c;
    } else {
      const Uint128 c = (bb >= y) ? bb - y : bb + (m - y);
      bb = a;
      a = c;
    }
  }
  StrRadix(a, call.radix, call.out.subspan(0, call.u));
  StrRadix(bb, call.radix, call.out.subspan(call.u));
  return absl::OkStatus();
}

// The moduli radix^u and radix^v of the general path, and b, the byte length of
// radix^v - 1.
struct BnModuli {
  BnPtr pow_u{BN_new()};
  BnPtr pow_v{BN_new()};
  size_t b = 0;
};

absl::Status ComputeModuli(const Ff1Call& call, BN_CTX* bn_ctx, BnModuli& moduli) {
  BnPtr radix(BN_new()), v(BN_new());
  if (!moduli.pow_u || !moduli.pow_v || !radix || !v) return OpenSslError("BN_new");
  if (BN_set_word(radix.get(), call.radix) != 1 || BN_set_word(v.get(), call.v) != 1 ||
      BN_exp(moduli.pow_v.get(), radix.get(), v.get(), bn_ctx) != 1 ||
      BN_copy(moduli.pow_u.get(), moduli.pow_v.get()) == nullptr ||
      (call.u != call.v &&
       BN_div_word(moduli.pow_u.get(), call.radix) == static_cast<BN_ULONG>(-1)) ||
      BN_copy(radix.get(), moduli.pow_v.get()) == nullptr || BN_sub_word(radix.get(), 1) != 1) {
    return OpenSslError("BN_exp");
  }
  moduli.b = static_cast<size_t>(BN_num_bytes(radix.get()));
  return absl::OkStatus();
}

// Steps 6.i to 6.iv of round `round` of the general path: y = NUM(S[0..d)), where
// R = PRF(P || Q) for Q = T || [0]^pad || [round]^1 || [NUM(B)]^b and S extends R by
// CIPH(R xor [j]^16). `prefix` holds the MAC of P || T || [0]^pad; `num` and `s` are
// scratch of b and whole blocks.
absl::Status RoundValue(EVP_CIPHER_CTX* aes, const MacState& prefix, uint8_t round,
                        const BIGNUM* num_b, size_t d, ScratchData& num, ScratchData& s,
                        BIGNUM* y) {
  const size_t b = num.size();
  const size_t s_blocks = s.size() / kBlock;
  MacState st = prefix;
  absl::Cleanup wipe = [&] { SecureWipe(&st, sizeof(st)); };
  if (BN_bn2binpad(num_b, num.data(), static_cast<int>(b)) < 0) {
    return OpenSslError("BN_bn2binpad");
  }
  if (!MacAbsorb(aes, st, &round, 1) || !MacAbsorb(aes, st, num.data(), b) || st.fill != 0) {
    return OpenSslError("EVP_EncryptUpdate");
  }
  std::memcpy(s.data(), st.x, kBlock);
  // S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) || ...
  for (size_t j = 1; j < s_blocks; ++j) {
    uint8_t* blk = s.data() + j * kBlock;
    std::memcpy(blk, s.data(), kBlock);
    for (int k = 0; k < 4; ++k) blk[kBlock - 1 - k] ^= static_cast<uint8_t>(j >> (8 * k));
  }
  if (!AesBlocks(aes, s.data() + kBlock, s.data() + kBlock, s_blocks - 1)) {
    return OpenSslError("EVP_EncryptUpdate");
  }
  if (BN_bin2bn(s.data(), static_cast<int>(d), y) == nullptr) return OpenSslError("BN_bin2bn");
  return absl::OkStatus();
}

// The general path, for any radix and length: OpenSSL BIGNUMs.
absl::Status RunGeneral(EVP_CIPHER_CTX* aes, const Ff1Call& call, MacState& prefix) {
  BnCtxPtr bn_ctx(BN_CTX_new());
  BnPtr bn_a(BN_new()), bn_b(BN_new()), bn_c(BN_new()), bn_y(BN_new());
  if (!bn_ctx || !bn_a || !bn_b || !bn_c || !bn_y) return OpenSslError("BN_new");
  BnModuli moduli;
  PIICRYPT_RETURN_IF_ERROR(ComputeModuli(call, bn_ctx.get(), moduli));
  const size_t t = call.tweak.size();
  const size_t b = moduli.b;
  const size_t d = 4 * ((b + 3) / 4) + 4;
  const size_t pad = (kBlock - (t + b + 1) % kBlock) % kBlock;
  if (!MacAbsorb(aes, prefix, call.tweak.data(), t) || !MacAbsorbZeros(aes, prefix, pad)) {
    return OpenSslError("EVP_EncryptUpdate");
  }
  if (!BnNumRadix(call.in.subspan(0, call.u), call.radix, bn_a.get()) ||
      !BnNumRadix(call.in.subspan(call.u), call.radix, bn_b.get())) {
    return OpenSslError("BN_mul_word");
  }
  // NUM(B) and S; wiped on every path by ScratchData.
  ScratchData num(b);
  ScratchData s(((d + kBlock - 1) / kBlock) * kBlock);
  for (size_t r = 0; r < kRounds; ++r) {
    const size_t i = call.encrypt ? r : kRounds - 1 - r;
    PIICRYPT_RETURN_IF_ERROR(RoundValue(aes, prefix, static_cast<uint8_t>(i),
                                        call.encrypt ? bn_b.get() : bn_a.get(), d, num, s,
                                        bn_y.get()));
    const BIGNUM* m = (i % 2 == 0) ? moduli.pow_u.get() : moduli.pow_v.get();
    if (call.encrypt) {
      if (BN_mod_add(bn_c.get(), bn_a.get(), bn_y.get(), m, bn_ctx.get()) != 1) {
        return OpenSslError("BN_mod_add");
      }
      std::swap(bn_a, bn_b);  // A = B
      std::swap(bn_b, bn_c);  // B = C
    } else {
      if (BN_mod_sub(bn_c.get(), bn_b.get(), bn_y.get(), m, bn_ctx.get()) != 1) {
        return OpenSslError("BN_mod_sub");
      }
      std::swap(bn_b, bn_a);  // B = A
      std::swap(bn_a, bn_c);  // A = C
    }
  }
  if (!BnStrRadix(bn_a.get(), call.radix, call.out.subspan(0, call.u)) ||
      !BnStrRadix(bn_b.get(), call.radix, call.out.subspan(call.u))) {
    return OpenSslError("BN_div_word");
  }
  return absl::OkStatus();
}

}  // namespace

bool Ff1DomainIsLargeEnough(uint32_t radix, size_t length) {
  uint64_t p = 1;
  for (size_t i = 0; i < length; ++i) {
    p *= radix;
    if (p >= kFf1MinDomain) return true;
  }
  return false;
}

absl::Status CheckFf1Parameters(uint32_t radix, size_t length, size_t tweak_size) {
  if (radix < kFf1MinRadix || radix > kFf1MaxRadix) {
    return absl::InvalidArgumentError("FF1: radix must be in [2, 65536]");
  }
  if (length > kFf1MaxLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("FF1: message longer than ", kFf1MaxLength, " numerals"));
  }
  if (!Ff1DomainIsLargeEnough(radix, length)) {
    return absl::InvalidArgumentError(
        "FF1: domain too small: radix^length must be at least 1000000");
  }
  if (tweak_size > kFf1MaxTweakSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("FF1: tweak longer than ", kFf1MaxTweakSize, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Ff1>> Ff1::Create(absl::Span<const uint8_t> key) {
  if (key.size() != 16 && key.size() != 24 && key.size() != 32) {
    return absl::InvalidArgumentError("FF1: key must be 16, 24 or 32 bytes");
  }
  const EVP_CIPHER* cipher = AesCipher(AesMode::kEcb, key.size());
  if (cipher == nullptr) return OpenSslError("EVP_CIPHER_fetch");
  std::unique_ptr<Ff1> ff1(new Ff1(SecretDataFromBytes(key), cipher));
  // Key the first context now, so that a failure shows here rather than on first use.
  {
    auto lease = ff1->pool_.Acquire([&ff1]() { return ff1->NewContext(); });
    if (!lease) return OpenSslError("EVP_EncryptInit_ex2");
  }
  return ff1;
}

Ff1::Ff1(SecretData key, const EVP_CIPHER* cipher) : key_(std::move(key)), cipher_(cipher) {}

Ff1::~Ff1() = default;

std::unique_ptr<Ff1Context> Ff1::NewContext() const {
  auto ctx = std::make_unique<Ff1Context>();
  ctx->ecb.reset(EVP_CIPHER_CTX_new());
  if (ctx->ecb == nullptr ||
      EVP_EncryptInit_ex2(ctx->ecb.get(), cipher_, key_.data(), nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx->ecb.get(), 0) != 1) {
    return nullptr;
  }
  return ctx;
}

absl::Status Ff1::Encrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                          absl::Span<const uint16_t> in, absl::Span<uint16_t> out) const {
  return Run(true, radix, tweak, in, out);
}

absl::Status Ff1::Decrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                          absl::Span<const uint16_t> in, absl::Span<uint16_t> out) const {
  return Run(false, radix, tweak, in, out);
}

absl::StatusOr<std::vector<uint16_t>> Ff1::Encrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                                                   absl::Span<const uint16_t> in) const {
  std::vector<uint16_t> out(in.size());
  absl::Status status = Run(true, radix, tweak, in, absl::MakeSpan(out));
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<uint16_t>> Ff1::Decrypt(uint32_t radix, absl::Span<const uint8_t> tweak,
                                                   absl::Span<const uint16_t> in) const {
  std::vector<uint16_t> out(in.size());
  absl::Status status = Run(false, radix, tweak, in, absl::MakeSpan(out));
  if (!status.ok()) return status;
  return out;
}

absl::Status Ff1::Run(bool encrypt, uint32_t radix, absl::Span<const uint8_t> tweak,
                      absl::Span<const uint16_t> in, absl::Span<uint16_t> out) const {
  const size_t n = in.size();
  if (out.size() != n) {
    return absl::InvalidArgumentError("FF1: output size differs from input size");
  }
  if (absl::Status s = CheckFf1Parameters(radix, n, tweak.size()); !s.ok()) return s;
  for (uint16_t d : in) {
    if (d >= radix) return absl::InvalidArgumentError("FF1: numeral out of range for the radix");
  }
  const Ff1Call call{encrypt, radix, tweak, in, out, n / 2, n - n / 2};

  auto lease = pool_.Acquire([this]() { return NewContext(); });
  if (!lease) return OpenSslError("EVP_EncryptInit_ex2");
  MacState prefix;
  absl::Cleanup wipe = [&] { SecureWipe(&prefix, sizeof(prefix)); };
  prefix.fill = 0;
  if (!EncryptedP(*lease.get(), radix, static_cast<uint32_t>(n),
                  static_cast<uint32_t>(tweak.size()), prefix.x)) {
    return OpenSslError("EVP_EncryptUpdate");
  }
  // radix^v below 2^96: every number fits in 128 bits.
  const Uint128 fast_pow_v = PowerAtMost(radix, call.v, Uint128{1} << 96);
  if (fast_pow_v != 0) return RunFast(lease->ecb.get(), call, fast_pow_v, prefix);
  return RunGeneral(lease->ecb.get(), call, prefix);
}

}  // namespace piicrypt::internal
