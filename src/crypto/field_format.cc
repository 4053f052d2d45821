#include "src/crypto/field_format.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "src/crypto/hkdf.h"

namespace piicrypt::internal {

absl::string_view PurposeName(FieldPurpose purpose) {
  switch (purpose) {
    case FieldPurpose::kAead:
      return "aead";
    case FieldPurpose::kDaead:
      return "daead";
    case FieldPurpose::kBlindIndex:
      return "bidx";
    case FieldPurpose::kFf1:
      return "ff1";
    case FieldPurpose::kToken:
      return "token";
    case FieldPurpose::kCompoundIndex:
      return "cidx";
  }
  return "";
}

size_t PurposeKeySize(FieldPurpose purpose) { return purpose == FieldPurpose::kDaead ? 64 : 32; }

absl::StatusOr<SecretData> DeriveFieldKey(absl::Span<const uint8_t> root, FieldPurpose purpose,
                                          absl::string_view context) {
  if (root.size() != kRootKeySize) {
    return absl::InvalidArgumentError("root key material must be 32 bytes");
  }
  if (context.empty() || context.size() > kMaxContextSize) {
    return absl::InvalidArgumentError("field name must be 1 to 1024 bytes");
  }
  const std::string info = absl::StrCat("piicrypt/v1/", PurposeName(purpose), "/", context);
  return HkdfSha256(root, /*salt=*/"", info, PurposeKeySize(purpose));
}

namespace {
void WriteU32(uint32_t v, uint8_t* out) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}
}  // namespace

absl::StatusOr<CiphertextView> ParseCiphertext(absl::string_view in) {
  CiphertextView view;
  if (ParseCiphertextTo(in, &view)) return view;
  if (in.size() >= kHeaderSize && MinCiphertextSize(static_cast<uint8_t>(in[0])) == 0) {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (unknown format byte)");
  }
  if (in.size() < kHeaderSize || in.size() < MinCiphertextSize(static_cast<uint8_t>(in[0]))) {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (too short)");
  }
  return absl::InvalidArgumentError("not a piicrypt field ciphertext (key id 0)");
}

void PadValue(absl::string_view value, size_t padded_size, uint8_t* out) {
  if (!value.empty()) std::memcpy(out, value.data(), value.size());
  out[value.size()] = 0x80;
  std::memset(out + value.size() + 1, 0, padded_size - value.size());
}

ptrdiff_t UnpaddedSize(absl::Span<const uint8_t> padded) {
  // One pass over every byte, without branches on their values: the position and value of
  // the last non-zero byte.
  size_t last = 0;
  uint32_t marker = 0;
  for (size_t i = 0; i < padded.size(); ++i) {
    const uint32_t b = padded[i];
    const size_t take = 0 - static_cast<size_t>((b | (0 - b)) >> 31);  // all ones if b != 0
    last = (i & take) | (last & ~take);
    marker = (b & static_cast<uint32_t>(take)) | (marker & ~static_cast<uint32_t>(take));
  }
  return marker == 0x80 ? static_cast<ptrdiff_t>(last) : -1;
}

void WriteHeader(uint8_t format, uint32_t key_id, uint8_t* out) {
  out[0] = format;
  WriteU32(key_id, out + 1);
}

std::string SerializeCiphertext(const CiphertextView& view) {
  return absl::StrCat(view.header, view.body);
}

void AppendLengthPrefixed(absl::string_view x, std::string& out) {
  uint8_t len[4];
  WriteU32(static_cast<uint32_t>(x.size()), len);
  out.append(reinterpret_cast<const char*>(len), 4);
  out.append(x.data(), x.size());
}

