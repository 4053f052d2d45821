// Fuzzes the format-preserving codecs (src/fpe/codecs.h, format_preserving.h) with
// options taken from the input, which is text in lines: the codec ("phone", "card",
// "card6" (first six kept), "cardv" / "card6v" (Luhn-valid output), or else an alphabet),
// the kept characters, the record id (FF1 tweak), then the value (the rest).
// - An alphabet that is created maps every character to its position and back, and
//   text to numerals and back; MinimumFf1Length is the least length FF1 accepts.
// - A value that encrypts decrypts back, and the ciphertext keeps the format: same
//   number of characters, alphabet characters where the value has them, kept characters
//   and separators in place; cards keep their last four (and first six) digits and have
//   the wanted Luhn state.
// - FF1 is a permutation: a value that decrypts encrypts back to itself.
// - Errors are kInvalidArgument.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/fpe/codecs.h"
#include "src/fpe/ff1.h"
#include "src/fpe/utf8.h"

namespace {

using piicrypt::FpeCodec;
using piicrypt::FpeFieldOptions;
using piicrypt::LuhnOutput;
using piicrypt::internal::Alphabet;

// The next line of `in` (without its '\n'); the whole rest if there is no '\n'.
absl::string_view Line(absl::string_view& in) {
  const size_t nl = in.find('\n');
  const absl::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == absl::string_view::npos ? in.size() : nl + 1);
  return line;
}

FpeFieldOptions OptionsFor(absl::string_view codec, absl::string_view keep) {
  FpeFieldOptions options;
  options.context = "fuzz.fpe";
  if (codec == "phone") {
    options.codec = FpeCodec::kPhone;
  } else if (codec == "card" || codec == "card6" || codec == "cardv" || codec == "card6v") {
    options.codec = FpeCodec::kCard;
    options.card_keep_first_six = codec.find('6') != absl::string_view::npos;
    options.card_luhn = codec.back() == 'v' ? LuhnOutput::kValid : LuhnOutput::kInvalid;
  } else {
    options.codec = FpeCodec::kAlphabet;
    options.alphabet = std::string(codec);
    options.keep_characters = std::string(keep);
  }
  return options;
}

void CheckAlphabet(absl::string_view chars, absl::string_view value) {
  auto alphabet = Alphabet::Create(chars);
  if (!alphabet.ok()) {
    if (!absl::IsInvalidArgument(alphabet.status())) __builtin_trap();
    return;
  }
  const uint32_t radix = alphabet->radix();
  if (radix < 2 || radix > 65536) __builtin_trap();
  for (uint32_t i = 0; i < radix; ++i) {
    if (alphabet->IndexOf(alphabet->CharAt(static_cast<uint16_t>(i))) != static_cast<int32_t>(i)) {
      __builtin_trap();
    }
  }
  std::vector<uint16_t> numerals;
  if (alphabet->ToNumerals(value, numerals).ok()) {
    if (alphabet->FromNumerals(numerals) != value) __builtin_trap();
  }
  numerals.clear();
  for (char c : value) numerals.push_back(static_cast<uint16_t>(static_cast<uint8_t>(c) % radix));
  std::vector<uint16_t> back;
  if (!alphabet->ToNumerals(alphabet->FromNumerals(numerals), back).ok() || back != numerals) {
    __builtin_trap();
  }
  const size_t min = piicrypt::internal::MinimumFf1Length(radix);
  if (!piicrypt::internal::Ff1DomainIsLargeEnough(radix, min) ||
      (min > 1 && piicrypt::internal::Ff1DomainIsLargeEnough(radix, min - 1))) {
    __builtin_trap();
  }
}

std::vector<uint16_t> DigitsOf(absl::string_view s) {
  std::vector<uint16_t> digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') digits.push_back(static_cast<uint16_t>(c - '0'));
  }
  return digits;
}

// `ct` has the format of `value` under `options` (with `alphabet` for the alphabet codec).
void CheckFormat(const FpeFieldOptions& options, const Alphabet& alphabet, absl::string_view value,
                 absl::string_view ct) {
  auto a = piicrypt::internal::DecodeUtf8(value);
  auto b = piicrypt::internal::DecodeUtf8(ct);
  if (!a.ok() || !b.ok() || a->size() != b->size()) __builtin_trap();
  for (size_t i = 0; i < a->size(); ++i) {
    const bool in_a = alphabet.IndexOf((*a)[i]) >= 0;
    if (in_a != (alphabet.IndexOf((*b)[i]) >= 0)) __builtin_trap();
    if (!in_a && (*a)[i] != (*b)[i]) __builtin_trap();
  }
  if (options.codec != FpeCodec::kCard) return;
  const std::vector<uint16_t> plain = DigitsOf(value), cipher = DigitsOf(ct);
  const size_t n = plain.size();
  if (n < 12 || n > 19 || cipher.size() != n) __builtin_trap();
  if (!std::equal(plain.end() - 4, plain.end(), cipher.end() - 4)) __builtin_trap();
  if (options.card_keep_first_six &&
      !std::equal(plain.begin(), plain.begin() + 6, cipher.begin())) {
    __builtin_trap();
  }
  const int luhn = piicrypt::internal::LuhnSum(cipher);
  if (luhn != (options.card_luhn == LuhnOutput::kValid ? 0 : 5)) __builtin_trap();
}

void CheckField(const FpeFieldOptions& options, absl::string_view record, absl::string_view value) {
  auto field =
      piicrypt::FormatPreservingField::CreateWithKey(options, piicrypt::SecretData(32, 0x5a));
  if (!field.ok()) {
    if (!absl::IsInvalidArgument(field.status())) __builtin_trap();
    return;
  }
  auto alphabet =
      Alphabet::Create(options.codec == FpeCodec::kAlphabet ? absl::string_view(options.alphabet)
                                                            : piicrypt::kDigitAlphabet);
  if (!alphabet.ok()) __builtin_trap();
  auto ct = (*field)->Encrypt(value, record);
  if (ct.ok()) {
    CheckFormat(options, *alphabet, value, *ct);
    auto pt = (*field)->Decrypt(*ct, record);
    if (!pt.ok() || *pt != value) __builtin_trap();
  } else if (!absl::IsInvalidArgument(ct.status())) {
    __builtin_trap();
  }
  auto decrypted = (*field)->Decrypt(value, record);
  if (decrypted.ok()) {
    auto encrypted = (*field)->Encrypt(*decrypted, record);
    if (!encrypted.ok() || *encrypted != value) __builtin_trap();
  } else if (!absl::IsInvalidArgument(decrypted.status())) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  const absl::string_view codec = Line(in);
  const absl::string_view keep = Line(in);
  const absl::string_view record = Line(in);
  const absl::string_view value = in;
  CheckAlphabet(codec, value);
  CheckField(OptionsFor(codec, keep), record, value);
  return 0;
}
