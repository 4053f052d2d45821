// The keyset handle: lifecycle, field-key routing, the stored format and its files.
#include "piicrypt/keyset.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.pb.h"
#include "src/keyset/keyset_format.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::ReadFile;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::piicrypt::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<Kek> MakeFileKek(const TempDir& dir, const std::string& name = "kek.key") {
  const std::string uri = "file:" + dir.File(name);
  EXPECT_THAT(Kek::Create(uri), IsOk());
  auto kek = Kek::Open(uri);
  EXPECT_THAT(kek, IsOk());
  return kek.ok() ? std::move(*kek) : nullptr;
}

Keyset MustGenerate() {
  auto keyset = Keyset::Generate();
  EXPECT_THAT(keyset, IsOk());
  return std::move(*keyset);
}

constexpr char kField[] = "orders.customer_email";
constexpr char kEmail[] = "jane@example.com";

std::string EncryptUnderPrimary(const Keyset& keyset, FieldMode mode = FieldMode::kRandomized) {
  auto cipher = keyset.FieldCipherFor(kField, mode);
  EXPECT_THAT(cipher, IsOk());
  auto ct = (*cipher)->EncryptText(kEmail, "order-17");
  EXPECT_THAT(ct, IsOk());
  return *ct;
}

TEST(KeysetTest, GenerateHasOneEnabledPrimaryKey) {
  Keyset keyset = MustGenerate();
  std::vector<KeyInfo> keys = keyset.ListKeys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_NE(keys[0].id, 0u);
  EXPECT_EQ(keys[0].id, keyset.primary_key_id());
  EXPECT_EQ(keys[0].status, KeyStatus::kEnabled);
  EXPECT_TRUE(keys[0].primary);
  EXPECT_GT(keys[0].created_unix_seconds, 1700000000);
  auto material = keyset.KeyMaterial(keys[0].id, InsecureSecretKeyAccess::Get());
  ASSERT_THAT(material, IsOk());
  EXPECT_EQ(material->size(), 32u);
  // Two keysets never share material.
  Keyset other = MustGenerate();
  auto other_material = other.KeyMaterial(other.primary_key_id(), InsecureSecretKeyAccess::Get());
  ASSERT_THAT(other_material, IsOk());
  EXPECT_FALSE(SecretEquals(*material, *other_material));
}

TEST(KeysetTest, KeyStatusNames) {
  EXPECT_EQ(KeyStatusName(KeyStatus::kEnabled), "ENABLED");
  EXPECT_EQ(KeyStatusName(KeyStatus::kDisabled), "DISABLED");
  EXPECT_EQ(KeyStatusName(KeyStatus::kDestroyed), "DESTROYED");
}

