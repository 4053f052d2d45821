// piicrypt kat FILE...: runs Wycheproof-format known-answer files.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/kat/kat.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

constexpr int kMaxFailuresShown = 10;

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void AddKatCommand(CLI::App& app, int& exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* kat = app.add_subcommand(
      "kat", "Run Wycheproof-format known-answer test files and check every case.");
  kat->add_option("FILE", *files,
                  "Wycheproof JSON files (testvectors_v1/*.json of C2SP/wycheproof)")
      ->required();
  kat->footer(absl::StrCat(
      "Every case is checked on both sides: a \"valid\" case must encrypt (or compute) to "
      "the expected output and decrypt (or verify) back to its input; an \"invalid\" case "
      "must be rejected by decryption or verification (HKDF and FF1: by the derivation or "
      "encryption); an \"acceptable\" case is rejected or handled correctly. Tags are "
      "checked against the length the file's group declares (tagSize).\n"
      "Prints one line per file and ends with \"N passed, N failed\".\n"
      "Schemas: ",
      absl::StrJoin(kat::KnownSchemas(), ", "),
      ".\n"
      "Exit status: 0 all passed, 1 a case failed, 2 a file could not be read, has an "
      "unknown schema, or holds no test case (or another number than its numberOfTests).\n"
      "Example: piicrypt kat wycheproof/testvectors_v1/aes_gcm_test.json\n"));
  kat->callback([files, &exit_code] {
    int passed = 0, failed = 0;
    bool unreadable = false;
    for (const std::string& path : *files) {
      auto result = kat::RunFile(path);
      if (!result.ok()) {
        std::fflush(stdout);
        PrintError(std::string(result.status().message()));
        unreadable = true;
        continue;
      }
      passed += result->passed;
      failed += result->failed;
      std::printf("%-4s %s (%s): %d cases, %d failed\n", result->failed == 0 ? "ok" : "FAIL",
                  BaseName(path).c_str(), result->algorithm.c_str(),
                  result->passed + result->failed, result->failed);
      for (const std::string& note : result->notes) std::printf("       note: %s\n", note.c_str());
      int shown = 0;
      for (const auto& failure : result->failures) {
        if (shown++ == kMaxFailuresShown) {
          std::printf("       ... and %zu more\n", result->failures.size() - kMaxFailuresShown);
          break;
        }
        std::printf("       tcId %d: %s\n", failure.tc_id, failure.reason.c_str());
      }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    std::fflush(stdout);
    exit_code = unreadable ? kExitUsage : (failed > 0 ? kExitFailed : kExitOk);
  });
}

}  // namespace piicrypt::cli
