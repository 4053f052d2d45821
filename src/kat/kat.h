// kat.h: runs Wycheproof-format known-answer files (used by `piicrypt kat` and the tests).
//
// Every case is checked on both sides: the forward side (encrypt, compute, derive) on the
// case's input and the decrypt or verify side on the case's output.
//   - "valid": the forward side produces exactly the expected output, and the decrypt or
//     verify side accepts that output and gives back exactly the plaintext;
//   - "invalid": the decrypt or verify side rejects the case's output (an AEAD, SIV or
//     MAC case; the forward side must not produce it either), or the forward side rejects
//     the case's input (HKDF, FF1: see fpe_kat.h);
//   - "acceptable": rejected, or accepted with the right plaintext.
// A tag is checked against the length the file's group declares (tagSize), never against
// a prefix of whatever length the case holds.
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

// kNotFound / kPermissionDenied if the file cannot be read; kInvalidArgument if it is not
// a Wycheproof JSON file, if a test group has no "tests" array, if it holds no case at
// all, or if it holds another number of cases than its "numberOfTests"; kUnimplemented
// for a well-formed file of a schema or algorithm this build does not run. Otherwise
// every case of the file has been judged: passed + failed is the number of cases.
absl::StatusOr<FileResult> RunFile(const std::string& path);

// As RunFile, for a document already in memory; `path` only names it in the result and
// in messages.
absl::StatusOr<FileResult> RunText(const std::string& text, const std::string& path);

// The schemas RunFile knows, e.g. "aead_test_schema_v1.json".
std::vector<std::string> KnownSchemas();

}  // namespace piicrypt::kat

#endif  // PIICRYPT_SRC_KAT_KAT_H_
