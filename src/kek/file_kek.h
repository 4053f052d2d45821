// file_kek.h: the `file:PATH` KEK, 32 random bytes in a file of mode 0600.
#ifndef PIICRYPT_SRC_KEK_FILE_KEK_H_
#define PIICRYPT_SRC_KEK_FILE_KEK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "piicrypt/kek.h"

namespace piicrypt::internal {

inline constexpr size_t kFileKekSize = 32;

// The PATH of a `file:` URI ("file:PATH", or "file:///abs/path"); kInvalidArgument if it
// is not one.
absl::StatusOr<std::string> ParseFileKekUri(absl::string_view uri);

// Opens a key file: exactly 32 bytes in a file under the rule of OpenSecretFile (named
// directly, not through a symbolic link; a regular file owned by the effective user that
// neither group nor others may access); kFailedPrecondition otherwise.
absl::StatusOr<std::unique_ptr<Kek>> OpenFileKek(absl::string_view uri);
// Creates a new key file with O_EXCL and mode 0600; kAlreadyExists if it exists.
[[nodiscard]] absl::Status CreateFileKek(absl::string_view uri);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_KEK_FILE_KEK_H_
