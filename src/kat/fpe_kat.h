// fpe_kat.h: Wycheproof runners for FF1 (algorithm "AES-FF1"), for any radix and any
// alphabet:
//   fpe_list_test_schema.json (FpeListTest): msg and ct are lists of numerals, the
//     group's "radix" gives their range;
//   fpe_str_test_schema.json (FpeStrTest): msg and ct are strings over the group's
//     "alphabet" (UTF-8, taken as Unicode code points; a character's numeral is its
//     position in the alphabet).
//
// Every case is checked: a valid case must encrypt msg to ct and decrypt ct back to msg,
// an invalid case must be rejected, an acceptable case may go either way. One policy is
// explicit: a case flagged "SmallMessageSize" that Wycheproof marks valid but whose domain
// radix^len is below the 1,000,000 of SP 800-38G Rev. 1 counts as passed when it is
// rejected, and the file's notes say how many cases were counted so.
#ifndef PIICRYPT_SRC_KAT_FPE_KAT_H_
#define PIICRYPT_SRC_KAT_FPE_KAT_H_

#include "nlohmann/json_fwd.hpp"
#include "src/kat/kat.h"

namespace piicrypt::kat::internal {

void RunFpeListFile(const nlohmann::json& doc, FileResult& result);  // AES-FF1, lists
void RunFpeStrFile(const nlohmann::json& doc, FileResult& result);   // AES-FF1, strings

}  // namespace piicrypt::kat::internal

#endif  // PIICRYPT_SRC_KAT_FPE_KAT_H_
