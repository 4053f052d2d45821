// status_macros.h: early-return helpers for absl::Status and absl::StatusOr.
//
//   absl::StatusOr<std::string> Seal(const Keyset& keyset) {
//     PIICRYPT_ASSIGN_OR_RETURN(auto cipher, keyset.FieldCipherFor("orders.email"));
//     PIICRYPT_RETURN_IF_ERROR(CheckSomething());
//     return cipher->Encrypt("jane@example.com");
//   }
#ifndef PIICRYPT_STATUS_MACROS_H_
#define PIICRYPT_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PIICRYPT_INTERNAL_CONCAT_IMPL(a, b) a##b
#define PIICRYPT_INTERNAL_CONCAT(a, b) PIICRYPT_INTERNAL_CONCAT_IMPL(a, b)

// Evaluates `expr` (an absl::Status); returns it from the enclosing function if not OK.
#define PIICRYPT_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status piicrypt_status_ = (expr);            \
    if (!piicrypt_status_.ok()) return piicrypt_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise
// moves the value into `lhs` (a declaration such as `auto x` or an existing variable).
#define PIICRYPT_ASSIGN_OR_RETURN(lhs, rexpr)                                                     \
  PIICRYPT_INTERNAL_ASSIGN_OR_RETURN(PIICRYPT_INTERNAL_CONCAT(piicrypt_statusor_, __LINE__), lhs, \
                                     rexpr)

#define PIICRYPT_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                       \
  if (!tmp.ok()) return std::move(tmp).status();            \
  lhs = std::move(tmp).value()

#endif  // PIICRYPT_STATUS_MACROS_H_
