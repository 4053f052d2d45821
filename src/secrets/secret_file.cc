#include "src/secrets/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace piicrypt::internal {
namespace {

absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view path,
                         absl::string_view action) {
  const std::string where = absl::StrCat(what, " ", path);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(absl::StrCat(where, " does not exist"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(absl::StrCat("no permission to ", action, " ", where));
    case EEXIST:
      return absl::AlreadyExistsError(absl::StrCat(where, " already exists"));
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(absl::StrCat("no space left to ", action, " ", where));
    case EROFS:
      return absl::FailedPreconditionError(
          absl::StrCat("cannot ", action, " ", where, ": read-only file system"));
    default:
      return absl::UnavailableError(
          absl::StrCat("cannot ", action, " ", where, ": ", std::strerror(err)));
  }
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

[[nodiscard]] absl::Status WriteAll(int fd, absl::string_view data, absl::string_view what,
                                    const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, what, path, "write");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Reads the rest of the regular file open on `fd` (at most `max_size` bytes).
absl::StatusOr<std::string> ReadOpenFile(int fd, const std::string& path, size_t max_size,
                                         absl::string_view what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, what, path, "read");
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return absl::DataLossError(absl::StrCat(what, " ", path, " is too large"));
  }
  std::string data;
  // One byte more than fstat said, to notice a file that grows while it is read (files are
  // replaced by rename, so a growing file is not one of ours).
  const size_t expected = static_cast<size_t>(st.st_size);
  data.resize(expected + 1);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, what, path, "read");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != expected) {
    return absl::UnavailableError(absl::StrCat(what, " ", path, " changed while it was read"));
  }
  data.resize(done);
  data.shrink_to_fit();
  return data;
}

// The checks of OpenSecretFile on an open descriptor.
absl::Status CheckSecretFile(int fd, const std::string& path, absl::string_view what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, what, path, "read");
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a regular file"));
  }
  const uid_t euid = ::geteuid();
  if (st.st_uid != euid) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is owned by uid ", st.st_uid, ", not by this user (uid ",
                     euid, "); refusing to use it until it is chown'ed to uid ", euid));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, " is accessible to group or others (mode ",
        absl::StrFormat("%03o", st.st_mode & 0777), "); refusing to use it until it is chmod 600"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_size,
                                          absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " path is empty"));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return ErrnoStatus(errno, what, path, "read");
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  return ReadOpenFile(fd, path, max_size, what);
}

absl::StatusOr<int> OpenSecretFile(const std::string& path, int flags, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " path is empty"));
  const int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " ", path, " is a symbolic link; refusing to follow it (name the file itself)"));
    }
    return ErrnoStatus(err, what, path, (flags & O_ACCMODE) == O_RDONLY ? "read" : "open");
  }
  if (absl::Status s = CheckSecretFile(fd, path, what); !s.ok()) {
    ::close(fd);
    return s;
  }
  return fd;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, size_t max_size,
                                           absl::string_view what) {
  absl::StatusOr<int> fd = OpenSecretFile(path, O_RDONLY, what);
  if (!fd.ok()) return fd.status();
  absl::Cleanup close_fd = [fd = *fd] { ::close(fd); };
  return ReadOpenFile(*fd, path, max_size, what);
}

absl::Status SyncParentDirectory(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "directory", dir, "open");
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  if (::fsync(fd) != 0 && errno != EINVAL) return ErrnoStatus(errno, "directory", dir, "sync");
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view data, WriteMode mode,
                                 absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " path is empty"));
  if (path.back() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(what, " path ", path, " names a directory"));
  }
  if (mode == WriteMode::kCreateNew) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) return ErrnoStatus(EEXIST, what, path, "create");
  }
  const std::string dir = DirectoryOf(path);
  const size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp = absl::StrCat(dir, "/.", base, ".tmp.XXXXXX");
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return ErrnoStatus(errno, what, path, "write");
  bool keep_temp = false;
  absl::Cleanup remove_temp = [&] {
    if (!keep_temp) ::unlink(temp.c_str());
  };
  {
    absl::Cleanup close_fd = [fd] { ::close(fd); };
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) return ErrnoStatus(errno, what, path, "write");
    if (absl::Status s = WriteAll(fd, data, what, path); !s.ok()) return s;
    if (::fsync(fd) != 0) return ErrnoStatus(errno, what, path, "sync");
  }
  if (mode == WriteMode::kReplace) {
    if (::rename(temp.c_str(), path.c_str()) != 0) return ErrnoStatus(errno, what, path, "write");
    keep_temp = true;  // it is `path` now
  } else {
    // link() fails with EEXIST if `path` appeared meanwhile: never overwrites.
    if (::link(temp.c_str(), path.c_str()) != 0) return ErrnoStatus(errno, what, path, "create");
  }
  return SyncParentDirectory(path);
}

absl::StatusOr<FileLock> FileLock::Acquire(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("the directory of ", path, " does not exist"));
    }
    return ErrnoStatus(errno, "lock file", lock_path, "open");
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "lock file", lock_path, "lock");
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace piicrypt::internal