std::string AssociatedData(absl::string_view header, absl::string_view context,
                           absl::string_view record) {
  std::string ad;
  ad.reserve(header.size() + 8 + context.size() + record.size());
  ad.append(header.data(), header.size());
  AppendLengthPrefixed(context, ad);
  AppendLengthPrefixed(record, ad);
  return ad;
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

// The final group of `rest` (0, 2 or 3) characters of a text into its rest - 1 bytes;
// false if a character is outside the alphabet or an unused trailing bit is set (so that
// every byte string has exactly one text form).
bool DecodeFinalGroup(const uint8_t* in, size_t rest, uint8_t* out) {
  if (rest == 0) return true;
  const int32_t a = kDecode[in[0]], b = kDecode[in[1]], c = rest == 3 ? kDecode[in[2]] : 0;
  if ((a | b | c) < 0) return false;
  const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                     (static_cast<uint32_t>(c) << 6);
  if ((v & (rest == 2 ? 0xffffu : 0xffu)) != 0) return false;
  out[0] = static_cast<uint8_t>(v >> 16);
  if (rest == 3) out[1] = static_cast<uint8_t>(v >> 8);
  return true;
}
}  // namespace

// Two output characters per lookup: the characters of every 12-bit value (first one in
// the low byte).
constexpr std::array<uint16_t, 4096> MakePairTable() {
  std::array<uint16_t, 4096> t{};
  for (int i = 0; i < 4096; ++i) {
    t[i] = static_cast<uint16_t>(static_cast<uint8_t>(kAlphabet[i >> 6]) |
                                 (static_cast<uint8_t>(kAlphabet[i & 63]) << 8));
  }
  return t;
}
constexpr std::array<uint16_t, 4096> kPairs = MakePairTable();

namespace {

// The last one or two bytes of an input whose length is not a multiple of 3, as two or
// three characters (no padding). Returns the end of the output.
inline char* EncodeTail(const uint8_t* in, size_t rest, char* o) {
  if (rest == 1) {
    *o++ = kAlphabet[in[0] >> 2];
    *o++ = kAlphabet[(in[0] & 3) << 4];
  } else if (rest == 2) {
    *o++ = kAlphabet[in[0] >> 2];
    *o++ = kAlphabet[((in[0] & 3) << 4) | (in[1] >> 4)];
    *o++ = kAlphabet[(in[1] & 15) << 2];
  }
  return o;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PIICRYPT_BASE64_SSSE3 1

// Encodes the 12 bytes at in[k..k+12) of the 16 bytes at `in` as 16 characters, with
// `spread` = Spread(k), k <= 4. The method is Wojciech Mula's
// (http://0x80.pl/notesen/2016-01-12-sse-base64-encoding.html), with the URL-safe
// characters for 62 and 63.
__attribute__((target("ssse3"))) inline __m128i Spread(char k) {
  // Each 32-bit lane gets the bytes b1 b0 b2 b1 of one 3-byte group (b0 b1 b2).
  return _mm_add_epi8(_mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10),
                      _mm_set1_epi8(k));
}
__attribute__((target("ssse3"))) inline void EncodeBlock(const uint8_t* in, __m128i spread,
                                                         char* out) {
  const __m128i v = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)), spread);
  // The four 6-bit values of each lane into the low bits of its four bytes, in order.
  const __m128i hi =
      _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00)), _mm_set1_epi32(0x04000040));
  const __m128i lo =
      _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(0x003f03f0)), _mm_set1_epi32(0x01000010));
  const __m128i sextets = _mm_or_si128(hi, lo);
  // What to add to a 6-bit value, by its class: 0..25 -> 'A', 26..51 -> 'a',
  // 52..61 -> '0', 62 -> '-', 63 -> '_'. The class index is max(v - 51, 0), or 13 below 26.
  const __m128i offsets =
      _mm_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                    '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0);
  __m128i cls = _mm_subs_epu8(sextets, _mm_set1_epi8(51));
  cls = _mm_or_si128(cls,
                     _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), sextets), _mm_set1_epi8(13)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_add_epi8(sextets, _mm_shuffle_epi8(offsets, cls)));
}

