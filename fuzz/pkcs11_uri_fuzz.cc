// Fuzzes the PKCS#11 URI parser (src/kek/pkcs11_uri.h); the input is the URI.
// - A URI that parses has what a KEK needs: a token label of 1 to 32 bytes, an object
//   label, an absolute module path, at most one PIN source (an absolute path), and no NUL
//   byte in any value.
// - Parse, serialize (every value percent-encoded, in another attribute order), parse
//   again: the same URI.
// - An error never contains the PIN: when the input's pin-value, as written or decoded,
//   holds bytes that no message could hold otherwise (a control or non-ASCII byte, or a
//   '%'), the message must not contain it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_util.h"
#include "src/kek/pkcs11_uri.h"

namespace {

using piicrypt::internal::ParsePkcs11Uri;
using piicrypt::internal::Pkcs11Uri;

std::string EncodeAll(absl::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 15]);
  }
  return out;
}

bool HasNul(absl::string_view s) { return s.find('\0') != absl::string_view::npos; }

void CheckParsed(const Pkcs11Uri& uri) {
  if (uri.token.empty() || uri.token.size() > 32 || uri.object.empty()) __builtin_trap();
  if (uri.module_path.empty() || uri.module_path.front() != '/') __builtin_trap();
  if (uri.pin_value.has_value() && uri.pin_source.has_value()) __builtin_trap();
  if (uri.pin_value.has_value() && uri.pin_value->empty()) __builtin_trap();
  if (uri.pin_source.has_value() && (uri.pin_source->empty() || uri.pin_source->front() != '/')) {
    __builtin_trap();
  }
  if (uri.id.has_value() && (uri.id->empty() || HasNul(*uri.id))) __builtin_trap();
  if (HasNul(uri.token) || HasNul(uri.object) || HasNul(uri.module_path)) __builtin_trap();

  // Serialized in another order, everything percent-encoded, scheme in upper case.
  std::string again = absl::StrCat("PKCS11:object=", EncodeAll(uri.object));
  if (uri.id.has_value()) absl::StrAppend(&again, ";id=", EncodeAll(*uri.id));
  absl::StrAppend(&again, ";type=secret-key;token=", EncodeAll(uri.token), "?");
  if (uri.pin_value.has_value()) {
    const std::string pin(uri.pin_value->begin(), uri.pin_value->end());
    absl::StrAppend(&again, "pin-value=", EncodeAll(pin), "&");
  }
  if (uri.pin_source.has_value()) {
    absl::StrAppend(&again, "pin-source=", EncodeAll(*uri.pin_source), "&");
  }
  absl::StrAppend(&again, "module-path=", EncodeAll(uri.module_path));
  if (again.size() > piicrypt::internal::kMaxPkcs11UriSize) return;
  auto reparsed = ParsePkcs11Uri(again);
  if (!reparsed.ok()) __builtin_trap();
  if (reparsed->token != uri.token || reparsed->object != uri.object || reparsed->id != uri.id ||
      reparsed->module_path != uri.module_path || reparsed->pin_source != uri.pin_source ||
      reparsed->pin_value.has_value() != uri.pin_value.has_value() ||
      (uri.pin_value.has_value() && *reparsed->pin_value != *uri.pin_value)) {
    __builtin_trap();
  }
  // The description names the key and never holds the PIN or the module.
  auto described = ParsePkcs11Uri(absl::StrCat(uri.Description(), "?module-path=/m.so"));
  if (!described.ok() || described->token != uri.token || described->object != uri.object ||
      described->id != uri.id || described->pin_value.has_value()) {
    __builtin_trap();
  }
}

// Leniently percent-decoded: what the parser would make of a well-formed value.
std::string Decoded(absl::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned value = 0;
    if (raw[i] == '%' && i + 2 < raw.size() && absl::ascii_isxdigit(raw[i + 1]) &&
        absl::ascii_isxdigit(raw[i + 2])) {
      for (char c : raw.substr(i + 1, 2)) {
        value = value * 16 + (absl::ascii_isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
      }
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

// Traps if `message` holds the pin-value of `in` (raw or decoded) where that could not be
// by chance (piicrypt::fuzz::Distinctive).
void CheckNoPin(absl::string_view in, absl::string_view message) {
  const size_t start = in.find("pin-value=");
  if (start == absl::string_view::npos) return;
  absl::string_view raw = in.substr(start + 10);
  raw = raw.substr(0, raw.find('&'));
  const std::string decoded = Decoded(raw);
  // Messages name attributes by their names ([A-Za-z0-9-]) and never hold a '%'.
  piicrypt::fuzz::TrapIfQuoted(message, raw, "%");
  piicrypt::fuzz::TrapIfQuoted(message, decoded, "%");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  auto uri = ParsePkcs11Uri(in);
  if (uri.ok()) {
    CheckParsed(*uri);
    return 0;
  }
  if (!absl::IsInvalidArgument(uri.status())) __builtin_trap();
  CheckNoPin(in, uri.status().message());
  return 0;
}
