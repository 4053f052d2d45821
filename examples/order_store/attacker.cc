#include "attacker.h"

#include <stdio.h>
#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace order_store {
namespace {

uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
uint32_t Load4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

std::string Fold(absl::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

std::string ShellQuote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

}  // namespace

size_t PlaintextFinder::Add(absl::string_view pattern, int category) {
  const auto id = static_cast<uint32_t>(patterns_.size());
  patterns_.push_back(Fold(pattern));
  categories_.push_back(category);
  found_.push_back(false);
  const std::string& p = patterns_.back();
  if (p.size() >= 8) {
    by_prefix8_[Load8(p.data())].push_back(id);
  } else if (p.size() >= kMinPatternSize) {
    by_prefix4_[Load4(p.data())].push_back(id);
  }
  return id;
}

void PlaintextFinder::Scan(absl::string_view text) {
  const std::string folded = Fold(text);
  const char* data = folded.data();
  const size_t n = folded.size();
  auto check = [&](const std::vector<uint32_t>& ids, size_t pos) {
    for (uint32_t id : ids) {
      if (found_[id]) continue;
      const std::string& p = patterns_[id];
      if (p.size() <= n - pos && std::memcmp(data + pos, p.data(), p.size()) == 0) {
        found_[id] = true;
      }
    }
  };
  const bool any4 = !by_prefix4_.empty();
  for (size_t pos = 0; pos + kMinPatternSize <= n; ++pos) {
    if (pos + 8 <= n) {
      auto it = by_prefix8_.find(Load8(data + pos));
      if (it != by_prefix8_.end()) check(it->second, pos);
    }
    if (any4) {
      auto it = by_prefix4_.find(Load4(data + pos));
      if (it != by_prefix4_.end()) check(it->second, pos);
    }
  }
}

size_t PlaintextFinder::CountOf(int category) const {
  size_t count = 0;
  for (int c : categories_) count += c == category;
  return count;
}

size_t PlaintextFinder::FoundOf(int category) const {
  size_t count = 0;
  for (size_t i = 0; i < patterns_.size(); ++i) count += categories_[i] == category && found_[i];
  return count;
}

void PlaintextFinder::ClearFound() { found_.assign(found_.size(), false); }

absl::StatusOr<std::string> DumpWithSqliteCli(const std::string& sqlite3_cli,
                                              const std::string& db_path) {
  const std::string command = absl::StrCat(ShellQuote(sqlite3_cli), " -readonly ",
                                           ShellQuote(db_path), " .dump 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::UnavailableError("cannot start " + sqlite3_cli);
  std::string out;
  char buffer[1 << 16];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, got);
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) {
    return absl::UnavailableError(absl::StrCat(
        sqlite3_cli, " .dump failed (exit status ", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
        "): is the sqlite3 command-line program installed? (scripts/setup)"));
  }
  absl::StrReplaceAll({{"''", "'"}}, &out);
  return out;
}

absl::StatusOr<std::vector<RawFile>> ReadDatabaseFiles(const std::string& db_path) {
  std::vector<RawFile> files;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    RawFile f{db_path + suffix, {}};
    std::ifstream in(f.path, std::ios::binary);
    if (!in) {
      if (*suffix == '\0') return absl::NotFoundError("cannot read " + f.path);
      continue;  // that companion file does not exist now
    }
    f.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    files.push_back(std::move(f));
  }
  return files;
}

}  // namespace order_store
