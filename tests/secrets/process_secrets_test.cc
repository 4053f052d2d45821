// Key material stays out of core dumps. The CLI is run as another user and its memory is
// read from outside (/proc/PID/mem): every copy of the keyset's root material and of the
// derived field key must sit in a mapping that the kernel leaves out of core dumps
// (VmFlags "dd", MADV_DONTDUMP). Without --allow-core-dumps the CLI must also be
// non-dumpable and have a core-file limit of 0.
#include "piicrypt/process_secrets.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/field_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;

constexpr uid_t kOtherUid = 65534;  // nobody

struct Mapping {
  uint64_t start = 0, end = 0;
  bool readable = false;
  bool dont_dump = false;
  std::string name;
};

std::vector<Mapping> ReadSmaps(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/smaps"));
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmFlags:")) {
      if (!out.empty()) out.back().dont_dump = absl::StrContains(absl::StrCat(line, " "), " dd ");
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    const size_t dash = f.empty() ? std::string::npos : f[0].find('-');
    if (f.size() < 5 || dash == std::string::npos || f[0].back() == ':') continue;
    Mapping m;
    if (!absl::SimpleHexAtoi(f[0].substr(0, dash), &m.start) ||
        !absl::SimpleHexAtoi(f[0].substr(dash + 1), &m.end)) {
      continue;
    }
    m.readable = f[1][0] == 'r';
    m.name = f.size() > 5 ? f[5] : "";
    out.push_back(m);
  }
  return out;
}

struct Hit {
  uint64_t address;
  const Mapping* mapping;
};

// Every address of `needle` in the readable memory of `pid`.
std::vector<Hit> FindInMemory(pid_t pid, const std::vector<Mapping>& maps,
                              const std::string& needle) {
  std::vector<Hit> hits;
  const int fd = ::open(absl::StrCat("/proc/", pid, "/mem").c_str(), O_RDONLY);
  if (fd < 0) return hits;
  std::string buf;
  for (const Mapping& m : maps) {
    if (!m.readable || m.name == "[vvar]" || m.name == "[vsyscall]") continue;
    // Address-space reservations of terabytes (AddressSanitizer's shadow memory) hold no
    // program data; everything else is read in chunks that overlap by the needle's size.
    if (m.end - m.start > (uint64_t{64} << 30)) continue;
    constexpr uint64_t kChunk = uint64_t{16} << 20;
    for (uint64_t from = m.start; from < m.end; from += kChunk) {
      const uint64_t to = std::min<uint64_t>(m.end, from + kChunk + needle.size() - 1);
      buf.resize(to - from);
      const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(from));
      if (n <= 0) break;
      buf.resize(static_cast<size_t>(n));
      for (size_t at = buf.find(needle); at != std::string::npos; at = buf.find(needle, at + 1)) {
        if (at < kChunk) hits.push_back({from + at, &m});
      }
    }
  }
  ::close(fd);
  return hits;
}

struct Child {
  pid_t pid = -1;
  int in = -1;   // its stdin
  int out = -1;  // its stdout
};

// True once `pid` is blocked in read(0, ...) (/proc/PID/syscall: "0 0x0 ..."), polled for up
// to 10 s.
bool WaitUntilReadingStdin(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
    std::string number, fd;
    if (in >> number >> fd && number == "0" && fd == "0x0") return true;
    ::usleep(50'000);
  }
  return false;
}

// Runs `args` as `uid` with this process's environment plus PIICRYPT_TEST_PAD, a variable of
// `pad` bytes: it moves the child's stack by that much, so that different runs put frames at
// different alignments.
Child SpawnAs(uid_t uid, const std::vector<std::string>& args, size_t pad) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("PIICRYPT_TEST_PAD=" + std::string(pad, 'x'));
  std::vector<char*> argv, envp;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  for (const std::string& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  int in[2], out[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::close(in[1]);
    ::close(out[0]);
    if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(125);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(126);
  }
  ::close(in[0]);
  ::close(out[1]);
  return {pid, in[1], out[0]};
}

std::string Str(const SecretData& s) { return std::string(s.begin(), s.end()); }

// Parameters: whether the CLI runs with --allow-core-dumps, and a stack shift in bytes. The
// four shifts put the CLI's frames at each 16-byte offset modulo 64, so that a copy which
// lands in memory only at some alignments (a 64-byte aligned register save area) is seen
// on every run of the suite, not on one run in four.
class CoreDumpTest : public ::testing::TestWithParam<std::tuple<bool, size_t>> {};

