// field_options.h: the settings of one field's protection, as plain values.
//
// A policy (policy.h) describes each field with a FieldRule made of these settings, and
// the building blocks that carry them out take them too: FieldCipher (subtle/field_cipher.h)
// its mode and padding, FormatPreservingField (subtle/format_preserving.h) its FF1 codec,
// Tokenizer (tokenizer.h) its token settings. They are values without library state: this
// header needs no keyset, KEK, token store or tokenizer, and neither does policy.h.
//
//   piicrypt::FieldPadding padding;
//   padding.buckets = {32, 64};          // ciphertexts show only "up to 32" or "up to 64"
//
//   piicrypt::TokenizerOptions card;
//   card.field = "orders.card_number";
//   card.format = piicrypt::TokenFormat::kCard;  // keep last 4, Luhn-invalid
//
// Thread safety: plain values; copy them freely.
#ifndef PIICRYPT_FIELD_OPTIONS_H_
#define PIICRYPT_FIELD_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace piicrypt {

// How a field's values are stored (docs/FIELDS.md, "Modes and what each reveals"): the
// policy file's `mode` (proto/piicrypt/policy.proto, enum Mode), one value each, in the same
// order: MODE_RANDOMIZED is kRandomized, MODE_DETERMINISTIC kDeterministic, and so on.
// FieldCipher (subtle/field_cipher.h) takes the first two; FieldCryptor refuses kVaultToken
// fields (a Tokenizer handles them).
enum class FieldMode {
  kRandomized,        // AES-256-GCM, random nonce: reveals the length only
  kDeterministic,     // AES-SIV: reveals equality of values (and length)
  kFormatPreserving,  // FF1 through a codec: reveals format, length and equality
  kVaultToken,        // tokens through a Tokenizer (tokenizer.h)
};

// ---- Padding (kRandomized and kDeterministic fields) ----

// How a field pads its values before encryption (docs/SPEC.md, "Padding"). A value is
// padded to a size P of at least its length, then encrypted as value || 0x80 || 0x00 *
// (P - length): P + 1 bytes, whatever the value's length within its size class.
//   - multiple N (1 to 4096): P is the length rounded up to a multiple of N, and at least
//     N (the empty value looks like any other short one);
//   - buckets (ascending, each 1 to 65536, at most 64 of them): P is the smallest bucket
//     at least as long as the value; a longer value is rounded up to a multiple of the
//     largest bucket.
// Neither (the default): no padding; values are written in the unpadded formats.
// Padding is deterministic, so a deterministic field still shows equal values as equal.
struct FieldPadding {
  static constexpr uint32_t kMaxPaddingMultiple = 4096;
  static constexpr uint32_t kMaxPaddingBucket = 65536;
  static constexpr size_t kMaxPaddingBuckets = 64;

  uint32_t multiple = 0;
  std::vector<uint32_t> buckets;

  bool enabled() const { return multiple != 0 || !buckets.empty(); }
  // kInvalidArgument, saying what is wrong, unless the padding is one of the forms above
  // (or none).
  absl::Status Validate() const;
  // P for a value of `size` bytes. REQUIRES: enabled() and Validate().ok().
  size_t PaddedSize(size_t size) const;
  bool operator==(const FieldPadding& o) const {
    return multiple == o.multiple && buckets == o.buckets;
  }
};

// Defined here, inline: the padding is a value type of the policy, with no library state.
inline absl::Status FieldPadding::Validate() const {
  static_assert(
      kMaxPaddingMultiple == 4096 && kMaxPaddingBucket == 65536 && kMaxPaddingBuckets == 64,
      "update the messages below");
  if (multiple != 0 && !buckets.empty()) {
    return absl::InvalidArgumentError("padding takes a multiple or buckets, not both");
  }
  if (multiple > kMaxPaddingMultiple) {
    return absl::InvalidArgumentError("padding multiple must be 1 to 4096");
  }
  if (buckets.size() > kMaxPaddingBuckets) {
    return absl::InvalidArgumentError("at most 64 padding buckets");
  }
  uint32_t previous = 0;
  for (uint32_t bucket : buckets) {
    if (bucket < 1 || bucket > kMaxPaddingBucket) {
      return absl::InvalidArgumentError("padding buckets must be 1 to 65536 bytes");
    }
    if (bucket <= previous) {
      return absl::InvalidArgumentError("padding buckets must be in ascending order");
    }
    previous = bucket;
  }
  return absl::OkStatus();
}

inline size_t FieldPadding::PaddedSize(size_t size) const {
  if (multiple != 0) {
    const size_t n = size == 0 ? 1 : size;
    return (n + multiple - 1) / multiple * multiple;
  }
  for (uint32_t bucket : buckets) {
    if (size <= bucket) return bucket;
  }
  const size_t largest = buckets.back();
  return (size + largest - 1) / largest * largest;
}

// ---- Format-preserving encryption (FF1; subtle/format_preserving.h explains the codecs) ----

enum class FpeCodec { kPhone, kCard, kAlphabet };

// The Luhn state of an encrypted card number.
enum class LuhnOutput {
  kInvalid,  // deliberately fails the Luhn check (Luhn sum 5 mod 10)
  kValid,    // passes the Luhn check
};

inline constexpr absl::string_view kDigitAlphabet = "0123456789";
inline constexpr absl::string_view kUpperAlphanumericAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

struct FpeFieldOptions {
  // The field's CONTEXT, e.g. "orders.phone": names the field in errors and, with
  // CreateFromRoot, selects the derived key. REQUIRED: non-empty, at most 1024 bytes.
  std::string context;

  // Default: kAlphabet.
  FpeCodec codec = FpeCodec::kAlphabet;

  // kCard only. Keep the first six digits (issuer identification) in clear as well.
  // Default: false (only the last four are kept). With true, the card number needs at
  // least 16 digits, so that the 6 encrypted digits reach the minimum domain.
  bool card_keep_first_six = false;
  // kCard only. Default: kInvalid.
  LuhnOutput card_luhn = LuhnOutput::kInvalid;

  // kAlphabet only. The characters that are encrypted, as UTF-8: 2 to 65536 distinct
  // code points; their order fixes the numeral values. Default: the ten digits.
  std::string alphabet = std::string(kDigitAlphabet);
  // kAlphabet only. Characters kept in place (e.g. " -" for "SW1A 1AA"), as UTF-8;
  // none of them may be in `alphabet`. Default: none.
  std::string keep_characters;
};

// ---- Tokens (tokenizer.h explains the formats, modes and normalization) ----

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

#endif  // PIICRYPT_FIELD_OPTIONS_H_
