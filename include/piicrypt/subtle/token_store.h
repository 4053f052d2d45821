// token_store.h: where vault tokens live: SQLite (embedded) or PostgreSQL (shared).
//
// A building block (piicrypt/subtle/): applications call TokenStore::Open and hand the
// store to a Tokenizer (tokenizer.h, which includes this header). The other methods are the
// back-end interface the Tokenizer is built on, for writing another back-end or a tool.
//
// A token store keeps, per field, two mappings and nothing else:
//   token  -> randomized ciphertext of the value, bound to the token and its expiry time
//             (the entry format of docs/TOKENS.md)
//   lookup -> token     (deterministic fields only; lookup = HMAC of the value under the
//                        field's "token" key, so equal values find their one token)
// A dump of the store therefore yields field names, tokens, ciphertexts (which reveal the
// value's length), lookups (random-looking, one per value) and expiry times: no values.
// docs/TOKENS.md has the schema.
//
//   PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<piicrypt::TokenStore> store,
//                             piicrypt::TokenStore::Open("sqlite:/var/lib/app/tokens.db"));
//   // or "postgresql://tokens@db.internal/orders?sslmode=verify-full"
//
// URLs:
//   sqlite:PATH        a file, created if missing; WAL mode, a busy timeout, a small pool of
//                      connections. Safe for many threads and many processes on one host.
//   postgresql://...   a libpq connection URI (postgres:// works too). A pool of
//                      connections with prepared statements; many application servers may
//                      share one store.
// Both create their schema on first use and record its version in the table
// piicrypt_schema_version; a store written by a newer library is refused
// (kFailedPrecondition) rather than misread.
//
// Strings: every string argument (field, token, lookup, ciphertext) must be UTF-8 without
// NUL bytes, which PostgreSQL's TEXT requires; stores opened by Open refuse anything else
// with kInvalidArgument, on SQLite too, so that both give the same answer to every call.
// A store does not authenticate what it returns: the Tokenizer does (tokenizer.h).
//
// Errors: a store that cannot be reached, is locked for longer than `timeout`, or does not
// answer within `timeout` gives kUnavailable: never a wrong or partial answer. A corrupt
// SQLite file is kDataLoss; a missing token table kInvalidArgument (it is named); a
// deadlock the server broke kAborted; anything else unexpected is kInternal. Messages name the
// problem and never contain values, ciphertexts or connection passwords.
//
// Thread safety: every method may be called from many threads at once.
#ifndef PIICRYPT_SUBTLE_TOKEN_STORE_H_
#define PIICRYPT_SUBTLE_TOKEN_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "piicrypt/export.h"

namespace piicrypt {

struct TokenStoreOptions {
  // How long one operation may wait for the store: for a lock (SQLite), a connection or an
  // answer (PostgreSQL), or a free pooled connection. Past it: kUnavailable.
  // Default: 5 seconds. REQUIRES: positive.
  absl::Duration timeout = absl::Seconds(5);
  // Most connections a store object keeps open. Default: 4. REQUIRES: 1..64.
  int max_connections = 4;
};

// One row of the store.
struct TokenEntry {
  std::string token;
  // The value's randomized field ciphertext (text form), bound to `token` and
  // `expires_unix_seconds` (docs/TOKENS.md, "Entry format").
  std::string ciphertext;
  // Unix seconds after which the token no longer detokenizes; 0 for never.
  int64_t expires_unix_seconds = 0;
};

// The outcome of TokenStore::Insert.
enum class InsertOutcome {
  kInserted,
  kTokenTaken,   // another value of the field already has this token (a collision)
  kLookupTaken,  // the value already has a token (another writer got there first)
};

// The outcome of TokenStore::Replace.
enum class ReplaceOutcome {
  kReplaced,
  kChanged,      // the entry is gone, or its ciphertext is no longer the expected one
  kLookupTaken,  // another entry of the field holds the new lookup; nothing was changed
};

// One entry of TokenStore::ReplaceAll: the arguments of one Replace.
struct Replacement {
  std::string token;
  std::string expected_ciphertext;
  std::string ciphertext;
  std::optional<std::string> lookup;
};

class PIICRYPT_EXPORT TokenStore {
 public:
  // Opens (and on first use creates) the store named by `url`. kInvalidArgument for an
  // unknown scheme or bad options, kUnavailable if the store cannot be reached.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(absl::string_view url,
                                                          const TokenStoreOptions& options = {});

  virtual ~TokenStore() = default;

  // Inserts `entry` for `field`; `lookup` is empty for fields without one. The store's
  // unique constraints decide: exactly one entry per (field, token) and per (field, lookup).
  virtual absl::StatusOr<InsertOutcome> Insert(absl::string_view field, const TokenEntry& entry,
                                               absl::string_view lookup) const = 0;
  // The entry of a token, or nullopt.
  virtual absl::StatusOr<std::optional<TokenEntry>> Find(absl::string_view field,
                                                         absl::string_view token) const = 0;
  // The entry holding `lookup`, or nullopt.
  virtual absl::StatusOr<std::optional<TokenEntry>> FindByLookup(
      absl::string_view field, absl::string_view lookup) const = 0;
  // Deletes a token; false if there was none.
  virtual absl::StatusOr<bool> Delete(absl::string_view field, absl::string_view token) const = 0;
  // Up to `limit` entries of `field` whose tokens sort after `after` (byte order), in
  // token order: for paging through a field (erasure of a random field's value).
  virtual absl::StatusOr<std::vector<TokenEntry>> List(absl::string_view field,
                                                       absl::string_view after,
                                                       size_t limit) const = 0;
  // Deletes the tokens of `field` that expired at or before `now_unix_seconds`; returns
  // how many.
  virtual absl::StatusOr<int64_t> DeleteExpired(absl::string_view field,
                                                int64_t now_unix_seconds) const = 0;
  // Re-encryption under a new key (Tokenizer::Rekey): sets the ciphertext of `token` to
  // `ciphertext` if it is still `expected_ciphertext` (a compare-and-set, so that a
  // concurrent deletion, erasure or expiry is never undone), keeping the token and its
  // expiry. `lookup`: std::nullopt leaves the entry's lookup as it is; an empty string
  // removes it; otherwise it replaces the entry's lookup if the entry has one (an entry
  // without a lookup keeps none). The default implementation, for back-ends written
  // before this method, returns kUnimplemented.
  virtual absl::StatusOr<ReplaceOutcome> Replace(absl::string_view field, absl::string_view token,
                                                 absl::string_view expected_ciphertext,
                                                 absl::string_view ciphertext,
                                                 std::optional<absl::string_view> lookup) const;
  // Replace for many entries of `field`, one outcome per entry in order. SQLite does them
  // in one transaction (one sync to disk instead of one per entry; all or nothing on an
  // error); the default implementation calls Replace for each.
  virtual absl::StatusOr<std::vector<ReplaceOutcome>> ReplaceAll(
      absl::string_view field, const std::vector<Replacement>& replacements) const;
};

}  // namespace piicrypt

#endif  // PIICRYPT_SUBTLE_TOKEN_STORE_H_
