// Tests of the crypto core beyond the Wycheproof vectors (tests/kat/): secrets,
// randomness across fork(), AES-GCM, AES-SIV, HMAC and HKDF edge cases, tampering and
// concurrency.
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "piicrypt/secret_data.h"
#include "src/crypto/aes_gcm.h"
#include "src/crypto/aes_siv.h"
#include "src/crypto/hkdf.h"
#include "src/crypto/hmac.h"
#include "src/crypto/random.h"
#include "tests/test_util.h"

namespace piicrypt::internal {
namespace {

using ::piicrypt::testing::Bytes;
using ::piicrypt::testing::HexDecode;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::StatusIs;

std::string Str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }
const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
absl::Span<uint8_t> MutableSpan(std::string& s) {
  return absl::MakeSpan(reinterpret_cast<uint8_t*>(s.data()), s.size());
}

TEST(SecretDataTest, EqualsIsExactAndLengthSensitive) {
  EXPECT_TRUE(SecretEquals(absl::string_view("abc"), absl::string_view("abc")));
  EXPECT_FALSE(SecretEquals(absl::string_view("abc"), absl::string_view("abd")));
  EXPECT_FALSE(SecretEquals(absl::string_view("abc"), absl::string_view("abcd")));
  EXPECT_TRUE(SecretEquals(absl::string_view(""), absl::string_view("")));
  const SecretData a = SecretDataFromString("key bytes");
  const SecretData b = SecretDataFromString("key bytes");
  EXPECT_TRUE(SecretEquals(a, b));
}

TEST(SecretDataTest, WipeClearsMemory) {
  uint8_t buf[32];
  std::fill(std::begin(buf), std::end(buf), 0xAB);
  SecureWipe(buf, sizeof(buf));
  EXPECT_TRUE(std::all_of(std::begin(buf), std::end(buf), [](uint8_t b) { return b == 0; }));
}

TEST(RandomTest, NoncesAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {  // crosses the pool's refill boundary several times
    uint8_t nonce[12];
    ASSERT_THAT(RandomNonce(absl::MakeSpan(nonce)), IsOk());
    EXPECT_TRUE(seen.insert(std::string(reinterpret_cast<char*>(nonce), 12)).second);
  }
}

TEST(RandomTest, LargeDrawsSpanRefills) {
  std::vector<uint8_t> big(3 * kNoncePoolBytes + 5);
  ASSERT_THAT(RandomNonce(absl::MakeSpan(big)), IsOk());
  EXPECT_FALSE(std::all_of(big.begin(), big.end(), [](uint8_t b) { return b == 0; }));
}

TEST(RandomTest, ForkedChildDrawsDifferentNonces) {
  // Fill the parent's pool, then fork: a child that reused the copied pool would draw
  // exactly the nonces the parent draws next.
  uint8_t warm[12];
  ASSERT_THAT(RandomNonce(absl::MakeSpan(warm)), IsOk());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  constexpr size_t kDraw = 12 * 64;
  if (pid == 0) {
    close(fds[0]);
    uint8_t child[kDraw];
    const bool ok = RandomNonce(absl::MakeSpan(child)).ok();
    const ssize_t n = ok ? write(fds[1], child, sizeof(child)) : -1;
    _exit(n == static_cast<ssize_t>(sizeof(child)) ? 0 : 1);
  }
  close(fds[1]);
  uint8_t parent[kDraw];
  ASSERT_THAT(RandomNonce(absl::MakeSpan(parent)), IsOk());
  uint8_t child[kDraw];
  size_t got = 0;
  while (got < sizeof(child)) {
    const ssize_t n = read(fds[0], child + got, sizeof(child) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, sizeof(child));
  // No 12-byte nonce of the child appears among the parent's.
  std::set<std::string> parent_nonces;
  for (size_t i = 0; i < kDraw; i += 12) {
    parent_nonces.insert(std::string(reinterpret_cast<char*>(parent + i), 12));
  }
  for (size_t i = 0; i < kDraw; i += 12) {
    EXPECT_EQ(parent_nonces.count(std::string(reinterpret_cast<char*>(child + i), 12)), 0u);
  }
}

TEST(AesGcmTest, RejectsBadKeySizes) {
  for (size_t size : {0, 1, 15, 17, 31, 33, 64}) {
    std::vector<uint8_t> key(size, 1);
    EXPECT_THAT(AesGcm::Create(key), StatusIs(absl::StatusCode::kInvalidArgument)) << size;
  }
}

TEST(AesGcmTest, RoundTripAndEveryTamperFails) {
  std::vector<uint8_t> key(32, 7);
  auto gcm = AesGcm::Create(key);
  ASSERT_THAT(gcm, IsOk());
  for (size_t len : {0, 1, 15, 16, 17, 100}) {
    const std::string pt(len, 'p');
    std::string ct(len + AesGcm::kOverhead, '\0');
    auto out = absl::MakeSpan(reinterpret_cast<uint8_t*>(ct.data()), ct.size());
    ASSERT_THAT((*gcm)->EncryptRandomNonce(pt, "aad", out), IsOk());
    std::string back(len, '\0');
    auto back_span = absl::MakeSpan(reinterpret_cast<uint8_t*>(back.data()), back.size());
    ASSERT_THAT((*gcm)->DecryptWithNonce(ct, "aad", back_span), IsOk());
    EXPECT_EQ(back, pt);
    EXPECT_THAT((*gcm)->DecryptWithNonce(ct, "aae", back_span),
                StatusIs(absl::StatusCode::kInvalidArgument));
    for (size_t i = 0; i < ct.size(); ++i) {
      std::string bad = ct;
      bad[i] ^= 0x01;
      EXPECT_THAT((*gcm)->DecryptWithNonce(bad, "aad", back_span),
                  StatusIs(absl::StatusCode::kInvalidArgument));
      EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](char c) { return c == 0; }))
          << "plaintext buffer not wiped after a failed decryption";
    }
  }
}

