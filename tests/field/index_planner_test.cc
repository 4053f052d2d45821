// The blind-index planner (src/field/index_planner.h): projection of distinct values,
// the simulated index values, and the rule of its recommendation.
#include "src/field/index_planner.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;
using ::testing::HasSubstr;

// `count` addresses, each on `repeat` consecutive rows.
std::vector<std::string> Emails(int count, int repeat) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    for (int r = 0; r < repeat; ++r) out.push_back(absl::StrCat("customer", i, "@example.com"));
  }
  return out;
}

const BitsEstimate& At(const IndexPlan& plan, int bits) {
  return plan.estimates[static_cast<size_t>(bits - plan.estimates.front().bits)];
}

TEST(IndexPlannerTest, EveryRowANewValueScalesLinearly) {
  IndexPlanOptions o;
  o.expected_rows = 1000000;
  auto plan = PlanBlindIndex(Emails(2000, 1), Normalizer::kEmail, "", o);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->sample_distinct, 2000);
  EXPECT_DOUBLE_EQ(plan->growth_exponent, 1.0);
  EXPECT_EQ(plan->expected_distinct, 1000000);
  ASSERT_EQ(plan->estimates.size(), 57u);  // 8..64
  // 2^8 index values for a million values: about 3906 each.
  EXPECT_NEAR(At(*plan, 8).median_values, 1e6 / 256, 1e6 / 256 * 0.1);
  EXPECT_NEAR(At(*plan, 8).false_positives, (1e6 - 1) / 256, 1e-6);
  EXPECT_EQ(At(*plan, 64).min_values, 1);
  EXPECT_GT(At(*plan, 64).alone, 0.999);
  EXPECT_EQ(At(*plan, 8).alone, 0);
}

TEST(IndexPlannerTest, RecommendsTheMostBitsKeepingEveryIndexValueShared) {
  IndexPlanOptions o;
  o.expected_rows = 200000;
  o.min_values = 3;
  o.max_false_positives = 1000;
  auto plan = PlanBlindIndex(Emails(5000, 2), Normalizer::kEmail, "", o);
  ASSERT_THAT(plan, IsOk());
  EXPECT_NEAR(plan->growth_exponent, 0.0, 1e-9) << "every value seen in both halves";
  EXPECT_EQ(plan->expected_distinct, 5000);
  const int r = plan->recommended_bits;
  EXPECT_GE(At(*plan, r).min_values, 3);
  for (const BitsEstimate& e : plan->estimates) {
    if (e.bits > r) {
      EXPECT_LT(e.min_values, 3) << e.bits;
    }
  }
  EXPECT_TRUE(plan->within_bounds);
  EXPECT_THAT(plan->rule, HasSubstr("at least 3 distinct values"));
  // With a tight bound on false positives the length stays, and the plan says so.
  o.max_false_positives = 1;
  auto tight = PlanBlindIndex(Emails(5000, 2), Normalizer::kEmail, "", o);
  ASSERT_THAT(tight, IsOk());
  EXPECT_FALSE(tight->within_bounds);
  EXPECT_THAT(tight->rule, HasSubstr("above the bound"));
}

TEST(IndexPlannerTest, NormalizesAndCountsRefusedValues) {
  IndexPlanOptions o;
  o.expected_rows = 100;
  auto plan = PlanBlindIndex({"Jane@Example.com", " jane@example.com", "nope", "bob@example.com"},
                             Normalizer::kEmail, "", o);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->sample_rows, 4);
  EXPECT_EQ(plan->refused, 1);
  EXPECT_EQ(plan->sample_distinct, 2);
  EXPECT_THAT(PlanBlindIndex({"nope"}, Normalizer::kEmail, "", o),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(IndexPlannerTest, AClosedSetOfValuesHasNoSafeLength) {
  IndexPlanOptions o;
  o.expected_rows = 1000000;
  std::vector<std::string> countries;
  for (int i = 0; i < 300; ++i) countries.push_back(i % 3 == 0 ? "AU" : i % 3 == 1 ? "GB" : "NZ");
  auto plan = PlanBlindIndex(countries, Normalizer::kExact, "", o);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->expected_distinct, 3);
  EXPECT_FALSE(plan->within_bounds);
  EXPECT_EQ(plan->recommended_bits, 8);
  EXPECT_THAT(plan->rule, HasSubstr("no candidate length"));
}

TEST(IndexPlannerTest, LargeColumnsAreSimulatedAtFewerBits) {
  IndexPlanOptions o;
  o.expected_rows = 20000000;
  o.max_bits = 24;
  auto plan = PlanBlindIndex(Emails(1000, 1), Normalizer::kEmail, "", o);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->expected_distinct, 20000000);
  EXPECT_EQ(plan->scale_shift, 3);  // 20M / 8 = 2.5M <= 2^22
  EXPECT_NEAR(At(*plan, 16).median_values, 2e7 / 65536, 2e7 / 65536 * 0.15);
}

TEST(IndexPlannerTest, BadOptionsAreRefused) {
  IndexPlanOptions o;
  EXPECT_THAT(PlanBlindIndex({"a"}, Normalizer::kExact, "", o),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o.expected_rows = 10;
  o.min_bits = 4;
  EXPECT_THAT(PlanBlindIndex({"a"}, Normalizer::kExact, "", o),
              StatusIs(absl::StatusCode::kInvalidArgument));
  o.min_bits = 8;
  EXPECT_THAT(PlanBlindIndex({"+61 2 5550 0199"}, Normalizer::kPhone, "XX", o),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace piicrypt::internal