TEST(KeysetTest, WholeLifecycleThroughTheApi) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("orders.keyset");
  Keyset initial = MustGenerate();
  const uint32_t old_id = initial.primary_key_id();
  ASSERT_THAT(initial.WriteNew(path, *kek), IsOk());

  auto load = [&] {
    auto keyset = Keyset::Read(path, *kek);
    EXPECT_THAT(keyset, IsOk());
    return std::move(*keyset);
  };
  const std::string before = EncryptUnderPrimary(load());
  const std::string before_det = EncryptUnderPrimary(load(), FieldMode::kDeterministic);

  // Rotate: a new primary; the old value still decrypts.
  uint32_t new_id = 0;
  ASSERT_THAT(Keyset::Update(path, *kek,
                             [&](Keyset& ks) -> absl::Status {
                               auto id = ks.Rotate();
                               if (!id.ok()) return id.status();
                               new_id = *id;
                               return absl::OkStatus();
                             }),
              IsOk());
  EXPECT_NE(new_id, old_id);
  {
    Keyset keyset = load();
    EXPECT_EQ(keyset.primary_key_id(), new_id);
    auto pt = keyset.DecryptText(kField, before, "order-17");
    ASSERT_THAT(pt, IsOk());
    EXPECT_EQ(*pt, kEmail);
    auto det = keyset.DecryptText(kField, before_det, "order-17");
    ASSERT_THAT(det, IsOk());
    EXPECT_EQ(*det, kEmail);
    // New values go under the new key.
    auto key_id = FieldCipher::KeyIdOfText(EncryptUnderPrimary(keyset));
    ASSERT_THAT(key_id, IsOk());
    EXPECT_EQ(*key_id, new_id);
  }

  // Disable the old key: its values no longer decrypt, with a clear error.
  ASSERT_THAT(Keyset::Update(path, *kek, [&](Keyset& ks) { return ks.Disable(old_id); }), IsOk());
  {
    auto pt = load().DecryptText(kField, before, "order-17");
    EXPECT_THAT(pt, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(pt.status().message(), HasSubstr("disabled"));
    EXPECT_THAT(pt.status().message(), HasSubstr(absl::StrCat(old_id)));
  }

  // Enable it again: they decrypt again.
  ASSERT_THAT(Keyset::Update(path, *kek, [&](Keyset& ks) { return ks.Enable(old_id); }), IsOk());
  {
    auto pt = load().DecryptText(kField, before, "order-17");
    ASSERT_THAT(pt, IsOk());
    EXPECT_EQ(*pt, kEmail);
  }

  // Disable and destroy: never again, and the material is gone from the file.
  auto old_material = load().KeyMaterial(old_id, InsecureSecretKeyAccess::Get());
  ASSERT_THAT(old_material, IsOk());
  ASSERT_THAT(Keyset::Update(path, *kek,
                             [&](Keyset& ks) -> absl::Status {
                               if (absl::Status s = ks.Disable(old_id); !s.ok()) return s;
                               return ks.Destroy(old_id);
                             }),
              IsOk());
  {
    Keyset keyset = load();
    auto pt = keyset.DecryptText(kField, before, "order-17");
    EXPECT_THAT(pt, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(pt.status().message(), HasSubstr("destroyed"));
    EXPECT_THAT(keyset.Enable(old_id), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(keyset.KeyMaterial(old_id, InsecureSecretKeyAccess::Get()),
                StatusIs(absl::StatusCode::kNotFound));
    auto info = keyset.GetKey(old_id);
    ASSERT_THAT(info, IsOk());
    EXPECT_EQ(info->status, KeyStatus::kDestroyed);
  }
  // The new primary still works after all of it.
  Keyset final_keyset = load();
  auto fresh = final_keyset.DecryptText(kField, EncryptUnderPrimary(final_keyset), "order-17");
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(*fresh, kEmail);
}

// Update returns the keyset it wrote: the same keys, statuses and primary as a fresh Read.
TEST(KeysetTest, UpdateReturnsTheKeysetItWrote) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("ks");
  ASSERT_THAT(MustGenerate().WriteNew(path, *kek), IsOk());
  uint32_t new_id = 0;
  auto updated = Keyset::Update(path, *kek, [&](Keyset& ks) -> absl::Status {
    auto id = ks.Rotate();
    if (!id.ok()) return id.status();
    new_id = *id;
    return absl::OkStatus();
  });
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->primary_key_id(), new_id);
  auto read = Keyset::Read(path, *kek);
  ASSERT_THAT(read, IsOk());
  ASSERT_EQ(updated->ListKeys().size(), 2u);
  for (const KeyInfo& key : read->ListKeys()) {
    auto same = updated->GetKey(key.id);
    ASSERT_THAT(same, IsOk());
    EXPECT_EQ(same->status, key.status);
    EXPECT_EQ(same->primary, key.primary);
  }
  // It encrypts under the new primary, readable by the keyset read back.
  auto cipher = updated->FieldCipherFor(kField, FieldMode::kRandomized);
  ASSERT_THAT(cipher, IsOk());
  auto ct = (*cipher)->EncryptText(kEmail, "order-1");
  ASSERT_THAT(ct, IsOk());
  EXPECT_THAT(FieldCipher::KeyIdOfText(*ct), ::testing::Eq(absl::StatusOr<uint32_t>(new_id)));
  EXPECT_THAT(read->DecryptText(kField, *ct, "order-1"), IsOk());
}

