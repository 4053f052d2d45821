// fpe_kat.h: Wycheproof runners for FF1 (algorithm "AES-FF1"), for any radix and any
// alphabet:
//   fpe_list_test_schema.json (FpeListTest): msg and ct are lists of numerals, the
//     group's "radix" gives their range;
//   fpe_str_test_schema.json (FpeStrTest): msg and ct are strings over the group's
//     "alphabet" (UTF-8, taken as Unicode code points; a character's numeral is its
//     position in the alphabet).
//
// Every case is checked on both sides: a valid case must encrypt msg to ct and the
// decrypt side (decrypt_side.h) must give msg back from ct; an invalid case must be
// rejected by encryption, and the decrypt side must not give msg back from its ct; an
// acceptable case may go either way. Whatever the expected result, the decrypt side
// must reject a ct that FF1 does not take (a bad key size, radix, length or numeral, or
// a domain radix^len below 1,000,000). One policy is explicit: a case flagged
// "SmallMessageSize" that Wycheproof marks valid but whose domain radix^len is below the
// 1,000,000 of SP 800-38G Rev. 1 counts as passed when both sides reject it, and the
// file's notes say how many cases were counted so.
#ifndef PIICRYPT_SRC_KAT_FPE_KAT_H_
#define PIICRYPT_SRC_KAT_FPE_KAT_H_

#include "nlohmann/json_fwd.hpp"
#include "src/kat/decrypt_side.h"
#include "src/kat/kat.h"

namespace piicrypt::kat::internal {

// AES-FF1 over numeral lists, and over strings.
void RunFpeListFile(const nlohmann::json& doc, FileResult& result,
                    const DecryptSide& side = PiicryptDecryptSide());
void RunFpeStrFile(const nlohmann::json& doc, FileResult& result,
                   const DecryptSide& side = PiicryptDecryptSide());

}  // namespace piicrypt::kat::internal

#endif  // PIICRYPT_SRC_KAT_FPE_KAT_H_
