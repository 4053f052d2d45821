// forget_step.h: the demo's erasure step (docs/DEMO.md, step 8): customers' names and
// delivery addresses kept under keys of their own (piicrypt::SubjectCryptor), a backup stolen,
// one customer forgotten, and what the stolen backup still yields.
#ifndef PIICRYPT_EXAMPLES_ORDER_STORE_FORGET_STEP_H_
#define PIICRYPT_EXAMPLES_ORDER_STORE_FORGET_STEP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "synthetic.h"

namespace order_store {

struct ForgetOutcome {
  int64_t orders = 0;            // orders whose customer profile was written under subject keys
  int64_t customers = 0;         // distinct customers among them
  std::string forgotten;         // the id of the customer who asked to be erased
  int64_t forgotten_values = 0;  // their values in the stolen backup
  int64_t other_values = 0;      // everyone else's values in the stolen backup
  // Values of the stolen backup the live shop opens after the forget (keyset, KEK and the
  // live subject key store): all of the others', none of the forgotten customer's.
  int64_t live_forgotten = 0;
  int64_t live_others = 0;
  // The same with the backup's own copy of the subject key store, before and after the
  // keys it was wrapped under were rotated away and destroyed.
  int64_t copy_forgotten_before = 0;
  int64_t copy_values_after = 0;
};

// Runs the step in `dir` (the shop's db/ directory; the stolen copy goes to `backup_dir`),
// over the first few hundred of `orders`.
absl::StatusOr<ForgetOutcome> RunForgetStep(const std::vector<Order>& orders,
                                            const std::string& dir, const std::string& backup_dir);

}  // namespace order_store

#endif  // PIICRYPT_EXAMPLES_ORDER_STORE_FORGET_STEP_H_
