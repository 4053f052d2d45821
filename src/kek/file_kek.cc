#include "src/kek/file_kek.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/random.h"
#include "src/secrets/secret_file.h"

namespace piicrypt::internal {
namespace {

absl::string_view AsStringView(absl::Span<const uint8_t> bytes) {
  return absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class FileKek : public Kek {
 public:
  FileKek(std::string path, std::unique_ptr<AesGcm> gcm)
      : path_(std::move(path)), gcm_(std::move(gcm)) {}

  KekKind kind() const override { return KekKind::kFile; }
  std::string description() const override { return absl::StrCat("file:", path_); }

  absl::StatusOr<KekCiphertext> Encrypt(absl::Span<const uint8_t> plaintext,
                                        absl::string_view associated_data) const override {
    KekCiphertext out;
    out.iv.resize(AesGcm::kNonceSize);
    PIICRYPT_RETURN_IF_ERROR(
        RandomNonce(absl::MakeSpan(reinterpret_cast<uint8_t*>(out.iv.data()), out.iv.size())));
    out.ciphertext.resize(plaintext.size() + AesGcm::kTagSize);
    uint8_t* ct = reinterpret_cast<uint8_t*>(out.ciphertext.data());
    PIICRYPT_RETURN_IF_ERROR(gcm_->Seal(out.iv, associated_data, AsStringView(plaintext),
                                        absl::MakeSpan(ct, plaintext.size()),
                                        absl::MakeSpan(ct + plaintext.size(), AesGcm::kTagSize)));
    return out;
  }

  absl::StatusOr<SecretData> Decrypt(const KekCiphertext& in,
                                     absl::string_view associated_data) const override {
    if (in.iv.size() != AesGcm::kNonceSize || in.ciphertext.size() < AesGcm::kTagSize) {
      return absl::InvalidArgumentError("KEK decryption failed");
    }
    const size_t size = in.ciphertext.size() - AesGcm::kTagSize;
    SecretData plaintext(size);
    const absl::string_view ct(in.ciphertext);
    if (!gcm_->Open(in.iv, associated_data, ct.substr(0, size), ct.substr(size), AesGcm::kTagSize,
                    absl::MakeSpan(plaintext))
             .ok()) {
      return absl::InvalidArgumentError("KEK decryption failed");
    }
    return plaintext;
  }

 private:
  std::string path_;
  std::unique_ptr<AesGcm> gcm_;
};

}  // namespace

absl::StatusOr<std::string> ParseFileKekUri(absl::string_view uri) {
  if (!absl::StartsWithIgnoreCase(uri, "file:")) {
    return absl::InvalidArgumentError("not a file: KEK URI");
  }
  absl::string_view path = uri.substr(5);
  if (absl::StartsWith(path, "//")) {
    // file://HOST/path: only the empty host (file:///path) is local.
    if (!absl::StartsWith(path, "///")) {
      return absl::InvalidArgumentError(
          "KEK URI file://HOST/... names another host; use file:/path or file:///path");
    }
    path.remove_prefix(2);
  }
  if (path.empty()) return absl::InvalidArgumentError("KEK URI file: has an empty path");
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("KEK URI path contains a NUL byte");
  }
  if (path.back() == '/') {
    return absl::InvalidArgumentError("KEK URI path names a directory, not a key file");
  }
  return std::string(path);
}

absl::StatusOr<std::unique_ptr<Kek>> OpenFileKek(absl::string_view uri) {
  PIICRYPT_ASSIGN_OR_RETURN(std::string path, ParseFileKekUri(uri));
  PIICRYPT_ASSIGN_OR_RETURN(const int fd, OpenSecretFile(path, O_RDONLY, "KEK file"));
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot stat KEK file ", path));
  }
  if (st.st_size != static_cast<off_t>(kFileKekSize)) {
    return absl::DataLossError(
        absl::StrCat("KEK file ", path, " is not ", kFileKekSize, " bytes long"));
  }
  SecretData key(kFileKekSize + 1);  // one more byte, to notice a file that grew
  size_t done = 0;
  while (done < key.size()) {
    const ssize_t n = ::read(fd, key.data() + done, key.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("cannot read KEK file ", path));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != kFileKekSize) {
    return absl::DataLossError(
        absl::StrCat("KEK file ", path, " is not ", kFileKekSize, " bytes long"));
  }
  key.resize(kFileKekSize);
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<AesGcm> gcm, AesGcm::Create(key));
  return std::make_unique<FileKek>(std::move(path), std::move(gcm));
}

absl::Status CreateFileKek(absl::string_view uri) {
  PIICRYPT_ASSIGN_OR_RETURN(std::string path, ParseFileKekUri(uri));
  SecretData key(kFileKekSize);
  PIICRYPT_RETURN_IF_ERROR(RandomKey(absl::MakeSpan(key)));
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("KEK file ", path, " already exists; refusing to overwrite a KEK"));
    }
    if (err == ENOENT || err == ENOTDIR) {
      return absl::NotFoundError(
          absl::StrCat("the directory of KEK file ", path, " does not exist"));
    }
    if (err == EACCES || err == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat("no permission to create KEK file ", path));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot create KEK file ", path, ": ", std::strerror(err)));
  }
  bool ok = false;
  absl::Cleanup finish = [&] {
    ::close(fd);
    if (!ok) ::unlink(path.c_str());
  };
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {  // whatever the umask was
    return absl::UnavailableError(absl::StrCat("cannot set the mode of KEK file ", path));
  }
  size_t done = 0;
  while (done < key.size()) {
    const ssize_t n = ::write(fd, key.data() + done, key.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("cannot write KEK file ", path));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot sync KEK file ", path));
  }
  PIICRYPT_RETURN_IF_ERROR(SyncParentDirectory(path));
  ok = true;
  return absl::OkStatus();
}

}  // namespace piicrypt::internal
