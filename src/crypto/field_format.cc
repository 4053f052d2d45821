#include "src/crypto/field_format.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "src/crypto/hkdf.h"

namespace piicrypt::internal {

absl::string_view PurposeName(FieldPurpose purpose) {
  switch (purpose) {
    case FieldPurpose::kAead: return "aead";
    case FieldPurpose::kDaead: return "daead";
    case FieldPurpose::kBlindIndex: return "bidx";
    case FieldPurpose::kFf1: return "ff1";
    case FieldPurpose::kToken: return "token";
  }
  return "";
}

size_t PurposeKeySize(FieldPurpose purpose) {
  return purpose == FieldPurpose::kDaead ? 64 : 32;
}

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
uint32_t ReadU32(const char* p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}
void WriteU32(uint32_t v, uint8_t* out) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}
}  // namespace

absl::StatusOr<CiphertextView> ParseCiphertext(absl::string_view in) {
  if (in.size() < kHeaderSize) {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (too short)");
  }
  CiphertextView view;
  view.format = static_cast<uint8_t>(in[0]);
  size_t min_size;
  if (view.format == kRandomizedFormat) {
    min_size = kRandomizedOverhead;
  } else if (view.format == kDeterministicFormat) {
    min_size = kDeterministicOverhead;
  } else {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (unknown format byte)");
  }
  if (in.size() < min_size) {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (too short)");
  }
  view.key_id = ReadU32(in.data() + 1);
  if (view.key_id == 0) {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (key id 0)");
  }
  view.header = in.substr(0, kHeaderSize);
  view.body = in.substr(kHeaderSize);
  return view;
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

size_t Base64UrlEncodeTo(absl::string_view bytes, char* out) {
  // Local pointers: stores through char* could alias `in`, which would make the compiler
  // reload it after every byte.
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* const end = in + bytes.size();
  char* o = out;
  // Six bytes (eight characters) per step, reading 8 bytes (the compiler makes this one
  // byte-swapping load), while 8 remain.
  for (; end - in >= 8; in += 6, o += 8) {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | in[k];
    const uint16_t p[4] = {kPairs[(v >> 52) & 4095], kPairs[(v >> 40) & 4095],
                           kPairs[(v >> 28) & 4095], kPairs[(v >> 16) & 4095]};
    for (int k = 0; k < 4; ++k) {
      o[2 * k] = static_cast<char>(p[k] & 0xff);
      o[2 * k + 1] = static_cast<char>(p[k] >> 8);
    }
  }
  for (; end - in >= 3; in += 3, o += 4) {
    const uint32_t v = (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8) | in[2];
    const uint16_t hi = kPairs[v >> 12], lo = kPairs[v & 4095];
    o[0] = static_cast<char>(hi & 0xff);
    o[1] = static_cast<char>(hi >> 8);
    o[2] = static_cast<char>(lo & 0xff);
    o[3] = static_cast<char>(lo >> 8);
  }
  const size_t rest = static_cast<size_t>(end - in);
  if (rest == 1) {
    const uint32_t v = uint32_t{in[0]} << 16;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8);
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
  }
  return static_cast<size_t>(o - out);
}

std::string Base64UrlEncode(absl::string_view bytes) {
  std::string out;
  out.resize(Base64UrlEncodedSize(bytes.size()));
  Base64UrlEncodeTo(bytes, out.data());
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  if (text.size() % 4 == 1) return absl::InvalidArgumentError("invalid base64url length");
  std::string out;
  out.resize(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1));
  size_t o = 0, i = 0;
  auto val = [&](size_t k, int& bad) {
    const int8_t v = kDecode[static_cast<uint8_t>(text[k])];
    bad |= v < 0;
    return static_cast<uint32_t>(v & 63);
  };
  int bad = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const uint32_t v = (val(i, bad) << 18) | (val(i + 1, bad) << 12) | (val(i + 2, bad) << 6) |
                       val(i + 3, bad);
    out[o++] = static_cast<char>(v >> 16);
    out[o++] = static_cast<char>(v >> 8);
    out[o++] = static_cast<char>(v);
  }
  const size_t rest = text.size() - i;
  if (rest == 2) {
    const uint32_t v = (val(i, bad) << 18) | (val(i + 1, bad) << 12);
    bad |= (v & 0xffff) != 0;  // unused trailing bits must be zero
    out[o++] = static_cast<char>(v >> 16);
  } else if (rest == 3) {
    const uint32_t v = (val(i, bad) << 18) | (val(i + 1, bad) << 12) | (val(i + 2, bad) << 6);
    bad |= (v & 0xff) != 0;
    out[o++] = static_cast<char>(v >> 16);
    out[o++] = static_cast<char>(v >> 8);
  }
  if (bad) return absl::InvalidArgumentError("invalid base64url text");
  return out;
}

std::string TruncatedHex(absl::Span<const uint8_t> mac, int bits) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t nbytes = (static_cast<size_t>(bits) + 7) / 8;
  std::string out(nbytes * 2, '0');
  for (size_t i = 0; i < nbytes && i < mac.size(); ++i) {
    uint8_t b = mac[i];
    if (i == nbytes - 1 && bits % 8 != 0) b &= static_cast<uint8_t>(0xff << (8 - bits % 8));
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 15];
  }
  return out;
}

}  // namespace piicrypt::internal
