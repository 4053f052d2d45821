// index_planner.h: how many bits a blind index should keep, from a sample of the column.
//
// A blind index cut to `bits` puts each value into one of 2^bits index values. Too few
// bits and a lookup returns many rows of other values (false positives to fetch, decrypt
// and drop); too many and each rare value gets an index value of its own, so the index is
// an exact fingerprint of it: whoever reads the database sees which rows share it, and
// anyone who later learns one row's value learns every row with that index value.
//
//   PIICRYPT_ASSIGN_OR_RETURN(IndexPlan plan,
//                             PlanBlindIndex(values, Normalizer::kEmail, "", options));
//   // plan.recommended_bits, plan.rule, plan.estimates (one per candidate bit length)
//
// The planner normalizes the sample as the index would, then simulates the index at the
// expected size. The expected number of distinct values follows Heaps' law, D(n) = a n^g,
// fitted to the sample (g from the distinct values of every other row against all rows:
// 1 when every row has a new value, 0 when the values are a closed set such as
// countries), clamped to 0..1 and to `expected_rows`; that many values (the sample's own
// normalized values, then further distinct stand-ins) are put through HMAC-SHA256 under a
// random key and cut to every candidate length, counting the distinct values that share
// each index value. Above kMaxSimulatedValues distinct values, a 2^-s share of them is
// simulated at s fewer bits: the same values per index value on average, over fewer
// index values (the smallest count is then slightly overstated).
//
// The recommendation (docs/FIELDS.md, "Choosing bits"): the most bits at which every index
// value in use is still shared by at least `min_values` distinct values, so that no value
// is singled out. Its false positives per lookup are compared with
// `max_false_positives`; when they exceed it, the plan says so (privacy is kept, lookups
// cost more) rather than recommend a fingerprinting length.
#ifndef PIICRYPT_SRC_FIELD_INDEX_PLANNER_H_
#define PIICRYPT_SRC_FIELD_INDEX_PLANNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/export.h"
#include "piicrypt/policy.h"

namespace piicrypt::internal {

// Distinct values simulated at most (2^22); see above.
inline constexpr int64_t kMaxSimulatedValues = int64_t{1} << 22;

struct IndexPlanOptions {
  // The number of rows the column is expected to hold (in a few years). REQUIRED: >= 1.
  int64_t expected_rows = 0;
  // Candidate bit lengths. REQUIRES: 8 <= min_bits <= max_bits <= 64.
  int min_bits = 8;
  int max_bits = 64;
  // Distinct values every index value in use should be shared by. REQUIRES: >= 1.
  int64_t min_values = 2;
  // Bound on the expected rows of other values a lookup returns. REQUIRES: > 0.
  double max_false_positives = 100;
};

// The index at one bit length, at the expected size.
struct BitsEstimate {
  int bits = 0;
  // Expected rows of other values that share a looked-up value's index value.
  double false_positives = 0;
  // Distinct values sharing an index value, over the index values in use.
  int64_t min_values = 0;
  double median_values = 0;
  // Share of the distinct values that are alone on their index value (fingerprinted).
  double alone = 0;
};

struct IndexPlan {
  int64_t sample_rows = 0;      // values read
  int64_t refused = 0;          // of them: refused by the normalizer (never indexed)
  int64_t sample_distinct = 0;  // distinct normalized values
  int64_t expected_rows = 0;
  int64_t expected_distinct = 0;
  double growth_exponent = 0;           // g of Heaps' law, fitted to the sample
  int scale_shift = 0;                  // s: 2^-s of the expected distinct values were simulated
  std::vector<BitsEstimate> estimates;  // min_bits..max_bits
  int recommended_bits = 0;
  // The recommendation's reason, one sentence in English with its figures.
  std::string rule;
  // False when the recommended length exceeds max_false_positives, or no length keeps
  // min_values (a column with fewer distinct values than that).
  bool within_bounds = false;
};

// Plans a blind index for a column whose sample is `values` (plaintext, one per row),
// normalized by `normalizer` (`region`: the phone normalizer's default region).
// kInvalidArgument for bad options, an unknown region, or a sample without a single value
// that normalizes.
PIICRYPT_EXPORT absl::StatusOr<IndexPlan> PlanBlindIndex(absl::Span<const std::string> values,
                                                         Normalizer normalizer,
                                                         absl::string_view region,
                                                         const IndexPlanOptions& options);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_INDEX_PLANNER_H_
