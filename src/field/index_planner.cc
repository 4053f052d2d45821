#include "src/field/index_planner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "src/crypto/hmac.h"
#include "src/crypto/random.h"
#include "src/field/value_normalizer.h"

namespace piicrypt::internal {
namespace {

absl::Status CheckOptions(const IndexPlanOptions& o) {
  if (o.expected_rows < 1) return absl::InvalidArgumentError("expected rows must be >= 1");
  if (o.min_bits < 8 || o.max_bits > 64 || o.min_bits > o.max_bits) {
    return absl::InvalidArgumentError("candidate bits must lie within 8..64");
  }
  if (o.min_values < 1) return absl::InvalidArgumentError("values per index value must be >= 1");
  if (!(o.max_false_positives > 0)) {
    return absl::InvalidArgumentError("the false-positive bound must be positive");
  }
  return absl::OkStatus();
}

// The first 64 bits of HMAC-SHA256(key, message), big-endian: every index length's
// index value is a prefix of it.
absl::StatusOr<uint64_t> Prefix64(const HmacSha256& hmac, absl::string_view message) {
  HmacSha256::Tag tag;
  PIICRYPT_RETURN_IF_ERROR(hmac.Compute(message, tag));
  uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | tag[i];
  return out;
}

// The 64-bit prefixes of `count` distinct values: the sample's normalized values first,
// then stand-ins ("r" and "s" keep the two apart), sorted.
absl::StatusOr<std::vector<uint64_t>> SimulatedPrefixes(const std::vector<std::string>& distinct,
                                                        int64_t count) {
  SecretData key(32);
  PIICRYPT_RETURN_IF_ERROR(RandomNonce(absl::MakeSpan(key)));
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<HmacSha256> hmac, HmacSha256::Create(key));
  std::vector<uint64_t> prefixes;
  prefixes.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const std::string message = static_cast<size_t>(i) < distinct.size()
                                    ? absl::StrCat("r", distinct[static_cast<size_t>(i)])
                                    : absl::StrCat("s", i);
    PIICRYPT_ASSIGN_OR_RETURN(uint64_t prefix, Prefix64(*hmac, message));
    prefixes.push_back(prefix);
  }
  std::sort(prefixes.begin(), prefixes.end());
  return prefixes;
}

// Distinct values per index value in use, for index values of `bits` bits (0: one).
BitsEstimate CountShares(const std::vector<uint64_t>& sorted, int bits) {
  std::vector<int64_t> sizes;
  const auto key = [bits](uint64_t p) { return bits <= 0 ? 0 : p >> (64 - bits); };
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && key(sorted[j]) == key(sorted[i])) ++j;
    sizes.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  BitsEstimate e;
  e.min_values = *std::min_element(sizes.begin(), sizes.end());
  const size_t mid = sizes.size() / 2;
  std::nth_element(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(mid), sizes.end());
  e.median_values = static_cast<double>(sizes[mid]);
  if (sizes.size() % 2 == 0) {
    const int64_t below =
        *std::max_element(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(mid));
    e.median_values = (e.median_values + static_cast<double>(below)) / 2;
  }
  const int64_t alone = std::count(sizes.begin(), sizes.end(), int64_t{1});
  e.alone = static_cast<double>(alone) / static_cast<double>(sorted.size());
  return e;
}

