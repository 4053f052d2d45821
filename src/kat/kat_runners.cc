// Schema runners for AEAD (AES-GCM, AEAD-AES-SIV-CMAC), DAEAD (AES-SIV-CMAC), MAC
// (HMAC-SHA256) and HKDF-SHA256 Wycheproof files.
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

// Calls `fn(group, test)` for every test of every group.
template <typename Fn>
void ForEachTest(const nlohmann::json& doc, FileResult& result, Fn fn) {
  for (const auto& group : doc["testGroups"]) {
    if (!group.contains("tests") || !group["tests"].is_array()) continue;
    for (const auto& test : group["tests"]) {
      std::string detail;
      const bool succeeded = fn(group, test, detail);
      Record(result, test, succeeded, detail);
    }
  }
}

struct AeadCase {
  std::string key, iv, aad, msg, ct, tag;
};

bool ReadAeadCase(const nlohmann::json& test, AeadCase& c, std::string& detail) {
  if (!HexField(test, "key", c.key) || !HexField(test, "iv", c.iv) ||
      !HexField(test, "aad", c.aad) || !HexField(test, "msg", c.msg) ||
      !HexField(test, "ct", c.ct) || !HexField(test, "tag", c.tag)) {
    detail = "malformed test case";
    return false;
  }
  return true;
}

// AES-GCM with the case's IV and tag length.
bool RunGcmCase(const AeadCase& c, std::string& detail) {
  auto gcm = AesGcm::Create(U8(c.key));
  if (!gcm.ok()) {
    detail = std::string(gcm.status().message());
    return false;
  }
  bool encrypt_ok = false;
  if (!c.tag.empty() && c.tag.size() <= AesGcm::kTagSize) {
    std::string ct(c.msg.size(), '\0'), tag(c.tag.size(), '\0');
    encrypt_ok = (*gcm)->Seal(c.iv, c.aad, c.msg, U8(ct), U8(tag)).ok() && ct == c.ct &&
                 tag == c.tag;
  }
  std::string pt(c.ct.size(), '\0');
  const absl::Status open = (*gcm)->Open(c.iv, c.aad, c.ct, c.tag, U8(pt));
  const bool decrypt_ok = open.ok() && pt == c.msg;
  if (!encrypt_ok) detail = "encryption does not match";
  if (!decrypt_ok) detail = absl::StrCat(detail, detail.empty() ? "" : "; ", "decryption failed");
  return encrypt_ok && decrypt_ok;
}

// AES-SIV as a nonce-based AEAD (RFC 5297 section 3): S2V(K1, AD, N, P); the tag is the
// SIV, which comes first in the output.
bool RunSivAeadCase(const AeadCase& c, std::string& detail) {
  auto siv = AesSiv::Create(U8(c.key));
  if (!siv.ok()) {
    detail = std::string(siv.status().message());
    return false;
  }
  const absl::string_view components[] = {c.aad, c.iv};
  std::string out(c.msg.size() + AesSiv::kSivSize, '\0');
  const bool encrypt_ok = (*siv)->Encrypt(components, c.msg, U8(out)).ok() &&
                          out == absl::StrCat(c.tag, c.ct);
  std::string pt(c.ct.size(), '\0');
  const bool decrypt_ok =
      (*siv)->Decrypt(components, absl::StrCat(c.tag, c.ct), U8(pt)).ok() && pt == c.msg;
  if (!encrypt_ok) detail = "encryption does not match";
  if (!decrypt_ok) detail = absl::StrCat(detail, detail.empty() ? "" : "; ", "decryption failed");
  return encrypt_ok && decrypt_ok;
}

}  // namespace

void RunAeadFile(const nlohmann::json& doc, FileResult& result) {
  const std::string algorithm = doc.value("algorithm", std::string());
  const bool gcm = algorithm == "AES-GCM";
  const bool siv = algorithm == "AEAD-AES-SIV-CMAC";
  ForEachTest(doc, result, [&](const nlohmann::json&, const nlohmann::json& test,
                               std::string& detail) {
    if (!gcm && !siv) {
      detail = absl::StrCat("algorithm \"", algorithm, "\" is not implemented");
      return false;
    }
    AeadCase c;
    if (!ReadAeadCase(test, c, detail)) return false;
    return gcm ? RunGcmCase(c, detail) : RunSivAeadCase(c, detail);
  });
}

