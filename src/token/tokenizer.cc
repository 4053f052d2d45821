#include "piicrypt/tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/field_cipher.h"
#include "piicrypt/subtle/format_preserving.h"
#include "piicrypt/subtle/token_store.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac.h"
#include "src/field/token_options.h"
#include "src/field/value_normalizer.h"
#include "src/token/token_entry.h"
#include "src/token/token_format.h"

namespace piicrypt {
namespace {

using internal::HmacSha256;

// Lookups are 128-bit HMAC-SHA256 prefixes, as 32 hex digits.
constexpr int kLookupBits = 128;
// Entries read per page when a random field is scanned for erasure.
constexpr size_t kErasePageSize = 256;

absl::Time Now(const TokenizerOptions& options) {
  return options.clock ? options.clock() : absl::Now();
}

// The lookup HMAC of `field` under key `key_id`: HMAC-SHA256 under the field's "token" key.
absl::StatusOr<std::unique_ptr<HmacSha256>> LookupHmac(const Keyset& keyset, uint32_t key_id,
                                                       absl::string_view field) {
  PIICRYPT_ASSIGN_OR_RETURN(SecretData root,
                            keyset.KeyMaterial(key_id, InsecureSecretKeyAccess::Get()));
  PIICRYPT_ASSIGN_OR_RETURN(SecretData lookup_key,
                            internal::DeriveFieldKey(root, internal::FieldPurpose::kToken, field));
  return HmacSha256::Create(lookup_key);
}

// The randomized cipher of the field under one key of the keyset, or why there is none
// (a disabled or destroyed key).
struct KeyCipher {
  uint32_t key_id = 0;
  std::shared_ptr<const FieldCipher> cipher;
  absl::Status status;
};

// The normalizer of a vault field's lookups (tokenizer.h, "Normalization").
class LookupNormalizer {
 public:
  static absl::StatusOr<LookupNormalizer> Create(const TokenizerOptions& options) {
    Normalizer kind = Normalizer::kExact;
    switch (options.normalizer) {
      case TokenNormalizer::kEmail:
        kind = Normalizer::kEmail;
        break;
      case TokenNormalizer::kPhone:
        kind = Normalizer::kPhone;
        break;
      case TokenNormalizer::kName:
        kind = Normalizer::kName;
        break;
      case TokenNormalizer::kExact:
      case TokenNormalizer::kCardDigits:
        break;
    }
    if (!options.phone_region.empty() && kind != Normalizer::kPhone) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.field, ": phone_region is for the phone normalizer only"));
    }
    absl::StatusOr<internal::ValueNormalizer> value =
        internal::ValueNormalizer::Create(kind, options.phone_region);
    if (!value.ok()) {
      return absl::Status(value.status().code(),
                          absl::StrCat(options.field, ": ", value.status().message()));
    }
    return LookupNormalizer(options.normalizer, *std::move(value));
  }

  bool exact() const { return kind_ == TokenNormalizer::kExact; }

  // The normalized form of `value`; kInvalidArgument with a reason that never quotes it.
  absl::StatusOr<std::string> Normalize(absl::string_view value) const {
    if (kind_ != TokenNormalizer::kCardDigits) return value_.Normalize(value);
    std::string digits;
    for (char c : value) {
      if (c == ' ' || c == '-') continue;
      if (c < '0' || c > '9') {
        internal::SecureWipe(digits.data(), digits.size());
        return absl::InvalidArgumentError("not a card number (digits, spaces and '-' only)");
      }
      digits.push_back(c);
    }
    if (digits.empty()) return absl::InvalidArgumentError("not a card number (no digits)");
    return digits;
  }

 private:
  LookupNormalizer(TokenNormalizer kind, internal::ValueNormalizer value)
      : kind_(kind), value_(std::move(value)) {}
  TokenNormalizer kind_;
  internal::ValueNormalizer value_;
};

// Whether a version 1 entry (docs/TOKENS.md, "Entry format"; its expiry is not
// authenticated) may be read: only where the expiry plays no part.
enum class Version1 { kRefuse, kAccept };

// What Rekey does to one entry.
struct RekeyKind {
  bool upgrade = false;       // from entry format version 1
  bool current = false;       // already under the primary: only its lookup is recomputed
  bool unnormalized = false;  // its value does not normalize: its lookup is removed
};

