// Fuzzes the subject formats' parsers (src/subject/subject_format.h) for round trips: a
// subject field value that parses is its header and body again, with non-zero ids; a
// wrapped key that parses is 65 bytes whose base64url is the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/crypto/field_format.h"
#include "src/subject/subject_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace piicrypt::internal;  // NOLINT(build/namespaces)
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseSubjectCiphertext(in);
  if (parsed.ok()) {
    if (absl::StrCat(parsed->header, parsed->body) != in) __builtin_trap();
    if (parsed->header.size() != kSubjectHeaderSize) __builtin_trap();
    if (parsed->wrap_key_id == 0 || parsed->subject_key_id == 0) __builtin_trap();
    if (parsed->body.size() < kSubjectOverhead - kSubjectHeaderSize) __builtin_trap();
  }
  auto wrapped = ParseWrappedKey(in);
  if (wrapped.ok()) {
    if (wrapped->size() != kWrappedKeySize || WrappedKeyId(*wrapped) == 0) __builtin_trap();
    if (Base64UrlEncode(*wrapped) != in) __builtin_trap();
  }
  if (IsLookup(in) && LookupBytes(in).size() != 32) __builtin_trap();
  return 0;
}
