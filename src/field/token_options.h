// token_options.h (internal): checks the token settings of one field
// (piicrypt/token_options.h), for policies and tokenizers alike.
#ifndef PIICRYPT_SRC_FIELD_TOKEN_OPTIONS_H_
#define PIICRYPT_SRC_FIELD_TOKEN_OPTIONS_H_

#include "absl/status/status.h"
#include "piicrypt/field_options.h"

namespace piicrypt::internal {

// kInvalidArgument ("<field>: <reason>") for options that no value could satisfy.
[[nodiscard]] absl::Status ValidateTokenOptions(const TokenizerOptions& options);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_TOKEN_OPTIONS_H_
