#include "src/kat/kat.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/kat/fpe_kat.h"
#include "src/kat/kat_internal.h"

namespace piicrypt::kat {
namespace internal {

void Record(FileResult& result, const nlohmann::json& test, bool succeeded,
            const std::string& detail) {
  const std::string expected = test.value("result", std::string("valid"));
  bool ok;
  if (expected == "acceptable") {
    ok = true;
  } else if (expected == "invalid") {
    ok = !succeeded;
  } else {
    ok = succeeded;
  }
  if (ok) {
    ++result.passed;
    return;
  }
  ++result.failed;
  CaseFailure failure;
  failure.tc_id = IntMember(test, "tcId", 0);
  failure.reason = expected == "invalid" ? "invalid case accepted" : "valid case failed";
  if (!detail.empty()) absl::StrAppend(&failure.reason, ": ", detail);
  result.failures.push_back(std::move(failure));
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

}  // namespace internal

namespace {

using Runner = void (*)(const nlohmann::json&, FileResult&);

struct SchemaEntry {
  const char* schema;
  const char* algorithm;
  Runner runner;
};

constexpr SchemaEntry kSchemas[] = {
    {"aead_test_schema_v1.json", "AES-GCM", internal::RunAeadFile},
    {"aead_test_schema_v1.json", "AEAD-AES-SIV-CMAC", internal::RunAeadFile},
    {"daead_test_schema_v1.json", "AES-SIV-CMAC", internal::RunDaeadFile},
    {"mac_test_schema_v1.json", "HMACSHA256", internal::RunMacFile},
    {"hkdf_test_schema_v1.json", "HKDF-SHA-256", internal::RunHkdfFile},
    {"fpe_list_test_schema.json", "AES-FF1", internal::RunFpeListFile},
    {"fpe_str_test_schema.json", "AES-FF1", internal::RunFpeStrFile},
};

}  // namespace

std::vector<std::string> KnownSchemas() {
  std::vector<std::string> out;
  for (const auto& entry : kSchemas) {
    out.push_back(absl::StrCat(entry.schema, " (", entry.algorithm, ")"));
  }
  return out;
}

absl::StatusOr<FileResult> RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == EACCES) return absl::PermissionDeniedError(absl::StrCat(path, ": permission denied"));
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
  if (!doc.contains("schema") || !doc["schema"].is_string() || !doc.contains("testGroups") ||
      !doc["testGroups"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a Wycheproof file (no \"schema\" or \"testGroups\")"));
  }
  FileResult result;
  result.path = path;
  result.schema = doc["schema"].get<std::string>();
  result.algorithm = doc.value("algorithm", std::string());
  bool schema_known = false;
  for (const auto& entry : kSchemas) {
    if (result.schema != entry.schema) continue;
    schema_known = true;
    if (result.algorithm == entry.algorithm) {
      try {
        entry.runner(doc, result);
      } catch (const nlohmann::json::exception&) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": malformed Wycheproof file (a field has the wrong type)"));
      }
      return result;
    }
  }
  if (schema_known) {
    return absl::UnimplementedError(absl::StrCat(path, ": algorithm \"", result.algorithm,
                                                 "\" of schema \"", result.schema,
                                                 "\" is not implemented"));
  }
  return absl::UnimplementedError(
      absl::StrCat(path, ": unknown schema \"", result.schema, "\""));
}

}  // namespace piicrypt::kat
