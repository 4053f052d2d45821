// tokenizer.h: replaces field values with tokens, and tokens with values again.
//
// A token stands in for a value in systems that should never hold the value (analytics,
// support tools, partners): they store and join on the token; only the token service,
// holding the keys, turns it back. Two kinds:
//
//   vault tokens      random, kept in a TokenStore (subtle/token_store.h) beside the value's
//                     randomized ciphertext. Can expire, be deleted, be erased per value.
//   vaultless tokens  FF1 (NIST SP 800-38G) of the value under the field's "ff1" key: no
//                     store, always deterministic, never expire (subtle/format_preserving.h).
//
//   PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<piicrypt::TokenStore> store,
//                             piicrypt::TokenStore::Open("sqlite:/var/lib/app/tokens.db"));
//   piicrypt::TokenizerOptions card;
//   card.field = "orders.card_number";
//   card.format = piicrypt::TokenFormat::kCard;         // keep last 4, Luhn-invalid
//   PIICRYPT_ASSIGN_OR_RETURN(auto tokenizer,
//                             piicrypt::Tokenizer::Create(keyset, card, store));
//   PIICRYPT_ASSIGN_OR_RETURN(std::string token,
//                             tokenizer->Tokenize("4111 1111 1111 1111"));
//   // token is, say, "7302 9958 1046 1111": same shape, last 4 kept, fails the Luhn check.
//   PIICRYPT_ASSIGN_OR_RETURN(std::string card_number, tokenizer->Detokenize(token));
//
// Formats (what a token looks like):
//   kPreserve      Same length and character classes as the value: each ASCII digit becomes
//                  a random digit, each ASCII letter a random letter of the same case; every
//                  other byte (spaces, punctuation, '@', non-ASCII characters) stays in
//                  place. The value needs at least one digit or letter. Vaultless: the
//                  digits and the letters are each encrypted with FF1 (case kept), so each
//                  class that occurs needs 6 digits or 5 letters (FF1's minimum domain).
//   kCard          A card number of 12 to 19 digits, optionally grouped by spaces or '-'.
//                  The last 4 digits (and, with card_keep_first_six, the first 6) stay,
//                  the others are replaced; at least 6 are replaced. The token fails the
//                  Luhn check by default (card_luhn), so it is never mistaken for a card.
//   kAlphanumeric  Vault: `alphanumeric_length` random characters of [0-9A-Za-z], whatever
//                  the value. Vaultless: the value must be alphanumeric and is encrypted
//                  over that 62-character alphabet, keeping its length.
// Every format may carry a fixed `prefix` ("tok_") that marks tokens as tokens. A token is
// never equal to its value.
//
// Modes (vault tokens):
//   kDeterministic  the same value always gets the same token within the field, so
//                   tokens can be joined on; the store finds it by the value's lookup
//                   (HMAC-SHA256 under the field's "token" key, under every enabled key
//                   during a key rotation). Concurrent writers of one value agree on one
//                   token: the store's unique constraint decides.
//   kRandom         a new token every time.
// Tokens of one value differ between fields (other keys, other random draws).
//
// Normalization (deterministic vault tokens): the lookup is computed over the value's
// normalized form (`normalizer`: e-mail trimmed and lower-cased, phone numbers in E.164,
// names case-folded, card numbers as bare digits), so "4111111111111111" and
// "4111 1111 1111 1111" get one token and joins on tokens survive formatting. The store
// keeps the value as first given, and Detokenize returns that: the token's shape follows
// it too. A value that does not normalize (not an e-mail address, ...) is refused with
// kInvalidArgument. An entry found by lookup is checked to hold a value of the same
// normalized form. Entries written with another normalizer (or before there was one) keep
// their old lookups until Rekey recomputes them (docs/TOKENS.md, "Normalization").
// Random fields keep no lookup; EraseValue there deletes the tokens of every value of the
// same normalized form. Vaultless tokens are FF1 of the value as given: no normalizer.
//
// Collisions: a new random token that another value of the field already holds is
// detected by the store's unique constraint and drawn again, at most `max_attempts`
// times; then Tokenize fails with kResourceExhausted, naming the format's space as too
// small for the field.
//
// Keys: new values are encrypted (and looked up first) under the keyset's primary key; a
// value stored under an older key still detokenizes while that key is enabled. The
// tokenizer derives what it needs at Create; build a new one after changing the keyset.
// Vaultless tokens carry no key id: they use `vaultless_key_id`, which is REQUIRED (never
// the primary of the moment) and fixed in the field's configuration (docs/TOKENS.md).
//
// Store entries are never taken on trust: an entry's ciphertext is bound to its token and
// expiry time (docs/TOKENS.md, "Entry format"), and an entry found by a value's lookup is
// decrypted and compared with the value before its token is returned or deleted.
//
// Errors (messages name the field, never the value or the token's value):
//   kInvalidArgument     a value that does not fit the format, or that the field's
//                        normalizer refuses (deterministic Tokenize, EraseValue); bad
//                        options; a store entry that does not authenticate (its ciphertext,
//                        token or expiry time was altered)
//   kNotFound            an unknown token (Detokenize, DeleteToken)
//   kFailedPrecondition  an expired token; a token under a disabled key; an entry of format
//                        version 1 (run Rekey); vault-only operations on a vaultless
//                        tokenizer
//   kDataLoss            a value's lookup leads to an entry of another value (the store
//                        was altered): nothing is returned or deleted
//   kResourceExhausted   no free token after max_attempts draws (see Collisions)
//   kUnavailable         the store is down, locked or slow (subtle/token_store.h)
//
// Thread safety: every method is const and safe to call from many threads.
#ifndef PIICRYPT_TOKENIZER_H_
#define PIICRYPT_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/field_options.h"
#include "piicrypt/keyset.h"
#include "piicrypt/subtle/token_store.h"

