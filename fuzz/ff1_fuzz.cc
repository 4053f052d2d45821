// Fuzzes FF1 and the format-preserving codecs for round trips. From the input: a key
// size, a radix (2..65536), a tweak and a numeral string; FF1 must accept exactly the
// messages whose parameters are valid, keep every numeral below the radix, decrypt back
// to the input, and give the same result in place. The raw input is also fed to the
// phone, card and alphabet codecs: whatever encrypts must keep its shape and decrypt back.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/format_preserving.h"
#include "src/fpe/ff1.h"
#include "src/fpe/utf8.h"

namespace {

using piicrypt::internal::Ff1;

// A tiny cursor over the fuzz input; reads past the end give zeros.
struct Cursor {
  const uint8_t* data;
  size_t size;
  uint32_t Byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  uint32_t U16() { return (Byte() << 8) | Byte(); }
};

const Ff1* Ff1ForKeySize(size_t index) {
  static const Ff1* const kFf1[3] = {
      Ff1::Create(std::vector<uint8_t>(16, 0x11)).value().release(),
      Ff1::Create(std::vector<uint8_t>(24, 0x22)).value().release(),
      Ff1::Create(std::vector<uint8_t>(32, 0x33)).value().release(),
  };
  return kFf1[index % 3];
}

const piicrypt::FormatPreservingField* Field(piicrypt::FpeCodec codec, bool variant) {
  auto make = [](piicrypt::FpeCodec c, bool v) {
    piicrypt::FpeFieldOptions options;
    options.context = "fuzz.field";
    options.codec = c;
    options.card_keep_first_six = v;
    options.card_luhn = v ? piicrypt::LuhnOutput::kValid : piicrypt::LuhnOutput::kInvalid;
    if (c == piicrypt::FpeCodec::kAlphabet) {
      options.alphabet = v ? "ABCDEFGHIJ\xCE\xB1\xCE\xB2\xE2\x82\xAC" : "0123456789ABCDEF";
      options.keep_characters = " -";
    }
    return piicrypt::FormatPreservingField::CreateWithKey(options, piicrypt::SecretData(32, 0x44))
        .value()
        .release();
  };
  static const piicrypt::FormatPreservingField* const kFields[6] = {
      make(piicrypt::FpeCodec::kPhone, false),    make(piicrypt::FpeCodec::kPhone, true),
      make(piicrypt::FpeCodec::kCard, false),     make(piicrypt::FpeCodec::kCard, true),
      make(piicrypt::FpeCodec::kAlphabet, false), make(piicrypt::FpeCodec::kAlphabet, true),
  };
  const int index = codec == piicrypt::FpeCodec::kPhone  ? 0
                    : codec == piicrypt::FpeCodec::kCard ? 2
                                                         : 4;
  return kFields[index + (variant ? 1 : 0)];
}

void CheckFf1(Cursor in) {
  const Ff1* ff1 = Ff1ForKeySize(in.Byte());
  // Mostly small radices (where lengths are interesting), sometimes any radix.
  const uint32_t selector = in.Byte();
  uint32_t radix = selector < 200 ? 2 + selector % 64 : 2 + in.U16() % 65535;
  if (selector == 255) radix = 65536;
  const size_t tweak_size = in.Byte() % 24;
  std::vector<uint8_t> tweak;
  for (size_t i = 0; i < tweak_size; ++i) tweak.push_back(static_cast<uint8_t>(in.Byte()));
  std::vector<uint16_t> x;
  while (in.size > 0) {
    x.push_back(static_cast<uint16_t>((radix > 256 ? in.U16() : in.Byte()) % radix));
  }

  const bool valid = piicrypt::internal::CheckFf1Parameters(radix, x.size(), tweak.size()).ok();
  auto ct = ff1->Encrypt(radix, tweak, x);
  if (ct.ok() != valid) __builtin_trap();
  if (!ct.ok()) {
    if (!absl::IsInvalidArgument(ct.status())) __builtin_trap();
    return;
  }
  if (ct->size() != x.size()) __builtin_trap();
  for (uint16_t d : *ct) {
    if (d >= radix) __builtin_trap();
  }
  auto pt = ff1->Decrypt(radix, tweak, *ct);
  if (!pt.ok() || *pt != x) __builtin_trap();
  std::vector<uint16_t> in_place = x;
  if (!ff1->Encrypt(radix, tweak, in_place, absl::MakeSpan(in_place)).ok() || in_place != *ct) {
    __builtin_trap();
  }
  // A numeral out of range is always rejected.
  if (radix < 65536) {
    x[x.size() / 2] = static_cast<uint16_t>(radix);
    if (ff1->Encrypt(radix, tweak, x).ok()) __builtin_trap();
  }
}

void CheckCodecs(absl::string_view value, bool variant) {
  for (piicrypt::FpeCodec codec :
       {piicrypt::FpeCodec::kPhone, piicrypt::FpeCodec::kCard, piicrypt::FpeCodec::kAlphabet}) {
    const piicrypt::FormatPreservingField* field = Field(codec, variant);
    auto ct = field->Encrypt(value, "record");
    if (!ct.ok()) {
      if (!absl::IsInvalidArgument(ct.status())) __builtin_trap();
      continue;
    }
    auto pt = field->Decrypt(*ct, "record");
    if (!pt.ok() || *pt != value) __builtin_trap();
    if (codec != piicrypt::FpeCodec::kAlphabet) {
      // ASCII codecs: same length, the same non-digits in the same places.
      if (ct->size() != value.size()) __builtin_trap();
      for (size_t i = 0; i < value.size(); ++i) {
        const bool digit = value[i] >= '0' && value[i] <= '9';
        if (digit != ((*ct)[i] >= '0' && (*ct)[i] <= '9')) __builtin_trap();
        if (!digit && (*ct)[i] != value[i]) __builtin_trap();
      }
    } else {
      auto a = piicrypt::internal::DecodeUtf8(value);
      auto b = piicrypt::internal::DecodeUtf8(*ct);
      if (!a.ok() || !b.ok() || a->size() != b->size()) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckFf1(Cursor{data, size});
  if (size > 0) {
    CheckCodecs(absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1),
                (data[0] & 1) != 0);
  }
  return 0;
}
