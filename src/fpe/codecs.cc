#include "src/fpe/codecs.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/crypto/field_format.h"
#include "src/fpe/ff1.h"
#include "src/fpe/utf8.h"

namespace piicrypt {
namespace internal {

absl::StatusOr<Alphabet> Alphabet::Create(absl::string_view utf8) {
  absl::StatusOr<std::vector<char32_t>> chars = DecodeUtf8(utf8);
  if (!chars.ok()) return absl::InvalidArgumentError("alphabet is not valid UTF-8");
  if (chars->size() < kFf1MinRadix || chars->size() > kFf1MaxRadix) {
    return absl::InvalidArgumentError("alphabet must have 2 to 65536 characters");
  }
  Alphabet alphabet;
  alphabet.ascii_.fill(-1);
  for (size_t i = 0; i < chars->size(); ++i) {
    const char32_t cp = (*chars)[i];
    if (cp < 128) {
      if (alphabet.ascii_[cp] != -1) {
        return absl::InvalidArgumentError("alphabet has a repeated character");
      }
      alphabet.ascii_[cp] = static_cast<int32_t>(i);
    } else {
      alphabet.non_ascii_.emplace_back(cp, static_cast<uint16_t>(i));
    }
  }
  std::sort(alphabet.non_ascii_.begin(), alphabet.non_ascii_.end());
  for (size_t i = 1; i < alphabet.non_ascii_.size(); ++i) {
    if (alphabet.non_ascii_[i].first == alphabet.non_ascii_[i - 1].first) {
      return absl::InvalidArgumentError("alphabet has a repeated character");
    }
  }
  alphabet.chars_ = *std::move(chars);
  return alphabet;
}

int32_t Alphabet::IndexOf(char32_t cp) const {
  if (cp < 128) return ascii_[cp];
  auto it = std::lower_bound(non_ascii_.begin(), non_ascii_.end(),
                             std::make_pair(cp, static_cast<uint16_t>(0)));
  if (it == non_ascii_.end() || it->first != cp) return -1;
  return it->second;
}

absl::Status Alphabet::ToNumerals(absl::string_view text, std::vector<uint16_t>& out) const {
  out.clear();
  absl::StatusOr<std::vector<char32_t>> cps = DecodeUtf8(text);
  if (!cps.ok()) return cps.status();
  absl::Cleanup wipe = [&cps] { SecureWipe(cps->data(), cps->size() * sizeof(char32_t)); };
  out.reserve(cps->size());
  for (char32_t cp : *cps) {
    const int32_t index = IndexOf(cp);
    if (index < 0) return absl::InvalidArgumentError("character outside the alphabet");
    out.push_back(static_cast<uint16_t>(index));
  }
  return absl::OkStatus();
}

std::string Alphabet::FromNumerals(absl::Span<const uint16_t> numerals) const {
  std::string out;
  out.reserve(numerals.size());
  for (uint16_t n : numerals) AppendUtf8(chars_[n], out);
  return out;
}

int LuhnSum(absl::Span<const uint16_t> digits) {
  int sum = 0;
  bool doubled = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i];
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10;
}

size_t MinimumFf1Length(uint32_t radix) {
  size_t length = 1;
  while (!Ff1DomainIsLargeEnough(radix, length)) ++length;
  return length;
}

namespace {

constexpr size_t kMinCardDigits = 12;
constexpr size_t kMaxCardDigits = 19;
// In LuhnOutput::kInvalid, the last encrypted digit (5th from the right, never doubled
// by Luhn) is shifted by this much, moving the Luhn sum from 0 to 5.
constexpr uint16_t kLuhnShift = 5;

template <typename T>
void WipeVector(std::vector<T>& v) {
  SecureWipe(v.data(), v.size() * sizeof(T));
}

bool IsPhonePunctuation(char c) {
  return c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '/';
}

// `value` with its ASCII digits replaced, in order, by `digits` (one per digit of `value`).
std::string WithDigits(absl::string_view value, absl::Span<const uint16_t> digits) {
  std::string out(value);
  size_t k = 0;
  for (char& c : out) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      c = static_cast<char>('0' + digits[k++]);
    }
  }
  return out;
}

class FpeFieldImpl final : public FormatPreservingField {
 public:
  FpeFieldImpl(FpeFieldOptions options, std::unique_ptr<Ff1> ff1, Alphabet alphabet,
               std::vector<char32_t> keep)
      : options_(std::move(options)),
        ff1_(std::move(ff1)),
        alphabet_(std::move(alphabet)),
        keep_(std::move(keep)) {}

  absl::StatusOr<std::string> Encrypt(absl::string_view value,
                                      absl::string_view record) const override {
    return Run(true, value, record);
  }
  absl::StatusOr<std::string> Decrypt(absl::string_view value,
                                      absl::string_view record) const override {
    return Run(false, value, record);
  }
  absl::string_view context() const override { return options_.context; }
  FpeCodec codec() const override { return options_.codec; }

