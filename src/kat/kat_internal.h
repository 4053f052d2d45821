// kat_internal.h: the schema runners behind kat::RunFile. Each checks every case of one
// parsed Wycheproof document, forward side and decrypt side (decrypt_side.h), and adds
// to `result`.
#ifndef PIICRYPT_SRC_KAT_KAT_INTERNAL_H_
#define PIICRYPT_SRC_KAT_KAT_INTERNAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "src/kat/decrypt_side.h"
#include "src/kat/kat.h"

namespace piicrypt::kat::internal {

// A case's "result" field. kUnknown (absent or another word) makes the case fail as
// malformed.
enum class Expected { kValid, kInvalid, kAcceptable, kUnknown };
Expected ExpectedResult(const nlohmann::json& test);

// The member `name` of `object` if it is an integer that fits an int; `absent` if there is
// no such member; 0 for another number (1e300, 2^40), which no caller takes as a usable
// value. Throws nlohmann::json::type_error, as json::value does, for a member that is not
// a number. Reads "tcId" without a float-to-int overflow.
int IntMember(const nlohmann::json& object, const char* name, int absent);

// Records one case: `passed` is the runner's verdict for the case's expected result;
// `detail` explains a failure (the reason starts with "valid case failed", "invalid
// case accepted" or "acceptable case wrong" by the expected result).
void Record(FileResult& result, const nlohmann::json& test, bool passed, const std::string& detail);

// Records a case that cannot be evaluated (a malformed field): it fails whatever its
// expected result, with "malformed test case: " and `why`.
void RecordMalformed(FileResult& result, const nlohmann::json& test, const std::string& why);

// What a runner saw of a case whose output is authenticated (AEAD, SIV, MAC): the
// forward side computed from the case's input, the decrypt or verify side fed the
// case's output.
struct AuthenticatedOutcome {
  bool forward_matches = false;  // encrypt/compute produced exactly the case's output
  bool opened = false;           // decrypt/verify accepted the case's output
  bool opened_matches = false;   // ... and gave back exactly the case's plaintext
};
// valid: forward_matches, opened and opened_matches. invalid: not opened, and the forward
// side did not produce the invalid output. acceptable: rejected, or opened correctly.
void RecordAuthenticated(FileResult& result, const nlohmann::json& test,
                         const AuthenticatedOutcome& outcome);

// Decodes a hex field of a test case; false on a missing field or bad hex.
bool HexField(const nlohmann::json& test, const char* name, std::string& out);

// Runs a parsed document with the given decrypt side (kat::RunFile: PiicryptDecryptSide()).
// The document's structure is checked first: every group an object with a "tests" array
// of objects, at least one case, and as many cases as "numberOfTests" says when present
// (kInvalidArgument otherwise).
absl::StatusOr<FileResult> RunDocument(const std::string& path, const nlohmann::json& doc,
                                       const DecryptSide& side);

// AES-GCM and AEAD-AES-SIV-CMAC; the group's tagSize is the tag length Open expects.
void RunAeadFile(const nlohmann::json& doc, FileResult& result,
                 const DecryptSide& side = PiicryptDecryptSide());
// AES-SIV-CMAC.
void RunDaeadFile(const nlohmann::json& doc, FileResult& result,
                  const DecryptSide& side = PiicryptDecryptSide());
// HMACSHA256; the group's tagSize is the tag length Verify expects.
void RunMacFile(const nlohmann::json& doc, FileResult& result,
                const DecryptSide& side = PiicryptDecryptSide());
// HKDF-SHA-256 (no decrypt side: an invalid case must be refused by the derivation).
void RunHkdfFile(const nlohmann::json& doc, FileResult& result,
                 const DecryptSide& side = PiicryptDecryptSide());

}  // namespace piicrypt::kat::internal

#endif  // PIICRYPT_SRC_KAT_KAT_INTERNAL_H_