TEST(KeysetTest, DestroyedMaterialLeavesTheStoredKeyset) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  Keyset keyset = MustGenerate();
  auto added = keyset.Add();
  ASSERT_THAT(added, IsOk());
  auto material = keyset.KeyMaterial(*added, InsecureSecretKeyAccess::Get());
  ASSERT_THAT(material, IsOk());
  ASSERT_THAT(keyset.Disable(*added), IsOk());
  ASSERT_THAT(keyset.Destroy(*added), IsOk());
  auto encrypted = keyset.ToEncryptedBytes(*kek);
  ASSERT_THAT(encrypted, IsOk());
  // Decrypt the outer layer by hand and look for the material in the inner keyset.
  auto parts = internal::ParseEncryptedKeyset(*encrypted);
  ASSERT_THAT(parts, IsOk());
  auto inner = kek->Decrypt(parts->ciphertext, internal::KeysetAssociatedData(KekKind::kFile));
  ASSERT_THAT(inner, IsOk());
  const std::string inner_bytes(inner->begin(), inner->end());
  const std::string material_bytes(material->begin(), material->end());
  EXPECT_EQ(inner_bytes.find(material_bytes), std::string::npos);
  storage::Keyset message;
  ASSERT_TRUE(message.ParseFromString(inner_bytes));
  ASSERT_EQ(message.keys_size(), 2);
  EXPECT_EQ(message.keys(1).status(), storage::KEY_STATUS_DESTROYED);
  EXPECT_TRUE(message.keys(1).material().empty());
}

