// test_util.h: shared helpers for piicrypt's tests.
#ifndef PIICRYPT_TESTS_TEST_UTIL_H_
#define PIICRYPT_TESTS_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"

namespace piicrypt::testing {

// The Wycheproof test vectors (C2SP/wycheproof, testvectors_v1/) are not in this repository:
// the directory named by PIICRYPT_WYCHEPROOF_DIR, else ../shared/testdata/wycheproof/ beside
// the source tree. WycheproofFile records a test failure (never a skip) that says how to
// provide them when the file is missing.
std::string WycheproofDir();
std::string WycheproofFile(absl::string_view name);
// tests/testdata/ in the source tree.
std::string TestDataFile(absl::string_view name);
// The built piicrypt command-line tool.
std::string CliPath();

std::string HexDecode(absl::string_view hex);  // aborts the test binary on bad hex
std::string HexEncode(absl::string_view bytes);
absl::Span<const uint8_t> Bytes(absl::string_view s);

// The bytes of the file at `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);
// Replaces the file at `path` with `data`.
void WriteFile(const std::string& path, absl::string_view data);
// `s` in single quotes, for the shell commands of RunCommand (`s` holds no single quote).
std::string Quote(const std::string& s);

// Runs a shell command, returning its exit status (or -1) and, if given, its stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::string& command, const std::string& stdin_data = "");

// Creates, with the command-line tool, a KEK file at `kek` ("file:PATH") and a new keyset
// under it at `keyset`; a failure names the command and shows its stderr.
//
//   ASSERT_TRUE(CliCreateKeyset("file:" + dir_.File("kek.key"), dir_.File("orders.keyset")));
::testing::AssertionResult CliCreateKeyset(const std::string& kek, const std::string& keyset);

// A fresh temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(absl::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P(StatusIs, code, "") {
  const absl::Status& s = ::piicrypt::testing::GetStatus(arg);
  *result_listener << "status: " << s;
  return s.code() == code;
}
MATCHER(IsOk, "") {
  const absl::Status& s = ::piicrypt::testing::GetStatus(arg);
  *result_listener << "status: " << s;
  return s.ok();
}

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_TEST_UTIL_H_
