// A replay driver for fuzz targets when libFuzzer is not available (g++ builds): feeds the
// target every file named on the command line, then --runs=N pseudo-random inputs from a
// fixed seed (lengths 0..512, biased towards the byte values piicrypt's formats start
// with) so the target is exercised deterministically under ctest and the sanitizers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long runs = 10000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) {
      runs = std::strtol(argv[i] + 7, nullptr, 10);
      continue;
    }
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(data.data(), data.size());
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
  std::printf("%ld random inputs and %d files ran without a crash\n", runs, argc - 1);
  return 0;
}
