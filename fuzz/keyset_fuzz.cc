// Fuzzes the keyset parsers and the PKCS#11 URI parser:
// - an EncryptedKeyset that parses serializes back to exactly the same bytes;
// - a Keyset that parses is valid, and serializing and parsing it again is a fixed point;
// - a PKCS#11 URI that parses has its required parts, and its description parses again.
// Each input is tried as it is and as a list of (position, xor) edits of a valid seed of
// each format, so that even a plain random driver reaches deep into the parsers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "src/kek/pkcs11_uri.h"
#include "src/keyset/keyset_format.h"

namespace {

using namespace piicrypt::internal;  // NOLINT(build/namespaces)

void Check(absl::string_view in) {
  auto envelope = ParseEncryptedKeyset(in);
  if (envelope.ok() && SerializeEncryptedKeyset(*envelope) != in) __builtin_trap();

  auto keyset =
      ParseKeyset(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(in.data()), in.size()));
  if (keyset.ok()) {
    if (!ValidateKeyset(*keyset).ok()) __builtin_trap();
    auto once = SerializeKeyset(*keyset);
    if (!once.ok()) __builtin_trap();
    auto reparsed = ParseKeyset(*once);
    if (!reparsed.ok()) __builtin_trap();
    auto twice = SerializeKeyset(*reparsed);
    if (!twice.ok() || *twice != *once) __builtin_trap();
  }

  auto uri = ParsePkcs11Uri(in);
  if (uri.ok()) {
    if (uri->token.empty() || uri->object.empty() || uri->module_path.empty()) __builtin_trap();
    if (uri->pin_value.has_value() && uri->pin_source.has_value()) __builtin_trap();
    auto again = ParsePkcs11Uri(absl::StrCat(uri->Description(), "?module-path=/m.so"));
    if (!again.ok() || again->token != uri->token || again->object != uri->object ||
        again->id != uri->id) {
      __builtin_trap();
    }
  }
}

std::string KeysetSeed() {
  KeysetData data;
  for (uint32_t id : {7u, 0x12345678u, 0xfffffffeu}) {
    KeyEntry key;
    key.id = id;
    key.status =
        id == 0x12345678u ? piicrypt::KeyStatus::kDestroyed : piicrypt::KeyStatus::kEnabled;
    key.created_unix_seconds = 1800000000;
    if (key.status != piicrypt::KeyStatus::kDestroyed) key.material.assign(kKeyMaterialSize, 0x42);
    data.keys.push_back(std::move(key));
  }
  data.primary_key_id = 7;
  auto serialized = SerializeKeyset(data);
  if (!serialized.ok()) __builtin_trap();
  return std::string(serialized->begin(), serialized->end());
}

std::string EnvelopeSeed() {
  EncryptedKeysetParts parts;
  parts.kek_kind = piicrypt::KekKind::kPkcs11;
  parts.ciphertext.iv = std::string(kKeysetIvSize, 'i');
  parts.ciphertext.ciphertext = std::string(40, 'c');
  return SerializeEncryptedKeyset(parts);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string* const kSeeds[] = {
      new std::string(KeysetSeed()),
      new std::string(EnvelopeSeed()),
      new std::string("pkcs11:token=prod%20hsm;object=kek;type=secret-key;id=%01%02"
                      "?module-path=/usr/lib/m.so&pin-source=file:/run/pin"),
  };
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  Check(in);
  for (const std::string* seed : kSeeds) {
    std::string edited = *seed;
    for (size_t i = 0; i + 1 < size; i += 2) {
      edited[data[i] % edited.size()] ^= static_cast<char>(data[i + 1]);
    }
    if (size % 2 == 1) edited.resize(edited.size() - data[size - 1] % edited.size());
    Check(edited);
  }
  return 0;
}
