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

// A case that cannot be evaluated (malformed file) fails whatever its expected result.
void RecordMalformed(FileResult& result, const nlohmann::json& test, const std::string& why) {
  ++result.failed;
  CaseFailure failure;
  failure.tc_id = IntMember(test, "tcId", 0);
  failure.reason = absl::StrCat("malformed test case: ", why);
  result.failures.push_back(std::move(failure));
}

absl::Span<const uint8_t> U8(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Runs one parsed case. Returns whether the implementation succeeded (encrypted msg to
// ct and decrypted ct back to msg), and sets `small_rejected` when a valid case of the
// SmallMessageSize kind was rejected for its domain.
bool RunCase(uint32_t radix, const FpeCase& c, const std::string& expected, bool small_flag,
             std::string& detail, bool& small_rejected) {
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
  if (expected == "invalid") {
    if (encrypted.ok()) detail = "encryption accepted the input";
    return encrypted.ok();
  }
  if (!encrypted.ok()) {
    if (expected == "valid" && small_flag && c.msg.ok() && radix >= kFf1MinRadix &&
        radix <= kFf1MaxRadix && !Ff1DomainIsLargeEnough(radix, c.msg_length) &&
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
  Numerals decrypted = (*ff1)->Decrypt(radix, U8(c.tweak), *c.ct);
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
void RunFpeFile(const nlohmann::json& doc, FileResult& result, GroupSetup setup, Parse parse) {
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
      const nlohmann::json* expected = Member(test, "result");
      if (expected == nullptr || !expected->is_string()) {
        RecordMalformed(result, test, "no result");
        continue;
      }
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
      const bool succeeded = RunCase(radix, c, expected->get<std::string>(),
                                     HasFlag(test, "SmallMessageSize"), detail, small_rejected);
      if (small_rejected) ++small_counted;
      Record(result, test, succeeded, detail);
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

void RunFpeListFile(const nlohmann::json& doc, FileResult& result) {
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
  RunFpeFile(doc, result, setup, parse);
}

void RunFpeStrFile(const nlohmann::json& doc, FileResult& result) {
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
  RunFpeFile(doc, result, setup, parse);
}

}  // namespace piicrypt::kat::internal
