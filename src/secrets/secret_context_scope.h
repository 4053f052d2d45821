// secret_context_scope.h: marks the code that creates keyed OpenSSL contexts.
//
// While a SecretContextScope is alive on a thread, and once ProtectProcessSecrets has
// installed its OpenSSL allocator, every allocation OpenSSL makes on that thread comes
// from the secure heap (left out of core dumps). ContextPool opens one around each
// context it creates, so key schedules never land in ordinary memory. Without
// ProtectProcessSecrets a scope costs one thread-local increment and changes nothing.
#ifndef PIICRYPT_SRC_SECRETS_SECRET_CONTEXT_SCOPE_H_
#define PIICRYPT_SRC_SECRETS_SECRET_CONTEXT_SCOPE_H_

namespace piicrypt::internal {

class SecretContextScope {
 public:
  SecretContextScope();
  ~SecretContextScope();
  SecretContextScope(const SecretContextScope&) = delete;
  SecretContextScope& operator=(const SecretContextScope&) = delete;
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SECRETS_SECRET_CONTEXT_SCOPE_H_
