#include "src/fpe/ff1.h"

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using ::piicrypt::testing::HexDecode;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::ReadFile;
using ::piicrypt::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Span<const uint8_t> U8(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

nlohmann::json LoadJson(const std::string& path) {
  return nlohmann::json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
}

std::unique_ptr<Ff1> MakeFf1(const std::string& key) {
  auto ff1 = Ff1::Create(U8(key));
  EXPECT_THAT(ff1, IsOk());
  return ff1.ok() ? *std::move(ff1) : nullptr;
}

// ---- An independent, literal FF1 (SP 800-38G Algorithm 7) as an oracle ----------------
//
// Written straight from the standard: BIGNUMs for every value, b from the formula with
// log2, a fresh CBC-MAC over the whole of P || Q in every round. Slow and simple.
std::vector<uint16_t> ReferenceFf1Encrypt(const std::string& key, uint32_t radix,
                                          const std::string& tweak,
                                          const std::vector<uint16_t>& x) {
  const size_t n = x.size(), u = n / 2, v = n - u, t = tweak.size();
  const size_t b = static_cast<size_t>(
      std::ceil(std::ceil(static_cast<double>(v) * std::log2(static_cast<double>(radix))) / 8));
  const size_t d = 4 * ((b + 3) / 4) + 4;
  BN_CTX* ctx = BN_CTX_new();
  auto num = [&](size_t from, size_t to) {
    BIGNUM* r = BN_new();
    BN_zero(r);
    for (size_t i = from; i < to; ++i) {
      BN_mul_word(r, radix);
      BN_add_word(r, x[i]);
    }
    return r;
  };
  auto power = [&](size_t e) {
    BIGNUM* r = BN_new();
    BN_one(r);
    for (size_t i = 0; i < e; ++i) BN_mul_word(r, radix);
    return r;
  };
  BIGNUM* a = num(0, u);
  BIGNUM* bb = num(u, n);
  BIGNUM* pow_u = power(u);
  BIGNUM* pow_v = power(v);
  std::string p = {1, 2, 1};
  p += static_cast<char>(radix >> 16);
  p += static_cast<char>(radix >> 8);
  p += static_cast<char>(radix);
  p += static_cast<char>(10);
  p += static_cast<char>(u % 256);
  for (int k = 3; k >= 0; --k) p += static_cast<char>(n >> (8 * k));
  for (int k = 3; k >= 0; --k) p += static_cast<char>(t >> (8 * k));
  const EVP_CIPHER* cbc = key.size() == 16   ? EVP_aes_128_cbc()
                          : key.size() == 24 ? EVP_aes_192_cbc()
                                             : EVP_aes_256_cbc();
  const EVP_CIPHER* ecb = key.size() == 16   ? EVP_aes_128_ecb()
                          : key.size() == 24 ? EVP_aes_192_ecb()
                                             : EVP_aes_256_ecb();
  auto aes = [&](const EVP_CIPHER* cipher, const std::string& in) {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    const uint8_t iv[16] = {};
    EVP_EncryptInit_ex(c, cipher, nullptr, reinterpret_cast<const uint8_t*>(key.data()), iv);
    EVP_CIPHER_CTX_set_padding(c, 0);
    std::string out(in.size(), '\0');
    int len = 0;
    EVP_EncryptUpdate(c, reinterpret_cast<uint8_t*>(out.data()), &len,
                      reinterpret_cast<const uint8_t*>(in.data()), static_cast<int>(in.size()));
    EVP_CIPHER_CTX_free(c);
    return out;
  };
  for (int i = 0; i < 10; ++i) {
    std::string q = tweak;
    q.append((16 - (t + b + 1) % 16) % 16, '\0');
    q += static_cast<char>(i);
    std::string numb(b, '\0');
    BN_bn2binpad(bb, reinterpret_cast<uint8_t*>(numb.data()), static_cast<int>(b));
    q += numb;
    const std::string mac = aes(cbc, p + q);
    std::string s = mac.substr(mac.size() - 16);
    const std::string r = s;
    for (size_t j = 1; s.size() < d; ++j) {
      std::string block = r;
      for (int k = 0; k < 8; ++k) block[15 - k] ^= static_cast<char>(j >> (8 * k));
      s += aes(ecb, block);
    }
    BIGNUM* y = BN_bin2bn(reinterpret_cast<const uint8_t*>(s.data()), static_cast<int>(d), nullptr);
    BIGNUM* c = BN_new();
    BN_mod_add(c, a, y, i % 2 == 0 ? pow_u : pow_v, ctx);
    BN_free(y);
    BN_free(a);
    a = bb;
    bb = c;
  }
  std::vector<uint16_t> out(n);
  auto str = [&](BIGNUM* value, size_t from, size_t len) {
    for (size_t k = 0; k < len; ++k) {
      out[from + len - 1 - k] = static_cast<uint16_t>(BN_div_word(value, radix));
    }
  };
  str(a, 0, u);
  str(bb, u, v);
  for (BIGNUM* z : {a, bb, pow_u, pow_v}) BN_free(z);
  BN_CTX_free(ctx);
  return out;
}

// ---- NIST samples ----------------------------------------------------------------------

TEST(Ff1Test, NistSamples) {
  const nlohmann::json doc = LoadJson(piicrypt::testing::TestDataFile("ff1_nist_samples.json"));
  ASSERT_TRUE(doc.is_object());
  const std::string alphabet = doc["alphabet"].get<std::string>();
  ASSERT_EQ(doc["samples"].size(), 9u);
  for (const auto& sample : doc["samples"]) {
    SCOPED_TRACE(absl::StrCat("NIST FF1 sample ", sample["sample"].get<int>()));
    const uint32_t radix = sample["radix"].get<uint32_t>();
    auto to_numerals = [&](const std::string& s) {
      std::vector<uint16_t> out;
      for (char c : s) out.push_back(static_cast<uint16_t>(alphabet.find(c)));
      return out;
    };
    const std::vector<uint16_t> pt = to_numerals(sample["pt"].get<std::string>());
    const std::vector<uint16_t> ct = to_numerals(sample["ct"].get<std::string>());
    const std::string key = HexDecode(sample["key"].get<std::string>());
    const std::string tweak = HexDecode(sample["tweak"].get<std::string>());
    auto ff1 = MakeFf1(key);
    ASSERT_NE(ff1, nullptr);
    EXPECT_EQ(ff1->key_size(), key.size());
    auto encrypted = ff1->Encrypt(radix, U8(tweak), pt);
    ASSERT_THAT(encrypted, IsOk());
    EXPECT_EQ(*encrypted, ct);
    auto decrypted = ff1->Decrypt(radix, U8(tweak), ct);
    ASSERT_THAT(decrypted, IsOk());
    EXPECT_EQ(*decrypted, pt);
    EXPECT_EQ(ReferenceFf1Encrypt(key, radix, tweak, pt), ct);  // the oracle, too
  }
}

// ---- Wycheproof: every case of every FF1 file ------------------------------------------

struct WycheproofFf1File {
  const char* name;
  bool strings;  // FpeStrTest (aes_ff1_base*) rather than FpeListTest (aes_ff1_radix*)
};

constexpr WycheproofFf1File kWycheproofFiles[] = {
    {"aes_ff1_radix10_test.json", false}, {"aes_ff1_radix16_test.json", false},
    {"aes_ff1_radix26_test.json", false}, {"aes_ff1_radix36_test.json", false},
    {"aes_ff1_radix62_test.json", false}, {"aes_ff1_radix64_test.json", false},
    {"aes_ff1_base10_test.json", true},   {"aes_ff1_base26_test.json", true},
    {"aes_ff1_base36_test.json", true},   {"aes_ff1_base62_test.json", true},
};

void PrintTo(const WycheproofFf1File& file, std::ostream* os) { *os << file.name; }

class Ff1WycheproofTest : public ::testing::TestWithParam<WycheproofFf1File> {};

// Numerals of a case: lists as they are (values outside uint16 wrap around and so stay
// out of range for these radices), strings through the group's ASCII alphabet (a
// character outside it becomes the numeral `radix`, which FF1 must reject).
std::vector<uint16_t> CaseNumerals(const nlohmann::json& value, const std::string& alphabet,
                                   uint32_t radix) {
  std::vector<uint16_t> out;
  if (value.is_array()) {
    for (const auto& x : value) out.push_back(static_cast<uint16_t>(x.get<int64_t>()));
  } else {
    for (char c : value.get<std::string>()) {
      const size_t pos = alphabet.find(c);
      out.push_back(static_cast<uint16_t>(pos == std::string::npos ? radix : pos));
    }
  }
  return out;
}

TEST_P(Ff1WycheproofTest, EveryCase) {
  const nlohmann::json doc = LoadJson(piicrypt::testing::WycheproofFile(GetParam().name));
  ASSERT_TRUE(doc.is_object()) << "cannot read " << GetParam().name;
  EXPECT_EQ(doc["schema"].get<std::string>(),
            GetParam().strings ? "fpe_str_test_schema.json" : "fpe_list_test_schema.json");
  int checked = 0, small = 0;
  for (const auto& group : doc["testGroups"]) {
    const uint32_t radix = group["radix"].get<uint32_t>();
    const std::string alphabet = group.value("alphabet", std::string());
    if (GetParam().strings) {
      ASSERT_EQ(alphabet.size(), radix);
    }
    for (const auto& test : group["tests"]) {
      ++checked;
      const int tc_id = test["tcId"].get<int>();
      SCOPED_TRACE(absl::StrCat(GetParam().name, " tcId ", tc_id));
      const std::string key = HexDecode(test["key"].get<std::string>());
      const std::string tweak = HexDecode(test["tweak"].get<std::string>());
      const std::vector<uint16_t> msg = CaseNumerals(test["msg"], alphabet, radix);
      const std::vector<uint16_t> ct = CaseNumerals(test["ct"], alphabet, radix);
      const std::string result = test["result"].get<std::string>();
      const bool small_flag = std::find(test["flags"].begin(), test["flags"].end(),
                                        "SmallMessageSize") != test["flags"].end();
      auto ff1 = Ff1::Create(U8(key));
      if (result == "invalid") {
        if (!ff1.ok()) {
          EXPECT_THAT(ff1, StatusIs(absl::StatusCode::kInvalidArgument));
          continue;
        }
        EXPECT_THAT((*ff1)->Encrypt(radix, U8(tweak), msg),
                    StatusIs(absl::StatusCode::kInvalidArgument));
        continue;
      }
      ASSERT_EQ(result, "valid");
      ASSERT_THAT(ff1, IsOk());
      if (small_flag) {
        // Valid for the original FF1, below the minimum domain of Rev. 1: rejected.
        ++small;
        EXPECT_FALSE(Ff1DomainIsLargeEnough(radix, msg.size()));
        EXPECT_THAT((*ff1)->Encrypt(radix, U8(tweak), msg),
                    StatusIs(absl::StatusCode::kInvalidArgument));
        continue;
      }
      auto encrypted = (*ff1)->Encrypt(radix, U8(tweak), msg);
      ASSERT_THAT(encrypted, IsOk());
      EXPECT_EQ(*encrypted, ct);
      auto decrypted = (*ff1)->Decrypt(radix, U8(tweak), ct);
      ASSERT_THAT(decrypted, IsOk());
      EXPECT_EQ(*decrypted, msg);
    }
  }
  EXPECT_EQ(checked, doc["numberOfTests"].get<int>());
  EXPECT_GT(small, 0);
}

INSTANTIATE_TEST_SUITE_P(AllFiles, Ff1WycheproofTest, ::testing::ValuesIn(kWycheproofFiles),
                         [](const auto& param_info) {
                           std::string name = param_info.param.name;
                           return name.substr(0, name.find('.'));
                         });

// ---- Parameters ------------------------------------------------------------------------

const std::string kKey256 =
    HexDecode("2b7e151628aed2a6abf7158809cf4f3cef4359d8d580aa4f7f036d6f04fc6a94");

TEST(Ff1Test, RejectsBadKeySizes) {
  for (size_t size : {0, 1, 8, 15, 17, 20, 23, 25, 31, 33, 64}) {
    EXPECT_THAT(Ff1::Create(U8(std::string(size, 'k'))),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << size;
  }
  for (size_t size : {16, 24, 32}) EXPECT_THAT(Ff1::Create(U8(std::string(size, 'k'))), IsOk());
}

TEST(Ff1Test, DomainIsExact) {
  EXPECT_FALSE(Ff1DomainIsLargeEnough(10, 5));
  EXPECT_TRUE(Ff1DomainIsLargeEnough(10, 6));
  EXPECT_FALSE(Ff1DomainIsLargeEnough(2, 19));   // 524288
  EXPECT_TRUE(Ff1DomainIsLargeEnough(2, 20));    // 1048576
  EXPECT_FALSE(Ff1DomainIsLargeEnough(999, 2));  // 998001
  EXPECT_TRUE(Ff1DomainIsLargeEnough(1000, 2));  // exactly 1000000
  EXPECT_FALSE(Ff1DomainIsLargeEnough(65536, 1));
  EXPECT_TRUE(Ff1DomainIsLargeEnough(65536, 2));
  EXPECT_TRUE(Ff1DomainIsLargeEnough(2, 1u << 30));  // stops early, no overflow
}

TEST(Ff1Test, RejectsSmallDomainWithClearError) {
  auto ff1 = MakeFf1(kKey256);
  const std::vector<uint16_t> five(5, 1);
  const auto status = ff1->Encrypt(10, {}, five).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("1000000"));
  EXPECT_THAT(ff1->Decrypt(10, {}, five), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ff1->Encrypt(999, {}, std::vector<uint16_t>{1, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ff1->Encrypt(1000, {}, std::vector<uint16_t>{1, 2}), IsOk());
  EXPECT_THAT(ff1->Encrypt(10, {}, std::vector<uint16_t>{}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Ff1Test, RejectsBadRadix) {
  auto ff1 = MakeFf1(kKey256);
  const std::vector<uint16_t> zeros(40, 0);
  for (uint32_t radix : {0u, 1u, 65537u, 1u << 20}) {
    EXPECT_THAT(ff1->Encrypt(radix, {}, zeros), StatusIs(absl::StatusCode::kInvalidArgument))
        << radix;
  }
  EXPECT_THAT(ff1->Encrypt(2, {}, zeros), IsOk());
  EXPECT_THAT(ff1->Encrypt(65536, {}, zeros), IsOk());
}

TEST(Ff1Test, RejectsNumeralOutOfRange) {
  auto ff1 = MakeFf1(kKey256);
  std::vector<uint16_t> digits = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0};
  EXPECT_THAT(ff1->Encrypt(10, {}, digits), IsOk());
  for (uint16_t bad : {10, 11, 255, 65535}) {
    for (size_t pos : {size_t{0}, size_t{4}, size_t{5}, size_t{9}}) {
      std::vector<uint16_t> x = digits;
      x[pos] = bad;
      EXPECT_THAT(ff1->Encrypt(10, {}, x), StatusIs(absl::StatusCode::kInvalidArgument));
      EXPECT_THAT(ff1->Decrypt(10, {}, x), StatusIs(absl::StatusCode::kInvalidArgument));
    }
  }
  // Also on the BIGNUM path.
  std::vector<uint16_t> long_digits(100, 3);
  long_digits[77] = 10;
  EXPECT_THAT(ff1->Encrypt(10, {}, long_digits), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Ff1Test, TweakAndLengthBounds) {
  auto ff1 = MakeFf1(kKey256);
  const std::vector<uint16_t> digits(10, 7);
  EXPECT_THAT(ff1->Encrypt(10, U8(std::string(kFf1MaxTweakSize, 't')), digits), IsOk());
  const auto status = ff1->Encrypt(10, U8(std::string(kFf1MaxTweakSize + 1, 't')), digits);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status.status().message(), HasSubstr("tweak"));

  const std::vector<uint16_t> longest(kFf1MaxLength, 65535);
  auto encrypted = ff1->Encrypt(65536, {}, longest);
  ASSERT_THAT(encrypted, IsOk());
  auto decrypted = ff1->Decrypt(65536, {}, *encrypted);
  ASSERT_THAT(decrypted, IsOk());
  EXPECT_EQ(*decrypted, longest);
  EXPECT_THAT(ff1->Encrypt(10, {}, std::vector<uint16_t>(kFf1MaxLength + 1, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Ff1Test, OutputSizeMustMatch) {
  auto ff1 = MakeFf1(kKey256);
  const std::vector<uint16_t> digits(10, 1);
  std::vector<uint16_t> out(9);
  EXPECT_THAT(ff1->Encrypt(10, {}, digits, absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Ff1Test, InPlaceMatchesOutOfPlace) {
  auto ff1 = MakeFf1(kKey256);
  for (size_t n : {10, 40, 120}) {
    std::vector<uint16_t> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<uint16_t>((i * 7 + 3) % 36);
    auto expected = ff1->Encrypt(36, U8("order-1"), x);
    ASSERT_THAT(expected, IsOk());
    std::vector<uint16_t> y = x;
    ASSERT_THAT(ff1->Encrypt(36, U8("order-1"), y, absl::MakeSpan(y)), IsOk());
    EXPECT_EQ(y, *expected);
    ASSERT_THAT(ff1->Decrypt(36, U8("order-1"), y, absl::MakeSpan(y)), IsOk());
    EXPECT_EQ(y, x);
  }
}

TEST(Ff1Test, TweakAndKeyChangeTheOutput) {
  auto ff1 = MakeFf1(kKey256);
  auto other = MakeFf1(std::string(32, 'x'));
  const std::vector<uint16_t> digits = {4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  auto a = ff1->Encrypt(10, U8("order-1"), digits);
  auto b = ff1->Encrypt(10, U8("order-2"), digits);
  auto c = other->Encrypt(10, U8("order-1"), digits);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(*a, digits);
}

// ---- Round trips against the oracle, on both paths and across the hand-over -------------

TEST(Ff1Test, MatchesReferenceAcrossRadicesAndLengths) {
  std::mt19937 rng(20240601);
  const uint32_t radices[] = {2,  3,   7,   10,  16,   26,   36,    62,
                              64, 100, 255, 256, 1000, 4096, 65535, 65536};
  const std::string keys[] = {std::string(16, '\x11'), std::string(24, '\x22'), kKey256};
  int fast = 0, general = 0;
  for (uint32_t radix : radices) {
    // Every length from the minimum to a little past the fast path's end (radix^v > 2^96),
    // then a few long ones.
    size_t fast_end = 0;
    while (true) {
      const size_t v = (fast_end + 1) - (fast_end + 1) / 2;
      if (static_cast<double>(v) * std::log2(static_cast<double>(radix)) > 96.0) break;
      ++fast_end;
    }
    std::vector<size_t> lengths;
    for (size_t n = 2; n <= fast_end + 4; ++n) {
      if (Ff1DomainIsLargeEnough(radix, n)) lengths.push_back(n);
    }
    for (size_t n : {fast_end * 2 + 1, fast_end * 3 + 7}) lengths.push_back(n);
    for (size_t n : lengths) {
      if (n > fast_end) {
        ++general;
      } else {
        ++fast;
      }
      const std::string& key = keys[n % 3];
      std::string tweak(n % 21, '\0');
      for (char& c : tweak) c = static_cast<char>(rng());
      std::vector<uint16_t> x(n);
      for (auto& d : x) d = static_cast<uint16_t>(rng() % radix);
      if (n % 5 == 0) std::fill(x.begin(), x.end(), static_cast<uint16_t>(radix - 1));
      SCOPED_TRACE(absl::StrCat("radix ", radix, " length ", n, " key ", key.size()));
      auto ff1 = MakeFf1(key);
      auto encrypted = ff1->Encrypt(radix, U8(tweak), x);
      ASSERT_THAT(encrypted, IsOk());
      EXPECT_EQ(*encrypted, ReferenceFf1Encrypt(key, radix, tweak, x));
      for (uint16_t d : *encrypted) ASSERT_LT(d, radix);
      auto decrypted = ff1->Decrypt(radix, U8(tweak), *encrypted);
      ASSERT_THAT(decrypted, IsOk());
      EXPECT_EQ(*decrypted, x);
    }
  }
  EXPECT_GT(fast, 100);
  EXPECT_GT(general, 40);
}

TEST(Ff1Test, ConcurrentCallsAgree) {
  auto ff1 = MakeFf1(kKey256);
  std::vector<std::vector<uint16_t>> inputs;
  std::vector<std::vector<uint16_t>> expected;
  for (int i = 0; i < 64; ++i) {
    std::vector<uint16_t> x(10 + i % 40);
    for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<uint16_t>((i * 31 + k * 7) % 10);
    auto e = ff1->Encrypt(10, U8(absl::StrCat("r", i % 3)), x);
    ASSERT_THAT(e, IsOk());
    inputs.push_back(x);
    expected.push_back(*e);
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          auto e = ff1->Encrypt(10, U8(absl::StrCat("r", i % 3)), inputs[i]);
          if (!e.ok() || *e != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace piicrypt::internal
