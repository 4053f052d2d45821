// fuzz_util.h: the checks that several fuzz targets make.
#ifndef PIICRYPT_FUZZ_FUZZ_UTIL_H_
#define PIICRYPT_FUZZ_FUZZ_UTIL_H_

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace piicrypt::fuzz {

// Whether no message could hold `value` by chance: it has 4 bytes or more, one of them a
// control or non-ASCII byte or one of `also` (messages are printable ASCII).
inline bool Distinctive(absl::string_view value, absl::string_view also = "") {
  if (value.size() < 4) return false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || absl::StrContains(also, c)) return true;
  }
  return false;
}

// Traps if `message` holds `value` where that cannot be by chance (Distinctive): an error
// never quotes what it was given.
inline void TrapIfQuoted(absl::string_view message, absl::string_view value,
                         absl::string_view also = "") {
  if (Distinctive(value, also) && absl::StrContains(message, value)) __builtin_trap();
}

}  // namespace piicrypt::fuzz

#endif  // PIICRYPT_FUZZ_FUZZ_UTIL_H_