// One-shot AES-GCM through a fresh EVP context: the reference for AesGcm's two paths
// (OpenSSL's GCM mode code for short messages and any IV, EVP above 1 KiB).
std::pair<std::string, std::string> ReferenceSeal(const std::string& key, const std::string& iv,
                                                  const std::string& aad, const std::string& pt) {
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_gcm()
                             : key.size() == 24 ? EVP_aes_192_gcm()
                                                : EVP_aes_256_gcm();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string ct(pt.size(), '\0');
  std::string tag(16, '\0');
  int len = 0;
  const bool ok =
      ctx != nullptr && EVP_EncryptInit_ex(ctx, cipher, nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv.size()), nullptr) ==
          1 &&
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, U8(key), U8(iv)) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, U8(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, reinterpret_cast<uint8_t*>(ct.data()), &len, U8(pt),
                        static_cast<int>(pt.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, nullptr, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag.data()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) ADD_FAILURE() << "reference AES-GCM failed";
  return {ct, tag};
}

TEST(AesGcmTest, BothPathsAgreeWithOneShotEvpForEveryIvAndTagLength) {
  std::mt19937 rng(20261127);
  auto random = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  int cases = 0;
  for (size_t key_size : {16, 24, 32}) {
    const std::string key = random(key_size);
    auto gcm = AesGcm::Create(absl::MakeConstSpan(U8(key), key.size()));
    ASSERT_THAT(gcm, IsOk());
    // Sizes on both sides of whole blocks, of the 32-block keystream chunk and of the
    // 1 KiB switch to EVP.
    for (size_t size :
         {0, 1, 15, 16, 17, 32, 33, 255, 511, 512, 513, 1023, 1024, 1025, 1040, 4099}) {
      for (size_t iv_size : {1, 8, 12, 13, 16, 64, 128}) {
        for (size_t aad_size : {0, 1, 17, 43, 200}) {
          const std::string iv = random(iv_size), aad = random(aad_size), pt = random(size);
          const auto [want_ct, want_tag] = ReferenceSeal(key, iv, aad, pt);
          std::string ct(size, '\0'), tag(16, '\0');
          ASSERT_THAT((*gcm)->Seal(iv, aad, pt, MutableSpan(ct), MutableSpan(tag)), IsOk());
          ASSERT_EQ(ct, want_ct) << key_size << " " << size << " " << iv_size << " " << aad_size;
          ASSERT_EQ(tag, want_tag) << key_size << " " << size << " " << iv_size << " " << aad_size;
          // Opens with the full tag and with a truncated one of the length it expects; a
          // flipped bit fails and wipes.
          const size_t tag_size = 1 + rng() % 16;
          std::string back(size, '\0');
          ASSERT_THAT(
              (*gcm)->Open(iv, aad, ct, want_tag.substr(0, tag_size), tag_size, MutableSpan(back)),
              IsOk());
          ASSERT_EQ(back, pt);
          std::string bad_tag = want_tag.substr(0, tag_size);
          bad_tag[rng() % tag_size] ^= static_cast<char>(1 << (rng() % 8));
          EXPECT_THAT((*gcm)->Open(iv, aad, ct, bad_tag, tag_size, MutableSpan(back)),
                      StatusIs(absl::StatusCode::kInvalidArgument));
          EXPECT_EQ(back, std::string(size, '\0'));
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 3 * 16 * 7 * 5);
}

TEST(AesGcmTest, IvsLongerThanTheProviderTakesRoundTrip) {
  const std::string key(32, 'k');
  auto gcm = *AesGcm::Create(absl::MakeConstSpan(U8(key), key.size()));
  for (size_t iv_size : {129, 300, 1000}) {
    for (size_t size : {0, 20, 2000}) {
      const std::string iv(iv_size, 'i'), pt(size, 'p');
      std::string ct(size, '\0'), tag(16, '\0'), back(size, '\0');
      ASSERT_THAT(gcm->Seal(iv, "ad", pt, MutableSpan(ct), MutableSpan(tag)), IsOk());
      ASSERT_THAT(gcm->Open(iv, "ad", ct, tag, AesGcm::kTagSize, MutableSpan(back)), IsOk());
      EXPECT_EQ(back, pt);
      // The IV is authenticated: its last byte matters.
      std::string other_iv = iv;
      other_iv.back() ^= 1;
      EXPECT_THAT(gcm->Open(other_iv, "ad", ct, tag, AesGcm::kTagSize, MutableSpan(back)),
                  StatusIs(absl::StatusCode::kInvalidArgument));
    }
  }
}

// Open takes the tag length from its caller, not from the tag: every shorter (or longer)
// tag fails, even one that is a prefix of the right tag.
TEST(AesGcmTest, OpenRefusesATagOfAnotherLengthThanExpected) {
  const std::string key(32, 'k'), iv(12, 'i'), pt = "4111 1111 1111 1111";
  auto gcm = *AesGcm::Create(absl::MakeConstSpan(U8(key), key.size()));
  std::string ct(pt.size(), '\0'), tag(AesGcm::kTagSize, '\0');
  ASSERT_THAT(gcm->Seal(iv, "ad", pt, MutableSpan(ct), MutableSpan(tag)), IsOk());
  std::string back(pt.size(), '\0');
  for (size_t prefix = 1; prefix < AesGcm::kTagSize; ++prefix) {
    back.assign(pt.size(), 'x');
    EXPECT_THAT(gcm->Open(iv, "ad", ct, tag.substr(0, prefix), AesGcm::kTagSize, MutableSpan(back)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << prefix;
    EXPECT_EQ(back, std::string(pt.size(), '\0')) << prefix;
    // The full tag with an expected length of `prefix`: too long, refused as well.
    EXPECT_THAT(gcm->Open(iv, "ad", ct, tag, prefix, MutableSpan(back)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << prefix;
  }
  EXPECT_THAT(gcm->Open(iv, "ad", ct, "", AesGcm::kTagSize, MutableSpan(back)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(gcm->Open(iv, "ad", ct, tag, 0, MutableSpan(back)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(gcm->Open(iv, "ad", ct, tag + "x", AesGcm::kTagSize + 1, MutableSpan(back)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(gcm->Open(iv, "ad", ct, tag, AesGcm::kTagSize, MutableSpan(back)), IsOk());
  EXPECT_EQ(back, pt);
  // The randomized-field form reads its 16-byte tag from the end: one byte less fails.
  std::string whole(pt.size() + AesGcm::kOverhead, '\0');
  ASSERT_THAT(gcm->EncryptRandomNonce(pt, "ad", MutableSpan(whole)), IsOk());
  whole.pop_back();
  std::string shorter(pt.size() - 1, '\0');
  EXPECT_THAT(gcm->DecryptWithNonce(whole, "ad", MutableSpan(shorter)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AesGcmTest, TruncatedInputAndWrongBuffersFail) {
  std::vector<uint8_t> key(16, 3);
  auto gcm = *AesGcm::Create(key);
  uint8_t out[64];
  EXPECT_THAT(gcm->DecryptWithNonce(std::string(27, 'x'), "", absl::MakeSpan(out, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(gcm->EncryptRandomNonce("abc", "", absl::MakeSpan(out, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(gcm->Seal("", "", "abc", absl::MakeSpan(out, 3), absl::MakeSpan(out + 3, 16)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AesGcmTest, ManyThreadsShareOneObject) {
  std::vector<uint8_t> key(32, 9);
  auto gcm = *AesGcm::Create(key);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 24; ++t) {  // more threads than the pool has slots
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string pt = "thread " + std::to_string(t) + " value " + std::to_string(i);
        std::string ct(pt.size() + AesGcm::kOverhead, '\0');
        std::string back(pt.size(), '\0');
        if (!gcm->EncryptRandomNonce(
                    pt, "ad", absl::MakeSpan(reinterpret_cast<uint8_t*>(ct.data()), ct.size()))
                 .ok() ||
            !gcm->DecryptWithNonce(
                    ct, "ad", absl::MakeSpan(reinterpret_cast<uint8_t*>(back.data()), back.size()))
                 .ok() ||
            back != pt) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(AesSivTest, Rfc5297DeterministicExample) {
  // RFC 5297 appendix A.1.
  const std::string key =
      HexDecode("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const std::string ad = HexDecode("101112131415161718191a1b1c1d1e1f2021222324252627");
  const std::string pt = HexDecode("112233445566778899aabbccddee");
  auto siv = *AesSiv::Create(Bytes(key));
  std::string out(pt.size() + 16, '\0');
  const absl::string_view ads[] = {ad};
  ASSERT_THAT(
      siv->Encrypt(ads, pt, absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), out.size())),
      IsOk());
  EXPECT_EQ(testing::HexEncode(out),
            "85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c");
}

TEST(AesSivTest, Rfc5297NonceBasedExampleWithThreeComponents) {
  // RFC 5297 appendix A.2: two associated data strings and a nonce.
  const std::string key =
      HexDecode("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f");
  const std::string ad1 =
      HexDecode("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100");
  const std::string ad2 = HexDecode("102030405060708090a0");
  const std::string nonce = HexDecode("09f911029d74e35bd84156c5635688c0");
  const std::string pt = HexDecode(
      "7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349"
      "562d414553");
  auto siv = *AesSiv::Create(Bytes(key));
  std::string out(pt.size() + 16, '\0');
  const absl::string_view ads[] = {ad1, ad2, nonce};
  ASSERT_THAT(
      siv->Encrypt(ads, pt, absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), out.size())),
      IsOk());
  EXPECT_EQ(testing::HexEncode(out),
            "7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7"
            "a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d");
}

TEST(AesSivTest, EmptyPlaintextEmptyAdAndPrefixAgree) {
  std::vector<uint8_t> key(64, 0x11);
  auto siv = *AesSiv::Create(key);
  for (const std::string& pt :
       {std::string(), std::string("a"), std::string(16, 'b'), std::string(31, 'c'),
        std::string(32, 'd'), std::string(100, 'e')}) {
    for (const std::string& ad : {std::string(), std::string("context")}) {
      const absl::string_view ads[] = {ad};
      std::string out(pt.size() + 16, '\0');
      auto out_span = absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), out.size());
      ASSERT_THAT(siv->Encrypt(ads, pt, out_span), IsOk());
      // Deterministic.
      std::string again(out.size(), '\0');
      ASSERT_THAT(
          siv->Encrypt(ads, pt,
                       absl::MakeSpan(reinterpret_cast<uint8_t*>(again.data()), again.size())),
          IsOk());
      EXPECT_EQ(out, again);
      // The precomputed-prefix path gives the same bytes.
      auto prefix = siv->S2VPrefix(ads);
      ASSERT_THAT(prefix, IsOk());
      std::string via_prefix(out.size(), '\0');
      ASSERT_THAT(siv->EncryptWithPrefix(
                      *prefix, pt,
                      absl::MakeSpan(reinterpret_cast<uint8_t*>(via_prefix.data()), out.size())),
                  IsOk());
      EXPECT_EQ(out, via_prefix);
      std::string back(pt.size(), '\0');
      auto back_span = absl::MakeSpan(reinterpret_cast<uint8_t*>(back.data()), back.size());
      ASSERT_THAT(siv->Decrypt(ads, out, back_span), IsOk());
      EXPECT_EQ(back, pt);
      for (size_t i = 0; i < out.size(); ++i) {
        std::string bad = out;
        bad[i] ^= 0x80;
        EXPECT_THAT(siv->Decrypt(ads, bad, back_span),
                    StatusIs(absl::StatusCode::kInvalidArgument));
      }
      // An empty AD component is not the same as no component.
      std::string none(out.size(), '\0');
      ASSERT_THAT(siv->Encrypt(
                      {}, pt, absl::MakeSpan(reinterpret_cast<uint8_t*>(none.data()), none.size())),
                  IsOk());
      EXPECT_NE(none, out);
    }
  }
}

TEST(AesSivTest, RejectsBadKeysAndTooManyComponents) {
  for (size_t size : {0, 16, 24, 31, 33, 65}) {
    std::vector<uint8_t> key(size, 1);
    EXPECT_THAT(AesSiv::Create(key), StatusIs(absl::StatusCode::kInvalidArgument)) << size;
  }
  auto siv = *AesSiv::Create(std::vector<uint8_t>(32, 1));
  std::vector<absl::string_view> ads(AesSiv::kMaxComponents + 1, "x");
  uint8_t out[17];
  EXPECT_THAT(siv->Encrypt(ads, "a", absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(siv->Decrypt({}, "short", absl::MakeSpan(out, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HmacTest, Rfc4231Case2AndTruncatedVerify) {
  auto hmac = *HmacSha256::Create(Bytes("Jefe"));
  HmacSha256::Tag tag;
  ASSERT_THAT(hmac->Compute("what do ya want for nothing?", tag), IsOk());
  EXPECT_EQ(testing::HexEncode(std::string(tag.begin(), tag.end())),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const char* msg = "what do ya want for nothing?";
  EXPECT_TRUE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 32), 32));
  EXPECT_TRUE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 16), 16));
  // The expected length is the caller's: a prefix of the right tag is refused, down to one
  // byte, and so is a longer tag than expected.
  for (size_t prefix = 0; prefix < 32; ++prefix) {
    EXPECT_FALSE(hmac->Verify(msg, absl::MakeSpan(tag.data(), prefix), 32)) << prefix;
  }
  EXPECT_FALSE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 1), 16));
  EXPECT_FALSE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 32), 16));
  EXPECT_FALSE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 0), 0));
  EXPECT_FALSE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 32), 33));
  tag[3] ^= 1;
  EXPECT_FALSE(hmac->Verify(msg, absl::MakeSpan(tag.data(), 16), 16));
}

TEST(HmacTest, EmptyKeyIsAllowed) {
  auto hmac = HmacSha256::Create({});
  ASSERT_THAT(hmac, IsOk());
  HmacSha256::Tag tag;
  ASSERT_THAT((*hmac)->Compute("", tag), IsOk());
  EXPECT_EQ(testing::HexEncode(std::string(tag.begin(), tag.end())),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HkdfTest, Rfc5869Case3AndBounds) {
  const std::string ikm(22, '\x0b');
  auto okm = HkdfSha256(Bytes(ikm), "", "", 42);
  ASSERT_THAT(okm, IsOk());
  EXPECT_EQ(testing::HexEncode(Str(std::vector<uint8_t>(okm->begin(), okm->end()))),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  EXPECT_THAT(HkdfSha256(Bytes(ikm), "", "", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HkdfSha256(Bytes(ikm), "", "", 255 * 32 + 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HkdfSha256(Bytes(ikm), "", "", 255 * 32), IsOk());
}

}  // namespace
}  // namespace piicrypt::internal
