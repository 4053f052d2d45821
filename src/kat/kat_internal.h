// kat_internal.h: the schema runners behind kat::RunFile. Each checks every case of one
// parsed Wycheproof document and adds to `result`.
#ifndef PIICRYPT_SRC_KAT_KAT_INTERNAL_H_
#define PIICRYPT_SRC_KAT_KAT_INTERNAL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "src/kat/kat.h"

namespace piicrypt::kat::internal {

// Records one case's outcome: `ok` says whether the implementation's behaviour matched
// the case's expected result ("valid" must succeed, "invalid" must fail; "acceptable"
// passes either way). `detail` explains a failure.
void Record(FileResult& result, const nlohmann::json& test, bool succeeded,
            const std::string& detail);

// The member `name` of `object` if it is an integer that fits an int; `absent` if there is
// no such member; 0 for another number (1e300, 2^40), which no caller takes as a usable
// value. Throws nlohmann::json::type_error, as json::value does, for a member that is not
// a number. Reads "tcId" and "tagSize" without a float-to-int overflow.
int IntMember(const nlohmann::json& object, const char* name, int absent);

// Decodes a hex field of a test case; returns false (and records a failure) on bad hex.
bool HexField(const nlohmann::json& test, const char* name, std::string& out);

void RunAeadFile(const nlohmann::json& doc, FileResult& result);   // AES-GCM, AEAD-AES-SIV-CMAC
void RunDaeadFile(const nlohmann::json& doc, FileResult& result);  // AES-SIV-CMAC
void RunMacFile(const nlohmann::json& doc, FileResult& result);    // HMACSHA256
void RunHkdfFile(const nlohmann::json& doc, FileResult& result);   // HKDF-SHA-256

}  // namespace piicrypt::kat::internal

#endif  // PIICRYPT_SRC_KAT_KAT_INTERNAL_H_
