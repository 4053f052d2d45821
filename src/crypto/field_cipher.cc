#include "piicrypt/field_cipher.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac_sha256_fast.h"

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

class FieldCipherImpl : public FieldCipher {
 public:
  FieldCipherImpl(uint32_t key_id, std::string context, FieldMode mode)
      : key_id_(key_id), context_(std::move(context)), mode_(mode) {
    internal::WriteHeader(format(), key_id_, header_);
    ad_prefix_.assign(reinterpret_cast<const char*>(header_), internal::kHeaderSize);
    internal::AppendLengthPrefixed(context_, ad_prefix_);
    decrypt_failed_ = absl::StrCat(context_, ": decryption failed");
  }

  uint8_t format() const {
    return mode_ == FieldMode::kRandomized ? internal::kRandomizedFormat
                                           : internal::kDeterministicFormat;
  }

  absl::Status InitRandomized(const SecretData& key) {
    auto gcm = AesGcm::Create(key);
    if (!gcm.ok()) return gcm.status();
    gcm_ = *std::move(gcm);
    return absl::OkStatus();
  }

  absl::Status InitDeterministic(const SecretData& key) {
    auto siv = AesSiv::Create(key);
    if (!siv.ok()) return siv.status();
    siv_ = *std::move(siv);
    // Unbound values all share one associated data: absorb it into S2V once.
    AdBuffer ad(ad_prefix_, "");
    const absl::string_view components[] = {ad.view()};
    auto prefix = siv_->S2VPrefix(components);
    if (!prefix.ok()) return prefix.status();
    unbound_prefix_ = *prefix;
    return absl::OkStatus();
  }

  size_t CiphertextSize(size_t plaintext_size) const {
    return (mode_ == FieldMode::kRandomized ? internal::kRandomizedOverhead
                                            : internal::kDeterministicOverhead) +
           plaintext_size;
  }

  // Writes the binary form into `out`, of exactly CiphertextSize(plaintext.size()) bytes.
  // Inlined into both callers: it is most of the hot path of a field.
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status EncryptInto(absl::string_view plaintext,
                                                        absl::string_view record,
                                                        uint8_t* out) const {
    std::memcpy(out, header_, internal::kHeaderSize);
    const auto body = absl::MakeSpan(out + internal::kHeaderSize,
                                     CiphertextSize(plaintext.size()) - internal::kHeaderSize);
    if (mode_ == FieldMode::kRandomized) {
      AdBuffer ad(ad_prefix_, record);
      return gcm_->EncryptRandomNonce(plaintext, ad.view(), body);
    }
    if (record.empty()) return siv_->EncryptWithPrefix(unbound_prefix_, plaintext, body);
    AdBuffer ad(ad_prefix_, record);
    const absl::string_view components[] = {ad.view()};
    return siv_->Encrypt(components, plaintext, body);
  }

