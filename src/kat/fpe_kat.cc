// Wycheproof runners for AES-FF1: FpeListTest (numeral lists) and FpeStrTest (strings
// over an alphabet). See fpe_kat.h for the counting rules.
#include "src/kat/fpe_kat.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "src/fpe/codecs.h"
#include "src/fpe/ff1.h"
#include "src/kat/kat_internal.h"

namespace piicrypt::kat::internal {
namespace {

using piicrypt::internal::Alphabet;
using piicrypt::internal::CheckFf1Parameters;
using piicrypt::internal::Ff1;
using piicrypt::internal::Ff1DomainIsLargeEnough;
using piicrypt::internal::kFf1MaxRadix;
using piicrypt::internal::kFf1MinRadix;

using Numerals = absl::StatusOr<std::vector<uint16_t>>;

// One case, parsed. `msg` and `ct` hold an error when the file's value cannot be a
// numeral string (a number outside 0..65535, a character outside the alphabet): for
// `msg` that is a rejected input, for a valid case's `ct` a failure.
struct FpeCase {
  std::string key;
  std::string tweak;
  Numerals msg;
  Numerals ct;
  size_t msg_length = 0;  // numerals or characters, even when `msg` holds an error
};

const nlohmann::json* Member(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

bool HasFlag(const nlohmann::json& test, const char* flag) {
  const nlohmann::json* flags = Member(test, "flags");
  if (flags == nullptr || !flags->is_array()) return false;
  for (const auto& f : *flags) {
    if (f.is_string() && f.get_ref<const std::string&>() == flag) return true;
  }
  return false;
}

absl::Span<const uint8_t> U8(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Whether FF1 takes `c.ct` as a ciphertext at all: key size, radix, domain, length,
// tweak size and every numeral below the radix.
bool DecryptInputValid(uint32_t radix, const FpeCase& c) {
  if (c.key.size() != 16 && c.key.size() != 24 && c.key.size() != 32) return false;
  if (!c.ct.ok() || !CheckFf1Parameters(radix, c.ct->size(), c.tweak.size()).ok()) return false;
  for (uint16_t numeral : *c.ct) {
    if (numeral >= radix) return false;
  }
  return true;
}

// The verdict on a valid case: encrypts msg to ct, and the decrypt side gives msg back
// from ct. A SmallMessageSize case below the minimum domain passes when encryption
// rejects it for its domain (`small_rejected`); its decryption must then be rejected
// too, which RunCase checks for every case.
bool JudgeValid(uint32_t radix, const FpeCase& c, bool small_flag, const Numerals& encrypted,
                const Numerals& decrypted, std::string& detail, bool& small_rejected) {
  if (!encrypted.ok()) {
    if (small_flag && c.msg.ok() && radix >= kFf1MinRadix && radix <= kFf1MaxRadix &&
        !Ff1DomainIsLargeEnough(radix, c.msg_length) &&
        absl::IsInvalidArgument(encrypted.status())) {
      small_rejected = true;
      return true;
    }
    detail = absl::StrCat("encryption rejected: ", encrypted.status().message());
    return false;
  }
  if (!c.ct.ok()) {
    detail = absl::StrCat("expected ciphertext unusable: ", c.ct.status().message());
    return false;
  }
  if (*encrypted != *c.ct) {
    detail = "ciphertext differs";
    return false;
  }
  if (!decrypted.ok()) {
    detail = absl::StrCat("decryption rejected: ", decrypted.status().message());
    return false;
  }
  if (*decrypted != *c.msg) {
    detail = "decryption differs";
    return false;
  }
  return true;
}

// Runs one parsed case on both sides and returns the verdict for its expected result:
// valid as JudgeValid; invalid when encryption rejects msg and the decrypt side does not
// give msg back from ct; acceptable either way. Whatever the expected result, the
// decrypt side must reject a ct that FF1 does not take (DecryptInputValid).
bool RunCase(uint32_t radix, const FpeCase& c, Expected expected, bool small_flag,
             const DecryptSide& side, std::string& detail, bool& small_rejected) {
  small_rejected = false;
  absl::StatusOr<std::unique_ptr<Ff1>> ff1 = Ff1::Create(U8(c.key));
  Numerals encrypted = absl::UnknownError("not run");
  if (!ff1.ok()) {
    encrypted = ff1.status();
  } else if (!c.msg.ok()) {
    encrypted = c.msg.status();
  } else {
    encrypted = (*ff1)->Encrypt(radix, U8(c.tweak), *c.msg);
  }
  const Numerals decrypted =
      c.ct.ok() ? side.ff1_decrypt(c.key, radix, c.tweak, *c.ct) : Numerals(c.ct.status());
  if (decrypted.ok() && !DecryptInputValid(radix, c)) {
    detail = "decryption accepted a ciphertext outside FF1's parameters";
    return false;
  }
  switch (expected) {
    case Expected::kValid:
      return JudgeValid(radix, c, small_flag, encrypted, decrypted, detail, small_rejected);
    case Expected::kInvalid:
      if (encrypted.ok()) {
        detail = "encryption accepted the input";
        return false;
      }
      if (decrypted.ok() && c.msg.ok() && *decrypted == *c.msg) {
        detail = "decryption gave the plaintext back";
        return false;
      }
      return true;
    case Expected::kAcceptable:
      return true;
    case Expected::kUnknown:
      return false;
  }
  return false;
}

// Numerals from a JSON list; false if the list is malformed (not a list of integers).
bool ListNumerals(const nlohmann::json& list, Numerals& out, size_t& length) {
  if (!list.is_array()) return false;
  std::vector<uint16_t> digits;
  bool representable = true;
  for (const auto& x : list) {
    if (x.is_number_unsigned()) {
      const uint64_t value = x.get<uint64_t>();
      if (value > std::numeric_limits<uint16_t>::max()) representable = false;
      digits.push_back(static_cast<uint16_t>(value));
    } else if (x.is_number_integer()) {
      const int64_t value = x.get<int64_t>();
      if (value < 0 || value > std::numeric_limits<uint16_t>::max()) representable = false;
      digits.push_back(static_cast<uint16_t>(value));
    } else {
      return false;
    }
  }
  length = digits.size();
  if (representable) {
    out = std::move(digits);
  } else {
    out = absl::InvalidArgumentError("numeral out of range");
  }
  return true;
}

// The group's radix, if it is a positive integer that fits in 32 bits.
bool GroupRadix(const nlohmann::json& group, uint32_t& radix) {
  const nlohmann::json* r = Member(group, "radix");
  if (r == nullptr || !r->is_number_integer()) return false;
  const int64_t value = r->get<int64_t>();
  if (value < 0 || value > std::numeric_limits<uint32_t>::max()) return false;
  radix = static_cast<uint32_t>(value);
  return true;
}

// Shared driver: `parse(group_state, test, case, why)` fills a case or explains why not.
template <typename GroupSetup, typename Parse>
void RunFpeFile(const nlohmann::json& doc, FileResult& result, const DecryptSide& side,
                GroupSetup setup, Parse parse) {
  if (result.algorithm.empty()) {
    const nlohmann::json* algorithm = Member(doc, "algorithm");
    if (algorithm != nullptr && algorithm->is_string()) {
      result.algorithm = algorithm->get<std::string>();
    }
  }
  const nlohmann::json* groups = Member(doc, "testGroups");
  if (groups == nullptr || !groups->is_array()) return;
  int small_counted = 0;
  for (const auto& group : *groups) {
    const nlohmann::json* tests = Member(group, "tests");
    if (tests == nullptr || !tests->is_array()) continue;
    uint32_t radix = 0;
    std::string group_problem;
    auto state = setup(group, radix, group_problem);
    for (const auto& test : *tests) {
      if (!group_problem.empty()) {
        RecordMalformed(result, test, group_problem);
        continue;
      }
      FpeCase c;
      std::string why;
      if (!HexField(test, "key", c.key) || !HexField(test, "tweak", c.tweak)) {
        RecordMalformed(result, test, "bad key or tweak hex");
        continue;
      }
      if (!parse(state, test, c, why)) {
        RecordMalformed(result, test, why);
        continue;
      }
      std::string detail;
      bool small_rejected = false;
      const bool passed = RunCase(radix, c, ExpectedResult(test), HasFlag(test, "SmallMessageSize"),
                                  side, detail, small_rejected);
      if (small_rejected) ++small_counted;
      Record(result, test, passed, detail);
    }
  }
  if (small_counted > 0) {
    result.notes.push_back(absl::StrCat(
        small_counted, " valid SmallMessageSize case", small_counted == 1 ? "" : "s",
        " (radix^len < 1000000) rejected by the minimum domain of SP 800-38G Rev. 1 and "
        "counted as passed"));
  }
}

}  // namespace

void RunFpeListFile(const nlohmann::json& doc, FileResult& result, const DecryptSide& side) {
  auto setup = [](const nlohmann::json& group, uint32_t& radix, std::string& problem) {
    if (!GroupRadix(group, radix)) problem = "group has no integer radix";
    return 0;
  };
  auto parse = [](int, const nlohmann::json& test, FpeCase& c, std::string& why) {
    const nlohmann::json* msg = Member(test, "msg");
    const nlohmann::json* ct = Member(test, "ct");
    size_t ct_length = 0;
    if (msg == nullptr || ct == nullptr || !ListNumerals(*msg, c.msg, c.msg_length) ||
        !ListNumerals(*ct, c.ct, ct_length)) {
      why = "msg and ct must be lists of integers";
      return false;
    }
    return true;
  };
  RunFpeFile(doc, result, side, setup, parse);
}

void RunFpeStrFile(const nlohmann::json& doc, FileResult& result, const DecryptSide& side) {
  auto setup = [](const nlohmann::json& group, uint32_t& radix,
                  std::string& problem) -> absl::StatusOr<Alphabet> {
    const nlohmann::json* alphabet_json = Member(group, "alphabet");
    if (!GroupRadix(group, radix)) {
      problem = "group has no integer radix";
      return absl::InvalidArgumentError(problem);
    }
    if (alphabet_json == nullptr || !alphabet_json->is_string()) {
      problem = "group has no alphabet";
      return absl::InvalidArgumentError(problem);
    }
    absl::StatusOr<Alphabet> alphabet =
        Alphabet::Create(alphabet_json->get_ref<const std::string&>());
    if (!alphabet.ok()) {
      problem = absl::StrCat("group alphabet: ", alphabet.status().message());
    } else if (alphabet->radix() != radix) {
      problem = absl::StrCat("group alphabet has ", alphabet->radix(),
                             " characters but the radix is ", radix);
    }
    return alphabet;
  };
  auto parse = [](const absl::StatusOr<Alphabet>& alphabet, const nlohmann::json& test, FpeCase& c,
                  std::string& why) {
    const nlohmann::json* msg = Member(test, "msg");
    const nlohmann::json* ct = Member(test, "ct");
    if (msg == nullptr || ct == nullptr || !msg->is_string() || !ct->is_string()) {
      why = "msg and ct must be strings";
      return false;
    }
    std::vector<uint16_t> numerals;
    absl::Status status = alphabet->ToNumerals(msg->get_ref<const std::string&>(), numerals);
    c.msg_length = numerals.size();
    if (status.ok()) {
      c.msg = std::move(numerals);
    } else {
      c.msg = status;
    }
    status = alphabet->ToNumerals(ct->get_ref<const std::string&>(), numerals);
    if (status.ok()) {
      c.ct = std::move(numerals);
    } else {
      c.ct = status;
    }
    return true;
  };
  RunFpeFile(doc, result, side, setup, parse);
}

}  // namespace piicrypt::kat::internal