void RunDaeadFile(const nlohmann::json& doc, FileResult& result) {
  const std::string algorithm = doc.value("algorithm", std::string());
  ForEachTest(doc, result, [&](const nlohmann::json&, const nlohmann::json& test,
                               std::string& detail) {
    if (algorithm != "AES-SIV-CMAC") {
      detail = absl::StrCat("algorithm \"", algorithm, "\" is not implemented");
      return false;
    }
    std::string key, aad, msg, ct;
    if (!HexField(test, "key", key) || !HexField(test, "aad", aad) ||
        !HexField(test, "msg", msg) || !HexField(test, "ct", ct)) {
      detail = "malformed test case";
      return false;
    }
    auto siv = AesSiv::Create(U8(key));
    if (!siv.ok()) {
      detail = std::string(siv.status().message());
      return false;
    }
    const absl::string_view components[] = {aad};
    std::string out(msg.size() + AesSiv::kSivSize, '\0');
    const bool encrypt_ok = (*siv)->Encrypt(components, msg, U8(out)).ok() && out == ct;
    bool decrypt_ok = false;
    if (ct.size() >= AesSiv::kSivSize) {
      std::string pt(ct.size() - AesSiv::kSivSize, '\0');
      decrypt_ok = (*siv)->Decrypt(components, ct, U8(pt)).ok() && pt == msg;
    }
    if (!encrypt_ok) detail = "encryption does not match";
    if (!decrypt_ok) detail = absl::StrCat(detail, detail.empty() ? "" : "; ", "decryption failed");
    return encrypt_ok && decrypt_ok;
  });
}

void RunMacFile(const nlohmann::json& doc, FileResult& result) {
  const std::string algorithm = doc.value("algorithm", std::string());
  ForEachTest(doc, result, [&](const nlohmann::json& group, const nlohmann::json& test,
                               std::string& detail) {
    if (algorithm != "HMACSHA256") {
      detail = absl::StrCat("algorithm \"", algorithm, "\" is not implemented");
      return false;
    }
    std::string key, msg, tag;
    if (!HexField(test, "key", key) || !HexField(test, "msg", msg) ||
        !HexField(test, "tag", tag)) {
      detail = "malformed test case";
      return false;
    }
    const int tag_bits = IntMember(group, "tagSize", 256);
    auto hmac = HmacSha256::Create(U8(key));
    if (!hmac.ok()) {
      detail = std::string(hmac.status().message());
      return false;
    }
    HmacSha256::Tag computed;
    const bool compute_ok =
        tag_bits % 8 == 0 && tag_bits > 0 && tag_bits <= 256 &&
        (*hmac)->Compute(msg, computed).ok() &&
        std::string(reinterpret_cast<const char*>(computed.data()), tag_bits / 8) == tag;
    const bool verify_ok = (*hmac)->Verify(msg, U8(tag));
    if (!compute_ok) detail = "tag does not match";
    if (!verify_ok) detail = absl::StrCat(detail, detail.empty() ? "" : "; ", "verify failed");
    return compute_ok && verify_ok;
  });
}

void RunHkdfFile(const nlohmann::json& doc, FileResult& result) {
  const std::string algorithm = doc.value("algorithm", std::string());
  ForEachTest(doc, result, [&](const nlohmann::json&, const nlohmann::json& test,
                               std::string& detail) {
    if (algorithm != "HKDF-SHA-256") {
      detail = absl::StrCat("algorithm \"", algorithm, "\" is not implemented");
      return false;
    }
    std::string ikm, salt, info, okm;
    if (!HexField(test, "ikm", ikm) || !HexField(test, "salt", salt) ||
        !HexField(test, "info", info) || !HexField(test, "okm", okm) ||
        !test.contains("size") || !test["size"].is_number_unsigned()) {
      detail = "malformed test case";
      return false;
    }
    auto out = HkdfSha256(U8(ikm), salt, info, test["size"].get<size_t>());
    if (!out.ok()) {
      detail = std::string(out.status().message());
      return false;
    }
    const bool match = std::string(out->begin(), out->end()) == okm;
    if (!match) detail = "output does not match";
    return match;
  });
}

}  // namespace piicrypt::kat::internal
