// token_format.h: the shapes of vault tokens (tokenizer.h, "Formats"): checks a value
// against its field's format and draws random tokens of that shape.
#ifndef PIICRYPT_SRC_TOKEN_TOKEN_FORMAT_H_
#define PIICRYPT_SRC_TOKEN_TOKEN_FORMAT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/tokenizer.h"

namespace piicrypt::internal {

// A fresh random token (prefix included) for `value`, different from `value`.
// kInvalidArgument ("<field>: <reason>", never quoting the value) if the value does not
// fit the format.
absl::StatusOr<std::string> DrawVaultToken(const TokenizerOptions& options,
                                           absl::string_view value);

// log10 of the number of tokens the format allows for `value` (for error messages).
double VaultTokenSpaceLog10(const TokenizerOptions& options, absl::string_view value);

// The digits of `value` if it is a card number of 12 to 19 digits, optionally grouped by
// spaces or '-'; kInvalidArgument ("<field>: <reason>") otherwise.
absl::StatusOr<std::string> CardDigits(absl::string_view field, absl::string_view value);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_TOKEN_TOKEN_FORMAT_H_
