// Schema runners for AEAD (AES-GCM, AEAD-AES-SIV-CMAC), DAEAD (AES-SIV-CMAC), MAC
// (HMAC-SHA256) and HKDF-SHA256 Wycheproof files. Each case is run forward with
// piicrypt's primitive and backward through the DecryptSide; kat.cc judges the two.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/crypto/hkdf.h"
#include "src/crypto/hmac.h"
#include "src/kat/kat_internal.h"

namespace piicrypt::kat::internal {
namespace {

using piicrypt::internal::AesGcm;
using piicrypt::internal::AesSiv;
using piicrypt::internal::HkdfSha256;
using piicrypt::internal::HmacSha256;

absl::Span<const uint8_t> U8(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
absl::Span<uint8_t> U8(std::string& s) {
  return absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size());
}

// Calls `fn(group, test)` for every test of every group (RunDocument has checked that
// every group has a "tests" array).
template <typename Fn>
void ForEachTest(const nlohmann::json& doc, Fn fn) {
  for (const auto& group : doc["testGroups"]) {
    for (const auto& test : group["tests"]) fn(group, test);
  }
}

// The group's "tagSize" in bytes, if it is a whole number of bytes in 1..max_bytes.
bool GroupTagBytes(const nlohmann::json& group, size_t max_bytes, size_t& bytes) {
  auto it = group.find("tagSize");
  if (it == group.end() || !it->is_number_unsigned()) return false;
  const uint64_t bits = it->get<uint64_t>();
  if (bits == 0 || bits % 8 != 0 || bits / 8 > max_bytes) return false;
  bytes = static_cast<size_t>(bits / 8);
  return true;
}

struct AeadCase {
  std::string key, iv, aad, msg, ct, tag;
};

bool ReadAeadCase(const nlohmann::json& test, AeadCase& c) {
  return HexField(test, "key", c.key) && HexField(test, "iv", c.iv) &&
         HexField(test, "aad", c.aad) && HexField(test, "msg", c.msg) &&
         HexField(test, "ct", c.ct) && HexField(test, "tag", c.tag);
}

void SetOpened(const absl::StatusOr<std::string>& opened, const std::string& msg,
               AuthenticatedOutcome& outcome) {
  outcome.opened = opened.ok();
  outcome.opened_matches = opened.ok() && *opened == msg;
}

// AES-GCM with the case's IV and the group's tag length, on both sides.
AuthenticatedOutcome RunGcmCase(const AeadCase& c, size_t tag_size, const DecryptSide& side) {
  AuthenticatedOutcome outcome;
  auto gcm = AesGcm::Create(U8(c.key));
  if (gcm.ok()) {
    std::string ct(c.msg.size(), '\0'), tag(tag_size, '\0');
    outcome.forward_matches =
        (*gcm)->Seal(c.iv, c.aad, c.msg, U8(ct), U8(tag)).ok() && ct == c.ct && tag == c.tag;
  }
  SetOpened(side.gcm_open(c.key, c.iv, c.aad, c.ct, c.tag, tag_size), c.msg, outcome);
  return outcome;
}

// AES-SIV as a nonce-based AEAD (RFC 5297 section 3): S2V(K1, AD, N, P); the tag is the
// SIV, which comes first in the output and is always kSivSize bytes.
AuthenticatedOutcome RunSivAeadCase(const AeadCase& c, const DecryptSide& side) {
  AuthenticatedOutcome outcome;
  const absl::string_view components[] = {c.aad, c.iv};
  auto siv = AesSiv::Create(U8(c.key));
  if (siv.ok()) {
    std::string out(c.msg.size() + AesSiv::kSivSize, '\0');
    outcome.forward_matches =
        (*siv)->Encrypt(components, c.msg, U8(out)).ok() && out == absl::StrCat(c.tag, c.ct);
  }
  // A tag of another length has no place in siv || ciphertext: it is rejected as such.
  if (c.tag.size() == AesSiv::kSivSize) {
    SetOpened(side.siv_decrypt(c.key, components, absl::StrCat(c.tag, c.ct)), c.msg, outcome);
  }
  return outcome;
}

}  // namespace

void RunAeadFile(const nlohmann::json& doc, FileResult& result, const DecryptSide& side) {
  const bool gcm = doc.value("algorithm", std::string()) == "AES-GCM";
  ForEachTest(doc, [&](const nlohmann::json& group, const nlohmann::json& test) {
    AeadCase c;
    size_t tag_size = 0;
    if (!ReadAeadCase(test, c)) return RecordMalformed(result, test, "bad hex field");
    if (!GroupTagBytes(group, gcm ? AesGcm::kTagSize : AesSiv::kSivSize, tag_size) ||
        (!gcm && tag_size != AesSiv::kSivSize)) {
      return RecordMalformed(result, test, "group tagSize is not supported");
    }
    RecordAuthenticated(result, test,
                        gcm ? RunGcmCase(c, tag_size, side) : RunSivAeadCase(c, side));
  });
}

void RunDaeadFile(const nlohmann::json& doc, FileResult& result, const DecryptSide& side) {
  ForEachTest(doc, [&](const nlohmann::json&, const nlohmann::json& test) {
    std::string key, aad, msg, ct;
    if (!HexField(test, "key", key) || !HexField(test, "aad", aad) || !HexField(test, "msg", msg) ||
        !HexField(test, "ct", ct)) {
      return RecordMalformed(result, test, "bad hex field");
    }
    AuthenticatedOutcome outcome;
    const absl::string_view components[] = {aad};
    auto siv = AesSiv::Create(U8(key));
    if (siv.ok()) {
      std::string out(msg.size() + AesSiv::kSivSize, '\0');
      outcome.forward_matches = (*siv)->Encrypt(components, msg, U8(out)).ok() && out == ct;
    }
    SetOpened(side.siv_decrypt(key, components, ct), msg, outcome);
    RecordAuthenticated(result, test, outcome);
  });
}

void RunMacFile(const nlohmann::json& doc, FileResult& result, const DecryptSide& side) {
  ForEachTest(doc, [&](const nlohmann::json& group, const nlohmann::json& test) {
    std::string key, msg, tag;
    size_t tag_size = 0;
    if (!HexField(test, "key", key) || !HexField(test, "msg", msg) || !HexField(test, "tag", tag)) {
      return RecordMalformed(result, test, "bad hex field");
    }
    if (!GroupTagBytes(group, HmacSha256::kTagSize, tag_size)) {
      return RecordMalformed(result, test, "group tagSize is not supported");
    }
    AuthenticatedOutcome outcome;
    auto hmac = HmacSha256::Create(U8(key));
    HmacSha256::Tag computed;
    outcome.forward_matches =
        hmac.ok() && (*hmac)->Compute(msg, computed).ok() &&
        std::string(reinterpret_cast<const char*>(computed.data()), tag_size) == tag;
    // A MAC has no plaintext to give back: verifying is opening.
    outcome.opened = outcome.opened_matches = side.hmac_verify(key, msg, tag, tag_size);
    RecordAuthenticated(result, test, outcome);
  });
}

void RunHkdfFile(const nlohmann::json& doc, FileResult& result, const DecryptSide&) {
  ForEachTest(doc, [&](const nlohmann::json&, const nlohmann::json& test) {
    std::string ikm, salt, info, okm;
    if (!HexField(test, "ikm", ikm) || !HexField(test, "salt", salt) ||
        !HexField(test, "info", info) || !HexField(test, "okm", okm) || !test.contains("size") ||
        !test["size"].is_number_unsigned()) {
      return RecordMalformed(result, test, "bad hex field or size");
    }
    auto out = HkdfSha256(U8(ikm), salt, info, test["size"].get<size_t>());
    const bool matches = out.ok() && std::string(out->begin(), out->end()) == okm;
    switch (ExpectedResult(test)) {
      case Expected::kValid:
        return Record(result, test, matches, matches ? "" : "output does not match");
      case Expected::kInvalid:  // the parameters are what is wrong: derivation must refuse
        return Record(result, test, !out.ok(), "derivation accepted the parameters");
      case Expected::kAcceptable:
        return Record(result, test, !out.ok() || matches, "output does not match");
      case Expected::kUnknown:
        return Record(result, test, false, "");
    }
  });
}

}  // namespace piicrypt::kat::internal
