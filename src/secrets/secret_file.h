// secret_file.h: reading, checking, atomically replacing and locking small secret files.
#ifndef PIICRYPT_SRC_SECRETS_SECRET_FILE_H_
#define PIICRYPT_SRC_SECRETS_SECRET_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/export.h"

namespace piicrypt::internal {

// Reads a whole regular file of at most `max_size` bytes. kNotFound if it does not exist,
// kPermissionDenied if it cannot be read, kFailedPrecondition if it is not a regular file,
// kDataLoss if it is larger than `max_size`. `what` names the file in messages.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_size,
                                          absl::string_view what);

// The rule for a file that holds a secret or guards one (a KEK file, a PIN file, a token
// database): it is named directly, not through a symbolic link (opened with O_NOFOLLOW),
// and it is a regular file owned by the effective user with no permission bit for group
// or others (mode 0600 or 0400). Checked on the open descriptor (fstat), so the file
// checked is the file used.
//
// Opens `path` with `flags` (O_NOFOLLOW and O_CLOEXEC are added; with O_CREAT a new file
// gets mode 0600) and checks the rule. Returns the descriptor, which the caller closes.
// kFailedPrecondition names the path and the rule broken ("chmod 600", "chown"); kNotFound
// and kPermissionDenied as for ReadSmallFile. `what` names the file in messages.
PIICRYPT_EXPORT absl::StatusOr<int> OpenSecretFile(const std::string& path, int flags,
                                                   absl::string_view what);

// ReadSmallFile for a file under the rule of OpenSecretFile.
PIICRYPT_EXPORT absl::StatusOr<std::string> ReadSecretFile(const std::string& path, size_t max_size,
                                                           absl::string_view what);

enum class WriteMode { kCreateNew, kReplace };

// Writes `data` to `path` atomically with mode 0600: a temporary file in the same
// directory is written and fsync'ed, then renamed over `path` (kReplace) or hard-linked
// to it (kCreateNew: kAlreadyExists if `path` exists), and the directory is fsync'ed.
// Readers see the old file or the new one, never a mix; on any failure the temporary file
// is removed and `path` is untouched.
[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path, absl::string_view data,
                                               WriteMode mode, absl::string_view what);

// An exclusive advisory lock (flock) on the sidecar file `path + ".lock"` (created with
// mode 0600 and left in place). The lock is on a separate file because the guarded file is
// replaced by rename, which would leave a lock on the file itself behind on the old inode.
class FileLock {
 public:
  static absl::StatusOr<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// fsyncs the directory that contains `path`.
[[nodiscard]] absl::Status SyncParentDirectory(const std::string& path);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SECRETS_SECRET_FILE_H_
