// secure_heap.h: the count behind SecureHeapUsage::fallbacks (piicrypt/process_secrets.h).
#ifndef PIICRYPT_SRC_SECRETS_SECURE_HEAP_H_
#define PIICRYPT_SRC_SECRETS_SECURE_HEAP_H_

namespace piicrypt::internal {

// Records one allocation for a secret (SecretData, a keyed OpenSSL context) that found the
// secure heap full and took ordinary memory instead. Thread-safe; lock-free.
void NoteSecureHeapFull();

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SECRETS_SECURE_HEAP_H_