  absl::StatusOr<std::string> Encrypt(absl::string_view plaintext,
                                      absl::string_view record) const override {
    std::string out(CiphertextSize(plaintext.size()), '\0');
    absl::Status s = EncryptInto(plaintext, record, Mutable(out));
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
    auto view = internal::ParseCiphertext(ciphertext);
    if (!view.ok() || view->format != format()) {
      plaintext->clear();
      return absl::InvalidArgumentError(decrypt_failed_);
    }
    if (view->key_id != key_id_) {
      plaintext->clear();
      return absl::NotFoundError(absl::StrCat(context_, ": ciphertext is under key ", view->key_id,
                                              ", not key ", key_id_));
    }
    const size_t size = view->body.size() -
                        (mode_ == FieldMode::kRandomized ? AesGcm::kOverhead : AesSiv::kSivSize);
    if (plaintext->size() != size) plaintext->resize(size);
    const auto out = absl::MakeSpan(Mutable(*plaintext), size);
    absl::Status s;
    if (mode_ == FieldMode::kRandomized) {
      AdBuffer ad(ad_prefix_, record);
      s = gcm_->DecryptWithNonce(view->body, ad.view(), out);
    } else if (record.empty()) {
      s = siv_->DecryptWithPrefix(unbound_prefix_, view->body, out);
    } else {
      AdBuffer ad(ad_prefix_, record);
      const absl::string_view components[] = {ad.view()};
      s = siv_->Decrypt(components, view->body, out);
    }
    if (ABSL_PREDICT_TRUE(s.ok())) return s;
    plaintext->clear();  // (the decrypters wiped what they wrote)
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(decrypt_failed_);
    }
    return s;
  }

  absl::Status EncryptTextTo(absl::string_view plaintext, absl::string_view record,
                             std::string* text) const override {
    // Field-sized values: the binary and text forms on the stack, then one copy into
    // `text` (no allocation where its capacity is enough). Longer ones: the binary form on
    // the heap, encoded straight into `text`.
    constexpr size_t kStackBinary = 512;
    const size_t size = CiphertextSize(plaintext.size());
    if (size <= kStackBinary) {
      uint8_t binary[kStackBinary + internal::kBase64Slack];
      char chars[internal::Base64UrlEncodedSize(kStackBinary) + internal::kBase64Slack];
      absl::Status s = EncryptInto(plaintext, record, binary);
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
    absl::Status s = EncryptInto(plaintext, record, binary.get());
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

  uint32_t key_id() const override { return key_id_; }
  FieldMode mode() const override { return mode_; }
  absl::string_view context() const override { return context_; }

 private:
  const uint32_t key_id_;
  const std::string context_;
  const FieldMode mode_;
  uint8_t header_[internal::kHeaderSize];
  std::string ad_prefix_;  // header || lp(context)
  std::string decrypt_failed_;
  std::unique_ptr<AesGcm> gcm_;
  std::unique_ptr<AesSiv> siv_;
  AesSiv::Block unbound_prefix_{};
};

class BlindIndexerImpl : public BlindIndexer {
 public:
  BlindIndexerImpl(const SecretData& key, int bits) : hmac_(key), bits_(bits) {}

  absl::StatusOr<std::string> Compute(absl::string_view normalized_value) const override {
    internal::HmacSha256Fast::Tag tag = hmac_.Compute(normalized_value);
    std::string hex = internal::TruncatedHex(tag, bits_);
    internal::SecureWipe(tag.data(), tag.size());
    return hex;
  }
  int bits() const override { return bits_; }

 private:
  internal::HmacSha256Fast hmac_;
  int bits_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FieldCipher>> FieldCipher::Create(uint32_t key_id,
                                                                 const SecretData& root_material,
                                                                 absl::string_view context,
                                                                 FieldMode mode) {
  if (key_id == 0) return absl::InvalidArgumentError("key id must not be 0");
  const internal::FieldPurpose purpose = mode == FieldMode::kRandomized
                                             ? internal::FieldPurpose::kAead
                                             : internal::FieldPurpose::kDaead;
  auto key = internal::DeriveFieldKey(root_material, purpose, context);
  if (!key.ok()) return key.status();
  auto cipher = std::make_unique<FieldCipherImpl>(key_id, std::string(context), mode);
  absl::Status s = mode == FieldMode::kRandomized ? cipher->InitRandomized(*key)
                                                  : cipher->InitDeterministic(*key);
  if (!s.ok()) return s;
  return cipher;
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

absl::StatusOr<std::unique_ptr<BlindIndexer>> BlindIndexer::Create(const SecretData& root_material,
                                                                   absl::string_view context,
                                                                   int bits) {
  if (bits < 1 || bits > 256) {
    return absl::InvalidArgumentError("blind index bits must be 1 to 256");
  }
  auto key = internal::DeriveFieldKey(root_material, internal::FieldPurpose::kBlindIndex, context);
  if (!key.ok()) return key.status();
  return std::make_unique<BlindIndexerImpl>(*key, bits);
}

}  // namespace piicrypt