// The whole encoding of size >= 16 bytes, 12 bytes (16 characters) per step, with 16-byte
// loads that never leave the input: the first step loads from its own groups, the others
// from 4 bytes before theirs, and the last one, which ends at the last complete group, from
// the input's last 16 bytes (it may encode a few groups again, to the same characters).
// The one or two bytes of an incomplete group follow.
__attribute__((target("ssse3"))) size_t EncodeSsse3(const uint8_t* in, size_t size, char* out) {
  const size_t groups = size / 3;        // complete 3-byte groups, >= 5
  const size_t last = (groups - 4) * 3;  // where the last step's groups start
  EncodeBlock(in, Spread(0), out);
  const __m128i spread4 = Spread(4);
  char* o = out + 16;
  for (size_t i = 12; i < last; i += 12, o += 16) EncodeBlock(in + i - 4, spread4, o);
  EncodeBlock(in + size - 16, Spread(static_cast<char>(4 - size % 3)), out + groups * 4 - 16);
  return static_cast<size_t>(EncodeTail(in + groups * 3, size % 3, out + groups * 4) - out);
}

// The same in 24-byte steps (32 characters) with AVX2, for size >= 24: each 128-bit lane
// encodes 12 bytes exactly as EncodeBlock does. The first lane of a step loads from its
// own groups, the second from 4 bytes before its groups; the last step ends at the last
// complete group, its second lane loaded from the input's last 16 bytes.
__attribute__((target("avx2"))) inline void EncodeBlock2(__m128i lo, __m128i hi, __m256i spread,
                                                         char* out) {
  const __m256i v =
      _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1), spread);
  const __m256i sextets =
      _mm256_or_si256(_mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00)),
                                         _mm256_set1_epi32(0x04000040)),
                      _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0)),
                                         _mm256_set1_epi32(0x01000010)));
  const __m256i offsets =
      _mm256_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                       '0' - 52, '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0,
                       'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                       '0' - 52, '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0);
  __m256i cls = _mm256_subs_epu8(sextets, _mm256_set1_epi8(51));
  cls = _mm256_or_si256(cls, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), sextets),
                                              _mm256_set1_epi8(13)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_add_epi8(sextets, _mm256_shuffle_epi8(offsets, cls)));
}

__attribute__((target("avx2"))) size_t EncodeAvx2(const uint8_t* in, size_t size, char* out) {
  const size_t groups = size / 3;        // complete 3-byte groups, >= 8
  const size_t last = (groups - 8) * 3;  // where the last step's groups start
  const auto load = [in](size_t at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + at));
  };
  const __m256i spread04 = _mm256_setr_m128i(Spread(0), Spread(4));
  char* o = out;
  for (size_t i = 0; i < last; i += 24, o += 32) EncodeBlock2(load(i), load(i + 8), spread04, o);
  EncodeBlock2(load(last), load(size - 16),
               _mm256_setr_m128i(Spread(0), Spread(static_cast<char>(4 - size % 3))),
               out + groups * 4 - 32);
  return static_cast<size_t>(EncodeTail(in + groups * 3, size % 3, out + groups * 4) - out);
}

// Whole 24-byte steps over an input zero-padded to a multiple of 24: the characters of
// the zero bits past the end are the ones an unpadded encoding ends with, and the rest is
// scratch. Reads in[0, 24 * steps), writes out[0, 32 * steps).
__attribute__((target("avx2"))) void EncodeAvx2Padded(const uint8_t* in, size_t size, char* out) {
  const __m256i spread04 = _mm256_setr_m128i(Spread(0), Spread(4));
  for (size_t i = 0; i < size; i += 24, out += 32) {
    EncodeBlock2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)),
                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 8)), spread04, out);
  }
}

// 2 with AVX2, 1 with SSSE3 only, 0 otherwise.
int SimdLevel() {
  static const int level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return 2;
    return __builtin_cpu_supports("ssse3") ? 1 : 0;
  }();
  return level;
}
#endif

}  // namespace

size_t Base64UrlEncodeTo(absl::string_view bytes, char* out) {
  return Base64UrlEncodeAtLevelTo(2, bytes, out);
}

