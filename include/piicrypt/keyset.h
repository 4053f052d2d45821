// keyset.h: the data keys of an application, stored only encrypted under a KEK.
//
// A keyset holds data keys. Each key has a random non-zero 32-bit id, a status, a creation
// time and 32 bytes of root material; exactly one ENABLED key is the primary. Field keys are
// derived from a key's root material (HKDF-SHA256, docs/SPEC.md) when first needed and cached;
// they are never stored.
//
//   // Provisioning (or `piicrypt keyset create --kek URI --out FILE`):
//   PIICRYPT_ASSIGN_OR_RETURN(auto kek, piicrypt::Kek::Open("file:/etc/piicrypt/kek.key"));
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
//   PIICRYPT_RETURN_IF_ERROR(keyset.WriteNew("/etc/piicrypt/orders.keyset", *kek));
//
//   // An application server:
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset,
//                             piicrypt::Keyset::Read("/etc/piicrypt/orders.keyset", *kek));
//   PIICRYPT_ASSIGN_OR_RETURN(auto cipher, keyset.FieldCipherFor(
//                                              "orders.customer_email",
//                                              piicrypt::FieldMode::kRandomized));
//   PIICRYPT_ASSIGN_OR_RETURN(std::string stored, cipher->EncryptText(email, order_id));
//   ...
//   PIICRYPT_ASSIGN_OR_RETURN(std::string email,
//                             keyset.DecryptText("orders.customer_email", stored, order_id));
//
// Lifecycle (docs/KEYS.md has the production runbook):
//   Add()      a new ENABLED key that is not yet primary (deploy it everywhere first);
//   Promote()  makes an ENABLED key the primary: new values are encrypted under it;
//   Rotate()   Add() and Promote() at once;
//   Disable()  a key decrypts nothing until Enable()d again (the primary cannot be disabled);
//   Destroy()  erases a DISABLED key's material for good (crypto-shredding); its id stays
//              in the keyset, so it is never reused and errors can say what happened.
// Changes to a stored keyset go through Update(), which holds an exclusive lock on the
// file for the whole read-modify-write, so concurrent changes by several processes are
// never lost; files are replaced atomically (temporary file, fsync, rename) with mode 0600.
//
// Errors: unknown key id is kNotFound; a state that forbids the operation (disabling the
// primary, promoting a disabled key, decrypting under a disabled key) is
// kFailedPrecondition; a key destroyed earlier is kNotFound; a corrupt or truncated keyset
// file is kDataLoss; a keyset that does not decrypt under the KEK given (wrong KEK, altered
// file) is kInvalidArgument. A failed Read/Update changes nothing and loads nothing.
//
// Thread safety: const methods may be called from many threads at once; the lifecycle
// methods (non-const) need exclusive access to the object.
#ifndef PIICRYPT_KEYSET_H_
#define PIICRYPT_KEYSET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"
#include "piicrypt/kek.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/blind_indexer.h"
#include "piicrypt/subtle/field_cipher.h"

namespace piicrypt {

enum class KeyStatus { kEnabled, kDisabled, kDestroyed };
// "ENABLED", "DISABLED", "DESTROYED".
PIICRYPT_EXPORT absl::string_view KeyStatusName(KeyStatus status);

// What may be shown about a key: never its material.
struct KeyInfo {
  uint32_t id = 0;
  KeyStatus status = KeyStatus::kEnabled;
  int64_t created_unix_seconds = 0;
  bool primary = false;
};

class PIICRYPT_EXPORT Keyset {
 public:
  // Largest number of keys (of any status) one keyset may hold.
  static constexpr size_t kMaxKeys = 10000;

  // A new keyset with one ENABLED primary key.
  static absl::StatusOr<Keyset> Generate();

  // Reads and decrypts a keyset file. kNotFound if it does not exist, kPermissionDenied if
  // it cannot be read, kDataLoss if it is corrupt, kInvalidArgument if it does not decrypt
  // under `kek`.
  static absl::StatusOr<Keyset> Read(const std::string& path, const Kek& kek);
  // Writes this keyset to a new file; kAlreadyExists if `path` exists (never overwrites).
  [[nodiscard]] absl::Status WriteNew(const std::string& path, const Kek& kek) const;