 private:
  absl::Status Error(absl::string_view reason) const {
    return absl::InvalidArgumentError(absl::StrCat(options_.context, ": ", reason));
  }
  // FF1 errors carry no value; they get the field's name in front.
  absl::Status Wrap(const absl::Status& status) const {
    return absl::Status(status.code(), absl::StrCat(options_.context, ": ", status.message()));
  }
  absl::Status Ff1InPlace(bool encrypt, uint32_t radix, absl::string_view record,
                          std::vector<uint16_t>& numerals) const {
    const absl::Span<const uint8_t> tweak(reinterpret_cast<const uint8_t*>(record.data()),
                                          record.size());
    absl::Status status = encrypt ? ff1_->Encrypt(radix, tweak, numerals, absl::MakeSpan(numerals))
                                  : ff1_->Decrypt(radix, tweak, numerals, absl::MakeSpan(numerals));
    return status.ok() ? status : Wrap(status);
  }

  absl::StatusOr<std::string> Run(bool encrypt, absl::string_view value,
                                  absl::string_view record) const {
    if (value.size() > kMaxFpeValueSize) {
      return Error(absl::StrCat("value longer than ", kMaxFpeValueSize, " bytes"));
    }
    if (record.size() > kFf1MaxTweakSize) {
      return Error(absl::StrCat("record id longer than ", kFf1MaxTweakSize, " bytes"));
    }
    switch (options_.codec) {
      case FpeCodec::kPhone:
        return Phone(encrypt, value, record);
      case FpeCodec::kCard:
        return Card(encrypt, value, record);
      case FpeCodec::kAlphabet:
        return AlphabetCodec(encrypt, value, record);
    }
    return absl::InternalError("unknown codec");
  }

  absl::StatusOr<std::string> Phone(bool encrypt, absl::string_view value,
                                    absl::string_view record) const {
    std::vector<uint16_t> digits;
    absl::Cleanup wipe = [&digits] { WipeVector(digits); };
    digits.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
      const char c = value[i];
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        digits.push_back(static_cast<uint16_t>(c - '0'));
      } else if (!(c == '+' && i == 0) && !IsPhonePunctuation(c)) {
        return Error(
            "value does not match the phone codec (only digits, a leading '+', spaces "
            "and ( ) - . / are allowed)");
      }
    }
    if (!Ff1DomainIsLargeEnough(10, digits.size())) {
      return Error("phone number has too few digits to encrypt (at least 6 needed)");
    }
    if (absl::Status s = Ff1InPlace(encrypt, 10, record, digits); !s.ok()) return s;
    return WithDigits(value, digits);
  }

  absl::StatusOr<std::string> Card(bool encrypt, absl::string_view value,
                                   absl::string_view record) const {
    std::vector<uint16_t> digits;
    std::vector<uint16_t> middle;
    absl::Cleanup wipe = [&digits, &middle] {
      WipeVector(digits);
      WipeVector(middle);
    };
    digits.reserve(kMaxCardDigits);
    for (char c : value) {
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        if (digits.size() == kMaxCardDigits) {
          return Error("card number must have 12 to 19 digits");
        }
        digits.push_back(static_cast<uint16_t>(c - '0'));
      } else if (c != ' ' && c != '-') {
        return Error(
            "value does not match the card codec (only digits, spaces and '-' are "
            "allowed)");
      }
    }
    if (digits.size() < kMinCardDigits) return Error("card number must have 12 to 19 digits");
    const size_t lo = options_.card_keep_first_six ? 6 : 0;
    const size_t hi = digits.size() - 4;
    if (!Ff1DomainIsLargeEnough(10, hi - lo)) {
      return Error(
          "card number too short to encrypt with the first six digits kept (at least "
          "16 digits needed)");
    }
    const bool want_valid = options_.card_luhn == LuhnOutput::kValid;
    // Cycle-walking: FF1 permutes all 10^(hi-lo) middles; repeating it until the whole
    // number is Luhn-valid again is a permutation of the Luhn-valid numbers with these
    // kept digits. For kInvalid, the last middle digit is then shifted by 5, which
    // moves the Luhn sum to exactly 5 (it sits at an odd position from the right, where
    // Luhn adds the digit itself), and shifting by 5 again undoes it (10 - 5 = 5).
    auto walk = [&]() -> absl::Status {
      for (int step = 0; step < kMaxCycleWalkSteps; ++step) {
        middle.assign(digits.begin() + lo, digits.begin() + hi);
        if (absl::Status s = Ff1InPlace(encrypt, 10, record, middle); !s.ok()) return s;
        std::copy(middle.begin(), middle.end(), digits.begin() + lo);
        if (LuhnSum(digits) == 0) return absl::OkStatus();
      }
      return absl::InternalError(absl::StrCat(options_.context, ": cycle-walking bound reached"));
    };
    if (encrypt) {
      if (LuhnSum(digits) != 0) return Error("card number fails the Luhn check");
      if (absl::Status s = walk(); !s.ok()) return s;
      if (!want_valid) digits[hi - 1] = (digits[hi - 1] + kLuhnShift) % 10;
    } else {
      if (LuhnSum(digits) != (want_valid ? 0 : kLuhnShift)) {
        return Error("value is not an encrypted card number of this field (wrong Luhn state)");
      }
      if (!want_valid) digits[hi - 1] = (digits[hi - 1] + 10 - kLuhnShift) % 10;
      if (absl::Status s = walk(); !s.ok()) return s;
    }
    return WithDigits(value, digits);
  }

  absl::StatusOr<std::string> AlphabetCodec(bool encrypt, absl::string_view value,
                                            absl::string_view record) const {
    absl::StatusOr<std::vector<char32_t>> cps = DecodeUtf8(value);
    if (!cps.ok()) return Error("value is not valid UTF-8");
    std::vector<uint16_t> numerals;
    absl::Cleanup wipe = [&cps, &numerals] {
      WipeVector(*cps);
      WipeVector(numerals);
    };
    numerals.reserve(cps->size());
    for (char32_t cp : *cps) {
      const int32_t index = alphabet_.IndexOf(cp);
      if (index >= 0) {
        numerals.push_back(static_cast<uint16_t>(index));
      } else if (std::find(keep_.begin(), keep_.end(), cp) == keep_.end()) {
        return Error("value has a character outside the field's alphabet");
      }
    }
    if (!Ff1DomainIsLargeEnough(alphabet_.radix(), numerals.size())) {
      return Error(absl::StrCat("value too short to encrypt (at least ",
                                MinimumFf1Length(alphabet_.radix()),
                                " characters of the alphabet needed)"));
    }
    if (absl::Status s = Ff1InPlace(encrypt, alphabet_.radix(), record, numerals); !s.ok()) {
      return s;
    }
    std::string out;
    out.reserve(value.size());
    size_t k = 0;
    for (char32_t cp : *cps) {
      AppendUtf8(alphabet_.IndexOf(cp) >= 0 ? alphabet_.CharAt(numerals[k++]) : cp, out);
    }
    return out;
  }

  const FpeFieldOptions options_;
  const std::unique_ptr<Ff1> ff1_;
  const Alphabet alphabet_;
  const std::vector<char32_t> keep_;
};