size_t Base64UrlEncodeAtLevelTo(int max_level, absl::string_view bytes, char* out) {
#ifdef PIICRYPT_BASE64_SSSE3
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() >= 16) {
    const int level = std::min(max_level, SimdLevel());
    if (level == 2 && bytes.size() >= 24) return EncodeAvx2(data, bytes.size(), out);
    if (level >= 1) return EncodeSsse3(data, bytes.size(), out);
  }
#else
  (void)max_level;
#endif
  return Base64UrlEncodePortableTo(bytes, out);
}

size_t Base64UrlEncodePaddedTo(uint8_t* in, size_t size, char* out) {
#ifdef PIICRYPT_BASE64_SSSE3
  if (SimdLevel() == 2) {
    // The last step reads up to 23 bytes past `size` and writes up to 31 characters past
    // the encoding: both within kBase64Slack.
    static_assert(kBase64Slack >= 32);
    std::memset(in + size, 0, kBase64Slack);
    EncodeAvx2Padded(in, size, out);
    return Base64UrlEncodedSize(size);
  }
#endif
  return Base64UrlEncodeTo(absl::string_view(reinterpret_cast<const char*>(in), size), out);
}

size_t Base64UrlEncodePortableTo(absl::string_view bytes, char* out) {
  // Local pointers: stores through char* could alias `in`, which would make the compiler
  // reload it after every byte.
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* const end = in + bytes.size();
  char* o = out;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // Six bytes (eight characters) per step, while 8 bytes remain: one byte-swapped 8-byte
  // load, four pair lookups, one 8-byte store.
  for (; end - in >= 8; in += 6, o += 8) {
    uint64_t v;
    std::memcpy(&v, in, 8);
    v = __builtin_bswap64(v);
    const uint64_t chars =
        uint64_t{kPairs[(v >> 52) & 4095]} | (uint64_t{kPairs[(v >> 40) & 4095]} << 16) |
        (uint64_t{kPairs[(v >> 28) & 4095]} << 32) | (uint64_t{kPairs[(v >> 16) & 4095]} << 48);
    std::memcpy(o, &chars, 8);
  }
#endif
  for (; end - in >= 3; in += 3, o += 4) {
    const uint32_t v = (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8) | in[2];
    const uint16_t hi = kPairs[v >> 12], lo = kPairs[v & 4095];
    o[0] = static_cast<char>(hi & 0xff);
    o[1] = static_cast<char>(hi >> 8);
    o[2] = static_cast<char>(lo & 0xff);
    o[3] = static_cast<char>(lo >> 8);
  }
  o = EncodeTail(in, static_cast<size_t>(end - in), o);
  return static_cast<size_t>(o - out);
}

std::string Base64UrlEncode(absl::string_view bytes) {
  std::string out;
  out.resize(Base64UrlEncodedSize(bytes.size()));
  Base64UrlEncodeTo(bytes, out.data());
  return out;
}

