#include "piicrypt/subtle/field_cipher.h"

#include <cstring>
#include <string>
#include <typeinfo>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/subtle/blind_indexer.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/crypto/blind_index_to.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac_sha256_fast.h"
#include "src/crypto/wipe.h"

namespace piicrypt {
namespace {

using internal::AesGcm;
using internal::AesSiv;
using internal::CiphertextView;

// The associated data header || lp(context) || lp(record), assembled on the stack for
// the usual short record ids.
class AdBuffer {
 public:
  AdBuffer(absl::string_view prefix, absl::string_view record) {
    const size_t size = prefix.size() + 4 + record.size();
    char* p = stack_;
    if (size > sizeof(stack_)) {
      heap_.reset(new char[size]);
      p = heap_.get();
    }
    std::memcpy(p, prefix.data(), prefix.size());
    const uint32_t n = static_cast<uint32_t>(record.size());
    p[prefix.size()] = static_cast<char>(n >> 24);
    p[prefix.size() + 1] = static_cast<char>(n >> 16);
    p[prefix.size() + 2] = static_cast<char>(n >> 8);
    p[prefix.size() + 3] = static_cast<char>(n);
    if (!record.empty()) std::memcpy(p + prefix.size() + 4, record.data(), record.size());
    view_ = absl::string_view(p, size);
  }
  absl::string_view view() const { return view_; }

