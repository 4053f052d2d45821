// bench_util.h: the set-up the benchmarks share.
//
// The order fields they encrypt are the tests' (tests/order_fixture.h), so that a benchmark
// measures what the tests check.
#ifndef PIICRYPT_BENCH_BENCH_UTIL_H_
#define PIICRYPT_BENCH_BENCH_UTIL_H_

#include <memory>
#include <utility>

#include "absl/strings/string_view.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "tests/order_fixture.h"

namespace piicrypt::bench {

// A FieldCryptor over a fresh keyset and the policy in `policy_text`; nullptr when any step
// fails (the benchmark then stops with SkipWithError).
inline std::unique_ptr<FieldCryptor> NewFieldCryptor(absl::string_view policy_text) {
  auto keyset = Keyset::Generate();
  if (!keyset.ok()) return nullptr;
  auto policy = Policy::ParseTextProto(policy_text);
  if (!policy.ok()) return nullptr;
  auto cryptor = FieldCryptor::Create(*keyset, *policy);
  return cryptor.ok() ? *std::move(cryptor) : nullptr;
}

}  // namespace piicrypt::bench

#endif  // PIICRYPT_BENCH_BENCH_UTIL_H_
