// Fuzzes the field wire-format parser and the base64url codec for round trips:
// anything that parses serializes back to the same bytes, anything that decodes encodes
// back to the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "src/crypto/field_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace piicrypt::internal;  // NOLINT(build/namespaces)
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseCiphertext(in);
  if (parsed.ok()) {
    if (SerializeCiphertext(*parsed) != in) __builtin_trap();
    if (parsed->key_id == 0) __builtin_trap();
  }
  auto decoded = Base64UrlDecode(in);
  if (decoded.ok() && Base64UrlEncode(*decoded) != in) __builtin_trap();
  if (Base64UrlDecode(Base64UrlEncode(in)).value_or("x") != in && !in.empty()) __builtin_trap();
  return 0;
}