#ifdef PIICRYPT_BASE64_SSSE3
namespace {

// 16 characters to 12 bytes at `out` (16 bytes written, the last 4 scratch); false if any
// character is outside the URL-safe alphabet. Each character's class (A-Z, a-z, 0-9, '-',
// '_') selects what to add to it to get its 6-bit value; bytes of 0x80 and above compare
// as negative and fall in no class.
__attribute__((target("ssse3"))) inline bool DecodeBlock(const uint8_t* in, uint8_t* out) {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  const auto in_range = [c](char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(c, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const __m128i upper = in_range('A', 'Z'), lower = in_range('a', 'z'), digit = in_range('0', '9'),
                dash = _mm_cmpeq_epi8(c, _mm_set1_epi8('-')),
                under = _mm_cmpeq_epi8(c, _mm_set1_epi8('_'));
  const __m128i valid =
      _mm_or_si128(_mm_or_si128(upper, lower), _mm_or_si128(digit, _mm_or_si128(dash, under)));
  if (_mm_movemask_epi8(valid) != 0xffff) return false;
  const __m128i offset =
      _mm_or_si128(_mm_or_si128(_mm_and_si128(upper, _mm_set1_epi8(-'A')),
                                _mm_and_si128(lower, _mm_set1_epi8(26 - 'a'))),
                   _mm_or_si128(_mm_and_si128(digit, _mm_set1_epi8(52 - '0')),
                                _mm_or_si128(_mm_and_si128(dash, _mm_set1_epi8(62 - '-')),
                                             _mm_and_si128(under, _mm_set1_epi8(63 - '_')))));
  const __m128i sextets = _mm_add_epi8(c, offset);
  // a b c d (6 bits each) -> a<<6|b and c<<6|d (16-bit lanes) -> 24 bits per 32-bit lane.
  const __m128i pairs = _mm_maddubs_epi16(sextets, _mm_set1_epi32(0x01400140));
  const __m128i triples = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));
  const __m128i bytes = _mm_shuffle_epi8(
      triples, _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
  return true;
}

// Whole 16-character blocks while at least 16 characters remain: straight into `out` while
// at least 24 remain (the 16-byte store then stays inside the 18 or more bytes they decode
// to), the last one through a scratch block. Returns the characters consumed, or SIZE_MAX
// on an invalid character.
__attribute__((target("ssse3"))) size_t DecodeSsse3(const uint8_t* in, size_t size, uint8_t* out) {
  size_t i = 0;
  for (; i + 24 <= size; i += 16, out += 12) {
    if (!DecodeBlock(in + i, out)) return SIZE_MAX;
  }
  if (i + 16 <= size) {
    uint8_t last[16];
    if (!DecodeBlock(in + i, last)) return SIZE_MAX;
    std::memcpy(out, last, 12);
    i += 16;
  }
  return i;
}

// 32 characters to exactly 24 bytes at `out`; false if any character is outside the
// URL-safe alphabet. Wojciech Mula's nibble lookups
// (http://0x80.pl/notesen/2016-01-17-sse-base64-decoding.html), for the URL-safe
// alphabet: the high nibble picks a class (0x2-: '-', 0x3-: digits, 0x4- and 0x5-:
// upper case and '_', 0x6- and 0x7-: lower case, any other: none), with one bit each,
// and the low nibble the classes in which it is not a character of the alphabet; a
// character is valid iff the two share no bit. The high nibble (13 for '_') then picks
// what to add to get the 6-bit value.
__attribute__((target("avx2"))) inline bool DecodeBlock2(const uint8_t* in, uint8_t* out) {
  const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), _mm256_set1_epi8(0x0f));
  const __m256i lo = _mm256_and_si256(c, _mm256_set1_epi8(0x0f));
  const __m256i lo_invalid = _mm256_shuffle_epi8(
      _mm256_setr_epi8(0x55, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x43, 0x6b, 0x6b,
                       0x6a, 0x6b, 0x63, 0x55, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
                       0x43, 0x6b, 0x6b, 0x6a, 0x6b, 0x63),
      lo);
  const __m256i hi_class = _mm256_shuffle_epi8(
      _mm256_setr_epi8(0x40, 0x40, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x40, 0x40, 0x40, 0x40,
                       0x40, 0x40, 0x40, 0x40, 0x40, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x40,
                       0x40, 0x40, 0x40, 0x40, 0x40, 0x40),
      hi);
  if (!_mm256_testz_si256(lo_invalid, hi_class)) return false;
  const __m256i underscore = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('_'));
  const __m256i offset = _mm256_shuffle_epi8(
      _mm256_setr_epi8(0, 0, 62 - '-', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a', 0, 0, 0, 0, 0,
                       63 - '_', 0, 0, 0, 0, 62 - '-', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a', 0,
                       0, 0, 0, 0, 63 - '_', 0, 0),
      _mm256_add_epi8(hi, _mm256_and_si256(underscore, _mm256_set1_epi8(8))));
  const __m256i sextets = _mm256_add_epi8(c, offset);
  const __m256i pairs = _mm256_maddubs_epi16(sextets, _mm256_set1_epi32(0x01400140));
  const __m256i triples = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
  const __m256i bytes = _mm256_shuffle_epi8(
      triples, _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6,
                                5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
  // The 12 bytes of each lane side by side.
  const __m256i packed =
      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(packed));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 16), _mm256_extracti128_si256(packed, 1));
  return true;
}

