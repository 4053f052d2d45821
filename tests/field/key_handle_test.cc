// KeyHandle: reloads on request and when the files change, failed reloads that keep the
// last good keys, snapshots that outlive a swap, and threads that serve while another
// process (the piicrypt CLI) rotates, promotes and disables keys.
#include "piicrypt/key_handle.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/order_fixture.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::Quote;
using ::piicrypt::testing::ReadFile;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::TempDir;
using ::piicrypt::testing::WriteFile;
using ::testing::Contains;
using ::testing::HasSubstr;

// The handle's calls refuse character pointers as FieldCryptor's do.
template <typename Arg, typename = void>
struct HandleTakes : std::false_type {};
template <typename Arg>
struct HandleTakes<Arg, std::void_t<decltype(std::declval<const KeyHandle&>().EncryptValue(
                            std::declval<absl::string_view>(), std::declval<Arg>()))>>
    : std::true_type {};
static_assert(!HandleTakes<const char*&>::value && !HandleTakes<std::nullptr_t>::value);
static_assert(HandleTakes<const char (&)[4]>::value && HandleTakes<const std::string&>::value);

constexpr const char* kPolicy = ::piicrypt::testing::kOrderEmailField;
constexpr char kField[] = "orders.customer_email";

class KeyHandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_uri_ = "file:" + dir_.File("kek.key");
    keyset_path_ = dir_.File("orders.keyset");
    policy_path_ = dir_.File("policy.textproto");
    ASSERT_THAT(Kek::Create(kek_uri_), IsOk());
    kek_ = Kek::Open(kek_uri_).value();
    ASSERT_THAT(Keyset::Generate().value().WriteNew(keyset_path_, *kek_), IsOk());
    WriteFile(policy_path_, kPolicy);
  }

  KeyHandleOptions Options(absl::Duration interval) {
    KeyHandleOptions o;
    o.keyset_path = keyset_path_;
    o.kek = Kek::Open(kek_uri_).value();
    o.policy_path = policy_path_;
    o.check_interval = interval;
    return o;
  }
  Keyset Rotate() {
    return Keyset::Update(keyset_path_, *kek_, [](Keyset& k) { return k.Rotate().status(); })
        .value();
  }
  static uint32_t KeyOf(const absl::StatusOr<std::string>& ct) {
    if (!ct.ok()) return 0;
    return FieldCipher::KeyIdOfText(*ct).value_or(0);
  }

  TempDir dir_;
  std::string kek_uri_, keyset_path_, policy_path_;
  std::unique_ptr<Kek> kek_;
};

