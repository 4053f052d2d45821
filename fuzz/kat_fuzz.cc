// Fuzzes the known-answer (Wycheproof JSON) reader behind `piicrypt kat` (src/kat/kat.h);
// the input is the document.
// - Malformed JSON, unknown schemas and fields of the wrong type end in an error status,
//   never in an exception or a crash.
// - A document that runs reports at most one outcome per test case it holds, one failure
//   record per failed case, and the same counts when run again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "src/kat/kat.h"

namespace {

// The number of test cases RunText can see in `text`: entries of "tests" arrays of the
// objects in "testGroups".
size_t CountCases(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("testGroups") || !doc["testGroups"].is_array()) return 0;
  size_t cases = 0;
  for (const auto& group : doc["testGroups"]) {
    if (group.is_object() && group.contains("tests") && group["tests"].is_array()) {
      cases += group["tests"].size();
    }
  }
  return cases;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto result = piicrypt::kat::RunText(text, "fuzz.json");
  if (!result.ok()) {
    if (absl::IsInternal(result.status()) || absl::IsUnknown(result.status())) __builtin_trap();
    return 0;
  }
  if (result->passed < 0 || result->failed < 0) __builtin_trap();
  if (result->failures.size() != static_cast<size_t>(result->failed)) __builtin_trap();
  if (static_cast<size_t>(result->passed) + static_cast<size_t>(result->failed) >
      CountCases(text)) {
    __builtin_trap();
  }
  auto again = piicrypt::kat::RunText(text, "fuzz.json");
  if (!again.ok() || again->passed != result->passed || again->failed != result->failed) {
    __builtin_trap();
  }
  return 0;
}
