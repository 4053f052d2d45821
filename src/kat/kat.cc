#include "src/kat/kat.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/kat/fpe_kat.h"
#include "src/kat/kat_internal.h"

namespace piicrypt::kat {
namespace internal {

Expected ExpectedResult(const nlohmann::json& test) {
  auto it = test.find("result");
  if (it == test.end() || !it->is_string()) return Expected::kUnknown;
  const std::string& word = it->get_ref<const std::string&>();
  if (word == "valid") return Expected::kValid;
  if (word == "invalid") return Expected::kInvalid;
  if (word == "acceptable") return Expected::kAcceptable;
  return Expected::kUnknown;
}

void Record(FileResult& result, const nlohmann::json& test, bool passed,
            const std::string& detail) {
  const Expected expected = ExpectedResult(test);
  if (passed && expected != Expected::kUnknown) {
    ++result.passed;
    return;
  }
  if (expected == Expected::kUnknown) {
    return RecordMalformed(result, test, "\"result\" is not valid, invalid or acceptable");
  }
  ++result.failed;
  CaseFailure failure;
  failure.tc_id = IntMember(test, "tcId", 0);
  switch (expected) {
    case Expected::kValid:
      failure.reason = "valid case failed";
      break;
    case Expected::kInvalid:
      failure.reason = "invalid case accepted";
      break;
    case Expected::kAcceptable:
      failure.reason = "acceptable case wrong";
      break;
    case Expected::kUnknown:
      break;
  }
  if (!detail.empty()) {
    absl::StrAppend(&failure.reason, ": ", detail);
  }
  result.failures.push_back(std::move(failure));
}

void RecordMalformed(FileResult& result, const nlohmann::json& test, const std::string& why) {
  ++result.failed;
  CaseFailure failure;
  failure.tc_id = IntMember(test, "tcId", 0);
  failure.reason = absl::StrCat("malformed test case: ", why);
  result.failures.push_back(std::move(failure));
}

void RecordAuthenticated(FileResult& result, const nlohmann::json& test,
                         const AuthenticatedOutcome& outcome) {
  const bool opened_right = outcome.opened && outcome.opened_matches;
  bool passed = false;
  std::string detail;
  switch (ExpectedResult(test)) {
    case Expected::kValid:
      passed = outcome.forward_matches && opened_right;
      if (!outcome.forward_matches) detail = "encryption does not match";
      if (!opened_right) {
        absl::StrAppend(&detail, detail.empty() ? "" : "; ",
                        outcome.opened ? "decryption returned another plaintext"
                                       : "decryption or verification rejected it");
      }
      break;
    case Expected::kInvalid:
      passed = !outcome.opened && !outcome.forward_matches;
      if (outcome.opened) detail = "decryption or verification accepted it";
      if (outcome.forward_matches) {
        absl::StrAppend(&detail, detail.empty() ? "" : "; ", "encryption produced it");
      }
      break;
    case Expected::kAcceptable:
      passed = !outcome.opened || outcome.opened_matches;
      if (!passed) detail = "decryption returned another plaintext";
      break;
    case Expected::kUnknown:
      break;
  }
  Record(result, test, passed, detail);
}

int IntMember(const nlohmann::json& object, const char* name, int absent) {
  if (!object.is_object()) return absent;
  const auto it = object.find(name);
  if (it == object.end()) return absent;
  if (it->is_number_unsigned()) {
    const uint64_t value = it->get<uint64_t>();
    return value <= static_cast<uint64_t>(std::numeric_limits<int>::max()) ? static_cast<int>(value)
                                                                           : 0;
  }
  if (it->is_number_float()) return 0;
  const int64_t value = it->get<int64_t>();  // throws for a string, object...
  return value >= std::numeric_limits<int>::min() && value <= std::numeric_limits<int>::max()
             ? static_cast<int>(value)
             : 0;
}

bool HexField(const nlohmann::json& test, const char* name, std::string& out) {
  if (!test.contains(name) || !test[name].is_string()) return false;
  const std::string hex = test[name].get<std::string>();
  if (hex.size() % 2 != 0) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  out = absl::HexStringToBytes(hex);
  return true;
}

namespace {

using Runner = void (*)(const nlohmann::json&, FileResult&, const DecryptSide&);

struct SchemaEntry {
  const char* schema;
  const char* algorithm;
  Runner runner;
};

constexpr SchemaEntry kSchemas[] = {
    {"aead_test_schema_v1.json", "AES-GCM", RunAeadFile},
    {"aead_test_schema_v1.json", "AEAD-AES-SIV-CMAC", RunAeadFile},
    {"daead_test_schema_v1.json", "AES-SIV-CMAC", RunDaeadFile},
    {"mac_test_schema_v1.json", "HMACSHA256", RunMacFile},
    {"hkdf_test_schema_v1.json", "HKDF-SHA-256", RunHkdfFile},
    {"fpe_list_test_schema.json", "AES-FF1", RunFpeListFile},
    {"fpe_str_test_schema.json", "AES-FF1", RunFpeStrFile},
};

// The number of cases in a document whose every group is an object with a "tests" array
// of objects; kInvalidArgument naming the first group that is not.
absl::StatusOr<size_t> CountCases(const std::string& path, const nlohmann::json& doc) {
  size_t cases = 0;
  size_t index = 0;
  for (const auto& group : doc["testGroups"]) {
    auto tests = group.is_object() ? group.find("tests") : group.end();
    if (!group.is_object() || tests == group.end() || !tests->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": test group ", index, " has no \"tests\" array"));
    }
    for (const auto& test : *tests) {
      if (!test.is_object()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": test group ", index, " holds a test that is not an object"));
      }
    }
    cases += tests->size();
    ++index;
  }
  return cases;
}

