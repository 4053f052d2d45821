// kek.h: key-encryption keys (KEKs), the keys that keysets are stored under.
//
// A KEK never sits beside the data. It is named by a URI (docs/SPEC.md, key hierarchy):
//
//   file:/etc/piicrypt/kek.key
//       32 random bytes in a file of mode 0600, for development and small deployments.
//       Refused if the file can be read or written by group or others.
//   pkcs11:token=prod;object=piicrypt-kek?module-path=/usr/lib/softhsm/libsofthsm2.so
//       A non-extractable, sensitive AES-256 key object inside an HSM, reached through
//       PKCS#11 (RFC 7512 URI). The key never leaves the token: wrapping runs the token's
//       own AES-GCM. The PIN comes from `pin-value=`, from `pin-source=file:PATH` (the
//       first line of that file) or, if neither is in the URI, from the environment
//       variable PIICRYPT_PKCS11_PIN.
//
//   // Once, at provisioning time:
//   PIICRYPT_RETURN_IF_ERROR(piicrypt::Kek::Create("file:/etc/piicrypt/kek.key"));
//   // In every process that opens keysets:
//   PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<piicrypt::Kek> kek,
//                             piicrypt::Kek::Open("file:/etc/piicrypt/kek.key"));
//   PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset,
//                             piicrypt::Keyset::Read("/etc/piicrypt/orders.keyset", *kek));
//
// Errors: a malformed URI is kInvalidArgument; a missing key file or key object is
// kNotFound; an unsafe key file mode is kFailedPrecondition; a wrong PIN is
// kPermissionDenied; an HSM module that cannot be loaded or initialised is kUnavailable.
// No message ever contains a PIN or key bytes.
//
// Thread safety: every const method may be called from many threads at once.
#ifndef PIICRYPT_KEK_H_
#define PIICRYPT_KEK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"
#include "piicrypt/secret_data.h"

namespace piicrypt {

enum class KekKind { kFile, kPkcs11 };

// The result of encrypting under a KEK: a 12-byte random IV and ciphertext || tag(16).
struct KekCiphertext {
  std::string iv;
  std::string ciphertext;
};

// The two kinds above are the only ones: a keyset file records which kind wrapped it, so
// implementations of this interface outside piicrypt are not supported.
class PIICRYPT_EXPORT Kek {
 public:
  // Opens the KEK named by `uri` (checks that the key exists and is usable).
  static absl::StatusOr<std::unique_ptr<Kek>> Open(absl::string_view uri);

  // Creates a new KEK at `uri`: a key file of 32 random bytes with mode 0600, or an
  // AES-256 key object in the token (CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_TOKEN).
  // kAlreadyExists if the file or a key object with that label already exists: a KEK is
  // never overwritten, since every keyset under it would be lost.
  [[nodiscard]] static absl::Status Create(absl::string_view uri);

  // Checks the syntax of `uri` without touching any file or module: kInvalidArgument
  // with a message naming the problem (never the PIN).
  [[nodiscard]] static absl::Status ValidateUri(absl::string_view uri);

  virtual ~Kek() = default;

  virtual KekKind kind() const = 0;
  // The URI without its query part (so without any PIN), for messages and logs.
  virtual std::string description() const = 0;

  // AES-256-GCM under the KEK with a fresh random 96-bit IV; `associated_data` is bound.
  virtual absl::StatusOr<KekCiphertext> Encrypt(absl::Span<const uint8_t> plaintext,
                                                absl::string_view associated_data) const = 0;
  // Inverse of Encrypt. Every authentication failure (wrong KEK, altered ciphertext, IV
  // or associated data) is kInvalidArgument with one message.
  virtual absl::StatusOr<SecretData> Decrypt(const KekCiphertext& ciphertext,
                                             absl::string_view associated_data) const = 0;
};

}  // namespace piicrypt

#endif  // PIICRYPT_KEK_H_
