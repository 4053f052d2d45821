// SubjectCryptor on both subject key stores: round trips, forgetting (live and in dumps
// taken before), forgetting under concurrent writers, tampered store rows, the key cache's
// bounds, and the rewrap job.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subject_cryptor.h"
#include "piicrypt/subject_key_store.h"
#include "piicrypt/subject_rewrap.h"
#include "tests/subject/subject_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::IsOkAndHolds;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::SubjectStoreEnv;
using ::piicrypt::testing::SubjectStoreKind;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.customer_name"
    kind: KIND_NAME
    mode: MODE_RANDOMIZED
    bind_record: true
    subject { column: "customer_id" }
  }
  field {
    name: "orders.delivery_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
    padding { buckets: [ 32, 64 ] }
    subject {}
  }
  field { name: "orders.note" mode: MODE_RANDOMIZED }
)pb";

// One row of the application's table: what a dump of it holds.
struct AppRow {
  std::string record;
  std::string subject;
  std::string name_ct;
  std::string plain;
};

class SubjectTest : public ::testing::TestWithParam<SubjectStoreKind> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<SubjectStoreEnv>(GetParam());
    std::string error;
    url_ = env_->NewUrl(&error);
    ASSERT_FALSE(url_.empty()) << error;
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    keyset_ = std::make_unique<Keyset>(*std::move(keyset));
    auto policy = Policy::ParseTextProto(kPolicy);
    ASSERT_THAT(policy, IsOk());
    policy_ = std::make_unique<Policy>(*std::move(policy));
    auto store = SubjectKeyStore::Open(url_);
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    cryptor_ = MakeCryptor(store_);
    ASSERT_NE(cryptor_, nullptr);
  }

  std::unique_ptr<SubjectCryptor> MakeCryptor(std::shared_ptr<const SubjectKeyStore> store,
                                              SubjectCryptorOptions options = {}) {
    auto c = SubjectCryptor::Create(*keyset_, *policy_, std::move(store), options);
    EXPECT_THAT(c, IsOk());
    return c.ok() ? *std::move(c) : nullptr;
  }

  std::string Encrypt(const std::string& subject, const std::string& value,
                      const std::string& record) {
    auto ct = cryptor_->EncryptValue("orders.customer_name", subject, value, record);
    EXPECT_THAT(ct, IsOk());
    return ct.ok() ? *ct : "";
  }

  std::unique_ptr<SubjectStoreEnv> env_;
  std::string url_;
  std::unique_ptr<Keyset> keyset_;
  std::unique_ptr<Policy> policy_;
  std::shared_ptr<SubjectKeyStore> store_;
  std::unique_ptr<SubjectCryptor> cryptor_;
};