namespace piicrypt {

class Policy;  // policy.h

// What one Tokenizer::Rekey call did.
struct RekeyStats {
  int64_t read = 0;          // entries read
  int64_t rekeyed = 0;       // re-encrypted under the primary key (lookups with them)
  int64_t current = 0;       // already under the primary key: left as they were
  int64_t changed = 0;       // deleted or rewritten by another writer meanwhile: left alone
  int64_t duplicates = 0;    // of `rekeyed` and `current`: the value (its normalized form)
                             // already had a token under the primary key (made while this
                             // entry's key was disabled, or a value that normalizes to the
                             // same), so this one lost its lookup; it still detokenizes
  int64_t relooked = 0;      // of `current`: lookup recomputed over the normalized value
                             // (normalizing tokenizers only), ciphertext left as it was
  int64_t unnormalized = 0;  // of `rekeyed` and `current`: a value the normalizer refuses
                             // (written before it applied): lookup removed; it still
                             // detokenizes
  int64_t upgraded = 0;      // of `rekeyed`: entries of format version 1, now version 2
                             // (docs/TOKENS.md, "Entry format")
  int64_t unreadable = 0;    // under a disabled, destroyed or unknown key, or corrupt or
                             // altered (not authentic): left as they are
  // The last token read: `after` for the next call.
  std::string last_token;
  // True when the field has no entries after `last_token`.
  bool done = false;

  // Adds a later page's counts; its last_token and done replace these.
  RekeyStats& operator+=(const RekeyStats& page) {
    read += page.read;
    rekeyed += page.rekeyed;
    current += page.current;
    changed += page.changed;
    duplicates += page.duplicates;
    relooked += page.relooked;
    unnormalized += page.unnormalized;
    upgraded += page.upgraded;
    unreadable += page.unreadable;
    last_token = page.last_token;
    done = page.done;
    return *this;
  }
};

class PIICRYPT_EXPORT Tokenizer {
 public:
  // Derives the field's keys from `keyset` (which need not outlive the tokenizer).
  // `store` is REQUIRED for vault tokens and ignored for vaultless ones.
  // kInvalidArgument for bad options; keyset errors as Keyset::FieldCipherFor.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(const Keyset& keyset,
                                                           const TokenizerOptions& options,
                                                           std::shared_ptr<const TokenStore> store);
  // The tokenizer of field `field` of `policy` (a MODE_VAULT_TOKEN rule, whose token { }
  // holds the settings; vault fields normalize by the field's kind: KIND_EMAIL kEmail,
  // KIND_PHONE kPhone, KIND_NAME kName, KIND_CARD kCardDigits, others kExact):
  // kNotFound if the policy has no such field, kInvalidArgument if the field is not
  // tokenized; otherwise as Create.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> CreateForField(
      const Keyset& keyset, const Policy& policy, absl::string_view field,
      std::shared_ptr<const TokenStore> store);

  virtual ~Tokenizer() = default;

  // The token of `value`: found (deterministic) or made and stored.
  virtual absl::StatusOr<std::string> Tokenize(absl::string_view value) const = 0;
  // The value of `token`: kNotFound if unknown, kFailedPrecondition if expired.
  virtual absl::StatusOr<std::string> Detokenize(absl::string_view token) const = 0;

  // Vault tokens only. Deletes one token: it no longer detokenizes. kNotFound if unknown.
  [[nodiscard]] virtual absl::Status DeleteToken(absl::string_view token) const = 0;
  // Vault tokens only. Deletes every token of `value` in the field (erasure of a person's
  // data) and returns how many there were. Deterministic fields find them by lookup;
  // random fields are scanned and every token's value decrypted, so erasure there costs
  // time proportional to the field's size.
  virtual absl::StatusOr<int64_t> EraseValue(absl::string_view value) const = 0;
  // Vault tokens only. Deletes the field's expired tokens; returns how many.
  virtual absl::StatusOr<int64_t> DeleteExpired() const = 0;

  // Vault tokens only. After a key rotation: re-encrypts up to `limit` entries of the
  // field whose tokens sort after `after` (byte order; "" from the start) under the
  // keyset's primary key, and recomputes their lookups under it, so that the older keys
  // can be disabled and destroyed. Tokens and expiry times stay; every entry is rewritten
  // with a compare-and-set (TokenStore::ReplaceAll, one transaction per page on SQLite),
  // so concurrent Tokenize, DeleteToken and EraseValue calls are safe, and a run stopped
  // anywhere can be repeated or resumed from `last_token`.
  //
  //   RekeyStats total;
  //   while (!total.done) {
  //     PIICRYPT_ASSIGN_OR_RETURN(RekeyStats page, tokenizer->Rekey(total.last_token, 1000));
  //     total += page;
  //   }
  //
  // Every entry is decrypted first; entries of format version 1 (written before expiry
  // times were authenticated) are rewritten in version 2 even when already under the
  // primary key (counted as upgraded). Entries under a disabled key, and entries that do
  // not authenticate, are counted as unreadable and left alone: enable the key, rekey,
  // then disable it. Lookups are computed over the normalized value: with a normalizer
  // other than kExact, the lookups of entries already under the primary key are
  // recomputed too (counted as relooked), which upgrades a store written before the
  // normalizer applied; values that now normalize alike keep one lookup (the others are
  // counted as duplicates). Rekey with the field's own normalizer: another one would
  // move the lookups away from where Tokenize looks. REQUIRES: limit >= 1.
  virtual absl::StatusOr<RekeyStats> Rekey(absl::string_view after, size_t limit) const = 0;

  virtual const TokenizerOptions& options() const = 0;
};

}  // namespace piicrypt

#endif  // PIICRYPT_TOKENIZER_H_