TEST_F(KeyHandleTest, OpenNeedsItsOptionsAndAFirstGoodLoad) {
  KeyHandleOptions no_kek = Options(absl::ZeroDuration());
  no_kek.kek.reset();
  EXPECT_THAT(KeyHandle::Open(std::move(no_kek)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(KeyHandle::Open(Options(absl::Milliseconds(-1))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  KeyHandleOptions missing = Options(absl::ZeroDuration());
  missing.policy_path = dir_.File("nope.textproto");
  EXPECT_THAT(KeyHandle::Open(std::move(missing)), StatusIs(absl::StatusCode::kNotFound));
}

// Reload() swaps in the rotated keyset; a snapshot taken before keeps its keys.
TEST_F(KeyHandleTest, ReloadSwapsAndHeldSnapshotsKeepTheirKeys) {
  auto handle = KeyHandle::Open(Options(absl::ZeroDuration())).value();
  std::shared_ptr<const KeySnapshot> before = handle->Snapshot();
  const uint32_t old_primary = before->keyset().primary_key_id();
  const auto old_ct = handle->EncryptValue(kField, "a@example.com", "order-1");
  EXPECT_EQ(KeyOf(old_ct), old_primary);

  const uint32_t new_primary = Rotate().primary_key_id();
  // No watcher: nothing changes until Reload().
  EXPECT_EQ(KeyOf(handle->EncryptValue(kField, "a@example.com", "order-1")), old_primary);
  ASSERT_THAT(handle->Reload(), IsOk());
  EXPECT_EQ(handle->swaps(), 1u);
  EXPECT_EQ(KeyOf(handle->EncryptValue(kField, "a@example.com", "order-1")), new_primary);
  EXPECT_THAT(handle->DecryptValue(kField, *old_ct, "order-1"), IsOk());
  // The old snapshot still writes under its own primary and is still whole.
  EXPECT_EQ(KeyOf(before->cryptor().EncryptValue(kField, "a@example.com", "order-1")), old_primary);
  EXPECT_EQ(before->generation() + 1, handle->Snapshot()->generation());
}

// A reload that fails keeps the last good snapshot and says why; the next good one wins.
TEST_F(KeyHandleTest, FailedReloadKeepsTheLastGoodKeys) {
  KeyHandleOptions options = Options(absl::ZeroDuration());
  std::vector<absl::Status> told;
  absl::Mutex told_mu;
  options.on_reload = [&](const absl::Status& s) {
    absl::MutexLock lock(&told_mu);
    told.push_back(s);
  };
  auto handle = KeyHandle::Open(std::move(options)).value();
  const uint32_t primary = handle->Snapshot()->keyset().primary_key_id();
  const std::string good_keyset = ReadFile(keyset_path_);

  WriteFile(keyset_path_, good_keyset.substr(0, good_keyset.size() / 2));  // truncated
  EXPECT_THAT(handle->Reload(), StatusIs(absl::StatusCode::kDataLoss));
  WriteFile(policy_path_, "field { name: ");  // and a broken policy
  WriteFile(keyset_path_, good_keyset);
  const absl::Status bad_policy = handle->Reload();
  EXPECT_THAT(bad_policy, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(bad_policy.message()), HasSubstr(policy_path_));
  EXPECT_EQ(handle->last_reload_status(), bad_policy);
  EXPECT_EQ(handle->failed_reloads(), 2u);
  EXPECT_EQ(handle->swaps(), 0u);
  // Calls go on with the last good keys.
  EXPECT_EQ(KeyOf(handle->EncryptValue(kField, "a@example.com", "order-1")), primary);

  WriteFile(policy_path_, kPolicy);
  EXPECT_THAT(handle->Reload(), IsOk());
  EXPECT_THAT(handle->last_reload_status(), IsOk());
  EXPECT_EQ(handle->swaps(), 1u);
  absl::MutexLock lock(&told_mu);
  ASSERT_EQ(told.size(), 3u);
  EXPECT_THAT(told[0], StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(told[1], bad_policy);
  EXPECT_THAT(told[2], IsOk());
}

// Waits until `done` holds (checked every millisecond), at most `limit`.
template <typename Fn>
bool WaitFor(Fn done, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// The watcher sees a changed file by itself, and retries a failed load at each check.
TEST_F(KeyHandleTest, WatcherReloadsChangedFiles) {
  auto handle = KeyHandle::Open(Options(absl::Milliseconds(2))).value();
  const uint32_t old_primary = handle->Snapshot()->keyset().primary_key_id();
  EXPECT_EQ(KeyOf(handle->EncryptValue(kField, "a@example.com", "order-1")), old_primary);
  const uint32_t new_primary = Rotate().primary_key_id();
  ASSERT_TRUE(
      WaitFor([&] { return handle->Snapshot()->keyset().primary_key_id() == new_primary; }));
  EXPECT_EQ(KeyOf(handle->EncryptValue(kField, "a@example.com", "order-1")), new_primary);

  WriteFile(policy_path_, "not a policy");
  ASSERT_TRUE(WaitFor([&] { return handle->failed_reloads() >= 2; }));  // retried
  WriteFile(policy_path_, kPolicy);
  ASSERT_TRUE(WaitFor([&] { return handle->last_reload_status().ok(); }));
  EXPECT_EQ(handle->Snapshot()->keyset().primary_key_id(), new_primary);
}

// Several threads encrypt, decrypt and look up while the piicrypt CLI, another process,
// rotates, promotes and disables keys 50 times. No call on a value whose key is enabled
// fails; every write after a reload is under the new primary; old snapshots are freed.
TEST_F(KeyHandleTest, ThreadsServeWhileTheCliChangesKeys) {
  auto handle = KeyHandle::Open(Options(absl::Milliseconds(2))).value();
  // Odd while the CLI changes the keyset and the handle catches up; even once the handle
  // serves the new keyset, whose primary is then `expected_primary`.
  std::atomic<uint64_t> phase{0};
  std::atomic<uint32_t> expected_primary{handle->Snapshot()->keyset().primary_key_id()};
  std::atomic<bool> stop{false};

  struct Counts {
    int calls = 0, failed_calls = 0, stale_writes = 0, snapshot_writes = 0, missed_lookups = 0,
        disabled = 0;
    std::string first_error;
  };
  auto work = [&](int thread, Counts* counts) {
    struct Stored {
      std::string value, record, ct, index;
      uint32_t key;
    };
    std::vector<Stored> stored;
    auto fail = [&](int* counter, const std::string& what) {
      ++*counter;
      if (counts->first_error.empty()) counts->first_error = what;
    };
    for (int i = 0; !stop.load(); ++i) {
      const std::string value = absl::StrCat("user", thread, "_", i, "@example.com");
      const std::string record = absl::StrCat("order-", thread, "-", i);
      // A write through the handle, checked against the primary announced before it.
      const uint64_t phase_before = phase.load();
      const uint32_t primary = expected_primary.load();
      auto ct = handle->EncryptValue(kField, value, record);
      ++counts->calls;
      if (!ct.ok()) {
        fail(&counts->failed_calls, ct.status().ToString());
        continue;
      }
      if (phase_before % 2 == 0 && phase.load() == phase_before && KeyOf(ct) != primary) {
        fail(&counts->stale_writes, absl::StrCat("write under ", KeyOf(ct), " not ", primary));
      }
      // A write and its index on one snapshot: both under that snapshot's primary.
      std::shared_ptr<const KeySnapshot> snap = handle->Snapshot();
      auto snap_ct = snap->cryptor().EncryptValue(kField, value, record);
      auto index = snap->cryptor().BlindIndexValue(kField, value);
      counts->calls += 2;
      if (!snap_ct.ok() || !index.ok()) {
        fail(&counts->failed_calls, "snapshot write failed");
        continue;
      }
      if (KeyOf(snap_ct) != snap->keyset().primary_key_id()) {
        fail(&counts->snapshot_writes, "snapshot write not under its primary");
      }
      snap.reset();
      // Keep the first value written under each key, so that older keys are read too.
      const uint32_t key = KeyOf(snap_ct);
      if (stored.empty() || stored.back().key != key) {
        stored.push_back({value, record, *snap_ct, *index, key});
      }
      // Read back an older value and find it again. A failure is allowed only if its key
      // is disabled; keys are never enabled again here, so a key still enabled in a later
      // snapshot was enabled during the call.
      Stored& old = stored[i % stored.size()];
      absl::SleepFor(absl::Microseconds(50));  // leave the CLI some of the machine
      if (old.key == 0) continue;
      auto plain = handle->DecryptValue(kField, old.ct, old.record);
      auto indexes = handle->LookupIndexes(kField, old.value);
      counts->calls += 2;
      const bool enabled =
          handle->Snapshot()->keyset().GetKey(old.key)->status == KeyStatus::kEnabled;
      if (!plain.ok() || *plain != old.value) {
        if (enabled) {
          fail(&counts->failed_calls, plain.ok() ? "wrong plaintext" : plain.status().ToString());
        } else if (plain.status().code() == absl::StatusCode::kFailedPrecondition) {
          ++counts->disabled;
          old.key = 0;  // its key is disabled for good
          continue;
        } else {
          fail(&counts->failed_calls, plain.status().ToString());
        }
      }
      if (!indexes.ok()) {
        fail(&counts->failed_calls, indexes.status().ToString());
      } else if (enabled && !::testing::Value(*indexes, Contains(old.index))) {
        fail(&counts->missed_lookups, "lookup missed an index under an enabled key");
      }
    }
  };

  constexpr int kThreads = 3;
  std::vector<Counts> counts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t, &counts[t]);

  auto cli = [&](const std::string& sub, const std::string& arg = "") {
    CommandResult r =
        RunCommand(absl::StrCat(Quote(CliPath()), " keyset ", sub, " ", arg, " --kek ",
                                Quote(kek_uri_), " ", Quote(keyset_path_)));
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.err;
    uint32_t id = 0;
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(r.out), &id);
    return id;
  };
  std::vector<std::weak_ptr<const KeySnapshot>> seen;
  constexpr int kChanges = 50;
  for (int change = 0; change < kChanges; ++change) {
    phase.fetch_add(1);  // odd: changing
    switch (change % 3) {
      case 0:
        cli("rotate");
        break;
      case 1:
        cli("promote", std::to_string(cli("add")));
        break;
      default: {
        // Disable the oldest enabled key that is not the primary.
        for (const KeyInfo& key : Keyset::Read(keyset_path_, *kek_).value().ListKeys()) {
          if (key.status == KeyStatus::kEnabled && !key.primary) {
            cli("disable", std::to_string(key.id));
            break;
          }
        }
      }
    }
    // Wait until the handle serves exactly what the file now holds.
    const Keyset file = Keyset::Read(keyset_path_, *kek_).value();
    auto same = [&] {
      std::shared_ptr<const KeySnapshot> snap = handle->Snapshot();
      if (snap->keyset().primary_key_id() != file.primary_key_id()) return false;
      for (const KeyInfo& key : file.ListKeys()) {
        auto served = snap->keyset().GetKey(key.id);
        if (!served.ok() || served->status != key.status) return false;
      }
      return true;
    };
    ASSERT_TRUE(WaitFor(same)) << "change " << change << " never reached the handle";
    seen.push_back(handle->Snapshot());
    expected_primary.store(file.primary_key_id());
    phase.fetch_add(1);                     // even: settled
    absl::SleepFor(absl::Milliseconds(5));  // let the threads write under it
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();

  int calls = 0, disabled = 0;
  for (const Counts& c : counts) {
    EXPECT_EQ(c.failed_calls, 0) << c.first_error;
    EXPECT_EQ(c.stale_writes, 0) << c.first_error;
    EXPECT_EQ(c.snapshot_writes, 0) << c.first_error;
    EXPECT_EQ(c.missed_lookups, 0) << c.first_error;
    calls += c.calls;
    disabled += c.disabled;
  }
  EXPECT_GT(calls, 1000);
  EXPECT_GT(disabled, 0);  // the threads did meet disabled keys
  EXPECT_EQ(handle->failed_reloads(), 0u) << handle->last_reload_status();
  EXPECT_GE(handle->swaps(), static_cast<uint64_t>(kChanges));
  // Flat memory: the serving threads are gone and this thread holds the current snapshot;
  // every snapshot before it has been freed.
  std::shared_ptr<const KeySnapshot> current = handle->Snapshot();
  int alive = 0;
  for (const auto& w : seen) alive += w.expired() ? 0 : 1;
  EXPECT_EQ(alive, 1);
  EXPECT_FALSE(seen.back().expired());
}

}  // namespace
}  // namespace piicrypt
