// key_handle.h: a service's keys and policy, reloaded while it runs.
//
// A KeyHandle owns the keyset file (read under its KEK) and the policy file of a service
// and serves FieldCryptor calls from a snapshot built from them. When either file changes
// (`piicrypt keyset rotate`, `promote`, `disable`, a new policy deployed), or when asked
// with Reload(), it builds a new snapshot and swaps it in; the service keeps running.
//
//   piicrypt::KeyHandleOptions options;
//   options.keyset_path = "/etc/piicrypt/orders.keyset";
//   PIICRYPT_ASSIGN_OR_RETURN(options.kek, piicrypt::Kek::Open("file:/etc/piicrypt/kek.key"));
//   options.policy_path = "/etc/piicrypt/orders.textproto";
//   options.on_reload = [](const absl::Status& s) {
//     if (!s.ok()) LOG(ERROR) << "piicrypt keys not reloaded: " << s;
//   };
//   PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<piicrypt::KeyHandle> keys,
//                             piicrypt::KeyHandle::Open(std::move(options)));
//
//   // Any thread, any time, during rotations too:
//   PIICRYPT_ASSIGN_OR_RETURN(std::string ct,
//                             keys->EncryptValue("orders.customer_email", email, order_id));
//
//   // Several calls that must see the same keys (one row, one transaction): one snapshot.
//   std::shared_ptr<const piicrypt::KeySnapshot> snap = keys->Snapshot();
//   PIICRYPT_ASSIGN_OR_RETURN(auto name_ct, snap->cryptor().Encrypt("orders.customer_name",
//                                                                   name, order_id));
//   PIICRYPT_ASSIGN_OR_RETURN(auto email_ct, snap->cryptor().Encrypt("orders.customer_email",
//                                                                    email, order_id));
//
// Reloads: a watcher thread looks at both files every `check_interval` (one stat(2) of
// each: device, inode, size, modification and change times; no inotify) and reloads when
// either differs from what it last loaded. `piicrypt keyset` commands replace the file
// atomically, so a reload never sees a half-written keyset. Reload() reloads at once and
// returns the result; with `check_interval` zero there is no watcher and Reload() is the
// only way.
//
// Swaps: a new snapshot is built entirely outside any lock a call takes (reading the files,
// decrypting the keyset under the KEK, building every per-field object), then published by
// swapping one pointer. A call never waits for a reload: it runs on the snapshot current
// when it started, and calls in flight when a swap happens finish on their own snapshot.
// The first call a thread makes after a swap takes a short mutex to pick up the new
// snapshot (a pointer copy); every other call costs one atomic load more than a call on a
// FieldCryptor (docs/KEYS.md has the figures). Each thread keeps its current snapshot until
// its next call, so an old snapshot is freed when the last thread that used it calls again
// or exits, or the last Snapshot() holder lets go.
//
// A reload that fails (unreadable file, wrong KEK, corrupt keyset, invalid policy, a policy
// naming a key that is not enabled) changes nothing: calls go on with the last good
// snapshot. last_reload_status() says why, failed_reloads() counts failures, and
// `on_reload` is told; the watcher tries again at every check until a load succeeds.
//
// Thread safety: every method may be called from many threads at once. `on_reload` runs on
// the reloading thread (the watcher, or the caller of Reload()), one call at a time; it must
// not call Reload() or destroy the handle.
#ifndef PIICRYPT_KEY_HANDLE_H_
#define PIICRYPT_KEY_HANDLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"

namespace piicrypt {

struct KeyHandleOptions {
  // REQUIRED: the keyset file and the KEK it is encrypted under.
  std::string keyset_path;
  std::unique_ptr<Kek> kek;
  // REQUIRED: the policy file (textproto of piicrypt.Policy).
  std::string policy_path;
  // How often the watcher thread looks at both files. Zero: no watcher; reload with
  // Reload(). Default: one second.
  absl::Duration check_interval = absl::Seconds(1);
  // Told the result of every reload after Open: OK when a new snapshot was swapped in, the
  // reason when a reload failed. Default: none.
  std::function<void(const absl::Status&)> on_reload;
};

// What one load of the files gave: the keyset, and the FieldCryptor built from it and the
// policy. Immutable.
class PIICRYPT_EXPORT KeySnapshot {
 public:
  KeySnapshot(Keyset keyset, std::unique_ptr<const FieldCryptor> cryptor, uint64_t generation);