TEST_P(CoreDumpTest, KeysOfARunningDecryptAreLeftOutOfCoreDumps) {
  ASSERT_EQ(::geteuid(), 0u) << "runs the CLI as another user: run the tests as root (CI does)";
  TempDir dir;
  const std::string kek_path = dir.File("kek.key"), keyset = dir.File("ks");
  const std::string kek_uri = "file:" + kek_path;
  ASSERT_EQ(RunCommand(CliPath() + " kek create '" + kek_uri + "'").exit_code, 0);
  ASSERT_EQ(RunCommand(CliPath() + " keyset create --kek '" + kek_uri + "' --out '" + keyset + "'")
                .exit_code,
            0);
  const std::string common =
      " --kek '" + kek_uri + "' --keyset '" + keyset + "' --field orders.email --mode randomized";
  CommandResult ct = RunCommand(CliPath() + " encrypt" + common, "jane@example.com\n");
  ASSERT_EQ(ct.exit_code, 0) << ct.err;

  // The secrets to look for: the root material and the derived AES-GCM field key.
  auto kek = Kek::Open(kek_uri);
  ASSERT_THAT(kek, IsOk());
  auto ks = Keyset::Read(keyset, **kek);
  ASSERT_THAT(ks, IsOk());
  auto root = ks->KeyMaterial(ks->primary_key_id(), InsecureSecretKeyAccess::Get());
  ASSERT_THAT(root, IsOk());
  auto field_key = internal::DeriveFieldKey(*root, internal::FieldPurpose::kAead, "orders.email");
  ASSERT_THAT(field_key, IsOk());

  for (const std::string& p : {dir.path(), kek_path, keyset}) {
    ASSERT_EQ(::chown(p.c_str(), kOtherUid, kOtherUid), 0) << p;
  }
  const auto [allow_core_dumps, stack_shift] = GetParam();
  // The other user runs its own copy of the CLI, in the directory it owns: the build tree
  // may sit below a directory only root can enter (mktemp -d makes them 0700).
  const std::string cli = dir.File("piicrypt");
  std::filesystem::copy_file(CliPath(), cli);
  ASSERT_EQ(::chown(cli.c_str(), kOtherUid, kOtherUid), 0);
  ASSERT_EQ(::chmod(cli.c_str(), 0755), 0);
  std::vector<std::string> args = {cli};
  if (allow_core_dumps) args.push_back("--allow-core-dumps");
  for (const char* a : {"decrypt", "--kek", kek_uri.c_str(), "--keyset", keyset.c_str(), "--field",
                        "orders.email", "--mode", "randomized"}) {
    args.push_back(a);
  }
  Child child = SpawnAs(kOtherUid, args, stack_shift);
  ASSERT_GT(child.pid, 0);
  // Every copy of the keys in the CLI's memory must be in a mapping left out of core dumps.
  auto check_memory = [&](const std::string& moment) {
    SCOPED_TRACE(moment);
    ASSERT_TRUE(WaitUntilReadingStdin(child.pid)) << "the CLI never went back to reading stdin";
    const std::vector<Mapping> maps = ReadSmaps(child.pid);
    const std::vector<Hit> key_hits = FindInMemory(child.pid, maps, Str(*field_key));
    const std::vector<Hit> root_hits = FindInMemory(child.pid, maps, Str(*root));
    ASSERT_FALSE(key_hits.empty()) << "the field key is not in the CLI's memory";
    ASSERT_FALSE(root_hits.empty()) << "the root material is not in the CLI's memory";
    for (const auto& [what, hits] :
         {std::pair{"field key", key_hits}, {"root material", root_hits}}) {
      for (const Hit& h : hits) {
        EXPECT_TRUE(h.mapping->dont_dump)
            << what << " at 0x" << std::hex << h.address << " in a dumpable mapping "
            << h.mapping->start << "-" << h.mapping->end << " " << h.mapping->name;
      }
    }
  };
  // Blocked reading its first line (syscall 0, read, on fd 0): the keyset is decrypted and
  // the field key derived, with the wipes that follow both.
  check_memory("after start-up, before the first line");
  if (HasFatalFailure()) {
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    return;
  }

  // More than the CLI's 64 KiB read buffer of the same ciphertext line: the CLI decrypts the
  // lines of its first buffer, then waits for the rest of its second, with stdin kept open.
  std::string lines;
  size_t line_count = 0;
  for (; lines.size() <= 65536 + ct.out.size(); ++line_count) lines += ct.out;
  ASSERT_EQ(::write(child.in, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  // Once it has read everything (the pipe is empty) and is blocked reading again, the
  // decrypts of its first buffer have finished.
  for (int i = 0, queued = 1; i < 200 && queued != 0; ++i) {
    ASSERT_EQ(::ioctl(child.in, FIONREAD, &queued), 0);
    if (queued != 0) ::usleep(50'000);
  }
  check_memory("after decrypting a buffer of lines");
  if (HasFatalFailure()) {
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    return;
  }

  // Dumpable? The files in /proc/PID belong to root for a non-dumpable process, else to
  // its user.
  struct stat st;
  ASSERT_EQ(::stat(absl::StrCat("/proc/", child.pid, "/status").c_str(), &st), 0);
  std::ifstream limits_file(absl::StrCat("/proc/", child.pid, "/limits"));
  std::stringstream limits;
  limits << limits_file.rdbuf();
  if (allow_core_dumps) {
    EXPECT_EQ(st.st_uid, kOtherUid);
  } else {
    EXPECT_EQ(st.st_uid, 0u) << "the CLI is dumpable";
    EXPECT_THAT(limits.str(), ::testing::ContainsRegex("Max core file size +0 +0 "));
  }

  ::close(child.in);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(child.out, buf, sizeof(buf))) > 0;) out.append(buf, n);
  ::close(child.out);
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::string expected;
  for (size_t i = 0; i < line_count; ++i) expected += "jane@example.com\n";
  EXPECT_EQ(out, expected);
}

INSTANTIATE_TEST_SUITE_P(CoreDumps, CoreDumpTest,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(size_t{1}, size_t{17}, size_t{33},
                                                              size_t{49})),
                         [](const auto& p) {
                           return absl::StrCat(std::get<0>(p.param) ? "AllowCoreDumps" : "Default",
                                               "_Shift", std::get<1>(p.param));
                         });

