// policy_internal.h: the textproto form of a policy (proto/piicrypt/policy.proto) and its
// conversion to the public FieldRule, shared by Policy and MessageCryptor's inline rules.
#ifndef PIICRYPT_SRC_FIELD_POLICY_INTERNAL_H_
#define PIICRYPT_SRC_FIELD_POLICY_INTERNAL_H_

#include "absl/status/statusor.h"
#include "piicrypt/policy.h"
#include "piicrypt/policy.pb.h"

namespace piicrypt::internal {

// Converts one rule; `fallback_name` is used when the rule has no name (inline rules).
// Errors (an unknown normalizer, unspecified mode) name the field.
PIICRYPT_EXPORT absl::StatusOr<FieldRule> RuleFromProto(const piicrypt::policy::FieldRule& proto,
                                                        absl::string_view fallback_name = {});

// Validates one rule and resolves its defaults (kind, normalizer, mask, codec context).
absl::Status ValidateAndResolve(FieldRule& rule);

// Converts one compound index (an unknown normalizer or missing transform is an error
// naming the index), and validates it against the fields of `policy`, resolving its
// defaults (column, each part's normalizer).
absl::StatusOr<CompoundIndexRule> IndexFromProto(const piicrypt::policy::Index& proto);
absl::Status ValidateAndResolveIndex(const Policy& policy, CompoundIndexRule& index);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_FIELD_POLICY_INTERNAL_H_
