// kat.h: runs Wycheproof-format known-answer files (used by `piicrypt kat` and the tests).
//
// Every test case is checked: "valid" cases must compute the expected output (and decrypt
// or verify), "invalid" cases must be rejected, "acceptable" cases may go either way.
#ifndef PIICRYPT_SRC_KAT_KAT_H_
#define PIICRYPT_SRC_KAT_KAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace piicrypt::kat {

struct CaseFailure {
  int tc_id = 0;
  std::string reason;  // what went wrong, e.g. "valid case rejected: ..." (no key bytes)
};

struct FileResult {
  std::string path;
  std::string schema;
  std::string algorithm;
  int passed = 0;
  int failed = 0;
  std::vector<CaseFailure> failures;
  // Remarks printed with the file's line, e.g. how many cases were counted as passed by
  // an explicitly documented policy rather than by computation.
  std::vector<std::string> notes;
};

// kNotFound / kPermissionDenied if the file cannot be read, kInvalidArgument if it is not
// JSON or has no known schema (kUnimplemented for a well-formed file of a schema this
// build does not run).
absl::StatusOr<FileResult> RunFile(const std::string& path);

// As RunFile, for a document already in memory; `path` only names it in the result and
// in messages.
absl::StatusOr<FileResult> RunText(const std::string& text, const std::string& path);

// The schemas RunFile knows, e.g. "aead_test_schema_v1.json".
std::vector<std::string> KnownSchemas();

}  // namespace piicrypt::kat

#endif  // PIICRYPT_SRC_KAT_KAT_H_