// The library call: in a child process (the settings are for good), the process ends up
// non-dumpable with a core-file limit of 0, and SecretData comes from the secure heap.
TEST(ProcessSecretsTest, DisablesCoreDumpsAndMovesSecretDataToTheSecureHeap) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto p = ProtectProcessSecrets();
    if (!p.ok() || !p->secure_heap || !p->core_dumps_disabled) ::_exit(1);
    if (::prctl(PR_GET_DUMPABLE) != 0) ::_exit(2);
    struct rlimit core;
    if (::getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0 || core.rlim_max != 0) {
      ::_exit(3);
    }
    SecretData key(32, 7);
    if (!CRYPTO_secure_allocated(key.data())) ::_exit(4);
    auto again = ProtectProcessSecrets();  // idempotent
    ::_exit(again.ok() && again->secure_heap ? 0 : 5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1 failed call, 2 dumpable, 3 core limit, 4 not in the "
                                       "secure heap, 5 second call";
}

// A heap too small for the secrets: the allocations that do not fit are counted (they
// took ordinary memory), the used size shows, and freeing gives the room back.
TEST(ProcessSecretsTest, UsageCountsSecretsThatFoundTheHeapFull) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (GetSecureHeapUsage().size != 0) ::_exit(1);
    ProcessSecretsOptions options;
    options.disable_core_dumps = false;
    options.secure_heap_size = size_t{64} << 10;
    if (!ProtectProcessSecrets(options).ok()) ::_exit(2);
    const SecureHeapUsage start = GetSecureHeapUsage();
    if (start.size != options.secure_heap_size || start.fallbacks != 0) ::_exit(3);
    {
      std::vector<SecretData> keys;
      for (int i = 0; i < 6; ++i) keys.emplace_back(size_t{16} << 10, 1);  // 96 KiB > 64
      const SecureHeapUsage full = GetSecureHeapUsage();
      if (full.used < (size_t{32} << 10) || full.used > full.size) ::_exit(4);
      if (full.fallbacks < 2) ::_exit(5);
      if (CRYPTO_secure_allocated(keys.back().data())) ::_exit(6);
    }
    const SecureHeapUsage after = GetSecureHeapUsage();
    ::_exit(after.used == start.used && after.fallbacks >= 2 ? 0 : 7);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1 size before start, 2 start failed, 3 usage at start, "
                                       "4 used size, 5 no fallback counted, 6 last key in the "
                                       "heap, 7 room not given back";
}

TEST(ProcessSecretsTest, BadHeapSizeIsInvalidArgument) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ProcessSecretsOptions options;
    options.disable_core_dumps = false;
    options.secure_heap_size = 3 << 20;  // not a power of two
    ::_exit(ProtectProcessSecrets(options).status().code() == absl::StatusCode::kInvalidArgument
                ? 0
                : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace piicrypt