TEST(KeysetTest, LifecycleRules) {
  Keyset keyset = MustGenerate();
  const uint32_t primary = keyset.primary_key_id();
  uint32_t unknown = primary + 1;
  if (unknown == 0) unknown = 1;

  // The primary can be neither disabled nor destroyed.
  EXPECT_THAT(keyset.Disable(primary), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(keyset.Destroy(primary), StatusIs(absl::StatusCode::kFailedPrecondition));
  // Unknown ids.
  for (auto status : {keyset.Promote(unknown), keyset.Enable(unknown), keyset.Disable(unknown),
                      keyset.Destroy(unknown)}) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat(unknown)));
  }
  EXPECT_THAT(keyset.GetKey(unknown), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(keyset.KeyMaterial(unknown, InsecureSecretKeyAccess::Get()),
              StatusIs(absl::StatusCode::kNotFound));

  auto added = keyset.Add();
  ASSERT_THAT(added, IsOk());
  EXPECT_EQ(keyset.primary_key_id(), primary);  // Add does not promote
  // An enabled key must be disabled before it is destroyed.
  EXPECT_THAT(keyset.Destroy(*added), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(keyset.Disable(*added), IsOk());
  ASSERT_THAT(keyset.Disable(*added), IsOk());  // idempotent
  // A disabled key cannot become primary.
  EXPECT_THAT(keyset.Promote(*added), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(keyset.Enable(*added), IsOk());
  ASSERT_THAT(keyset.Enable(*added), IsOk());  // idempotent
  ASSERT_THAT(keyset.Promote(*added), IsOk());
  EXPECT_EQ(keyset.primary_key_id(), *added);
  // Now the old primary can go.
  ASSERT_THAT(keyset.Disable(primary), IsOk());
  ASSERT_THAT(keyset.Destroy(primary), IsOk());
  ASSERT_THAT(keyset.Destroy(primary), IsOk());  // destroying twice is harmless
  EXPECT_THAT(keyset.Disable(primary), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(keyset.Enable(primary), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(keyset.Promote(primary), StatusIs(absl::StatusCode::kFailedPrecondition));

  std::vector<KeyInfo> keys = keyset.ListKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, primary);
  EXPECT_EQ(keys[0].status, KeyStatus::kDestroyed);
  EXPECT_FALSE(keys[0].primary);
  EXPECT_EQ(keys[1].id, *added);
  EXPECT_TRUE(keys[1].primary);
}

TEST(KeysetTest, KeyIdsAreUniqueAndTheKeyCountIsBounded) {
  Keyset keyset = MustGenerate();
  std::set<uint32_t> ids = {keyset.primary_key_id()};
  for (size_t i = 1; i < Keyset::kMaxKeys; ++i) {
    auto id = keyset.Add();
    ASSERT_THAT(id, IsOk());
    ASSERT_NE(*id, 0u);
    ASSERT_TRUE(ids.insert(*id).second);
  }
  auto one_too_many = keyset.Rotate();
  EXPECT_THAT(one_too_many, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(keyset.ListKeys().size(), Keyset::kMaxKeys);
}

TEST(KeysetTest, FieldCiphersAreRoutedByKeyIdAndCached) {
  Keyset keyset = MustGenerate();
  const uint32_t first = keyset.primary_key_id();
  auto a = keyset.FieldCipherFor(kField, FieldMode::kRandomized);
  auto b = keyset.FieldCipherFor(kField, FieldMode::kRandomized);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->get(), b->get());  // cached per (key, purpose, context)
  auto det = keyset.FieldCipherFor(kField, FieldMode::kDeterministic);
  ASSERT_THAT(det, IsOk());
  EXPECT_NE(det->get(), a->get());
  auto other = keyset.FieldCipherFor("orders.phone", FieldMode::kRandomized);
  ASSERT_THAT(other, IsOk());
  EXPECT_NE(other->get(), a->get());
  EXPECT_EQ((*a)->key_id(), first);
  EXPECT_EQ((*a)->context(), kField);

  auto second = keyset.Rotate();
  ASSERT_THAT(second, IsOk());
  auto c = keyset.FieldCipherFor(kField, FieldMode::kRandomized);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ((*c)->key_id(), *second);

  // Field keys are derived exactly as docs/SPEC.md says: a cipher made from the raw material
  // by FieldCipher::Create reads what the keyset's cipher wrote.
  auto material = keyset.KeyMaterial(*second, InsecureSecretKeyAccess::Get());
  ASSERT_THAT(material, IsOk());
  auto direct = FieldCipher::Create(*second, *material, kField, FieldMode::kRandomized);
  ASSERT_THAT(direct, IsOk());
  auto ct = (*c)->Encrypt("x", "r");
  ASSERT_THAT(ct, IsOk());
  auto pt = (*direct)->Decrypt(*ct, "r");
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(*pt, "x");

  // Binary and text forms route to the right key and mode.
  auto old_ct = (*a)->Encrypt("old value", "r");
  ASSERT_THAT(old_ct, IsOk());
  auto routed = keyset.Decrypt(kField, *old_ct, "r");
  ASSERT_THAT(routed, IsOk());
  EXPECT_EQ(*routed, "old value");
  auto det_ct = (*det)->EncryptText("det value");
  ASSERT_THAT(det_ct, IsOk());
  auto det_pt = keyset.DecryptText(kField, *det_ct);
  ASSERT_THAT(det_pt, IsOk());
  EXPECT_EQ(*det_pt, "det value");

  // Wrong record, wrong field, garbage: one opaque kInvalidArgument.
  EXPECT_THAT(keyset.Decrypt(kField, *old_ct, "other-row"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(keyset.Decrypt("orders.phone", *old_ct, "r"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(keyset.Decrypt(kField, "junk"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(keyset.DecryptText(kField, "!!not base64!!"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A key id that is not in the keyset.
  std::string foreign = *old_ct;
  foreign[1] = static_cast<char>(foreign[1] ^ 0x5a);
  EXPECT_THAT(keyset.Decrypt(kField, foreign, "r"), StatusIs(absl::StatusCode::kNotFound));

  // Disabling drops the cached cipher for decryption and routing refuses it.
  ASSERT_THAT(keyset.Disable(first), IsOk());
  EXPECT_THAT(keyset.FieldCipherForKey(first, kField, FieldMode::kRandomized),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(keyset.Decrypt(kField, *old_ct, "r"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(KeysetTest, BlindIndexersCoverEveryEnabledKeyPrimaryFirst) {
  Keyset keyset = MustGenerate();
  const uint32_t first = keyset.primary_key_id();
  auto second = keyset.Rotate();
  ASSERT_THAT(second, IsOk());
  auto third = keyset.Add();
  ASSERT_THAT(third, IsOk());
  ASSERT_THAT(keyset.Disable(*third), IsOk());
  auto indexers = keyset.BlindIndexersFor(kField, 32);
  ASSERT_THAT(indexers, IsOk());
  ASSERT_EQ(indexers->size(), 2u);
  EXPECT_EQ((*indexers)[0].first, *second);
  EXPECT_EQ((*indexers)[1].first, first);
  auto again = keyset.BlindIndexersFor(kField, 32);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*again)[0].second.get(), (*indexers)[0].second.get());  // cached
  auto i0 = (*indexers)[0].second->Compute(kEmail);
  auto i1 = (*indexers)[1].second->Compute(kEmail);
  ASSERT_THAT(i0, IsOk());
  ASSERT_THAT(i1, IsOk());
  EXPECT_EQ(i0->size(), 8u);
  EXPECT_NE(*i0, *i1);
  EXPECT_THAT(keyset.BlindIndexersFor(kField, 0), Not(IsOk()));
}

TEST(KeysetFileTest, FilesAreWrittenAtomicallyWithMode0600AndNeverOverwritten) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("ks");
  Keyset keyset = MustGenerate();
  ASSERT_THAT(keyset.WriteNew(path, *kek), IsOk());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string original = ReadFile(path);
  Keyset other = MustGenerate();
  auto again = other.WriteNew(path, *kek);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReadFile(path), original);
  ASSERT_THAT(Keyset::Update(path, *kek, [](Keyset& ks) { return ks.Add().status(); }), IsOk());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Nothing but the KEK, the keyset and its lock file is left in the directory.
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"kek.key", "ks", "ks.lock"}));
  // A directory that does not exist.
  auto no_dir = keyset.WriteNew(dir.File("missing/ks"), *kek);
  EXPECT_THAT(no_dir, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(no_dir.message(), HasSubstr("directory"));
  EXPECT_THAT(keyset.WriteNew(dir.File("ks/"), *kek), Not(IsOk()));
}

TEST(KeysetFileTest, AFailedUpdateChangesNothing) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("ks");
  Keyset keyset = MustGenerate();
  ASSERT_THAT(keyset.WriteNew(path, *kek), IsOk());
  const std::string original = ReadFile(path);
  const uint32_t primary = keyset.primary_key_id();
  auto status = Keyset::Update(path, *kek, [&](Keyset& ks) -> absl::Status {
    if (auto id = ks.Add(); !id.ok()) return id.status();  // a change that is then abandoned
    return ks.Disable(primary);                            // fails: the primary
  });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ReadFile(path), original);
  // Update of a file that does not exist.
  EXPECT_THAT(Keyset::Update(dir.File("nope"), *kek, [](Keyset&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kNotFound));
}

// A change whose new file cannot be written (here: the directory is not writable for the
// process) fails cleanly and leaves the old file as it was.
TEST(KeysetFileTest, AWriteFailureLeavesTheOldFile) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("ks");
  ASSERT_THAT(MustGenerate().WriteNew(path, *kek), IsOk());
  const std::string original = ReadFile(path);
  // root writes anywhere, so the change runs in a child that has given up root; it may
  // read the KEK and the keyset and take the lock, but not create files in the directory.
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(dir.File("kek.key").c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    ASSERT_EQ(::chmod((path + ".lock").c_str(), 0666), 0);
  }
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (root && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto child_kek = Kek::Open("file:" + dir.File("kek.key"));
    if (!child_kek.ok()) ::_exit(4);
    if (!Keyset::Read(path, **child_kek).ok()) ::_exit(5);
    absl::Status s =
        Keyset::Update(path, **child_kek, [](Keyset& ks) { return ks.Rotate().status(); }).status();
    ::_exit(s.code() == absl::StatusCode::kPermissionDenied ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(ReadFile(path), original);
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"kek.key", "ks", "ks.lock"}));
}

TEST(KeysetFileTest, MissingEmptyOversizedAndNonRegularFiles) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  auto missing = Keyset::Read(dir.File("none"), *kek);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(missing.status().message(), HasSubstr(dir.File("none")));
  WriteFile(dir.File("empty"), "");
  EXPECT_THAT(Keyset::Read(dir.File("empty"), *kek), StatusIs(absl::StatusCode::kDataLoss));
  WriteFile(dir.File("big"), std::string(internal::kMaxKeysetFileSize + 1, 'x'));
  EXPECT_THAT(Keyset::Read(dir.File("big"), *kek), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Keyset::Read(dir.path(), *kek), StatusIs(absl::StatusCode::kFailedPrecondition));
  // A file whose size is not what fstat said (procfs reports 0): never half read.
  EXPECT_THAT(Keyset::Read("/proc/self/status", *kek), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Keyset::Read("", *kek), StatusIs(absl::StatusCode::kInvalidArgument));
  WriteFile(dir.File("text"), "this is not a keyset\n");
  EXPECT_THAT(Keyset::Read(dir.File("text"), *kek), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(KeysetFileTest, UnreadableFileIsPermissionDenied) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("ks");
  ASSERT_THAT(MustGenerate().WriteNew(path, *kek), IsOk());
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  // root reads any file, so the check runs in a child that has given up root.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto read = Keyset::Read(path, *kek);
    ::_exit(read.status().code() == absl::StatusCode::kPermissionDenied ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(KeysetFileTest, WrongKekAndWrongKekKind) {
  TempDir dir;
  auto kek = MakeFileKek(dir, "a.key");
  auto other = MakeFileKek(dir, "b.key");
  const std::string path = dir.File("ks");
  ASSERT_THAT(MustGenerate().WriteNew(path, *kek), IsOk());
  auto read = Keyset::Read(path, *other);
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(read.status().message(), HasSubstr("does not decrypt"));
  EXPECT_THAT(read.status().message(), HasSubstr(path));
  EXPECT_THAT(Keyset::Rewrap(path, *other, *kek), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Keyset::Read(path, *kek), IsOk());

  // A keyset file that claims a PKCS#11 KEK is refused before any decryption.
  auto encrypted = MustGenerate().ToEncryptedBytes(*kek);
  ASSERT_THAT(encrypted, IsOk());
  auto parts = internal::ParseEncryptedKeyset(*encrypted);
  ASSERT_THAT(parts, IsOk());
  parts->kek_kind = KekKind::kPkcs11;
  auto wrong_kind = Keyset::FromEncryptedBytes(internal::SerializeEncryptedKeyset(*parts), *kek);
  EXPECT_THAT(wrong_kind, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(wrong_kind.status().message(), HasSubstr("PKCS#11"));
}

TEST(KeysetFileTest, RewrapBetweenFileKeksKeepsTheKeys) {
  TempDir dir;
  auto kek = MakeFileKek(dir, "a.key");
  auto other = MakeFileKek(dir, "b.key");
  const std::string path = dir.File("ks");
  Keyset keyset = MustGenerate();
  const std::string ct = EncryptUnderPrimary(keyset);
  ASSERT_THAT(keyset.WriteNew(path, *kek), IsOk());
  ASSERT_THAT(Keyset::Rewrap(path, *kek, *other), IsOk());
  EXPECT_THAT(Keyset::Read(path, *kek), StatusIs(absl::StatusCode::kInvalidArgument));
  auto moved = Keyset::Read(path, *other);
  ASSERT_THAT(moved, IsOk());
  auto pt = moved->DecryptText(kField, ct, "order-17");
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(*pt, kEmail);
}

// Every byte of a keyset file changed in turn, and every truncation: always a clean error,
// never a crash, never a keyset.
TEST(KeysetFileTest, EveryFlippedByteAndEveryTruncationIsACleanError) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  Keyset keyset = MustGenerate();
  auto b = keyset.Rotate();
  ASSERT_THAT(b, IsOk());
  auto c = keyset.Add();
  ASSERT_THAT(c, IsOk());
  auto d = keyset.Add();
  ASSERT_THAT(d, IsOk());
  ASSERT_THAT(keyset.Disable(*c), IsOk());
  ASSERT_THAT(keyset.Disable(*d), IsOk());
  ASSERT_THAT(keyset.Destroy(*d), IsOk());
  const std::string path = dir.File("ks");
  ASSERT_THAT(keyset.WriteNew(path, *kek), IsOk());
  const std::string original = ReadFile(path);
  ASSERT_GT(original.size(), 100u);

  // Through the file for a sample, in memory (the same parser and checks) for the rest.
  int count = 0;
  auto expect_clean_error = [&](const std::string& bytes, const std::string& what) {
    absl::StatusOr<Keyset> read = absl::UnknownError("not run");
    if (count++ % 16 == 0) {
      WriteFile(path, bytes);
      read = Keyset::Read(path, *kek);
    } else {
      read = Keyset::FromEncryptedBytes(bytes, *kek);
    }
    ASSERT_FALSE(read.ok()) << what;
    const auto code = read.status().code();
    EXPECT_TRUE(code == absl::StatusCode::kDataLoss || code == absl::StatusCode::kInvalidArgument)
        << what << ": " << read.status();
    EXPECT_FALSE(read.status().message().empty());
  };
  for (size_t i = 0; i < original.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bytes = original;
      bytes[i] = static_cast<char>(bytes[i] ^ mask);
      expect_clean_error(bytes, absl::StrCat("byte ", i, " ^ ", mask));
    }
  }
  for (size_t len = 0; len < original.size(); ++len) {
    expect_clean_error(original.substr(0, len), absl::StrCat("truncated to ", len));
  }
  expect_clean_error(original + std::string(1, '\0'), "one byte appended");
  expect_clean_error(original + original, "doubled");

  WriteFile(path, original);
  auto read = Keyset::Read(path, *kek);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->ListKeys().size(), 4u);
  EXPECT_EQ(read->primary_key_id(), *b);
}

// Inner keysets that break an invariant are refused even when they decrypt (they can only
// come from a bug or from someone holding the KEK).
TEST(KeysetFileTest, InvalidInnerKeysetsAreDataLoss) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  auto seal = [&](const storage::Keyset& message) {
    std::string serialized;
    EXPECT_TRUE(message.SerializeToString(&serialized));
    internal::EncryptedKeysetParts parts;
    parts.kek_kind = KekKind::kFile;
    auto ct =
        kek->Encrypt(testing::Bytes(serialized), internal::KeysetAssociatedData(KekKind::kFile));
    EXPECT_THAT(ct, IsOk());
    parts.ciphertext = *ct;
    return internal::SerializeEncryptedKeyset(parts);
  };
  auto valid = [] {
    storage::Keyset m;
    m.set_primary_key_id(7);
    storage::Key* k = m.add_keys();
    k->set_id(7);
    k->set_status(storage::KEY_STATUS_ENABLED);
    k->set_created_unix_seconds(1800000000);
    k->set_material(std::string(32, 'k'));
    return m;
  };
  {
    auto ok = Keyset::FromEncryptedBytes(seal(valid()), *kek);
    ASSERT_THAT(ok, IsOk());
    EXPECT_EQ(ok->primary_key_id(), 7u);
  }
  struct Case {
    const char* name;
    void (*mutate)(storage::Keyset&);
  };
  const Case cases[] = {
      {"no keys", [](storage::Keyset& m) { m.clear_keys(); }},
      {"no primary", [](storage::Keyset& m) { m.set_primary_key_id(8); }},
      {"zero id",
       [](storage::Keyset& m) {
         m.mutable_keys(0)->set_id(0);
         m.set_primary_key_id(0);
       }},
      {"repeated id", [](storage::Keyset& m) { *m.add_keys() = m.keys(0); }},
      {"short material", [](storage::Keyset& m) { m.mutable_keys(0)->set_material("short"); }},
      {"unknown status",
       [](storage::Keyset& m) {
         m.mutable_keys(0)->set_status(static_cast<storage::KeyStatus>(9));
       }},
      {"unspecified status",
       [](storage::Keyset& m) { m.mutable_keys(0)->set_status(storage::KEY_STATUS_UNSPECIFIED); }},
      {"disabled primary",
       [](storage::Keyset& m) { m.mutable_keys(0)->set_status(storage::KEY_STATUS_DISABLED); }},
      {"destroyed with material",
       [](storage::Keyset& m) {
         storage::Key* k = m.add_keys();
         k->set_id(9);
         k->set_status(storage::KEY_STATUS_DESTROYED);
         k->set_material(std::string(32, 'x'));
       }},
      {"negative time",
       [](storage::Keyset& m) { m.mutable_keys(0)->set_created_unix_seconds(-1); }},
      {"unknown field",
       [](storage::Keyset& m) { m.GetReflection()->MutableUnknownFields(&m)->AddVarint(99, 1); }},
      {"unknown key field",
       [](storage::Keyset& m) {
         storage::Key* k = m.mutable_keys(0);
         k->GetReflection()->MutableUnknownFields(k)->AddVarint(99, 1);
       }},
  };
  for (const Case& c : cases) {
    storage::Keyset m = valid();
    c.mutate(m);
    auto read = Keyset::FromEncryptedBytes(seal(m), *kek);
    EXPECT_THAT(read, StatusIs(absl::StatusCode::kDataLoss)) << c.name;
  }
  // Bytes that are not a Keyset at all.
  internal::EncryptedKeysetParts parts;
  auto ct =
      kek->Encrypt(testing::Bytes("\xff\xff\xff"), internal::KeysetAssociatedData(KekKind::kFile));
  ASSERT_THAT(ct, IsOk());
  parts.ciphertext = *ct;
  EXPECT_THAT(Keyset::FromEncryptedBytes(internal::SerializeEncryptedKeyset(parts), *kek),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(KeysetFileTest, EncryptedKeysetEnvelopeIsStrict) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  auto encrypted = MustGenerate().ToEncryptedBytes(*kek);
  ASSERT_THAT(encrypted, IsOk());
  storage::EncryptedKeyset good;
  ASSERT_TRUE(good.ParseFromString(*encrypted));
  EXPECT_EQ(good.format_version(), 1u);
  EXPECT_EQ(good.kek_kind(), storage::KEK_KIND_FILE);
  EXPECT_EQ(good.iv().size(), 12u);

  auto check = [&](storage::EncryptedKeyset m, const char* what) {
    std::string bytes;
    ASSERT_TRUE(m.SerializeToString(&bytes));
    EXPECT_THAT(Keyset::FromEncryptedBytes(bytes, *kek), StatusIs(absl::StatusCode::kDataLoss))
        << what;
  };
  storage::EncryptedKeyset m = good;
  m.set_format_version(2);
  check(m, "version 2");
  m = good;
  m.set_kek_kind(storage::KEK_KIND_UNSPECIFIED);
  check(m, "unspecified KEK kind");
  m = good;
  m.set_kek_kind(static_cast<storage::KekKind>(7));
  check(m, "unknown KEK kind");
  m = good;
  m.set_iv("short");
  check(m, "short IV");
  m = good;
  m.set_ciphertext("short");
  check(m, "short ciphertext");
  m = good;
  m.GetReflection()->MutableUnknownFields(&m)->AddVarint(15, 1);
  check(m, "unknown field");
  // A non-canonical encoding of the same message: format_version as a padded varint.
  std::string padded = *encrypted;
  ASSERT_EQ(padded.substr(0, 2), std::string("\x08\x01", 2));
  padded.replace(0, 2, std::string("\x08\x81\x00", 3));
  EXPECT_THAT(Keyset::FromEncryptedBytes(padded, *kek), StatusIs(absl::StatusCode::kDataLoss));
}

// Two processes rotating one keyset at once, many times: no update lost, and the file
// always loads for a reader running alongside.
TEST(KeysetFileTest, ConcurrentRotationsByTwoProcessesLoseNothing) {
  TempDir dir;
  auto kek = MakeFileKek(dir);
  const std::string path = dir.File("ks");
  ASSERT_THAT(MustGenerate().WriteNew(path, *kek), IsOk());
  constexpr int kProcesses = 2;
  constexpr int kRotations = 40;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto child_kek = Kek::Open("file:" + dir.File("kek.key"));
      if (!child_kek.ok()) ::_exit(2);
      for (int i = 0; i < kRotations; ++i) {
        absl::Status s = Keyset::Update(path, **child_kek, [](Keyset& ks) {
                           return ks.Rotate().status();
                         }).status();
        if (!s.ok()) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  std::vector<int> statuses(children.size(), -1);
  size_t running = children.size();
  int reads = 0;
  while (running > 0) {
    auto read = Keyset::Read(path, *kek);
    ASSERT_THAT(read, IsOk()) << "read " << reads;
    ++reads;
    for (size_t i = 0; i < children.size(); ++i) {
      if (statuses[i] != -1) continue;
      int status = 0;
      if (::waitpid(children[i], &status, WNOHANG) == children[i]) {
        statuses[i] = status;
        --running;
      }
    }
  }
  EXPECT_GT(reads, 0);
  for (int status : statuses) {
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto final_keyset = Keyset::Read(path, *kek);
  ASSERT_THAT(final_keyset, IsOk());
  EXPECT_EQ(final_keyset->ListKeys().size(), 1u + kProcesses * kRotations);
}

}  // namespace
}  // namespace piicrypt
