// A replay driver for fuzz targets when libFuzzer is not available (g++ builds): feeds the
// target every file named on the command line and every file of every directory named
// (fuzz/corpus/<target>/, in name order), then --runs=N pseudo-random inputs from a fixed
// seed, so the target is exercised deterministically under ctest and the sanitizers. Half
// of them are corpus files with a few random edits (bytes changed, inserted, erased), which
// reach past the first checks of a structured format; the others are random bytes (lengths
// 0..512, biased towards the byte values piicrypt's formats start with). Exits 2 when a
// named file or directory cannot be read or a directory holds no file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The files `arg` names: itself, or the regular files in it (sorted); empty on error.
std::vector<std::string> InputFiles(const std::string& arg) {
  std::error_code error;
  if (!std::filesystem::is_directory(arg, error)) return {arg};
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(arg, error)) {
    if (entry.is_regular_file(error)) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool ReadFile(const std::string& path, std::vector<uint8_t>& data) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// One to four random edits of `buf`.
void Mutate(std::mt19937_64& rng, std::vector<uint8_t>& buf) {
  for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
    const size_t at = buf.empty() ? 0 : rng() % buf.size();
    switch (rng() % 3) {
      case 0:
        if (!buf.empty()) buf[at] = static_cast<uint8_t>(rng());
        break;
      case 1:
        buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng()));
        break;
      default:
        if (!buf.empty()) buf.erase(buf.begin() + static_cast<std::ptrdiff_t>(at));
        break;
    }
  }
}

// Random bytes, lengths 0..512, most starting with 1 or 2 (plausible headers).
void RandomInput(std::mt19937_64& rng, long r, std::vector<uint8_t>& buf) {
  const size_t len = (r % 4 == 0) ? rng() % 513 : rng() % 80;
  buf.resize(len);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  if (len > 0 && r % 3 != 0) buf[0] = static_cast<uint8_t>(1 + r % 2);
}
}  // namespace

int main(int argc, char** argv) {
  long runs = 10000;
  std::vector<std::vector<uint8_t>> corpus;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) {
      runs = std::strtol(argv[i] + 7, nullptr, 10);
      continue;
    }
    const std::vector<std::string> inputs = InputFiles(argv[i]);
    if (inputs.empty()) {
      std::fprintf(stderr, "no input files in %s\n", argv[i]);
      return 2;
    }
    for (const std::string& path : inputs) {
      corpus.emplace_back();
      if (!ReadFile(path, corpus.back())) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 2;
      }
      LLVMFuzzerTestOneInput(corpus.back().data(), corpus.back().size());
    }
  }
  std::mt19937_64 rng(0x5eed);
  std::vector<uint8_t> buf;
  for (long r = 0; r < runs; ++r) {
    if (!corpus.empty() && r % 2 == 1) {
      buf = corpus[rng() % corpus.size()];
      Mutate(rng, buf);
    } else {
      RandomInput(rng, r, buf);
    }
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("%zu files and %ld generated inputs ran without a crash\n", corpus.size(), runs);
  return 0;
}
