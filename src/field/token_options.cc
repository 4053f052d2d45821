#include "src/field/token_options.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "src/crypto/field_format.h"
#include "src/fpe/utf8.h"

namespace piicrypt::internal {
namespace {

absl::Status Error(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

}  // namespace

absl::Status ValidateTokenOptions(const TokenizerOptions& options) {
  if (options.field.empty() || options.field.size() > kMaxContextSize) {
    return absl::InvalidArgumentError("token field name must have 1 to 1024 bytes");
  }
  if (options.field.find('\0') != std::string::npos || !DecodeUtf8(options.field).ok()) {
    return absl::InvalidArgumentError("token field name must be UTF-8 without NUL bytes");
  }
  if (options.prefix.size() > kMaxTokenPrefixSize) {
    return Error(options.field, "token prefix is longer than 32 bytes");
  }
  for (char c : options.prefix) {
    if (c < 0x21 || c > 0x7e) {
      return Error(options.field, "token prefix must be printable ASCII without spaces");
    }
  }
  if (options.max_attempts < 1 || options.max_attempts > 1000) {
    return Error(options.field, "max_attempts must be 1 to 1000");
  }
  if (options.ttl < absl::ZeroDuration()) return Error(options.field, "ttl must not be negative");
  if (options.ttl != absl::ZeroDuration() && options.ttl < absl::Seconds(1)) {
    return Error(options.field, "ttl must be zero (no expiry) or at least one second");
  }
  if (options.vaultless) {
    if (options.mode == TokenMode::kRandom) {
      return Error(options.field, "vaultless tokens are always deterministic");
    }
    if (options.ttl != absl::ZeroDuration()) {
      return Error(options.field, "vaultless tokens cannot expire (no store)");
    }
  } else if (options.format == TokenFormat::kAlphanumeric &&
             (options.alphanumeric_length < 4 || options.alphanumeric_length > 256)) {
    return Error(options.field, "alphanumeric_length must be 4 to 256");
  }
  return absl::OkStatus();
}

}  // namespace piicrypt::internal
