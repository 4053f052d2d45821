// Fuzzes token formats (src/token/token_format.h) and vaultless tokens (tokenizer.h).
// Input: byte 0 holds the options (bits 0-1 format: preserve, card, alphanumeric, preserve;
// bit 2 keep the first six card digits; bit 3 Luhn-valid cards; bit 4 vaultless; bits 5-7
// the prefix length), byte 1 the alphanumeric length, then the prefix, then the value.
// - Options that ValidateTokenOptions refuses make no tokenizer; accepted ones do.
// - A vault token starts with the prefix, differs from the value and keeps the format:
//   preserve keeps the length, each character's class (digit, lower, upper) and every other
//   byte; card keeps separators, the last four (and first six) digits and gives the wanted
//   Luhn state; alphanumeric gives `length` characters of [0-9A-Za-z].
// - A vaultless token is deterministic, keeps the format and detokenizes to the value;
//   whatever detokenizes tokenizes back to the same token (FF1 is a permutation).
// - Errors are kInvalidArgument, start with the field name and never quote the value.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_util.h"
#include "piicrypt/keyset.h"
#include "piicrypt/tokenizer.h"
#include "src/field/token_options.h"
#include "src/fpe/codecs.h"
#include "src/fpe/utf8.h"
#include "src/token/token_format.h"

namespace {

using piicrypt::LuhnOutput;
using piicrypt::TokenFormat;
using piicrypt::TokenizerOptions;

constexpr absl::string_view kField = "fuzz.token";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
int ClassOf(char c) { return IsDigit(c) ? 1 : IsLower(c) ? 2 : IsUpper(c) ? 3 : 0; }

void CheckError(const absl::Status& status, absl::string_view value) {
  if (!absl::IsInvalidArgument(status)) __builtin_trap();
  if (!absl::StartsWith(status.message(), absl::StrCat(kField, ": "))) __builtin_trap();
  piicrypt::fuzz::TrapIfQuoted(status.message(), value);
}

// The body of a token has the shape of the value under the options' format.
void CheckShape(const TokenizerOptions& options, absl::string_view value, absl::string_view body) {
  if (options.format == TokenFormat::kAlphanumeric && !options.vaultless) {
    if (body.size() != options.alphanumeric_length) __builtin_trap();
    for (char c : body) {
      if (ClassOf(c) == 0) __builtin_trap();
    }
    return;
  }
  if (options.format == TokenFormat::kAlphanumeric) {  // vaultless: FF1 over [0-9A-Za-z]
    if (body.size() != value.size()) __builtin_trap();
    for (size_t i = 0; i < value.size(); ++i) {
      if ((ClassOf(value[i]) == 0 || ClassOf(body[i]) == 0) && value[i] != body[i]) {
        __builtin_trap();
      }
    }
    return;
  }
  if (body.size() != value.size()) __builtin_trap();
  for (size_t i = 0; i < value.size(); ++i) {
    if (ClassOf(value[i]) != ClassOf(body[i])) __builtin_trap();
    if (ClassOf(value[i]) == 0 && value[i] != body[i]) __builtin_trap();
  }
  if (options.format != TokenFormat::kCard) return;
  auto value_digits = piicrypt::internal::CardDigits(kField, value);
  auto body_digits = piicrypt::internal::CardDigits(kField, body);
  if (!value_digits.ok() || !body_digits.ok()) __builtin_trap();
  const size_t n = value_digits->size();
  if (value_digits->substr(n - 4) != body_digits->substr(n - 4)) __builtin_trap();
  if (options.card_keep_first_six && value_digits->substr(0, 6) != body_digits->substr(0, 6)) {
    __builtin_trap();
  }
  std::vector<uint16_t> numerals;
  for (char c : *body_digits) numerals.push_back(static_cast<uint16_t>(c - '0'));
  const bool luhn_valid = piicrypt::internal::LuhnSum(numerals) == 0;
  if (luhn_valid != (options.card_luhn == LuhnOutput::kValid)) __builtin_trap();
}

void CheckVault(const TokenizerOptions& options, absl::string_view value) {
  const double space = piicrypt::internal::VaultTokenSpaceLog10(options, value);
  if (!std::isfinite(space) || space < 0) __builtin_trap();
  auto token = piicrypt::internal::DrawVaultToken(options, value);
  if (!token.ok()) {
    CheckError(token.status(), value);
    return;
  }
  if (*token == value || !absl::StartsWith(*token, options.prefix)) __builtin_trap();
  const absl::string_view body = absl::string_view(*token).substr(options.prefix.size());
  if (body == value) __builtin_trap();
  CheckShape(options, value, body);
}

const piicrypt::Keyset& FuzzKeyset() {
  static const piicrypt::Keyset* const kKeyset =
      new piicrypt::Keyset(piicrypt::Keyset::Generate().value());
  return *kKeyset;
}

void CheckVaultless(const TokenizerOptions& options, absl::string_view value) {
  auto tokenizer = piicrypt::Tokenizer::Create(FuzzKeyset(), options, nullptr);
  if (!tokenizer.ok()) __builtin_trap();
  auto token = (*tokenizer)->Tokenize(value);
  if (token.ok()) {
    if (!absl::StartsWith(*token, options.prefix)) __builtin_trap();
    CheckShape(options, value, absl::string_view(*token).substr(options.prefix.size()));
    auto again = (*tokenizer)->Tokenize(value);
    if (!again.ok() || *again != *token) __builtin_trap();
    auto back = (*tokenizer)->Detokenize(*token);
    if (!back.ok() || *back != value) __builtin_trap();
  } else {
    CheckError(token.status(), value);
  }
  // The value read as a token.
  const std::string as_token = absl::StrCat(options.prefix, value);
  auto detokenized = (*tokenizer)->Detokenize(as_token);
  if (detokenized.ok()) {
    auto retokenized = (*tokenizer)->Tokenize(*detokenized);
    if (!retokenized.ok() || *retokenized != as_token) __builtin_trap();
  } else {
    CheckError(detokenized.status(), value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  TokenizerOptions options;
  options.field = std::string(kField);
  constexpr TokenFormat kFormats[] = {TokenFormat::kPreserve, TokenFormat::kCard,
                                      TokenFormat::kAlphanumeric, TokenFormat::kPreserve};
  options.format = kFormats[data[0] & 3];
  options.card_keep_first_six = (data[0] & 4) != 0;
  options.card_luhn = (data[0] & 8) != 0 ? LuhnOutput::kValid : LuhnOutput::kInvalid;
  options.vaultless = (data[0] & 16) != 0;
  // A vaultless field must name its key (an FF1 token carries no key id).
  if (options.vaultless) options.vaultless_key_id = FuzzKeyset().primary_key_id();
  options.alphanumeric_length = data[1] + 1u;
  const size_t prefix_size = std::min<size_t>(data[0] >> 5, size - 2);
  options.prefix.assign(reinterpret_cast<const char*>(data) + 2, prefix_size);
  const absl::string_view value(reinterpret_cast<const char*>(data) + 2 + prefix_size,
                                size - 2 - prefix_size);

  const absl::Status valid = piicrypt::internal::ValidateTokenOptions(options);
  if (!valid.ok()) {
    if (!absl::IsInvalidArgument(valid)) __builtin_trap();
    if (piicrypt::Tokenizer::Create(FuzzKeyset(), options, nullptr).ok()) __builtin_trap();
    return 0;
  }
  if (options.vaultless) {
    CheckVaultless(options, value);
  } else {
    CheckVault(options, value);
  }
  return 0;
}
