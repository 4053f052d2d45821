// A replay driver for fuzz targets when libFuzzer is not available (g++ builds): feeds the
// target every file named on the command line and every file of every directory named
// (fuzz/corpus/<target>/, in name order), then --runs=N pseudo-random inputs from a fixed
// seed (lengths 0..512, biased towards the byte values piicrypt's formats start with) so
// the target is exercised deterministically under ctest and the sanitizers. Exits 2 when a
// named file or directory cannot be read or a directory holds no file.
#include <algorithm>
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

bool RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 10000;
  int files = 0;
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
      if (!RunFile(path)) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 2;
      }
      ++files;
    }
  }
  std::mt19937_64 rng(0x5eed);
  std::vector<uint8_t> buf;
  for (long r = 0; r < runs; ++r) {
    const size_t len = (r % 4 == 0) ? rng() % 513 : rng() % 80;
    buf.resize(len);
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    if (len > 0 && r % 3 != 0) buf[0] = static_cast<uint8_t>(1 + r % 2);  // plausible headers
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("%ld random inputs and %d files ran without a crash\n", runs, files);
  return 0;
}