// Chooses the recommended length and writes its rule.
void Recommend(const IndexPlanOptions& o, IndexPlan& plan) {
  const BitsEstimate* chosen = nullptr;
  for (const BitsEstimate& e : plan.estimates) {
    if (e.min_values >= o.min_values) chosen = &e;
  }
  if (chosen == nullptr) {
    chosen = &plan.estimates.front();
    plan.recommended_bits = chosen->bits;
    plan.within_bounds = false;
    plan.rule = absl::StrFormat(
        "no candidate length keeps every index value shared by %d distinct values (the column "
        "is expected to hold only about %d distinct values): the fewest bits, %d, reveal the "
        "least; consider deterministic encryption instead of an index",
        o.min_values, plan.expected_distinct, chosen->bits);
    return;
  }
  plan.recommended_bits = chosen->bits;
  plan.within_bounds = chosen->false_positives <= o.max_false_positives;
  plan.rule = absl::StrFormat(
      "the most bits at which every index value is still shared by at least %d distinct "
      "values (none is singled out; at %d bits the smallest share is %d, the median %g), "
      "with about %.3g false positives per lookup%s",
      o.min_values, chosen->bits, chosen->min_values, chosen->median_values,
      chosen->false_positives,
      plan.within_bounds
          ? absl::StrFormat(" (bound %g)", o.max_false_positives)
          : absl::StrFormat(", above the bound of %g: lookups will fetch and drop that many "
                            "rows; more bits would single values out",
                            o.max_false_positives));
}

}  // namespace

absl::StatusOr<IndexPlan> PlanBlindIndex(absl::Span<const std::string> values,
                                         Normalizer normalizer, absl::string_view region,
                                         const IndexPlanOptions& options) {
  PIICRYPT_RETURN_IF_ERROR(CheckOptions(options));
  PIICRYPT_ASSIGN_OR_RETURN(ValueNormalizer normalize, ValueNormalizer::Create(normalizer, region));
  IndexPlan plan;
  plan.sample_rows = static_cast<int64_t>(values.size());
  plan.expected_rows = options.expected_rows;
  std::unordered_set<std::string> seen;
  std::unordered_set<std::string> half;  // the distinct values of every other row
  std::vector<std::string> distinct;
  int64_t indexed = 0;
  for (const std::string& value : values) {
    absl::StatusOr<std::string> n = normalize.Normalize(value);
    if (!n.ok()) {
      ++plan.refused;
      continue;
    }
    if (indexed++ % 2 == 0) half.insert(*n);
    if (seen.insert(*n).second) distinct.push_back(*std::move(n));
  }
  if (indexed == 0) {
    return absl::InvalidArgumentError(absl::StrCat("none of the ", plan.sample_rows,
                                                   " values normalizes (",
                                                   NormalizerName(normalizer), " normalizer)"));
  }
  plan.sample_distinct = static_cast<int64_t>(distinct.size());
  // Heaps' law, D(n) = a * n^exponent, through the two points (n/2, D(half)) and (n, D).
  plan.growth_exponent = indexed < 2
                             ? 1.0
                             : std::clamp(std::log2(static_cast<double>(plan.sample_distinct) /
                                                    static_cast<double>(half.size())),
                                          0.0, 1.0);
  const double scaled =
      static_cast<double>(plan.sample_distinct) *
      std::pow(static_cast<double>(options.expected_rows) / static_cast<double>(indexed),
               plan.growth_exponent);
  plan.expected_distinct = std::clamp<int64_t>(std::llround(scaled), 1, options.expected_rows);
  while ((plan.expected_distinct >> plan.scale_shift) > kMaxSimulatedValues) ++plan.scale_shift;
  PIICRYPT_ASSIGN_OR_RETURN(
      std::vector<uint64_t> prefixes,
      SimulatedPrefixes(distinct,
                        std::max<int64_t>(1, plan.expected_distinct >> plan.scale_shift)));
  const double rows = static_cast<double>(options.expected_rows);
  const double rows_per_value = rows / static_cast<double>(plan.expected_distinct);
  for (int bits = options.min_bits; bits <= options.max_bits; ++bits) {
    BitsEstimate e = CountShares(prefixes, bits - plan.scale_shift);
    e.bits = bits;
    e.false_positives = (rows - rows_per_value) * std::ldexp(1.0, -bits);
    plan.estimates.push_back(e);
  }
  Recommend(options, plan);
  return plan;
}

}  // namespace piicrypt::internal