// The whole text in 32-character blocks loaded straight from it: the complete groups in
// whole blocks, the last block ending at the last complete group (it may decode a few
// groups again, to the same bytes), then the final group of 2 or 3 characters. A text
// with fewer than 32 characters in complete groups is decoded from a copy padded with
// 'A' (value 0), whose zero bits also tell the canonical check: the unused low bits of a
// final group are the byte after the last one decoded. REQUIRES: size % 4 != 1.
__attribute__((target("avx2"))) bool DecodeAvx2(const uint8_t* in, size_t size, uint8_t* out) {
  if (size == 0) return true;  // nothing to decode (and `in` may be null)
  const size_t full = size / 4 * 4;
  if (full < 32) {
    uint8_t padded[32];
    std::memset(padded, 'A', sizeof(padded));
    std::memcpy(padded, in, size);
    uint8_t bytes[24];
    if (!DecodeBlock2(padded, bytes)) return false;
    const size_t n = Base64UrlDecodedSize(size);
    if (size % 4 != 0 && bytes[n] != 0) return false;
    std::memcpy(out, bytes, n);
    return true;
  }
  for (size_t i = 0; i + 32 <= full; i += 32) {
    if (!DecodeBlock2(in + i, out + i / 4 * 3)) return false;
  }
  if (full % 32 != 0 && !DecodeBlock2(in + full - 32, out + (full - 32) / 4 * 3)) return false;
  return DecodeFinalGroup(in + full, size - full, out + full / 4 * 3);
}

}  // namespace
#endif

bool Base64UrlDecodeTo(absl::string_view text, uint8_t* out) {
  return Base64UrlDecodeAtLevelTo(2, text, out);
}

bool Base64UrlDecodeAtLevelTo(int max_level, absl::string_view text, uint8_t* out) {
  if (text.size() % 4 == 1) return false;
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  const size_t size = text.size();
#ifdef PIICRYPT_BASE64_SSSE3
  const int level = std::min(max_level, SimdLevel());
  if (level == 2) return DecodeAvx2(in, size, out);
  if (size >= 16 && level == 1) {
    const size_t done = DecodeSsse3(in, size, out);
    if (done == SIZE_MAX) return false;
    return Base64UrlDecodeAtLevelTo(0, text.substr(done), out + done / 4 * 3);
  }
#else
  (void)max_level;
#endif
  // Each character's 6-bit value, or -1 (all bits set) for one outside the alphabet: the
  // OR of the four values of a group is negative if any of them is.
  auto val = [in](size_t k) { return static_cast<int32_t>(kDecode[in[k]]); };
  int32_t bad = 0;
  size_t i = 0;
  for (; i + 4 <= size; i += 4, out += 3) {
    const int32_t a = val(i), b = val(i + 1), c = val(i + 2), d = val(i + 3);
    bad |= a | b | c | d;
    const uint32_t v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                       (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    out[0] = static_cast<uint8_t>(v >> 16);
    out[1] = static_cast<uint8_t>(v >> 8);
    out[2] = static_cast<uint8_t>(v);
  }
  return DecodeFinalGroup(in + i, size - i, out) && bad >= 0;
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  std::string out(Base64UrlDecodedSize(text.size()), '\0');
  if (!Base64UrlDecodeTo(text, reinterpret_cast<uint8_t*>(out.data()))) {
    return absl::InvalidArgumentError(text.size() % 4 == 1 ? "invalid base64url length"
                                                           : "invalid base64url text");
  }
  return out;
}

std::string TruncatedHex(absl::Span<const uint8_t> mac, int bits) {
  const size_t nbytes = (static_cast<size_t>(bits) + 7) / 8;
  std::string out(nbytes * 2, '0');
  if (nbytes <= mac.size()) TruncatedHexTo(mac, bits, out.data());
  return out;
}

}  // namespace piicrypt::internal