  const FieldCryptor& cryptor() const { return *cryptor_; }
  const Keyset& keyset() const { return keyset_; }
  const Policy& policy() const { return cryptor_->policy(); }
  // 1 for the snapshot Open loaded, one more for each swap after it.
  uint64_t generation() const { return generation_; }

 private:
  Keyset keyset_;
  std::unique_ptr<const FieldCryptor> cryptor_;
  uint64_t generation_;
};

class PIICRYPT_EXPORT KeyHandle {
 public:
  // Loads both files (the first load must succeed: its error is returned) and starts the
  // watcher. kInvalidArgument if a REQUIRED option is missing.
  static absl::StatusOr<std::unique_ptr<KeyHandle>> Open(KeyHandleOptions options);
  // Stops the watcher (waiting for a reload under way). Snapshots still held stay valid.
  ~KeyHandle();
  KeyHandle(const KeyHandle&) = delete;
  KeyHandle& operator=(const KeyHandle&) = delete;

  // The current snapshot, for several calls that must use the same keys.
  std::shared_ptr<const KeySnapshot> Snapshot() const;

  // Reads both files now and swaps in what they hold. On failure keeps the current
  // snapshot and returns why (also in last_reload_status()).
  [[nodiscard]] absl::Status Reload();
  // OK, or why the last reload failed (until one succeeds).
  absl::Status last_reload_status() const;
  // Reloads that failed, and snapshots swapped in, since Open.
  uint64_t failed_reloads() const { return failed_reloads_.load(std::memory_order_relaxed); }
  uint64_t swaps() const { return generation_.load(std::memory_order_relaxed) - 1; }

  // ---- FieldCryptor calls on the current snapshot (field_cryptor.h has what each does) ---
  absl::StatusOr<std::optional<std::string>> Encrypt(absl::string_view field, NullableValue value,
                                                     absl::string_view record = {}) const {
    return Current().Encrypt(field, value, record);
  }
  absl::StatusOr<std::optional<std::string>> Decrypt(absl::string_view field, NullableValue stored,
                                                     absl::string_view record = {}) const {
    return Current().Decrypt(field, stored, record);
  }
  absl::StatusOr<std::string> EncryptValue(absl::string_view field, absl::string_view value,
                                           absl::string_view record = {}) const {
    return Current().EncryptValue(field, value, record);
  }
  absl::StatusOr<std::string> DecryptValue(absl::string_view field, absl::string_view stored,
                                           absl::string_view record = {}) const {
    return Current().DecryptValue(field, stored, record);
  }
  absl::Status EncryptTo(absl::string_view field, absl::string_view value, absl::string_view record,
                         std::string* out) const {
    return Current().EncryptTo(field, value, record, out);
  }
  absl::StatusOr<std::optional<std::string>> BlindIndex(absl::string_view field,
                                                        NullableValue value) const {
    return Current().BlindIndex(field, value);
  }
  absl::StatusOr<std::string> BlindIndexValue(absl::string_view field,
                                              absl::string_view value) const {
    return Current().BlindIndexValue(field, value);
  }
  absl::StatusOr<std::vector<std::string>> LookupIndexes(absl::string_view field,
                                                         absl::string_view value) const {
    return Current().LookupIndexes(field, value);
  }
  std::string MaskValue(absl::string_view field, absl::string_view value) const {
    return Current().MaskValue(field, value);
  }
  // As on FieldCryptor, a `const char*` value does not compile (use NullableText).
  template <typename T, internal::RejectCharPointer<T> = 0>
  void Encrypt(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void Decrypt(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void EncryptValue(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void DecryptValue(absl::string_view, T&&, absl::string_view = {}) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void EncryptTo(absl::string_view, T&&, absl::string_view, std::string*) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void BlindIndex(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void BlindIndexValue(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void LookupIndexes(absl::string_view, T&&) const = delete;
  template <typename T, internal::RejectCharPointer<T> = 0>
  void MaskValue(absl::string_view, T&&) const = delete;

 private:
  struct Rep;
  explicit KeyHandle(std::unique_ptr<Rep> rep);
  // The calling thread's snapshot of this handle, refreshed when a swap happened since its
  // last call; valid until this thread's next call on this handle.
  const FieldCryptor& Current() const;
  const std::shared_ptr<const KeySnapshot>& Pinned() const;

  std::unique_ptr<Rep> rep_;
  const uint64_t serial_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<uint64_t> failed_reloads_{0};
};

}  // namespace piicrypt

#endif  // PIICRYPT_KEY_HANDLE_H_