absl::StatusOr<std::unique_ptr<FormatPreservingField>> CreateField(const FpeFieldOptions& options,
                                                                   absl::Span<const uint8_t> key) {
  if (options.context.empty() || options.context.size() > kMaxContextSize) {
    return absl::InvalidArgumentError("format-preserving field: context must be 1 to 1024 bytes");
  }
  auto error = [&options](absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat(options.context, ": ", reason));
  };
  absl::StatusOr<std::unique_ptr<Ff1>> ff1 = Ff1::Create(key);
  if (!ff1.ok()) return error(ff1.status().message());
  // Phone and card fields use the digits; their options.alphabet is not used.
  absl::StatusOr<Alphabet> alphabet = Alphabet::Create(
      options.codec == FpeCodec::kAlphabet ? absl::string_view(options.alphabet) : kDigitAlphabet);
  if (!alphabet.ok()) return error(alphabet.status().message());
  std::vector<char32_t> keep;
  if (options.codec == FpeCodec::kAlphabet) {
    absl::StatusOr<std::vector<char32_t>> decoded = DecodeUtf8(options.keep_characters);
    if (!decoded.ok()) return error("keep_characters is not valid UTF-8");
    for (char32_t cp : *decoded) {
      if (alphabet->IndexOf(cp) >= 0) {
        return error("keep_characters overlaps the alphabet");
      }
    }
    keep = *std::move(decoded);
  }
  return std::make_unique<FpeFieldImpl>(options, *std::move(ff1), *std::move(alphabet),
                                        std::move(keep));
}

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<FormatPreservingField>> FormatPreservingField::CreateWithKey(
    const FpeFieldOptions& options, const SecretData& ff1_key) {
  return internal::CreateField(options, ff1_key);
}

absl::StatusOr<std::unique_ptr<FormatPreservingField>> FormatPreservingField::CreateFromRoot(
    const FpeFieldOptions& options, const SecretData& root_material) {
  if (root_material.size() != internal::kRootKeySize) {
    return absl::InvalidArgumentError("format-preserving field: root material must be 32 bytes");
  }
  if (options.context.empty() || options.context.size() > internal::kMaxContextSize) {
    return absl::InvalidArgumentError("format-preserving field: context must be 1 to 1024 bytes");
  }
  absl::StatusOr<SecretData> key =
      internal::DeriveFieldKey(root_material, internal::FieldPurpose::kFf1, options.context);
  if (!key.ok()) return key.status();
  return internal::CreateField(options, *key);
}

}  // namespace piicrypt
