#include "tests/test_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace piicrypt::testing {

std::string WycheproofDir() {
  if (const char* dir = std::getenv("PIICRYPT_WYCHEPROOF_DIR")) return dir;
  return std::string(PIICRYPT_SOURCE_DIR) + "/../shared/testdata/wycheproof";
}

std::string WycheproofFile(absl::string_view name) {
  std::string path = absl::StrCat(WycheproofDir(), "/", name);
  if (!std::filesystem::is_regular_file(path)) {
    ADD_FAILURE() << "Wycheproof test vector file " << path << " is missing. The vectors are "
                  << "not part of this repository: clone https://github.com/C2SP/wycheproof "
                  << "and run the tests with PIICRYPT_WYCHEPROOF_DIR=<clone>/testvectors_v1 "
                  << "(default: ../shared/testdata/wycheproof beside the source tree).";
  }
  return path;
}

std::string TestDataFile(absl::string_view name) {
  return absl::StrCat(PIICRYPT_SOURCE_DIR, "/tests/testdata/", name);
}

std::string CliPath() { return PIICRYPT_CLI_PATH; }

std::string HexDecode(absl::string_view hex) {
  if (hex.size() % 2 != 0) {
    std::fprintf(stderr, "bad hex in test data\n");
    std::abort();
  }
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      std::fprintf(stderr, "bad hex in test data\n");
      std::abort();
    }
  }
  return absl::HexStringToBytes(hex);
}

std::string HexEncode(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

absl::Span<const uint8_t> Bytes(absl::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, absl::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

CommandResult RunCommand(const std::string& command, const std::string& stdin_data) {
  TempDir tmp;
  const std::string in = tmp.File("stdin"), out = tmp.File("stdout"), err = tmp.File("stderr");
  {
    std::ofstream f(in, std::ios::binary);
    f << stdin_data;
  }
  const std::string full = absl::StrCat("(", command, ") <'", in, "' >'", out, "' 2>'", err, "'");
  const int status = std::system(full.c_str());
  CommandResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

::testing::AssertionResult CliCreateKeyset(const std::string& kek, const std::string& keyset) {
  for (const std::string& command :
       {absl::StrCat(CliPath(), " kek create '", kek, "'"),
        absl::StrCat(CliPath(), " keyset create --kek '", kek, "' --out '", keyset, "'")}) {
    const CommandResult r = RunCommand(command);
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure() << command << " exited " << r.exit_code << ": " << r.err;
    }
  }
  return ::testing::AssertionSuccess();
}

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "piicrypt-test-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace piicrypt::testing