TEST_P(SubjectTest, RoundTripsBoundToFieldRecordAndSubject) {
  const std::string ct = Encrypt("cust-7", "Jane Doe", "order-1");
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-7", ct, "order-1"),
              IsOkAndHolds(std::string("Jane Doe")));
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-7", ct, "order-2"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->DecryptValue("orders.delivery_address", "cust-7", ct, "order-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Encrypt("cust-8", "John Roe", "order-3");
  // Another subject's key: a value moved to another customer's row does not decrypt.
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-8", ct, "order-1"),
              StatusIs(absl::StatusCode::kNotFound));
  // Padded field, NULL, empty value.
  auto addr = cryptor_->EncryptValue("orders.delivery_address", "cust-7", "1 Main St", "order-1");
  ASSERT_THAT(addr, IsOk());
  EXPECT_EQ(addr->size(), 94u);  // 37 bytes of overhead + the 32-byte bucket + 1, base64url
  EXPECT_THAT(cryptor_->DecryptValue("orders.delivery_address", "cust-7", *addr, "order-1"),
              IsOkAndHolds(std::string("1 Main St")));
  EXPECT_THAT(cryptor_->Encrypt("orders.customer_name", "cust-7", std::nullopt, "order-1"),
              IsOkAndHolds(std::optional<std::string>()));
  const std::string empty = Encrypt("cust-7", "", "order-1");
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-7", empty, "order-1"),
              IsOkAndHolds(std::string()));
  // Calls that make no sense.
  EXPECT_THAT(cryptor_->EncryptValue("orders.note", "cust-7", "x", "order-1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cryptor_->EncryptValue("orders.customer_name", "", "x", "order-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cryptor_->EncryptValue("orders.customer_name", "cust-7", "x", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Truncated and altered values.
  for (size_t cut : {size_t{1}, size_t{10}, ct.size() - 1}) {
    EXPECT_THAT(
        cryptor_->DecryptValue("orders.customer_name", "cust-7", ct.substr(0, cut), "order-1"),
        StatusIs(absl::StatusCode::kInvalidArgument));
  }
  std::string flipped = ct;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-7", flipped, "order-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(SubjectTest, ForgetErasesTheSubjectAndANewKeyIsTold_apart) {
  const std::string old_ct = Encrypt("cust-7", "Jane Doe", "order-1");
  const std::string other = Encrypt("cust-8", "John Roe", "order-2");
  EXPECT_THAT(cryptor_->Forget("cust-7"), IsOkAndHolds(true));
  EXPECT_THAT(cryptor_->Forget("cust-7"), IsOkAndHolds(false));
  auto gone = cryptor_->DecryptValue("orders.customer_name", "cust-7", old_ct, "order-1");
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(gone.status().message(), HasSubstr("erased"));
  EXPECT_THAT(gone.status().message(), ::testing::Not(HasSubstr("cust-7")));
  // The customer comes back: a new key; the old values stay erased.
  const std::string new_ct = Encrypt("cust-7", "Jane Doe", "order-9");
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-7", new_ct, "order-9"),
              IsOkAndHolds(std::string("Jane Doe")));
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-7", old_ct, "order-1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cryptor_->DecryptValue("orders.customer_name", "cust-8", other, "order-2"),
              IsOkAndHolds(std::string("John Roe")));
  // A fresh process reads the same.
  auto fresh = MakeCryptor(store_);
  EXPECT_THAT(fresh->DecryptValue("orders.customer_name", "cust-7", old_ct, "order-1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(fresh->DecryptValue("orders.customer_name", "cust-7", new_ct, "order-9"),
              IsOkAndHolds(std::string("Jane Doe")));
}

// A dump of the application's table and of the subject store, taken before a forget: after
// the forget the live store yields every other customer's values from the dump and none
// of the forgotten one's; once the store's keys are rotated, rewrapped and the old key
// destroyed, the dump's own copy of the store yields nothing at all.
TEST_P(SubjectTest, DumpTakenBeforeForgetYieldsNoneOfTheForgottenSubject) {
  std::vector<AppRow> dump;
  for (int i = 0; i < 30; ++i) {
    AppRow row;
    row.record = absl::StrCat("order-", i);
    row.subject = absl::StrCat("cust-", i % 6);
    row.plain = absl::StrCat("Customer ", i % 6, " name");
    row.name_ct = Encrypt(row.subject, row.plain, row.record);
    dump.push_back(row);
  }
  auto store_dump = env_->Copy(*store_);
  ASSERT_THAT(store_dump, IsOk());
  ASSERT_THAT(cryptor_->Forget("cust-3"), IsOkAndHolds(true));

  auto count = [&](const SubjectCryptor& c) {
    int forgotten = 0, others = 0;
    for (const AppRow& r : dump) {
      auto v = c.DecryptValue("orders.customer_name", r.subject, r.name_ct, r.record);
      if (!v.ok()) {
        EXPECT_THAT(v, StatusIs(absl::StatusCode::kNotFound)) << r.record;
        continue;
      }
      EXPECT_EQ(*v, r.plain);
      ++(r.subject == "cust-3" ? forgotten : others);
    }
    return std::make_pair(forgotten, others);
  };
  auto live = MakeCryptor(store_);
  EXPECT_EQ(count(*live), std::make_pair(0, 25));

  // The old copy of the store still holds the key until its wrapping key is destroyed.
  auto old_store = SubjectKeyStore::Open(*store_dump);
  ASSERT_THAT(old_store, IsOk());
  std::shared_ptr<const SubjectKeyStore> old_shared = *std::move(old_store);
  EXPECT_EQ(count(*MakeCryptor(old_shared)), std::make_pair(5, 25));

  // Rotation: a new primary, the live store rewrapped, the old key disabled and destroyed.
  const uint32_t old_key = keyset_->primary_key_id();
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  auto rewrap = RewrapSubjectKeys(*keyset_, *store_, {});
  ASSERT_THAT(rewrap, IsOk());
  EXPECT_EQ(rewrap->rewrapped, 6);  // 5 customers and the lookup key
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  ASSERT_THAT(keyset_->Destroy(old_key), IsOk());

  EXPECT_EQ(count(*MakeCryptor(store_)), std::make_pair(0, 25));
  EXPECT_THAT(SubjectCryptor::Create(*keyset_, *policy_, old_shared),
              StatusIs(absl::StatusCode::kNotFound));
}

// Threads encrypt for one customer while it is forgotten: no crash, and afterwards every
// value either decrypts under the customer's current key or fails as erased; the values
// written before the forget returned under the destroyed key are never readable again.
TEST_P(SubjectTest, ForgetWhileOtherThreadsEncrypt) {
  std::atomic<bool> stop{false};
  std::atomic<bool> forgotten{false};
  absl::Mutex mu;
  std::vector<std::pair<std::string, bool>> written;  // value, started after the forget
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        absl::SleepFor(absl::Microseconds(50));  // a few thousand values per thread
        const bool after = forgotten.load();
        auto ct = cryptor_->EncryptValue("orders.customer_name", "cust-1", "Jane", "order-1");
        ASSERT_THAT(ct, IsOk());
        absl::MutexLock lock(&mu);
        written.emplace_back(*ct, after);
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_THAT(cryptor_->Forget("cust-1"), IsOkAndHolds(true));
  forgotten = true;
  absl::SleepFor(absl::Milliseconds(100));
  stop = true;
  for (std::thread& t : threads) t.join();

  auto fresh = MakeCryptor(store_);
  int readable = 0, erased = 0, readable_after = 0;
  for (const auto& [ct, after] : written) {
    auto v = fresh->DecryptValue("orders.customer_name", "cust-1", ct, "order-1");
    if (v.ok()) {
      EXPECT_EQ(*v, "Jane");
      ++readable;
      readable_after += after;
    } else {
      EXPECT_THAT(v, StatusIs(absl::StatusCode::kNotFound));
      EXPECT_FALSE(after) << "a value written after the forget returned is unreadable";
      ++erased;
    }
  }
  EXPECT_GT(erased, 0);
  EXPECT_GT(readable_after, 0);
  EXPECT_EQ(readable + erased, static_cast<int>(written.size()));
}

TEST_P(SubjectTest, TamperedStoreRowsFailClosed) {
  const std::string a = Encrypt("cust-a", "Alice", "order-1");
  const std::string b = Encrypt("cust-b", "Bob", "order-2");
  auto decrypt_a = [&] {
    auto fresh = MakeCryptor(store_);
    return fresh->DecryptValue("orders.customer_name", "cust-a", a, "order-1").status();
  };
  ASSERT_THAT(decrypt_a(), IsOk());
  const std::string zeros(64, '0');
  // Swap the keys of the two customers (wrapped key and key id: all but the lookup), so
  // that only the lookup bound into the wrap tells the rows apart.
  auto rows = store_->List("", 10);
  ASSERT_THAT(rows, IsOk());
  std::vector<SubjectKeyRow> subjects;
  for (const SubjectKeyRow& row : *rows) {
    if (row.lookup != zeros) subjects.push_back(row);
  }
  ASSERT_EQ(subjects.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_THAT(env_->Sql(url_, absl::StrCat("UPDATE piicrypt_subject_keys SET wrapped = '",
                                             subjects[1 - i].wrapped,
                                             "', key_id = ", subjects[1 - i].key_id,
                                             " WHERE lookup = '", subjects[i].lookup, "'")),
                IsOk());
  }
  EXPECT_THAT(decrypt_a(), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_THAT(
      env_->Sql(url_, "UPDATE piicrypt_subject_keys SET key_id = key_id + 1 WHERE lookup <> '" +
                          zeros + "'"),
      IsOk());
  EXPECT_THAT(decrypt_a(), StatusIs(absl::StatusCode::kDataLoss));
  // A flipped character of the wrapped key, and a malformed one.
  ASSERT_THAT(env_->Sql(url_,
                        "UPDATE piicrypt_subject_keys SET wrapped = substr(wrapped, 1, 40) || "
                        "CASE substr(wrapped, 41, 1) WHEN 'A' THEN 'B' ELSE 'A' END || "
                        "substr(wrapped, 42) WHERE lookup = '" +
                            zeros + "'"),
              IsOk());
  EXPECT_THAT(SubjectCryptor::Create(*keyset_, *policy_, store_),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_THAT(env_->Sql(url_,
                        "UPDATE piicrypt_subject_keys SET wrapped = 'short' WHERE "
                        "lookup = '" +
                            zeros + "'"),
              IsOk());
  EXPECT_THAT(SubjectCryptor::Create(*keyset_, *policy_, store_),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_THAT(env_->Sql(url_, "UPDATE piicrypt_subject_keys SET key_id = 0"), IsOk());
  EXPECT_THAT(store_->List("", 10), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_P(SubjectTest, TamperedWrappedKeyOfOneSubjectFailsClosed) {
  const std::string a = Encrypt("cust-a", "Alice", "order-1");
  auto rows = store_->List("", 10);
  ASSERT_THAT(rows, IsOk());
  for (const SubjectKeyRow& row : *rows) {
    if (row.lookup == kLookupKeyRow) continue;
    std::string bad = row.wrapped;
    bad[40] = bad[40] == 'A' ? 'B' : 'A';
    ASSERT_THAT(store_->Replace(row.lookup, row.key_id, row.wrapped, bad), IsOkAndHolds(true));
  }
  auto fresh = MakeCryptor(store_);
  EXPECT_THAT(fresh->DecryptValue("orders.customer_name", "cust-a", a, "order-1"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(fresh->EncryptValue("orders.customer_name", "cust-a", "x", "order-1"),
              StatusIs(absl::StatusCode::kDataLoss));
}

// Store errors come from the one mapping of the database layer (src/db): a table dropped
// under an open store is kInvalidArgument naming what is missing, never kInternal.
TEST_P(SubjectTest, StoreErrorsUseTheDatabaseLayersMapping) {
  ASSERT_THAT(env_->Sql(url_, "DROP TABLE piicrypt_subject_keys"), IsOk());
  const std::string named = GetParam() == SubjectStoreKind::kSqlite
                                ? "no such table: piicrypt_subject_keys"
                                : "undefined table (SQLSTATE 42P01)";
  auto found = store_->Find(std::string(64, '1'));
  EXPECT_THAT(found, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(found.status().message(), HasSubstr(named));
  EXPECT_THAT(store_->Count(), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A store written by a newer library is refused when opened, not read with this one's
// rules; one this library made opens again.
TEST_P(SubjectTest, StoreOfANewerSchemaIsRefused) {
  ASSERT_THAT(SubjectKeyStore::Open(url_), IsOk());  // opened again: nothing to write
  ASSERT_THAT(env_->Sql(url_, "INSERT INTO piicrypt_subject_schema_version VALUES (2)"), IsOk());
  auto newer = SubjectKeyStore::Open(url_);
  EXPECT_THAT(newer, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(newer.status().message(), HasSubstr("schema version 2 is newer"));
}

// The cache: another cryptor (another process) sees a forget once its entry is older than
// the ttl, and at once if the entry was evicted for room.
TEST_P(SubjectTest, CacheIsBoundedInAgeAndSize) {
  SubjectCryptorOptions short_ttl;
  short_ttl.cache_ttl = absl::Milliseconds(300);
  auto other = MakeCryptor(store_, short_ttl);
  const std::string ct = Encrypt("cust-1", "Jane", "order-1");
  ASSERT_THAT(other->DecryptValue("orders.customer_name", "cust-1", ct, "order-1"), IsOk());
  ASSERT_THAT(cryptor_->Forget("cust-1"), IsOkAndHolds(true));
  EXPECT_THAT(other->DecryptValue("orders.customer_name", "cust-1", ct, "order-1"), IsOk());
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_THAT(other->DecryptValue("orders.customer_name", "cust-1", ct, "order-1"),
              StatusIs(absl::StatusCode::kNotFound));

  SubjectCryptorOptions one;
  one.cache_size = 1;
  auto small = MakeCryptor(store_, one);
  const std::string c2 = Encrypt("cust-2", "Ann", "order-2");
  ASSERT_THAT(small->DecryptValue("orders.customer_name", "cust-2", c2, "order-2"), IsOk());
  ASSERT_THAT(small->EncryptValue("orders.customer_name", "cust-3", "Bo", "order-3"), IsOk());
  ASSERT_THAT(cryptor_->Forget("cust-2"), IsOkAndHolds(true));
  EXPECT_THAT(small->DecryptValue("orders.customer_name", "cust-2", c2, "order-2"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(SubjectTest, RewrapMovesKeysUnderThePrimaryAndVerifies) {
  for (int i = 0; i < 7; ++i) Encrypt(absl::StrCat("cust-", i), "x", "order-1");
  const std::string ct = Encrypt("cust-1", "Jane", "order-1");
  auto before = VerifySubjectKeys(*keyset_, *store_, {});
  ASSERT_THAT(before, IsOk());
  EXPECT_EQ(before->current, 8);
  EXPECT_TRUE(before->Complete());
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  auto pending = VerifySubjectKeys(*keyset_, *store_, {});
  ASSERT_THAT(pending, IsOk());
  EXPECT_EQ(pending->not_primary, 8);
  EXPECT_FALSE(pending->Complete());
  SubjectRewrapOptions small_batches;
  small_batches.batch = 3;
  auto job = RewrapSubjectKeys(*keyset_, *store_, small_batches);
  ASSERT_THAT(job, IsOk());
  EXPECT_EQ(job->rewrapped, 8);
  EXPECT_EQ(job->walked, 8);
  auto again = RewrapSubjectKeys(*keyset_, *store_, small_batches);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->rewrapped, 0);
  EXPECT_EQ(again->current, 8);
  auto after = VerifySubjectKeys(*keyset_, *store_, {});
  ASSERT_THAT(after, IsOk());
  EXPECT_TRUE(after->Complete());
  EXPECT_THAT(MakeCryptor(store_)->DecryptValue("orders.customer_name", "cust-1", ct, "order-1"),
              IsOkAndHolds(std::string("Jane")));
  // A tampered row is counted, never rewrapped.
  ASSERT_THAT(env_->Sql(url_,
                        "UPDATE piicrypt_subject_keys SET key_id = key_id + 1 WHERE "
                        "lookup <> '" +
                            std::string(64, '0') + "'"),
              IsOk());
  auto tampered = VerifySubjectKeys(*keyset_, *store_, {});
  ASSERT_THAT(tampered, IsOk());
  EXPECT_EQ(tampered->failed, 7);
}

std::string StoreName(const ::testing::TestParamInfo<SubjectStoreKind>& info) {
  return info.param == SubjectStoreKind::kSqlite ? "Sqlite" : "Postgres";
}
INSTANTIATE_TEST_SUITE_P(Sqlite, SubjectTest, ::testing::Values(SubjectStoreKind::kSqlite),
                         StoreName);
INSTANTIATE_TEST_SUITE_P(Postgres, SubjectTest, ::testing::Values(SubjectStoreKind::kPostgres),
                         StoreName);

TEST(SubjectPolicyTest, SubjectFieldsAreRandomizedAndRefusedByFieldCryptor) {
  EXPECT_THAT(Policy::ParseTextProto(R"pb(field {
                                            name: "a.b"
                                            mode: MODE_DETERMINISTIC
                                            subject {}
                                          })pb"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Policy::ParseTextProto(R"pb(field {
                                            name: "a.b"
                                            mode: MODE_RANDOMIZED
                                            subject { column: "x y" }
                                          })pb"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto policy = Policy::ParseTextProto(kPolicy);
  ASSERT_THAT(policy, IsOk());
  ASSERT_NE(policy->Find("orders.customer_name"), nullptr);
  EXPECT_EQ(policy->Find("orders.customer_name")->subject->column, "customer_id");
  auto keyset = Keyset::Generate();
  ASSERT_THAT(keyset, IsOk());
  auto cryptor = FieldCryptor::Create(*keyset, *policy);
  ASSERT_THAT(cryptor, IsOk());
  EXPECT_THAT((*cryptor)->EncryptValue("orders.customer_name", "Jane", "order-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT((*cryptor)->EncryptValue("orders.note", "hi"), IsOk());
}

// On SQLite a forgotten subject's wrapped key is gone from the file and its log, not only
// from the table.
TEST(SubjectSqliteTest, ForgetLeavesNoCopyInTheFile) {
  SubjectStoreEnv env(SubjectStoreKind::kSqlite);
  std::string error;
  const std::string url = env.NewUrl(&error);
  auto keyset = Keyset::Generate();
  auto policy = Policy::ParseTextProto(kPolicy);
  ASSERT_THAT(keyset, IsOk());
  ASSERT_THAT(policy, IsOk());
  std::shared_ptr<const SubjectKeyStore> store = *SubjectKeyStore::Open(url);
  auto cryptor = SubjectCryptor::Create(*keyset, *policy, store);
  ASSERT_THAT(cryptor, IsOk());
  ASSERT_THAT((*cryptor)->EncryptValue("orders.customer_name", "cust-1", "x", "o"), IsOk());
  std::string wrapped;
  auto rows = store->List("", 10);
  ASSERT_THAT(rows, IsOk());
  for (const SubjectKeyRow& row : *rows) {
    if (row.lookup != kLookupKeyRow) wrapped = row.wrapped;
  }
  ASSERT_FALSE(wrapped.empty());
  auto file = [&] {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      FILE* f = fopen((url.substr(7) + suffix).c_str(), "rb");
      if (f == nullptr) continue;
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, f)) > 0) all.append(buf, n);
      fclose(f);
    }
    return all;
  };
  ASSERT_THAT(file(), HasSubstr(wrapped));
  ASSERT_THAT((*cryptor)->Forget("cust-1"), IsOkAndHolds(true));
  EXPECT_THAT(file(), ::testing::Not(HasSubstr(wrapped)));
}

}  // namespace
}  // namespace piicrypt
