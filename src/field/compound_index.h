// compound_index.h: compound and transformed blind indexes (policy.h, CompoundIndexRule).
//
// The format (docs/SPEC.md, "Compound and transformed indexes"):
//
//   key   = HKDF-SHA256(root, info = "piicrypt/v1/cidx/" || DEFINITION), 32 bytes
//   DEFINITION = lp(name) || u16(bits) || u8(part count)
//                || for each part: lp(field) || u8(transform) || u8(n)
//                                  || lp(normalizer name) || lp(default_region)
//   index = hex(truncate(HMAC-SHA256(key, lp(t_1) || ... || lp(t_k)), bits))
//
// where t_i is part i's value through its transform and lp(x) = u32(len(x)) || x. The
// definition binds the name and every part, so two indexes never share a key, and the
// length prefixes keep ("ab", "c") apart from ("a", "bc").
#ifndef PIICRYPT_SRC_FIELD_COMPOUND_INDEX_H_
#define PIICRYPT_SRC_FIELD_COMPOUND_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "src/field/value_normalizer.h"

namespace piicrypt::internal {

// The DEFINITION of a validated index (the HKDF context).
std::string CompoundIndexDefinition(const CompoundIndexRule& index);

// One part's transform, ready to run.
class PartTransform {
 public:
  // REQUIRES: `part` validated (Policy::Create), so its normalizer is resolved.
  static absl::StatusOr<PartTransform> Create(const IndexPart& part);
  // The part's value through its transform; kInvalidArgument naming the problem (never
  // the value) when the value does not fit (too few digits, not an e-mail address).
  absl::StatusOr<std::string> Apply(absl::string_view value) const;

 private:
  PartTransform(IndexPart part, ValueNormalizer normalizer)
      : part_(std::move(part)), normalizer_(std::move(normalizer)) {}
  IndexPart part_;
  ValueNormalizer normalizer_;
};

// A compound index under the keys of a keyset: computes and looks up its values.
// Thread safety: const and safe to call from many threads.
class CompoundIndexer {
 public:
  // The index's transforms, and its HMAC keys under every ENABLED key, the primary's first.
  static absl::StatusOr<std::unique_ptr<CompoundIndexer>> Create(const Keyset& keyset,
                                                                 const CompoundIndexRule& index);
  ~CompoundIndexer();

  const CompoundIndexRule& rule() const { return rule_; }
  // Part `i`'s value through its transform (what a lookup compares after decryption).
  absl::StatusOr<std::string> Transform(size_t i, absl::string_view value) const;
  // The index values of `values` (one per part, in order), under every enabled key, the
  // primary's first; only the primary's when `all_keys` is false. Errors name the index and
  // the part's field.
  absl::StatusOr<std::vector<std::string>> Compute(absl::Span<const absl::string_view> values,
                                                   bool all_keys) const;

 private:
  struct KeyedMac;
  CompoundIndexer(CompoundIndexRule rule, std::vector<PartTransform> transforms);
  CompoundIndexRule rule_;
  std::vector<PartTransform> transforms_;
  std::vector<std::unique_ptr<KeyedMac>> macs_;  // the primary's first
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_COMPOUND_INDEX_H_