// Checks that the document holds cases to run, as many as it declares.
absl::StatusOr<size_t> CheckCases(const std::string& path, const nlohmann::json& doc) {
  absl::StatusOr<size_t> cases = CountCases(path, doc);
  if (!cases.ok()) return cases.status();
  if (*cases == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no test cases to run"));
  }
  auto declared = doc.find("numberOfTests");
  if (declared != doc.end() &&
      (!declared->is_number_unsigned() || declared->get<uint64_t>() != *cases)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": \"numberOfTests\" is ",
                                                   declared->dump(), " but the file holds ", *cases,
                                                   " test cases"));
  }
  return cases;
}

}  // namespace

absl::StatusOr<FileResult> RunDocument(const std::string& path, const nlohmann::json& doc,
                                       const DecryptSide& side) {
  if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string() ||
      !doc.contains("testGroups") || !doc["testGroups"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a Wycheproof file (no \"schema\" or \"testGroups\")"));
  }
  auto algorithm = doc.find("algorithm");
  if (algorithm != doc.end() && !algorithm->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": \"algorithm\" is not a string"));
  }
  FileResult result;
  result.path = path;
  result.schema = doc["schema"].get<std::string>();
  if (algorithm != doc.end()) result.algorithm = algorithm->get<std::string>();
  const SchemaEntry* entry = nullptr;
  bool schema_known = false;
  for (const auto& e : kSchemas) {
    if (result.schema != e.schema) continue;
    schema_known = true;
    if (result.algorithm == e.algorithm) entry = &e;
  }
  if (entry == nullptr) {
    if (schema_known) {
      return absl::UnimplementedError(absl::StrCat(path, ": algorithm \"", result.algorithm,
                                                   "\" of schema \"", result.schema,
                                                   "\" is not implemented"));
    }
    return absl::UnimplementedError(absl::StrCat(path, ": unknown schema \"", result.schema, "\""));
  }
  absl::StatusOr<size_t> cases = CheckCases(path, doc);
  if (!cases.ok()) return cases.status();
  try {
    entry->runner(doc, result, side);
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": malformed Wycheproof file (a field has the wrong type)"));
  }
  if (static_cast<size_t>(result.passed) + static_cast<size_t>(result.failed) != *cases) {
    return absl::InternalError(absl::StrCat(path, ": ", result.passed + result.failed, " of ",
                                            *cases, " test cases were judged"));
  }
  return result;
}

}  // namespace internal

std::vector<std::string> KnownSchemas() {
  std::vector<std::string> out;
  for (const auto& entry : internal::kSchemas) {
    out.push_back(absl::StrCat(entry.schema, " (", entry.algorithm, ")"));
  }
  return out;
}

absl::StatusOr<FileResult> RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == EACCES)
      return absl::PermissionDeniedError(absl::StrCat(path, ": permission denied"));
    return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read file"));
  return RunText(text, path);
}

absl::StatusOr<FileResult> RunText(const std::string& text, const std::string& path) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  return internal::RunDocument(path, doc, internal::PiicryptDecryptSide());
}

}  // namespace piicrypt::kat