class VaultTokenizer : public Tokenizer {
 public:
  VaultTokenizer(TokenizerOptions options, std::shared_ptr<const TokenStore> store,
                 std::shared_ptr<const FieldCipher> primary, std::vector<KeyCipher> ciphers,
                 std::vector<std::unique_ptr<HmacSha256>> lookups,
                 std::unique_ptr<HmacSha256> primary_lookup, LookupNormalizer normalizer)
      : options_(std::move(options)),
        store_(std::move(store)),
        primary_(std::move(primary)),
        ciphers_(std::move(ciphers)),
        lookups_(std::move(lookups)),
        primary_lookup_(std::move(primary_lookup)),
        normalizer_(std::move(normalizer)) {}

  absl::StatusOr<std::string> Tokenize(absl::string_view value) const override {
    const absl::string_view field = options_.field;
    // The value's lookups, primary key first (deterministic fields only).
    std::vector<std::string> lookups;
    std::string normalized;
    absl::Cleanup wipe = [&normalized] {
      internal::SecureWipe(normalized.data(), normalized.size());
    };
    if (options_.mode == TokenMode::kDeterministic) {
      PIICRYPT_ASSIGN_OR_RETURN(normalized, NormalizeForLookup(value));
      PIICRYPT_ASSIGN_OR_RETURN(lookups, Lookups(normalized));
    }
    int collisions = 0;
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      for (const std::string& lookup : lookups) {
        PIICRYPT_ASSIGN_OR_RETURN(std::optional<TokenEntry> found,
                                  store_->FindByLookup(field, lookup));
        if (!found.has_value()) continue;
        PIICRYPT_RETURN_IF_ERROR(CheckHolds(*found, normalized, Version1::kRefuse));
        if (!Expired(*found)) return std::move(found->token);
        // An expired token: retire it so that the value gets a new one.
        PIICRYPT_RETURN_IF_ERROR(store_->Delete(field, found->token).status());
      }
      PIICRYPT_ASSIGN_OR_RETURN(std::string token, internal::DrawVaultToken(options_, value));
      TokenEntry entry;
      entry.token = token;
      if (options_.ttl != absl::ZeroDuration()) {
        entry.expires_unix_seconds = absl::ToUnixSeconds(Now(options_) + options_.ttl);
      }
      PIICRYPT_ASSIGN_OR_RETURN(
          entry.ciphertext,
          internal::SealTokenEntry(*primary_, value, token, entry.expires_unix_seconds));
      PIICRYPT_ASSIGN_OR_RETURN(
          InsertOutcome outcome,
          store_->Insert(field, entry, lookups.empty() ? absl::string_view() : lookups[0]));
      switch (outcome) {
        case InsertOutcome::kInserted:
          return token;
        case InsertOutcome::kTokenTaken:
          ++collisions;
          break;
        case InsertOutcome::kLookupTaken:
          break;  // another writer tokenized the value first: find its token
      }
    }
    if (collisions == 0) {
      return absl::UnavailableError(
          absl::StrCat(field, ": the store kept changing under concurrent writers; try again"));
    }
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: no free token after %d attempts: the token format's space (about 10^%.0f tokens "
        "for this value) is too small for the field",
        field, options_.max_attempts, internal::VaultTokenSpaceLog10(options_, value)));
  }

  absl::StatusOr<std::string> Detokenize(absl::string_view token) const override {
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<TokenEntry> found, store_->Find(options_.field, token));
    if (!found.has_value())
      return absl::NotFoundError(absl::StrCat(options_.field, ": unknown token"));
    // Decrypted first: the expiry it is checked against is then the one written.
    PIICRYPT_ASSIGN_OR_RETURN(internal::OpenedTokenEntry opened, Open(*found, Version1::kRefuse));
    if (Expired(*found)) {
      internal::SecureWipe(opened.value.data(), opened.value.size());
      return absl::FailedPreconditionError(absl::StrCat(options_.field, ": token has expired"));
    }
    return std::move(opened.value);
  }

  absl::Status DeleteToken(absl::string_view token) const override {
    PIICRYPT_ASSIGN_OR_RETURN(bool deleted, store_->Delete(options_.field, token));
    if (!deleted) return absl::NotFoundError(absl::StrCat(options_.field, ": unknown token"));
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> EraseValue(absl::string_view value) const override {
    int64_t erased = 0;
    std::optional<std::string> normalized;
    absl::Cleanup wipe = [&normalized] {
      if (normalized.has_value()) internal::SecureWipe(normalized->data(), normalized->size());
    };
    if (options_.mode == TokenMode::kDeterministic) {
      // Every entry found by lookup is checked to hold the value before any is deleted.
      PIICRYPT_ASSIGN_OR_RETURN(normalized, NormalizeForLookup(value));
      PIICRYPT_ASSIGN_OR_RETURN(std::vector<std::string> lookups, Lookups(*normalized));
      std::vector<std::string> tokens;
      for (const std::string& lookup : lookups) {
        PIICRYPT_ASSIGN_OR_RETURN(std::optional<TokenEntry> found,
                                  store_->FindByLookup(options_.field, lookup));
        if (!found.has_value()) continue;
        PIICRYPT_RETURN_IF_ERROR(CheckHolds(*found, *normalized, Version1::kAccept));
        tokens.push_back(std::move(found->token));
      }
      for (const std::string& token : tokens) {
        PIICRYPT_ASSIGN_OR_RETURN(bool deleted, store_->Delete(options_.field, token));
        erased += deleted ? 1 : 0;
      }
      return erased;
    }
    // Random fields: every value of the same normalized form (or the same bytes, for a
    // value the normalizer refuses) is erased.
    if (!normalizer_.exact()) {
      absl::StatusOr<std::string> n = normalizer_.Normalize(value);
      if (n.ok()) normalized = *std::move(n);
    }
    std::string after;
    while (true) {
      PIICRYPT_ASSIGN_OR_RETURN(std::vector<TokenEntry> page,
                                store_->List(options_.field, after, kErasePageSize));
      for (const TokenEntry& entry : page) {
        PIICRYPT_ASSIGN_OR_RETURN(internal::OpenedTokenEntry opened,
                                  Open(entry, Version1::kAccept));
        const bool match = SameValue(opened.value, value, normalized);
        internal::SecureWipe(opened.value.data(), opened.value.size());
        if (!match) continue;
        PIICRYPT_ASSIGN_OR_RETURN(bool deleted, store_->Delete(options_.field, entry.token));
        erased += deleted ? 1 : 0;
      }
      if (page.size() < kErasePageSize) return erased;
      after = page.back().token;
    }
  }

  absl::StatusOr<int64_t> DeleteExpired() const override {
    return store_->DeleteExpired(options_.field, absl::ToUnixSeconds(Now(options_)));
  }

  absl::StatusOr<RekeyStats> Rekey(absl::string_view after, size_t limit) const override {
    if (limit == 0) {
      return absl::InvalidArgumentError(absl::StrCat(options_.field, ": rekey limit must be >= 1"));
    }
    PIICRYPT_ASSIGN_OR_RETURN(std::vector<TokenEntry> page,
                              store_->List(options_.field, after, limit));
    RekeyStats stats;
    stats.read = static_cast<int64_t>(page.size());
    stats.done = page.size() < limit;
    stats.last_token = page.empty() ? std::string(after) : page.back().token;
    const uint32_t primary = primary_->key_id();
    // The page's new ciphertexts and lookups, written in one ReplaceAll.
    std::vector<Replacement> replacements;
    std::vector<RekeyKind> kinds;  // per replacement
    for (const TokenEntry& entry : page) {
      // Every entry is authenticated, also those already under the primary key: a
      // version 1 entry is upgraded, an altered one is counted as unreadable.
      absl::StatusOr<internal::OpenedTokenEntry> opened = Open(entry, Version1::kAccept);
      if (!opened.ok()) {
        ++stats.unreadable;
        continue;
      }
      absl::Cleanup wipe = [&opened] {
        internal::SecureWipe(opened->value.data(), opened->value.size());
      };
      RekeyKind kind;
      kind.upgrade = opened->version != internal::kTokenEntryVersion;
      kind.current = !kind.upgrade && *FieldCipher::KeyIdOfText(entry.ciphertext) == primary;
      if (kind.current && normalizer_.exact()) {
        ++stats.current;
        continue;
      }
      Replacement r;
      r.token = entry.token;
      r.expected_ciphertext = entry.ciphertext;
      if (kind.current) {
        r.ciphertext = entry.ciphertext;  // only the lookup is recomputed
      } else {
        PIICRYPT_ASSIGN_OR_RETURN(r.ciphertext,
                                  internal::SealTokenEntry(*primary_, opened->value, entry.token,
                                                           entry.expires_unix_seconds));
      }
      // The lookup of the normalized value under the primary: the store puts it only where
      // the entry has a lookup (deterministic fields), so a tokenizer built with the wrong
      // mode neither adds nor drops lookups. A value the normalizer refuses loses it.
      PIICRYPT_ASSIGN_OR_RETURN(r.lookup, PrimaryLookup(opened->value));
      kind.unnormalized = r.lookup->empty();
      replacements.push_back(std::move(r));
      kinds.push_back(kind);
    }
    if (replacements.empty()) return stats;
    PIICRYPT_ASSIGN_OR_RETURN(std::vector<ReplaceOutcome> outcomes,
                              store_->ReplaceAll(options_.field, replacements));
    if (outcomes.size() != replacements.size()) {
      return absl::InternalError(
          absl::StrCat(options_.field, ": the token store answered for another number of entries"));
    }
    for (size_t i = 0; i < outcomes.size(); ++i) {
      ReplaceOutcome outcome = outcomes[i];
      bool duplicate = false;
      if (outcome == ReplaceOutcome::kLookupTaken) {
        // The value got another token under the primary while this entry's key was
        // disabled: that one stays the value's token; this one keeps detokenizing.
        duplicate = true;
        const Replacement& r = replacements[i];
        PIICRYPT_ASSIGN_OR_RETURN(
            outcome,
            store_->Replace(options_.field, r.token, r.expected_ciphertext, r.ciphertext, ""));
      }
      if (outcome == ReplaceOutcome::kReplaced) {
        ++(kinds[i].current ? stats.current : stats.rekeyed);
        stats.relooked += kinds[i].current ? 1 : 0;
        stats.duplicates += duplicate ? 1 : 0;
        stats.upgraded += kinds[i].upgrade ? 1 : 0;
        stats.unnormalized += kinds[i].unnormalized ? 1 : 0;
      } else {
        ++stats.changed;
      }
    }
    return stats;
  }

  const TokenizerOptions& options() const override { return options_; }

 private:
  bool Expired(const TokenEntry& entry) const {
    return entry.expires_unix_seconds != 0 &&
           absl::ToUnixSeconds(Now(options_)) >= entry.expires_unix_seconds;
  }

  // The lookup of a stored value under the primary key, over its normalized form; empty
  // for a value that does not normalize.
  absl::StatusOr<std::string> PrimaryLookup(absl::string_view value) const {
    absl::StatusOr<std::string> normalized = NormalizeForLookup(value);
    if (!normalized.ok()) return std::string();
    absl::Cleanup wipe = [&normalized] {
      internal::SecureWipe(normalized->data(), normalized->size());
    };
    HmacSha256::Tag tag;
    absl::Cleanup wipe_tag = [&tag] { internal::SecureWipe(tag.data(), tag.size()); };
    PIICRYPT_RETURN_IF_ERROR(primary_lookup_->Compute(*normalized, tag));
    return internal::TruncatedHex(tag, kLookupBits);
  }

  // The form of `value` its lookup is computed over: the value itself, or its normalized
  // form. kInvalidArgument naming the field for a value that is too long or does not
  // normalize.
  absl::StatusOr<std::string> NormalizeForLookup(absl::string_view value) const {
    if (value.size() > kMaxTokenValueSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.field, ": value is longer than 4096 bytes"));
    }
    if (normalizer_.exact()) return std::string(value);
    absl::StatusOr<std::string> normalized = normalizer_.Normalize(value);
    if (!normalized.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.field, ": ", normalized.status().message()));
    }
    return normalized;
  }

  // Whether a stored value is `value`: the same bytes, or the same normalized form
  // (`normalized`: the normalized form of `value`, if it has one).
  bool SameValue(absl::string_view stored, absl::string_view value,
                 const std::optional<std::string>& normalized) const {
    if (SecretEquals(stored, value)) return true;
    if (normalizer_.exact() || !normalized.has_value()) return false;
    absl::StatusOr<std::string> n = normalizer_.Normalize(stored);
    if (!n.ok()) return false;
    const bool same = SecretEquals(*n, *normalized);
    internal::SecureWipe(n->data(), n->size());
    return same;
  }

  // The lookups of a normalized value (NormalizeForLookup), primary key first.
  absl::StatusOr<std::vector<std::string>> Lookups(absl::string_view normalized) const {
    std::vector<std::string> out;
    out.reserve(lookups_.size());
    HmacSha256::Tag tag;
    absl::Cleanup wipe = [&tag] { internal::SecureWipe(tag.data(), tag.size()); };
    for (const auto& hmac : lookups_) {
      PIICRYPT_RETURN_IF_ERROR(hmac->Compute(normalized, tag));
      out.push_back(internal::TruncatedHex(tag, kLookupBits));
    }
    return out;
  }

  // The value of `entry`, authenticated together with its token and expiry time under the
  // key its ciphertext names. A version 1 entry is refused unless `version1` accepts it.
  absl::StatusOr<internal::OpenedTokenEntry> Open(const TokenEntry& entry,
                                                  Version1 version1) const {
    auto key_id = FieldCipher::KeyIdOfText(entry.ciphertext);
    if (!key_id.ok()) {
      return absl::DataLossError(absl::StrCat(options_.field, ": corrupt token store entry"));
    }
    const KeyCipher* key = nullptr;
    for (const KeyCipher& k : ciphers_) {
      if (k.key_id == *key_id) key = &k;
    }
    if (key == nullptr) {
      return absl::NotFoundError(absl::StrCat(options_.field, ": token under key ", *key_id,
                                              ", which is not in the keyset"));
    }
    if (key->cipher == nullptr) return key->status;
    PIICRYPT_ASSIGN_OR_RETURN(internal::OpenedTokenEntry opened,
                              internal::OpenTokenEntry(*key->cipher, options_.field, entry));
    if (opened.version != internal::kTokenEntryVersion && version1 == Version1::kRefuse) {
      internal::SecureWipe(opened.value.data(), opened.value.size());
      return absl::FailedPreconditionError(
          absl::StrCat(options_.field,
                       ": token entry in format version 1, whose expiry time is not "
                       "authenticated; run 'piicrypt rekey-tokens' for the field"));
    }
    return opened;
  }

  // OK if `entry` (found by the lookup of `normalized`, a NormalizeForLookup) holds a value
  // of that normalized form: a lookup moved to another entry is detected here, before its
  // token is returned or deleted.
  absl::Status CheckHolds(const TokenEntry& entry, const std::string& normalized,
                          Version1 version1) const {
    PIICRYPT_ASSIGN_OR_RETURN(internal::OpenedTokenEntry opened, Open(entry, version1));
    const bool match = SameValue(opened.value, normalized, normalized);
    internal::SecureWipe(opened.value.data(), opened.value.size());
    if (match) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat(options_.field,
                     ": the store's lookup of the value names an entry of another value "
                     "(the store was altered)"));
  }

  const TokenizerOptions options_;
  const std::shared_ptr<const TokenStore> store_;
  const std::shared_ptr<const FieldCipher> primary_;
  const std::vector<KeyCipher> ciphers_;
  const std::vector<std::unique_ptr<HmacSha256>> lookups_;  // enabled keys, primary first
  const std::unique_ptr<HmacSha256> primary_lookup_;        // for Rekey, in every mode
  const LookupNormalizer normalizer_;
};