 private:
  char stack_[512];
  std::unique_ptr<char[]> heap_;
  absl::string_view view_;
};

uint8_t* Mutable(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

// The keys of one field under one data key, and what depends on nothing else: shared by
// the field's ciphers with and without padding. Indexed by `padded` (0: formats
// 0x01/0x02, 1: 0x03/0x04), the associated data prefix header || lp(context) and, for
// deterministic fields, the S2V state after the associated data of unbound values.
struct FieldKeys {
  std::unique_ptr<AesGcm> gcm;
  std::unique_ptr<AesSiv> siv;
  std::string ad_prefix[2];
  AesSiv::Block unbound_prefix[2]{};
};

uint8_t FormatOf(FieldMode mode, bool padded) {
  if (mode == FieldMode::kRandomized) {
    return padded ? internal::kRandomizedPaddedFormat : internal::kRandomizedFormat;
  }
  return padded ? internal::kDeterministicPaddedFormat : internal::kDeterministicFormat;
}

size_t Overhead(FieldMode mode) {
  return mode == FieldMode::kRandomized ? internal::kRandomizedOverhead
                                        : internal::kDeterministicOverhead;
}

absl::StatusOr<std::shared_ptr<const FieldKeys>> MakeFieldKeys(uint32_t key_id,
                                                               absl::string_view context,
                                                               FieldMode mode,
                                                               const SecretData& key) {
  auto keys = std::make_shared<FieldKeys>();
  for (int padded = 0; padded < 2; ++padded) {
    uint8_t header[internal::kHeaderSize];
    internal::WriteHeader(FormatOf(mode, padded), key_id, header);
    keys->ad_prefix[padded].assign(reinterpret_cast<const char*>(header), sizeof(header));
    internal::AppendLengthPrefixed(context, keys->ad_prefix[padded]);
  }
  if (mode == FieldMode::kRandomized) {
    auto gcm = AesGcm::Create(key);
    if (!gcm.ok()) return gcm.status();
    keys->gcm = *std::move(gcm);
    return keys;
  }
  auto siv = AesSiv::Create(key);
  if (!siv.ok()) return siv.status();
  keys->siv = *std::move(siv);
  // Unbound values all share one associated data per format: absorb it into S2V once.
  for (int padded = 0; padded < 2; ++padded) {
    AdBuffer ad(keys->ad_prefix[padded], "");
    const absl::string_view components[] = {ad.view()};
    auto prefix = keys->siv->S2VPrefix(components);
    if (!prefix.ok()) return prefix.status();
    keys->unbound_prefix[padded] = *prefix;
  }
  return keys;
}

// A value padded for a padded format (internal::PadValue), on the stack for field-sized
// values; wiped when it goes.
class PaddedValue {
 public:
  PaddedValue(absl::string_view value, size_t padded_size) : size_(padded_size + 1) {
    p_ = stack_;
    if (size_ > sizeof(stack_)) {
      heap_.reset(new uint8_t[size_]);
      p_ = heap_.get();
    }
    internal::PadValue(value, padded_size, p_);
  }
  ~PaddedValue() { internal::SecureWipe(p_, size_); }
  PaddedValue(const PaddedValue&) = delete;
  PaddedValue& operator=(const PaddedValue&) = delete;
  absl::string_view view() const {
    return absl::string_view(reinterpret_cast<const char*>(p_), size_);
  }

 private:
  uint8_t stack_[512];
  std::unique_ptr<uint8_t[]> heap_;
  uint8_t* p_;
  size_t size_;
};

class FieldCipherImpl : public FieldCipher {
 public:
  FieldCipherImpl(std::shared_ptr<const FieldKeys> keys, uint32_t key_id, std::string context,
                  FieldMode mode, FieldPadding padding)
      : keys_(std::move(keys)),
        key_id_(key_id),
        context_(std::move(context)),
        mode_(mode),
        padding_(std::move(padding)),
        padded_(padding_.enabled()),
        gcm_(keys_->gcm.get()),
        siv_(keys_->siv.get()),
        ad_prefix_(keys_->ad_prefix[padded_]),
        unbound_prefix_(keys_->unbound_prefix[padded_]) {
    internal::WriteHeader(FormatOf(mode_, padded_), key_id_, header_);
    decrypt_failed_ = absl::StrCat(context_, ": decryption failed");
  }

  // The size of the binary form of `encoded_size` bytes of plaintext (padded already, in
  // a padded format).
  size_t CiphertextSize(size_t encoded_size) const { return Overhead(mode_) + encoded_size; }

  // Writes the binary form of the plaintext `encoded` into `out`, of exactly
  // CiphertextSize(encoded.size()) bytes. Inlined into both callers: it is most of the hot
  // path of a field.
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status EncryptInto(absl::string_view encoded,
                                                        absl::string_view record,
                                                        uint8_t* out) const {
    std::memcpy(out, header_, internal::kHeaderSize);
    const auto body = absl::MakeSpan(out + internal::kHeaderSize,
                                     CiphertextSize(encoded.size()) - internal::kHeaderSize);
    if (mode_ == FieldMode::kRandomized) {
      AdBuffer ad(ad_prefix_, record);
      return gcm_->EncryptRandomNonce(encoded, ad.view(), body);
    }
    if (record.empty()) return siv_->EncryptWithPrefix(unbound_prefix_, encoded, body);
    AdBuffer ad(ad_prefix_, record);
    const absl::string_view components[] = {ad.view()};
    return siv_->Encrypt(components, encoded, body);
  }

  absl::Status CheckPaddable(absl::string_view plaintext) const {
    if (plaintext.size() > kMaxPaddedValueSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(context_, ": value longer than ", kMaxPaddedValueSize, " bytes"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Encrypt(absl::string_view plaintext,
                                      absl::string_view record) const override {
    if (padded_) {
      absl::Status s = CheckPaddable(plaintext);
      if (!s.ok()) return s;
      PaddedValue padded(plaintext, padding_.PaddedSize(plaintext.size()));
      return EncryptEncoded(padded.view(), record);
    }
    return EncryptEncoded(plaintext, record);
  }

  absl::StatusOr<std::string> EncryptEncoded(absl::string_view encoded,
                                             absl::string_view record) const {
    std::string out(CiphertextSize(encoded.size()), '\0');
    absl::Status s = EncryptInto(encoded, record, Mutable(out));
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<std::string> Decrypt(absl::string_view ciphertext,
                                      absl::string_view record) const override {
    std::string out;
    absl::Status s = DecryptTo(ciphertext, record, &out);
    if (!s.ok()) return s;
    return out;
  }

  absl::Status DecryptTo(absl::string_view ciphertext, absl::string_view record,
                         std::string* plaintext) const override {
    internal::CiphertextView view;
    if (!internal::ParseCiphertextTo(ciphertext, &view) ||
        internal::IsRandomizedFormat(view.format) != (mode_ == FieldMode::kRandomized)) {
      plaintext->clear();
      return absl::InvalidArgumentError(decrypt_failed_);
    }
    if (view.key_id != key_id_) {
      plaintext->clear();
      return absl::NotFoundError(
          absl::StrCat(context_, ": ciphertext is under key ", view.key_id, ", not key ", key_id_));
    }
    const bool padded = internal::IsPaddedFormat(view.format);
    const absl::string_view ad_prefix = keys_->ad_prefix[padded];
    const size_t size =
        view.body.size() - (mode_ == FieldMode::kRandomized ? AesGcm::kOverhead : AesSiv::kSivSize);
    if (plaintext->size() != size) plaintext->resize(size);
    const auto out = absl::MakeSpan(Mutable(*plaintext), size);
    absl::Status s;
    if (mode_ == FieldMode::kRandomized) {
      AdBuffer ad(ad_prefix, record);
      s = gcm_->DecryptWithNonce(view.body, ad.view(), out);
    } else if (record.empty()) {
      s = siv_->DecryptWithPrefix(keys_->unbound_prefix[padded], view.body, out);
    } else {
      AdBuffer ad(ad_prefix, record);
      const absl::string_view components[] = {ad.view()};
      s = siv_->Decrypt(components, view.body, out);
    }
    if (ABSL_PREDICT_FALSE(!s.ok())) {
      plaintext->clear();  // (the decrypters wiped what they wrote)
      if (s.code() == absl::StatusCode::kInvalidArgument) {
        return absl::InvalidArgumentError(decrypt_failed_);
      }
      return s;
    }
    if (padded) {
      // Authentic but malformed padding is a failed decryption like any other.
      const ptrdiff_t unpadded =
          internal::UnpaddedSize(absl::MakeConstSpan(Mutable(*plaintext), size));
      if (unpadded < 0) {
        internal::SecureWipe(Mutable(*plaintext), size);
        plaintext->clear();
        return absl::InvalidArgumentError(decrypt_failed_);
      }
      plaintext->resize(static_cast<size_t>(unpadded));
    }
    return absl::OkStatus();
  }

  absl::Status EncryptTextTo(absl::string_view plaintext, absl::string_view record,
                             std::string* text) const override {
    if (padded_) return EncryptPaddedTextTo(plaintext, record, text);
    return EncryptEncodedTextTo(plaintext, record, text);
  }

  ABSL_ATTRIBUTE_NOINLINE absl::Status EncryptPaddedTextTo(absl::string_view plaintext,
                                                           absl::string_view record,
                                                           std::string* text) const {
    absl::Status s = CheckPaddable(plaintext);
    if (!s.ok()) {
      text->clear();
      return s;
    }
    PaddedValue padded(plaintext, padding_.PaddedSize(plaintext.size()));
    return EncryptEncodedTextTo(padded.view(), record, text);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status EncryptEncodedTextTo(absl::string_view encoded,
                                                                 absl::string_view record,
                                                                 std::string* text) const {
    // Field-sized values: the binary and text forms on the stack, then one copy into
    // `text` (no allocation where its capacity is enough). Longer ones: the binary form on
    // the heap, encoded straight into `text`.
    constexpr size_t kStackBinary = 512;
    const size_t size = CiphertextSize(encoded.size());
    if (size <= kStackBinary) {
      uint8_t binary[kStackBinary + internal::kBase64Slack];
      char chars[internal::Base64UrlEncodedSize(kStackBinary) + internal::kBase64Slack];
      absl::Status s = EncryptInto(encoded, record, binary);
      if (!s.ok()) {
        text->clear();
        return s;
      }
      const size_t n = internal::Base64UrlEncodePaddedTo(binary, size, chars);
      if (text->size() != n) text->resize(n);  // (string::assign costs 60 instructions more)
      std::memcpy(text->data(), chars, n);
      return absl::OkStatus();
    }
    std::unique_ptr<uint8_t[]> binary(new uint8_t[size]);
    absl::Status s = EncryptInto(encoded, record, binary.get());
    if (!s.ok()) {
      text->clear();
      return s;
    }
    text->resize(internal::Base64UrlEncodedSize(size));
    internal::Base64UrlEncodeTo(
        absl::string_view(reinterpret_cast<const char*>(binary.get()), size), text->data());
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> EncryptText(absl::string_view plaintext,
                                          absl::string_view record) const override {
    std::string text;
    absl::Status s = EncryptTextTo(plaintext, record, &text);
    if (!s.ok()) return s;
    return text;
  }

  absl::StatusOr<std::string> DecryptText(absl::string_view text,
                                          absl::string_view record) const override {
    auto binary = internal::Base64UrlDecode(text);
    if (!binary.ok()) return absl::InvalidArgumentError(decrypt_failed_);
    return Decrypt(*binary, record);
  }

  absl::StatusOr<std::unique_ptr<FieldCipher>> WithPadding(
      const FieldPadding& padding) const override {
    absl::Status s = padding.Validate();
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(context_, ": ", s.message()));
    return std::make_unique<FieldCipherImpl>(keys_, key_id_, context_, mode_, padding);
  }

  uint32_t key_id() const override { return key_id_; }
  FieldMode mode() const override { return mode_; }
  absl::string_view context() const override { return context_; }
  const FieldPadding& padding() const override { return padding_; }

 private:
  const std::shared_ptr<const FieldKeys> keys_;
  const uint32_t key_id_;
  const std::string context_;
  const FieldMode mode_;
  const FieldPadding padding_;
  const bool padded_;
  // The parts of *keys_ this cipher writes with.
  const AesGcm* const gcm_;
  const AesSiv* const siv_;
  const absl::string_view ad_prefix_;  // header || lp(context), of the format written
  const AesSiv::Block unbound_prefix_;
  uint8_t header_[internal::kHeaderSize];
  std::string decrypt_failed_;
};

class BlindIndexerImpl : public BlindIndexer {
 public:
  BlindIndexerImpl(const SecretData& key, int bits) : hmac_(key), bits_(bits) {}

  // The precomputed HMAC states are as good as the key: the object lives where SecretData
  // does (the secure heap, out of core dumps, once the process has one) and is wiped when
  // it is freed.
  static void* operator new(size_t size) { return internal::AllocateSecret(size); }
  static void operator delete(void* p, size_t size) { internal::FreeSecret(p, size); }

  absl::StatusOr<std::string> Compute(absl::string_view normalized_value) const override {
    std::string hex;
    ComputeTo(normalized_value, &hex);
    return hex;
  }
  void ComputeTo(absl::string_view normalized_value, std::string* out) const {
    internal::HmacSha256Fast::Tag tag = hmac_.Compute(normalized_value);
    const size_t size = (static_cast<size_t>(bits_) + 7) / 8 * 2;
    if (out->size() != size) out->resize(size);
    internal::TruncatedHexTo(tag, bits_, out->data());
    internal::WipeInline(tag.data(), tag.size());
  }
  int bits() const override { return bits_; }

 private:
  internal::HmacSha256Fast hmac_;
  int bits_;
};

}  // namespace

size_t FieldCipher::CiphertextSize(FieldMode mode, const FieldPadding& padding, size_t size) {
  return Overhead(mode) + (padding.enabled() ? padding.PaddedSize(size) + 1 : size);
}

absl::StatusOr<std::unique_ptr<FieldCipher>> FieldCipher::Create(uint32_t key_id,
                                                                 const SecretData& root_material,
                                                                 absl::string_view context,
                                                                 FieldMode mode,
                                                                 const FieldPadding& padding) {
  if (key_id == 0) return absl::InvalidArgumentError("key id must not be 0");
  if (mode != FieldMode::kRandomized && mode != FieldMode::kDeterministic) {
    return absl::InvalidArgumentError("a FieldCipher is randomized or deterministic");
  }
  absl::Status valid = padding.Validate();
  if (!valid.ok()) return valid;
  const internal::FieldPurpose purpose = mode == FieldMode::kRandomized
                                             ? internal::FieldPurpose::kAead
                                             : internal::FieldPurpose::kDaead;
  absl::StatusOr<std::shared_ptr<const FieldKeys>> keys = [&]() {
    auto key = internal::DeriveFieldKey(root_material, purpose, context);
    if (!key.ok()) return absl::StatusOr<std::shared_ptr<const FieldKeys>>(key.status());
    return MakeFieldKeys(key_id, context, mode, *key);
  }();
  internal::BurnStack();  // HKDF and the key schedules leave key bytes in dead frames
  if (!keys.ok()) return keys.status();
  return std::make_unique<FieldCipherImpl>(*std::move(keys), key_id, std::string(context), mode,
                                           padding);
}

absl::StatusOr<uint32_t> FieldCipher::KeyIdOf(absl::string_view ciphertext) {
  auto view = internal::ParseCiphertext(ciphertext);
  if (!view.ok()) return view.status();
  return view->key_id;
}

absl::StatusOr<uint32_t> FieldCipher::KeyIdOfText(absl::string_view text) {
  auto binary = internal::Base64UrlDecode(text);
  if (!binary.ok()) {
    return absl::InvalidArgumentError("not a piicrypt field ciphertext (bad base64url)");
  }
  return KeyIdOf(*binary);
}

namespace internal {

absl::Status ComputeBlindIndexTo(const BlindIndexer& indexer, absl::string_view normalized,
                                 std::string* out) {
  if (typeid(indexer) == typeid(BlindIndexerImpl)) {
    static_cast<const BlindIndexerImpl&>(indexer).ComputeTo(normalized, out);
    return absl::OkStatus();
  }
  auto index = indexer.Compute(normalized);
  if (!index.ok()) {
    out->clear();
    return index.status();
  }
  *out = *std::move(index);
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<BlindIndexer>> BlindIndexer::Create(const SecretData& root_material,
                                                                   absl::string_view context,
                                                                   int bits) {
  if (bits < 1 || bits > 256) {
    return absl::InvalidArgumentError("blind index bits must be 1 to 256");
  }
  auto indexer = [&]() -> absl::StatusOr<std::unique_ptr<BlindIndexer>> {
    auto key =
        internal::DeriveFieldKey(root_material, internal::FieldPurpose::kBlindIndex, context);
    if (!key.ok()) return key.status();
    return std::make_unique<BlindIndexerImpl>(*key, bits);
  }();
  internal::BurnStack();  // HKDF and the HMAC key set-up leave key bytes in dead frames
  return indexer;
}

}  // namespace piicrypt
