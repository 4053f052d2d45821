// SubjectKeyCache (src/subject/key_cache.h): bounded in size (least recently used evicted
// first) and age, and never caching a key read before a forget.
#include "src/subject/key_cache.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace piicrypt::internal {
namespace {

std::shared_ptr<const SubjectKeys> Keys(uint32_t id) {
  auto keys = std::make_shared<SubjectKeys>();
  keys->subject_key_id = id;
  return keys;
}

void Put(SubjectKeyCache& cache, const std::string& subject, uint32_t id) {
  cache.Put(subject, Keys(id), SubjectKeyCache::Now(), cache.epoch());
}

TEST(SubjectKeyCacheTest, AKeyReadBeforeAForgetIsNeverCached) {
  SubjectKeyCache cache(10, absl::Seconds(60));
  const uint64_t epoch = cache.epoch();  // a load starts: epoch read, then the store
  cache.Forget("cust-1");                // meanwhile the subject is forgotten
  cache.Put("cust-1", Keys(7), SubjectKeyCache::Now(), epoch);
  EXPECT_EQ(cache.Get("cust-1"), nullptr);
  Put(cache, "cust-1", 8);  // a load that started after the forget is cached
  ASSERT_NE(cache.Get("cust-1"), nullptr);
  EXPECT_EQ(cache.Get("cust-1")->subject_key_id, 8u);
  cache.Forget("cust-1");
  EXPECT_EQ(cache.Get("cust-1"), nullptr);
}

TEST(SubjectKeyCacheTest, EvictsTheLeastRecentlyUsed) {
  SubjectKeyCache cache(2, absl::Seconds(60));
  Put(cache, "a", 1);
  Put(cache, "b", 2);
  ASSERT_NE(cache.Get("a"), nullptr);  // b is now the least recently used
  Put(cache, "c", 3);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
}

TEST(SubjectKeyCacheTest, EntriesExpire) {
  SubjectKeyCache cache(10, absl::Milliseconds(30));
  Put(cache, "a", 1);
  EXPECT_NE(cache.Get("a"), nullptr);
  absl::SleepFor(absl::Milliseconds(60));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace piicrypt::internal