  // Under an exclusive lock on `path`: reads the keyset, runs `change` on it and, if
  // `change` returns OK, replaces the file atomically and returns the keyset as written
  // (what a process that changes its own keyset serves from next, without reading the
  // file again). If `change` fails, the file is left as it was and its status is returned.
  //
  //   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset updated, piicrypt::Keyset::Update(
  //       path, *kek, [](piicrypt::Keyset& k) { return k.Rotate().status(); }));
  //   uint32_t new_primary = updated.primary_key_id();
  [[nodiscard]] static absl::StatusOr<Keyset> Update(
      const std::string& path, const Kek& kek, absl::FunctionRef<absl::Status(Keyset&)> change);
  // Re-encrypts the keyset at `path` from `old_kek` to `new_kek` (KEK rotation), under
  // the same lock. Data keys and data are untouched.
  [[nodiscard]] static absl::Status Rewrap(const std::string& path, const Kek& old_kek,
                                           const Kek& new_kek);

  // The stored form, without a file: a serialized EncryptedKeyset (docs/KEYS.md) under
  // `kek`, and back. FromEncryptedBytes fails as Read does (kDataLoss, kInvalidArgument).
  absl::StatusOr<std::string> ToEncryptedBytes(const Kek& kek) const;
  static absl::StatusOr<Keyset> FromEncryptedBytes(absl::string_view encrypted, const Kek& kek);

  Keyset(Keyset&&) noexcept;
  Keyset& operator=(Keyset&&) noexcept;
  ~Keyset();

  uint32_t primary_key_id() const;
  // Every key, in the order they were added, without material.
  std::vector<KeyInfo> ListKeys() const;
  // kNotFound for an unknown id.
  absl::StatusOr<KeyInfo> GetKey(uint32_t key_id) const;

  // Lifecycle; see the header comment. Add and Rotate return the new key's id.
  absl::StatusOr<uint32_t> Add();
  absl::StatusOr<uint32_t> Rotate();
  [[nodiscard]] absl::Status Promote(uint32_t key_id);
  [[nodiscard]] absl::Status Enable(uint32_t key_id);
  [[nodiscard]] absl::Status Disable(uint32_t key_id);
  [[nodiscard]] absl::Status Destroy(uint32_t key_id);

  // The cipher that encrypts new values of field `context`: under the primary key.
  absl::StatusOr<std::shared_ptr<const FieldCipher>> FieldCipherFor(absl::string_view context,
                                                                    FieldMode mode) const;
  // The cipher of one key, for decryption: kFailedPrecondition if the key is disabled,
  // kNotFound if it was destroyed or is not in the keyset.
  absl::StatusOr<std::shared_ptr<const FieldCipher>> FieldCipherForKey(uint32_t key_id,
                                                                       absl::string_view context,
                                                                       FieldMode mode) const;
  // Decrypts a binary or text ciphertext of field `context` under the key its header names
  // (the mode comes from the header too). Errors as FieldCipherForKey and
  // FieldCipher::Decrypt.
  absl::StatusOr<std::string> Decrypt(absl::string_view context, absl::string_view ciphertext,
                                      absl::string_view record = {}) const;
  absl::StatusOr<std::string> DecryptText(absl::string_view context, absl::string_view text,
                                          absl::string_view record = {}) const;

  // Blind indexers of field `context` under every ENABLED key, the primary first: during a
  // rotation a lookup computes the index under each and queries them all (docs/SPEC.md).
  absl::StatusOr<std::vector<std::pair<uint32_t, std::shared_ptr<const BlindIndexer>>>>
  BlindIndexersFor(absl::string_view context, int bits) const;

  // The 32 bytes of root material of an ENABLED or DISABLED key, for migrations
  // (`piicrypt keyset export-cleartext`) and for key derivations of other field kinds.
  absl::StatusOr<SecretData> KeyMaterial(uint32_t key_id, InsecureSecretKeyAccess) const;

 private:
  struct Rep;
  explicit Keyset(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace piicrypt

#endif  // PIICRYPT_KEYSET_H_
