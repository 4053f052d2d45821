// utf8.h: a strict UTF-8 decoder and an encoder, for alphabets of Unicode code points.
//
// Strict means RFC 3629: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code
// points above U+10FFFF, stray continuation bytes and truncated sequences are all
// rejected, so every accepted string has exactly one decoding and encodes back to
// itself byte for byte.
#ifndef PIICRYPT_SRC_FPE_UTF8_H_
#define PIICRYPT_SRC_FPE_UTF8_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"

namespace piicrypt::internal {

// The code points of `text`; kInvalidArgument ("invalid UTF-8") on malformed input.
// The message never quotes the input.
// Exported from the shared core library for the normalizers component.
PIICRYPT_EXPORT absl::StatusOr<std::vector<char32_t>> DecodeUtf8(absl::string_view text);

// Appends the UTF-8 form of `cp`. REQUIRES: cp <= 0x10FFFF and not a surrogate.
void AppendUtf8(char32_t cp, std::string& out);

// True iff `cp` is a Unicode scalar value (encodable in UTF-8).
inline bool IsScalarValue(char32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FPE_UTF8_H_
