// attacker.h: what someone who steals the database files can read in them.
//
// The attacker of docs/SPEC.md's threat model: a copy of the database (SQL injection, a leaked
// dump, a stolen backup), but no KEK. They look at it two ways: the SQL text of
// `sqlite3 FILE .dump`, and the raw bytes of every file SQLite keeps beside it (the
// write-ahead log, its index, a rollback journal), where rows no longer in the tables may
// survive. Both are searched for every plaintext value the shop ever wrote.
#ifndef PIICRYPT_EXAMPLES_ORDER_STORE_ATTACKER_H_
#define PIICRYPT_EXAMPLES_ORDER_STORE_ATTACKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace order_store {

// Finds which of many plaintext values occur anywhere in a text, in one pass over it.
//
// Every pattern is indexed by its first 8 bytes (or first 4, for patterns of 4 to 7 bytes)
// in a hash table; the scan looks up the 8 (and 4) bytes at each position of the text and
// compares the full pattern only on a hit. ASCII letters are compared case-insensitively,
// as `grep -i` would. Cost: two hash lookups per byte of text, whatever the number of
// patterns.
class PlaintextFinder {
 public:
  static constexpr size_t kMinPatternSize = 4;

  // Adds a pattern of `category` (a small index chosen by the caller). Returns its id.
  // REQUIRES: pattern.size() >= kMinPatternSize.
  size_t Add(absl::string_view pattern, int category);

  // Marks every pattern that occurs in `text` as found.
  void Scan(absl::string_view text);

  size_t size() const { return patterns_.size(); }
  bool found(size_t id) const { return found_[id]; }
  // Patterns of `category`, and how many of them were found.
  size_t CountOf(int category) const;
  size_t FoundOf(int category) const;
  void ClearFound();

 private:
  std::vector<std::string> patterns_;  // case-folded
  std::vector<int> categories_;
  std::vector<bool> found_;
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> by_prefix8_;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> by_prefix4_;
};

// The SQL text of `sqlite3 -readonly DB .dump`, run through the sqlite3 command-line
// program at `sqlite3_cli`; quoted strings are unescaped ('' becomes ') as an attacker
// parsing the dump would.
absl::StatusOr<std::string> DumpWithSqliteCli(const std::string& sqlite3_cli,
                                              const std::string& db_path);

struct RawFile {
  std::string path;
  std::string bytes;
};
// The raw bytes of the database file and of each of its companions that exists
// (DB-wal, DB-shm, DB-journal).
absl::StatusOr<std::vector<RawFile>> ReadDatabaseFiles(const std::string& db_path);

}  // namespace order_store

#endif  // PIICRYPT_EXAMPLES_ORDER_STORE_ATTACKER_H_
