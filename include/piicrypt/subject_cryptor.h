// subject_cryptor.h: encrypts the fields of a data subject (a customer) under that
// subject's own key, and forgets subjects by destroying their key (crypto-shredding).
//
//   PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<piicrypt::SubjectKeyStore> store,
//                             piicrypt::SubjectKeyStore::Open("sqlite:/var/lib/app/subjects.db"));
//   PIICRYPT_ASSIGN_OR_RETURN(auto subjects,
//                             piicrypt::SubjectCryptor::Create(keyset, policy, store));
//
//   // Writing an order of customer 7: the name is the customer's, bound to the order row.
//   PIICRYPT_ASSIGN_OR_RETURN(std::string name_ct,
//                             subjects->EncryptValue("orders.customer_name", "7", name, order_id));
//   // Reading it back:
//   PIICRYPT_ASSIGN_OR_RETURN(std::string name,
//                             subjects->DecryptValue("orders.customer_name", "7", name_ct,
//                             order_id));
//   // Customer 7 asks to be erased (GDPR Art. 17): every copy of their fields, in the live
//   // tables and in every backup taken before, stops decrypting.
//   PIICRYPT_ASSIGN_OR_RETURN(bool had_key, subjects->Forget("7"));
//
// Fields: the policy's rules with a `subject` (policy.h, SubjectRule): MODE_RANDOMIZED
// fields whose values are encrypted under a key derived from the subject's key and the
// field's name, in the subject field format (docs/SPEC.md, "Subject fields"), bound to
// the field and (with bind_record) to the record exactly like a FieldCryptor's values,
// padded as the rule says. FieldCryptor refuses these fields; other fields are refused here
// (kNotFound). Blind indexes of subject fields stay FieldCryptor's (under the keyset): they
// survive a forget, see docs/SUBJECTS.md and ClearSubjectIndexes (subject_indexes.h).
//
// Subject keys: the first encryption for a subject creates its key (random, 256 bits) and
// stores it, wrapped under the keyset's primary key, in the SubjectKeyStore; decryption
// never creates one. Forget deletes the subject's row; a later encryption for the same
// subject id creates a NEW key (a returning customer starts afresh), whose values are told
// apart from the forgotten key's by the subject key id in every value: values written
// before the forget stay unreadable (kNotFound) for good.
//
// Cache: unwrapped subject keys (as keyed ciphers, in SecretData) are cached in process,
// at most `cache_size` subjects, each for at most `cache_ttl` after it was read from the
// store; least recently used subjects are evicted first, and evicted keys are wiped.
// Forget evicts the subject at once in this process; OTHER processes (and other
// SubjectCryptors) keep using a cached key until its `cache_ttl` runs out, so a forget is
// complete everywhere `cache_ttl` after Forget returns. A value that another process
// encrypts in that window is under the destroyed key, and fails to decrypt (kNotFound)
// like every other value of the forgotten subject: never readable, never mistaken for
// the new key's.
//
// Errors: a field that is not a subject field of the policy is kNotFound; an empty subject
// id, or one over 1024 bytes, is kInvalidArgument; a value whose subject key is gone
// (forgotten, or never created), or is not the subject's (a value moved from another
// subject's row), is kNotFound "<field>: the value's subject key was erased ...";
// every other failed decryption (tampered, truncated, moved to another field, row or
// subject) is kInvalidArgument "<field>: decryption failed"; a stored subject key that does
// not authenticate (a tampered row, a row swapped between subjects) is kDataLoss; a key
// wrapped under a disabled keyset key is kFailedPrecondition, a destroyed or unknown one
// kNotFound; the store's own errors (kUnavailable, ...) pass through. No message holds a
// value, a subject id or key material.
//
// Thread safety: every method is const and safe to call from many threads at once.
#ifndef PIICRYPT_SUBJECT_CRYPTOR_H_
#define PIICRYPT_SUBJECT_CRYPTOR_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "piicrypt/export.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subject_key_store.h"

namespace piicrypt {

struct SubjectCryptorOptions {
  // Most subjects whose unwrapped keys are cached. Default: 10000. REQUIRES: >= 1.
  size_t cache_size = 10000;
  // How long a cached key is used after it was read from the store: the delay after which
  // other processes see a forget. Default: 60 seconds. REQUIRES: positive.
  absl::Duration cache_ttl = absl::Seconds(60);
};

class PIICRYPT_EXPORT SubjectCryptor {
 public:
  // Builds the cryptor of `policy`'s subject fields under `keyset`, reading (or, in a new
  // store, creating) the store's lookup key. A lookup key that does not authenticate is
  // kDataLoss; one wrapped under a disabled key kFailedPrecondition, under a destroyed or
  // unknown key kNotFound (an old copy of the store after its keys were destroyed).
  static absl::StatusOr<std::unique_ptr<SubjectCryptor>> Create(
      const Keyset& keyset, const Policy& policy, std::shared_ptr<const SubjectKeyStore> store,
      const SubjectCryptorOptions& options = {});
  ~SubjectCryptor();
  SubjectCryptor(const SubjectCryptor&) = delete;
  SubjectCryptor& operator=(const SubjectCryptor&) = delete;

  // Text form (base64url); NULL stays NULL. `subject` is the subject's id (a customer id).
  absl::StatusOr<std::optional<std::string>> Encrypt(absl::string_view field,
                                                     absl::string_view subject, NullableValue value,
                                                     absl::string_view record = {}) const;
  absl::StatusOr<std::optional<std::string>> Decrypt(absl::string_view field,
                                                     absl::string_view subject,
                                                     NullableValue stored,
                                                     absl::string_view record = {}) const;
  // The same for a value that is not NULL.
  absl::StatusOr<std::string> EncryptValue(absl::string_view field, absl::string_view subject,
                                           absl::string_view value,
                                           absl::string_view record = {}) const;
  absl::StatusOr<std::string> DecryptValue(absl::string_view field, absl::string_view subject,
                                           absl::string_view stored,
                                           absl::string_view record = {}) const;

  // The text form of a value that is not NULL written into `*out` (its contents replaced,
  // its capacity reused), for loops that hand each result on: the same bytes and errors as
  // EncryptValue; `*out` is left empty on failure.
  absl::Status EncryptTo(absl::string_view field, absl::string_view subject,
                         absl::string_view value, absl::string_view record, std::string* out) const;

  // Destroys the subject's key: deletes its row from the store and evicts it from this
  // cryptor's cache. True if a key was stored;
  // false if there was none (never written, or forgotten before), which is not an error.
  absl::StatusOr<bool> Forget(absl::string_view subject) const;

  // The subject fields of the policy, in policy order.
  const std::vector<std::string>& fields() const;

 private:
  struct Rep;
  explicit SubjectCryptor(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace piicrypt

#endif  // PIICRYPT_SUBJECT_CRYPTOR_H_
