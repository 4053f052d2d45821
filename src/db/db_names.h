// db_names.h: which names of schema objects a message may show, and SQL may hold.
//
// Both back-ends (sqlite.h, postgres.h) name tables, columns and constraints in their
// messages only when the name passes IsPlainDbIdentifier: such a name is the caller's own
// identifier, never a value or a piece of SQL text. IsSqlIdentifier is the stricter rule for
// the names piicrypt puts into SQL itself. Header only: the core uses it too.
#ifndef PIICRYPT_SRC_DB_DB_NAMES_H_
#define PIICRYPT_SRC_DB_DB_NAMES_H_

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace piicrypt::internal {

// True for a name made of ASCII letters, digits, '_', '.' and '$' (at most 128 bytes): a
// schema object's name that a message may show.
inline bool IsPlainDbIdentifier(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '$') {
      return false;
    }
  }
  return true;
}

// True for a plain SQL identifier: an ASCII letter or '_', then letters, digits and '_', at
// most 63 bytes (PostgreSQL's limit). Table and column names in policies and in
// `piicrypt reencrypt` must be such names, so that they are quoted without escapes.
inline bool IsSqlIdentifier(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool first_ok = absl::ascii_isalpha(c) || c == '_';
    if (!first_ok && !(absl::ascii_isdigit(c) && i > 0)) return false;
  }
  return true;
}

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_DB_NAMES_H_
