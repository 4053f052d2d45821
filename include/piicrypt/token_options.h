// token_options.h: the token settings of one field (TokenizerOptions), a plain value.
//
// A policy's vault-token and vaultless fields carry them (policy.h, FieldRule::token) and
// a Tokenizer is made from them (tokenizer.h, which explains formats, modes and
// normalization). This header holds the value type only, so that a policy needs nothing
// of the tokenizer.
//
//   piicrypt::TokenizerOptions card;
//   card.field = "orders.card_number";
//   card.format = piicrypt::TokenFormat::kCard;  // keep last 4, Luhn-invalid
#ifndef PIICRYPT_TOKEN_OPTIONS_H_
#define PIICRYPT_TOKEN_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "piicrypt/format_preserving.h"

namespace piicrypt {

enum class TokenFormat { kPreserve, kCard, kAlphanumeric };
enum class TokenMode { kDeterministic, kRandom };
// How a vault field's values are normalized before their lookup (see Normalization).
enum class TokenNormalizer {
  kExact,       // the bytes as given
  kEmail,       // white space trimmed, lower-cased (ASCII and Unicode); one '@'
  kPhone,       // E.164 through libphonenumber ("+61255500199"); invalid numbers refused
  kName,        // Unicode NFKC case folding, white space collapsed to one space and trimmed
  kCardDigits,  // ASCII spaces and '-' dropped; the rest must be ASCII digits
};

// Longest value accepted by Tokenize, in bytes.
inline constexpr size_t kMaxTokenValueSize = 4096;
// Longest token prefix, in bytes.
inline constexpr size_t kMaxTokenPrefixSize = 32;

// The token settings of one field.
struct TokenizerOptions {
  // The field's CONTEXT, e.g. "orders.card_number": selects the derived keys and the
  // store's partition. REQUIRED: non-empty, at most 1024 bytes.
  std::string field;

  // Default: kPreserve.
  TokenFormat format = TokenFormat::kPreserve;
  // Default: kDeterministic. Vaultless tokens are always deterministic (kRandom is refused).
  TokenMode mode = TokenMode::kDeterministic;
  // FF1 tokens without a store. Default: false (vault tokens).
  bool vaultless = false;

  // kCard only: keep the first six digits (issuer) as well. Default: false.
  bool card_keep_first_six = false;
  // kCard only: Luhn state of the token. Default: kInvalid.
  LuhnOutput card_luhn = LuhnOutput::kInvalid;
  // kAlphanumeric vault tokens only: length of the random part. Default: 16.
  // REQUIRES: 4..256.
  size_t alphanumeric_length = 16;

  // Vault tokens only: the normalizer of the value's lookup (see Normalization).
  // Tokenizer::CreateForField takes it from the field's kind. Default: kExact.
  TokenNormalizer normalizer = TokenNormalizer::kExact;
  // kPhone only: the region (ISO 3166 alpha-2, such as "AU") assumed for numbers written
  // without a leading '+'. Default: none (such numbers are refused).
  std::string phone_region;

  // Put in front of every token, e.g. "tok_". Printable ASCII without spaces, at most
  // kMaxTokenPrefixSize bytes. Default: none.
  std::string prefix;

  // Vault tokens only: how long a new token detokenizes; zero for ever. A deterministic
  // field gives an expired value a new token. Whole seconds. Default: zero.
  absl::Duration ttl = absl::ZeroDuration();

  // Draws of a new token before Tokenize gives up with kResourceExhausted. Default: 16.
  // REQUIRES: 1..1000.
  int max_attempts = 16;

  // Vaultless only, REQUIRED there: the id of the key whose FF1 key makes the tokens (a
  // token names no key, so the key is pinned; 0 is refused with kInvalidArgument).
  uint32_t vaultless_key_id = 0;

  // The clock for expiry. Default (empty): absl::Now.
  std::function<absl::Time()> clock;
};

}  // namespace piicrypt

#endif  // PIICRYPT_TOKEN_OPTIONS_H_