// FF1 tokens: kCard and kAlphanumeric through one FormatPreservingField; kPreserve through
// two (digits, and letters folded to lower case), tweaked "digits" and "letters".
class VaultlessTokenizer : public Tokenizer {
 public:
  VaultlessTokenizer(TokenizerOptions options, std::unique_ptr<FormatPreservingField> main,
                     std::unique_ptr<FormatPreservingField> letters)
      : options_(std::move(options)), main_(std::move(main)), letters_(std::move(letters)) {}

  absl::StatusOr<std::string> Tokenize(absl::string_view value) const override {
    if (value.size() > kMaxTokenValueSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.field, ": value is longer than 4096 bytes"));
    }
    PIICRYPT_ASSIGN_OR_RETURN(std::string body, Transform(value, /*encrypt=*/true));
    return absl::StrCat(options_.prefix, body);
  }

  absl::StatusOr<std::string> Detokenize(absl::string_view token) const override {
    if (!absl::ConsumePrefix(&token, options_.prefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.field, ": not a token of this field (prefix missing)"));
    }
    return Transform(token, /*encrypt=*/false);
  }

  absl::Status DeleteToken(absl::string_view) const override { return VaultOnly(); }
  absl::StatusOr<int64_t> EraseValue(absl::string_view) const override { return VaultOnly(); }
  absl::StatusOr<int64_t> DeleteExpired() const override { return VaultOnly(); }
  absl::StatusOr<RekeyStats> Rekey(absl::string_view, size_t) const override {
    return absl::FailedPreconditionError(absl::StrCat(
        options_.field, ": vaultless tokens are not stored, so there is nothing to re-encrypt"));
  }
  const TokenizerOptions& options() const override { return options_; }

 private:
  absl::Status VaultOnly() const {
    return absl::FailedPreconditionError(absl::StrCat(
        options_.field, ": vaultless tokens are not stored, so they cannot be deleted"));
  }

  absl::StatusOr<std::string> Transform(absl::string_view in, bool encrypt) const {
    if (options_.format != TokenFormat::kPreserve) {
      return encrypt ? main_->Encrypt(in) : main_->Decrypt(in);
    }
    std::string digits;
    std::string letters;
    absl::Cleanup wipe = [&] {
      internal::SecureWipe(digits.data(), digits.size());
      internal::SecureWipe(letters.data(), letters.size());
    };
    for (char c : in) {
      if (absl::ascii_isdigit(c)) digits.push_back(c);
      if (absl::ascii_isupper(c)) letters.push_back(static_cast<char>(c - 'A' + 'a'));
      if (absl::ascii_islower(c)) letters.push_back(c);
    }
    if (digits.empty() && letters.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.field, ": value has no digits or letters to replace"));
    }
    // FF1's minimum domain of 10^6: 6 digits, 5 letters (26^5).
    if (!digits.empty() && digits.size() < 6) {
      return absl::InvalidArgumentError(absl::StrCat(
          options_.field, ": too few digits for a vaultless token (6 or none needed)"));
    }
    if (!letters.empty() && letters.size() < 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          options_.field, ": too few letters for a vaultless token (5 or none needed)"));
    }
    if (!digits.empty()) {
      PIICRYPT_ASSIGN_OR_RETURN(std::string out, encrypt ? main_->Encrypt(digits, "digits")
                                                         : main_->Decrypt(digits, "digits"));
      digits.swap(out);
      internal::SecureWipe(out.data(), out.size());
    }
    if (!letters.empty()) {
      PIICRYPT_ASSIGN_OR_RETURN(std::string out, encrypt ? letters_->Encrypt(letters, "letters")
                                                         : letters_->Decrypt(letters, "letters"));
      letters.swap(out);
      internal::SecureWipe(out.data(), out.size());
    }
    std::string result(in);
    size_t d = 0;
    size_t l = 0;
    for (char& c : result) {
      if (absl::ascii_isdigit(c)) c = digits[d++];
      if (absl::ascii_islower(c)) c = letters[l++];
      if (absl::ascii_isupper(c)) c = static_cast<char>(letters[l++] - 'a' + 'A');
    }
    return result;
  }

  const TokenizerOptions options_;
  const std::unique_ptr<FormatPreservingField> main_;
  const std::unique_ptr<FormatPreservingField> letters_;  // kPreserve only
};

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateVaultless(const Keyset& keyset,
                                                           const TokenizerOptions& options) {
  // A vaultless token names no key: its key is pinned, never whichever key is primary.
  const uint32_t key_id = options.vaultless_key_id;
  if (key_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.field, ": vaultless tokens carry no key id; set vaultless_key_id to pin the key"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(KeyInfo key, keyset.GetKey(key_id));
  if (key.status != KeyStatus::kEnabled) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.field, ": key ", key_id, " is not enabled"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(SecretData root,
                            keyset.KeyMaterial(key_id, InsecureSecretKeyAccess::Get()));
  FpeFieldOptions fpe;
  fpe.context = options.field;
  std::unique_ptr<FormatPreservingField> letters;
  switch (options.format) {
    case TokenFormat::kCard:
      fpe.codec = FpeCodec::kCard;
      fpe.card_keep_first_six = options.card_keep_first_six;
      fpe.card_luhn = options.card_luhn;
      break;
    case TokenFormat::kAlphanumeric:
      fpe.codec = FpeCodec::kAlphabet;
      fpe.alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
      break;
    case TokenFormat::kPreserve: {
      fpe.codec = FpeCodec::kAlphabet;
      fpe.alphabet = std::string(kDigitAlphabet);
      FpeFieldOptions letter_options = fpe;
      letter_options.alphabet = "abcdefghijklmnopqrstuvwxyz";
      PIICRYPT_ASSIGN_OR_RETURN(letters,
                                FormatPreservingField::CreateFromRoot(letter_options, root));
      break;
    }
  }
  PIICRYPT_ASSIGN_OR_RETURN(auto main, FormatPreservingField::CreateFromRoot(fpe, root));
  return std::make_unique<VaultlessTokenizer>(options, std::move(main), std::move(letters));
}

// The normalizer of a vault field of kind `kind` (Tokenizer::CreateForField).
TokenNormalizer TokenNormalizerOfKind(FieldKind kind) {
  switch (kind) {
    case FieldKind::kEmail:
      return TokenNormalizer::kEmail;
    case FieldKind::kPhone:
      return TokenNormalizer::kPhone;
    case FieldKind::kName:
      return TokenNormalizer::kName;
    case FieldKind::kCard:
      return TokenNormalizer::kCardDigits;
    default:
      return TokenNormalizer::kExact;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(
    const Keyset& keyset, const TokenizerOptions& options,
    std::shared_ptr<const TokenStore> store) {
  PIICRYPT_RETURN_IF_ERROR(internal::ValidateTokenOptions(options));
  absl::StatusOr<LookupNormalizer> normalizer = LookupNormalizer::Create(options);
  if (!normalizer.ok()) return normalizer.status();
  if (options.vaultless) {
    if (!normalizer->exact()) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.field, ": vaultless tokens encrypt the value as given (no normalizer)"));
    }
    return CreateVaultless(keyset, options);
  }
  if (store == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.field, ": vault tokens need a token store"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<const FieldCipher> primary,
                            keyset.FieldCipherFor(options.field, FieldMode::kRandomized));
  std::vector<KeyCipher> ciphers;
  std::vector<std::unique_ptr<HmacSha256>> lookups;
  std::vector<KeyInfo> keys = keyset.ListKeys();
  // The primary's lookup first: new values are inserted under it.
  std::stable_partition(keys.begin(), keys.end(), [](const KeyInfo& k) { return k.primary; });
  for (const KeyInfo& key : keys) {
    KeyCipher k;
    k.key_id = key.id;
    auto cipher = keyset.FieldCipherForKey(key.id, options.field, FieldMode::kRandomized);
    if (cipher.ok()) {
      k.cipher = *std::move(cipher);
    } else {
      k.status = cipher.status();
    }
    ciphers.push_back(std::move(k));
    if (key.status != KeyStatus::kEnabled || options.mode != TokenMode::kDeterministic) continue;
    PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<HmacSha256> hmac,
                              LookupHmac(keyset, key.id, options.field));
    lookups.push_back(std::move(hmac));
  }
  // Rekey replaces every existing lookup with the primary's, whatever the mode.
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<HmacSha256> primary_lookup,
                            LookupHmac(keyset, primary->key_id(), options.field));
  return std::make_unique<VaultTokenizer>(options, std::move(store), std::move(primary),
                                          std::move(ciphers), std::move(lookups),
                                          std::move(primary_lookup), *std::move(normalizer));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::CreateForField(
    const Keyset& keyset, const Policy& policy, absl::string_view field,
    std::shared_ptr<const TokenStore> store) {
  const FieldRule* rule = policy.Find(field);
  if (rule == nullptr) return absl::NotFoundError(absl::StrCat(field, ": not in the policy"));
  if (rule->mode != FieldMode::kVaultToken || !rule->token.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a tokenized field (MODE_VAULT_TOKEN) in the policy"));
  }
  TokenizerOptions options = *rule->token;
  if (!options.vaultless) options.normalizer = TokenNormalizerOfKind(rule->kind);
  return Create(keyset, options, std::move(store));
}

}  // namespace piicrypt
