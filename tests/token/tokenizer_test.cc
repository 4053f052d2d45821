// Tokenizer on both token stores: formats, modes, expiry, deletion, erasure, collisions,
// restarts, key rotation and concurrent writers (threads and processes).
#include "piicrypt/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/subtle/field_cipher.h"
#include "piicrypt/subtle/token_store.h"
#include "src/crypto/field_format.h"
#include "src/crypto/hmac.h"
#include "src/fpe/codecs.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"
#include "tests/token/token_test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::StatusIs;
using ::piicrypt::testing::StoreKind;
using ::piicrypt::testing::TestStore;
using ::testing::HasSubstr;
using ::testing::Not;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

std::vector<uint16_t> DigitsOf(const std::string& s) {
  std::vector<uint16_t> out;
  for (char c : s) {
    if (IsDigit(c)) out.push_back(static_cast<uint16_t>(c - '0'));
  }
  return out;
}

// Checks that `token` has the shape the format promises for `value`.
void ExpectShape(const TokenizerOptions& o, const std::string& value, const std::string& token) {
  ASSERT_EQ(token.substr(0, o.prefix.size()), o.prefix);
  const std::string body = token.substr(o.prefix.size());
  EXPECT_NE(body, value);
  if (o.format == TokenFormat::kAlphanumeric) {
    EXPECT_EQ(body.size(), o.alphanumeric_length);
    for (char c : body) EXPECT_TRUE(IsDigit(c) || IsLower(c) || IsUpper(c)) << token;
    return;
  }
  ASSERT_EQ(body.size(), value.size()) << token;
  for (size_t i = 0; i < value.size(); ++i) {
    const char v = value[i], t = body[i];
    if (IsDigit(v)) {
      EXPECT_TRUE(IsDigit(t)) << token;
    } else if (IsLower(v)) {
      EXPECT_TRUE(IsLower(t)) << token;
    } else if (IsUpper(v)) {
      EXPECT_TRUE(IsUpper(t)) << token;
    } else {
      EXPECT_EQ(t, v) << "position " << i << " of " << token;
    }
  }
  if (o.format == TokenFormat::kCard) {
    const std::vector<uint16_t> vd = DigitsOf(value), td = DigitsOf(body);
    ASSERT_EQ(vd.size(), td.size());
    for (size_t i = vd.size() - 4; i < vd.size(); ++i) EXPECT_EQ(td[i], vd[i]) << token;
    if (o.card_keep_first_six) {
      for (size_t i = 0; i < 6; ++i) EXPECT_EQ(td[i], vd[i]) << token;
    }
    EXPECT_EQ(internal::LuhnSum(td) == 0, o.card_luhn == LuhnOutput::kValid) << token;
  }
}

struct FormatCase {
  std::string name;
  TokenizerOptions options;
  std::vector<std::string> values;
};

std::vector<FormatCase> FormatCases() {
  std::vector<FormatCase> cases;
  auto add = [&](std::string name, auto configure, std::vector<std::string> values) {
    for (TokenMode mode : {TokenMode::kDeterministic, TokenMode::kRandom}) {
      FormatCase c;
      c.name = absl::StrCat(name, mode == TokenMode::kDeterministic ? "_det" : "_rand");
      c.options.mode = mode;
      configure(c.options);
      c.values = values;
      cases.push_back(c);
    }
  };
  const std::vector<std::string> texts = {"jane.doe@example.com", "+61 2 5550 0199", "SW1A 1AA",
                                          "Zoë Ünal-Smith 42", "7"};
  const std::vector<std::string> cards = {"4111 1111 1111 1111", "5500-0000-0000-0004",
                                          "378282246310005", "6011000990139424"};
  add(
      "preserve", [](TokenizerOptions&) {}, texts);
  add(
      "preserve_prefix", [](TokenizerOptions& o) { o.prefix = "tok_"; }, texts);
  add(
      "card", [](TokenizerOptions& o) { o.format = TokenFormat::kCard; }, cards);
  add("card_first_six",
      [](TokenizerOptions& o) {
        o.format = TokenFormat::kCard;
        o.card_keep_first_six = true;
      },
      {"4111 1111 1111 1111", "6011000990139424"});
  add(
      "card_luhn_valid",
      [](TokenizerOptions& o) {
        o.format = TokenFormat::kCard;
        o.card_luhn = LuhnOutput::kValid;
        o.prefix = "C";
      },
      cards);
  add("alphanumeric", [](TokenizerOptions& o) { o.format = TokenFormat::kAlphanumeric; },
      {"jane.doe@example.com", "", "x"});
  add(
      "alphanumeric_32",
      [](TokenizerOptions& o) {
        o.format = TokenFormat::kAlphanumeric;
        o.alphanumeric_length = 32;
        o.prefix = "tok_";
      },
      texts);
  return cases;
}

class TokenizerTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    keyset_ = std::make_unique<Keyset>(*std::move(keyset));
    std::string error;
    url_ = store_loc_.Url(&error);
    ASSERT_FALSE(url_.empty()) << error;
    OpenStore();
    // Fields are named after the test, so that tests sharing a PostgreSQL server never meet.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    field_base_ = absl::StrCat(info->test_suite_name(), ".", info->name());
  }

  void OpenStore(TokenStoreOptions options = {}) {
    auto store = TokenStore::Open(url_, options);
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }

  std::string Field(const std::string& name) { return absl::StrCat(field_base_, ".", name); }

  std::unique_ptr<Tokenizer> Make(TokenizerOptions options, const std::string& field) {
    options.field = Field(field);
    auto tokenizer = Tokenizer::Create(*keyset_, options, store_);
    EXPECT_THAT(tokenizer, IsOk());
    return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
  }

  // Writes keyset_ to keyset_path_ under a new file KEK, kek_, for the piicrypt processes a
  // test starts.
  void WriteKeysetFile() {
    kek_ = "file:" + store_loc_.dir().File("kek.key");
    ASSERT_THAT(Kek::Create(kek_), IsOk());
    keyset_path_ = store_loc_.dir().File("keyset");
    ASSERT_THAT(keyset_->WriteNew(keyset_path_, **Kek::Open(kek_)), IsOk());
  }

  TestStore store_loc_{GetParam()};
  std::string kek_, keyset_path_;  // set by WriteKeysetFile
  std::string url_;
  std::unique_ptr<Keyset> keyset_;
  std::shared_ptr<TokenStore> store_;
  std::string field_base_;
};

TEST_P(TokenizerTest, EveryFormatRoundTripsWithItsShape) {
  for (const FormatCase& c : FormatCases()) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<Tokenizer> tokenizer = Make(c.options, c.name);
    ASSERT_NE(tokenizer, nullptr);
    std::set<std::string> tokens;
    for (const std::string& value : c.values) {
      SCOPED_TRACE(value);
      auto token = tokenizer->Tokenize(value);
      ASSERT_THAT(token, IsOk());
      ExpectShape(tokenizer->options(), value, *token);
      EXPECT_TRUE(tokens.insert(*token).second) << "token shared by two values";
      auto back = tokenizer->Detokenize(*token);
      ASSERT_THAT(back, IsOk());
      EXPECT_EQ(*back, value);
      // Same value again: same token if deterministic, a new one if random.
      auto again = tokenizer->Tokenize(value);
      ASSERT_THAT(again, IsOk());
      if (c.options.mode == TokenMode::kDeterministic) {
        EXPECT_EQ(*again, *token);
      } else if (value != "7") {  // "7" has only 9 possible tokens
        EXPECT_NE(*again, *token);
        EXPECT_EQ(*tokenizer->Detokenize(*again), value);
      }
    }
  }
}

TEST_P(TokenizerTest, TokensOfOneValueDifferBetweenFields) {
  TokenizerOptions o;
  o.format = TokenFormat::kAlphanumeric;
  auto a = Make(o, "a"), b = Make(o, "b");
  auto ta = a->Tokenize("jane@example.com"), tb = b->Tokenize("jane@example.com");
  ASSERT_THAT(ta, IsOk());
  ASSERT_THAT(tb, IsOk());
  EXPECT_NE(*ta, *tb);
  // A token of one field means nothing in another.
  EXPECT_THAT(b->Detokenize(*ta), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(TokenizerTest, ValuesThatDoNotFitAreRejectedWithoutQuotingThem) {
  TokenizerOptions card;
  card.format = TokenFormat::kCard;
  auto t = Make(card, "card");
  for (const char* bad :
       {"4111", "4111 1111 1111 1111 1111", "4111/1111/1111/1111", "4111 1111 1111 111a"}) {
    auto token = t->Tokenize(bad);
    EXPECT_THAT(token, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(std::string(token.status().message()), Not(HasSubstr(bad)));
  }
  card.card_keep_first_six = true;
  EXPECT_THAT(Make(card, "six")->Tokenize("411111111111111"),  // 15 digits
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto preserve = Make(TokenizerOptions(), "preserve");
  EXPECT_THAT(preserve->Tokenize("--- @ ---"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(preserve->Tokenize(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(preserve->Tokenize(std::string(kMaxTokenValueSize + 1, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(TokenizerTest, UnknownTokenIsNotFound) {
  auto t = Make(TokenizerOptions(), "f");
  EXPECT_THAT(t->Detokenize("no-such-token"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(t->DeleteToken("no-such-token"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(TokenizerTest, ExpiredTokensDoNotDetokenize) {
  auto now = std::make_shared<std::atomic<int64_t>>(1700000000);
  TokenizerOptions o;
  o.ttl = absl::Seconds(60);
  o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
  auto det = Make(o, "det");
  o.mode = TokenMode::kRandom;
  auto rand = Make(o, "rand");
  auto token = det->Tokenize("+61 2 5550 0199");
  auto r1 = rand->Tokenize("alice"), r2 = rand->Tokenize("bob");
  ASSERT_THAT(token, IsOk());
  ASSERT_THAT(r1, IsOk());
  ASSERT_THAT(r2, IsOk());
  *now += 59;
  EXPECT_THAT(det->Detokenize(*token), IsOk());
  EXPECT_EQ(*det->Tokenize("+61 2 5550 0199"), *token);
  *now += 1;
  EXPECT_THAT(det->Detokenize(*token), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(rand->Detokenize(*r1), StatusIs(absl::StatusCode::kFailedPrecondition));
  // A deterministic field gives the value a new token, which lives its own 60 seconds.
  auto fresh = det->Tokenize("+61 2 5550 0199");
  ASSERT_THAT(fresh, IsOk());
  EXPECT_NE(*fresh, *token);
  EXPECT_EQ(*det->Detokenize(*fresh), "+61 2 5550 0199");
  EXPECT_THAT(det->Detokenize(*token), StatusIs(absl::StatusCode::kNotFound));
  // Purging removes exactly the expired rows.
  auto purged = rand->DeleteExpired();
  ASSERT_THAT(purged, IsOk());
  EXPECT_EQ(*purged, 2);
  EXPECT_THAT(rand->Detokenize(*r2), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(*det->DeleteExpired(), 0);
  EXPECT_THAT(det->Detokenize(*fresh), IsOk());
}

TEST_P(TokenizerTest, DeletedTokensAreGone) {
  auto t = Make(TokenizerOptions(), "f");
  auto token = t->Tokenize("jane@example.com");
  ASSERT_THAT(token, IsOk());
  EXPECT_THAT(t->DeleteToken(*token), IsOk());
  EXPECT_THAT(t->Detokenize(*token), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(t->DeleteToken(*token), StatusIs(absl::StatusCode::kNotFound));
  auto again = t->Tokenize("jane@example.com");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*t->Detokenize(*again), "jane@example.com");
}

TEST_P(TokenizerTest, EraseValueDeletesEveryTokenOfTheValue) {
  TokenizerOptions o;
  o.mode = TokenMode::kRandom;
  auto rand = Make(o, "rand");
  std::vector<std::string> janes;
  for (int i = 0; i < 3; ++i) janes.push_back(*rand->Tokenize("jane@example.com"));
  const std::string bob = *rand->Tokenize("bob@example.com");
  auto erased = rand->EraseValue("jane@example.com");
  ASSERT_THAT(erased, IsOk());
  EXPECT_EQ(*erased, 3);
  for (const std::string& t : janes) {
    EXPECT_THAT(rand->Detokenize(t), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_EQ(*rand->Detokenize(bob), "bob@example.com");

  auto det = Make(TokenizerOptions(), "det");
  const std::string jane = *det->Tokenize("jane@example.com");
  EXPECT_EQ(*det->EraseValue("jane@example.com"), 1);
  EXPECT_EQ(*det->EraseValue("jane@example.com"), 0);
  EXPECT_THAT(det->Detokenize(jane), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(TokenizerTest, EraseScansPastOnePage) {
  TokenizerOptions o;
  o.mode = TokenMode::kRandom;
  o.format = TokenFormat::kAlphanumeric;
  auto t = Make(o, "f");
  for (int i = 0; i < 300; ++i) ASSERT_THAT(t->Tokenize(i % 100 == 0 ? "x" : "y"), IsOk());
  EXPECT_EQ(*t->EraseValue("x"), 3);
  EXPECT_EQ(*t->EraseValue("y"), 297);
}

TEST_P(TokenizerTest, FullFormatSpaceGivesResourceExhausted) {
  // A one-digit value has 9 possible tokens (never the value itself).
  TokenizerOptions o;
  o.mode = TokenMode::kRandom;
  o.max_attempts = 200;
  auto t = Make(o, "f");
  std::set<std::string> tokens;
  absl::Status last;
  for (int i = 0; i < 20 && last.ok(); ++i) {
    auto token = t->Tokenize("7");
    if (token.ok()) {
      EXPECT_TRUE(tokens.insert(*token).second);
    } else {
      last = token.status();
    }
  }
  EXPECT_LE(tokens.size(), 9u);
  EXPECT_THAT(last, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(std::string(last.message()), HasSubstr("too small"));
}

TEST_P(TokenizerTest, TokensSurviveARestartOfTheProcess) {
  const std::string kek_path = store_loc_.dir().File("kek.key");
  ASSERT_THAT(Kek::Create("file:" + kek_path), IsOk());
  auto kek = Kek::Open("file:" + kek_path);
  ASSERT_THAT(kek, IsOk());
  const std::string keyset_path = store_loc_.dir().File("keyset");
  ASSERT_THAT(keyset_->WriteNew(keyset_path, **kek), IsOk());
  TokenizerOptions o;
  o.format = TokenFormat::kCard;
  std::string token = *Make(o, "card")->Tokenize("4111 1111 1111 1111");
  // Everything from scratch: keyset file, store, tokenizer.
  store_.reset();
  keyset_.reset();
  auto keyset = Keyset::Read(keyset_path, **kek);
  ASSERT_THAT(keyset, IsOk());
  keyset_ = std::make_unique<Keyset>(*std::move(keyset));
  OpenStore();
  auto t = Make(o, "card");
  EXPECT_EQ(*t->Detokenize(token), "4111 1111 1111 1111");
  EXPECT_EQ(*t->Tokenize("4111 1111 1111 1111"), token);
}

TEST_P(TokenizerTest, KeyRotationKeepsTokensAndDeterminism) {
  auto before = Make(TokenizerOptions(), "f");
  const std::string token = *before->Tokenize("jane@example.com");
  const uint32_t old_key = keyset_->primary_key_id();
  ASSERT_THAT(keyset_->Rotate(), IsOk());
  auto after = Make(TokenizerOptions(), "f");
  EXPECT_EQ(*after->Tokenize("jane@example.com"), token);  // found under the old key
  EXPECT_EQ(*after->Detokenize(token), "jane@example.com");
  const std::string bob = *after->Tokenize("bob@example.com");
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  auto disabled = Make(TokenizerOptions(), "f");
  EXPECT_THAT(disabled->Detokenize(token), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(*disabled->Detokenize(bob), "bob@example.com");
}

TEST_P(TokenizerTest, CiphertextSwappedBetweenTokensFailsToDecrypt) {
  auto t = Make(TokenizerOptions(), "f");
  const std::string a = *t->Tokenize("alice"), b = *t->Tokenize("bobby");
  auto ea = store_->Find(Field("f"), a), eb = store_->Find(Field("f"), b);
  ASSERT_TRUE(ea.ok() && ea->has_value() && eb.ok() && eb->has_value());
  ASSERT_TRUE(*store_->Delete(Field("f"), a));
  TokenEntry swapped = **ea;
  swapped.ciphertext = (*eb)->ciphertext;
  ASSERT_EQ(*store_->Insert(Field("f"), swapped, ""), InsertOutcome::kInserted);
  EXPECT_THAT(t->Detokenize(a), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*t->Detokenize(b), "bobby");
}

TEST_P(TokenizerTest, StoreReportsWhichUniqueConstraintHeld) {
  TokenEntry e{"tok1", "ciphertext-1", 0};
  const std::string f = Field("f");
  EXPECT_EQ(*store_->Insert(f, e, "lookup1"), InsertOutcome::kInserted);
  EXPECT_EQ(*store_->Insert(f, TokenEntry{"tok2", "c", 0}, "lookup1"), InsertOutcome::kLookupTaken);
  EXPECT_EQ(*store_->Insert(f, TokenEntry{"tok1", "c", 0}, "lookup2"), InsertOutcome::kTokenTaken);
  EXPECT_EQ(*store_->Insert(f, TokenEntry{"tok1", "c", 0}, ""), InsertOutcome::kTokenTaken);
  // Other fields are other partitions.
  EXPECT_EQ(*store_->Insert(Field("g"), e, "lookup1"), InsertOutcome::kInserted);
  auto found = store_->FindByLookup(f, "lookup1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->token, "tok1");
  EXPECT_EQ((*found)->ciphertext, "ciphertext-1");
  EXPECT_EQ((*found)->expires_unix_seconds, 0);
  auto page = store_->List(f, "", 10);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 1u);
}

TEST_P(TokenizerTest, ADumpOfTheStoreRevealsNoValues) {
  const std::vector<std::string> values = {"jane.doe@example.com", "4111111111111111",
                                           "Unmistakable Name"};
  TokenizerOptions o;
  auto det = Make(o, "det");
  o.mode = TokenMode::kRandom;
  auto rand = Make(o, "rand");
  for (const std::string& v : values) {
    ASSERT_THAT(det->Tokenize(v), IsOk());
    ASSERT_THAT(rand->Tokenize(v), IsOk());
  }
  auto dump = store_loc_.Dump();
  ASSERT_THAT(dump, IsOk());
  EXPECT_THAT(*dump, HasSubstr(Field("det")));  // the dump did read the rows
  for (const std::string& v : values) EXPECT_THAT(*dump, Not(HasSubstr(v)));
}

// 8 threads of this process and 2 piicrypt processes tokenize the same 120 values of a
// deterministic field in different orders: exactly one token per value, never shared.
TEST_P(TokenizerTest, ConcurrentWritersAgreeOnOneTokenPerValue) {
  ASSERT_NO_FATAL_FAILURE(WriteKeysetFile());
  const std::string& kek = kek_;
  const std::string& keyset_path = keyset_path_;
  TokenizerOptions o;
  o.format = TokenFormat::kCard;
  auto t = Make(o, "card");
  std::vector<std::string> values;
  for (int i = 0; i < 120; ++i) {
    // 16-digit numbers sharing their last four digits: tokens differ only in the middle.
    std::string v = absl::StrCat("4000", 10000000 + i * 7919, "0000");
    values.push_back(v);
  }
  std::string input;
  for (const std::string& v : values) absl::StrAppend(&input, v, "\n");
  CommandResult processes[2];
  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      processes[p] = RunCommand(
          absl::StrCat(CliPath(), " tokenize --kek '", kek, "' --keyset '", keyset_path,
                       "' --field '", Field("card"), "' --format card --store '", url_, "'"),
          input);
    });
  }
  std::vector<std::map<std::string, std::string>> seen(8);
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string& v = values[(i * (w + 1) + w * 13) % values.size()];
        auto token = t->Tokenize(v);
        if (!token.ok()) {
          ADD_FAILURE() << token.status();
          return;
        }
        seen[w][v] = *token;
      }
    });
  }
  for (auto& th : workers) th.join();
  for (auto& th : threads) th.join();
  std::map<std::string, std::string> token_of;
  for (const auto& m : seen) {
    for (const auto& [value, token] : m) {
      auto [it, inserted] = token_of.emplace(value, token);
      EXPECT_EQ(it->second, token) << "two tokens for one value";
    }
  }
  for (int p = 0; p < 2; ++p) {
    ASSERT_EQ(processes[p].exit_code, 0) << processes[p].err;
    std::vector<std::string> lines = absl::StrSplit(processes[p].out, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      auto [it, inserted] = token_of.emplace(values[i], lines[i]);
      EXPECT_EQ(it->second, lines[i]) << "process " << p << " got another token";
    }
  }
  ASSERT_EQ(token_of.size(), values.size());
  std::set<std::string> distinct;
  for (const auto& [value, token] : token_of) {
    EXPECT_TRUE(distinct.insert(token).second) << "token shared by two values";
    EXPECT_EQ(*t->Detokenize(token), value);
  }
  auto all = store_->List(Field("card"), "", 1000);
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), values.size()) << "one row per value";
}

TEST_P(TokenizerTest, StoreReplaceIsACompareAndSet) {
  const std::string f = Field("f");
  ASSERT_EQ(*store_->Insert(f, TokenEntry{"tok1", "ct1", 0}, "L1"), InsertOutcome::kInserted);
  ASSERT_EQ(*store_->Insert(f, TokenEntry{"tok2", "ct2", 0}, ""), InsertOutcome::kInserted);
  ASSERT_EQ(*store_->Insert(f, TokenEntry{"tok3", "ct3", 4102444800}, "L3"),
            InsertOutcome::kInserted);
  auto ciphertext_of = [&](const std::string& token) -> std::string {
    auto e = store_->Find(f, token);
    return e.ok() && e->has_value() ? (*e)->ciphertext : "<none>";
  };
  auto token_of_lookup = [&](const std::string& lookup) -> std::string {
    auto e = store_->FindByLookup(f, lookup);
    return e.ok() && e->has_value() ? (*e)->token : "<none>";
  };
  // Not the expected ciphertext, or no such token: nothing happens.
  EXPECT_EQ(*store_->Replace(f, "tok1", "other", "ct1b", "L1b"), ReplaceOutcome::kChanged);
  EXPECT_EQ(*store_->Replace(f, "tok9", "ct1", "ct1b", "L1b"), ReplaceOutcome::kChanged);
  EXPECT_EQ(*store_->Replace(Field("g"), "tok1", "ct1", "ct1b", "L1b"), ReplaceOutcome::kChanged);
  EXPECT_EQ(ciphertext_of("tok1"), "ct1");
  // Ciphertext and lookup together.
  EXPECT_EQ(*store_->Replace(f, "tok1", "ct1", "ct1b", "L1b"), ReplaceOutcome::kReplaced);
  EXPECT_EQ(ciphertext_of("tok1"), "ct1b");
  EXPECT_EQ(token_of_lookup("L1b"), "tok1");
  EXPECT_EQ(token_of_lookup("L1"), "<none>");
  // An entry without a lookup does not get one.
  EXPECT_EQ(*store_->Replace(f, "tok2", "ct2", "ct2b", "L2"), ReplaceOutcome::kReplaced);
  EXPECT_EQ(ciphertext_of("tok2"), "ct2b");
  EXPECT_EQ(token_of_lookup("L2"), "<none>");
  // A lookup held by another entry: nothing changes; "" removes the lookup instead.
  EXPECT_EQ(*store_->Replace(f, "tok3", "ct3", "ct3b", "L1b"), ReplaceOutcome::kLookupTaken);
  EXPECT_EQ(ciphertext_of("tok3"), "ct3");
  EXPECT_EQ(token_of_lookup("L3"), "tok3");
  EXPECT_EQ(*store_->Replace(f, "tok3", "ct3", "ct3b", ""), ReplaceOutcome::kReplaced);
  EXPECT_EQ(ciphertext_of("tok3"), "ct3b");
  EXPECT_EQ(token_of_lookup("L3"), "<none>");
  auto tok3 = store_->Find(f, "tok3");
  ASSERT_TRUE(tok3.ok() && tok3->has_value());
  EXPECT_EQ((*tok3)->expires_unix_seconds, 4102444800);  // expiry kept
  // std::nullopt keeps the lookup.
  EXPECT_EQ(*store_->Replace(f, "tok1", "ct1b", "ct1c", std::nullopt), ReplaceOutcome::kReplaced);
  EXPECT_EQ(token_of_lookup("L1b"), "tok1");
  EXPECT_EQ(ciphertext_of("tok1"), "ct1c");
}

TEST_P(TokenizerTest, StoreReplaceAllGivesOneOutcomePerEntry) {
  const std::string f = Field("f");
  ASSERT_EQ(*store_->Insert(f, TokenEntry{"a", "ct-a", 0}, "La"), InsertOutcome::kInserted);
  ASSERT_EQ(*store_->Insert(f, TokenEntry{"b", "ct-b", 0}, "Lb"), InsertOutcome::kInserted);
  ASSERT_EQ(*store_->Insert(f, TokenEntry{"c", "ct-c", 0}, ""), InsertOutcome::kInserted);
  // b's new lookup is a's: that one entry is refused, the others in the batch still land.
  auto outcomes = store_->ReplaceAll(
      f, {Replacement{"a", "ct-a", "ct-a2", "La2"}, Replacement{"b", "ct-b", "ct-b2", "La2"},
          Replacement{"gone", "x", "y", std::nullopt},
          Replacement{"c", "stale", "ct-c2", std::nullopt},
          Replacement{"c", "ct-c", "ct-c3", std::nullopt}});
  ASSERT_THAT(outcomes, IsOk());
  EXPECT_THAT(*outcomes,
              ::testing::ElementsAre(ReplaceOutcome::kReplaced, ReplaceOutcome::kLookupTaken,
                                     ReplaceOutcome::kChanged, ReplaceOutcome::kChanged,
                                     ReplaceOutcome::kReplaced));
  EXPECT_EQ((*store_->Find(f, "a"))->ciphertext, "ct-a2");
  EXPECT_EQ((*store_->Find(f, "b"))->ciphertext, "ct-b");
  EXPECT_EQ((*store_->Find(f, "c"))->ciphertext, "ct-c3");
  EXPECT_EQ((*store_->FindByLookup(f, "La2"))->token, "a");
  EXPECT_EQ((*store_->FindByLookup(f, "Lb"))->token, "b");
  auto empty = store_->ReplaceAll(f, {});
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->empty());
}

// Every entry of the field's key, as the store holds it.
std::map<std::string, uint32_t> KeysOfEntries(const TokenStore& store, const std::string& field) {
  std::map<std::string, uint32_t> out;
  auto all = store.List(field, "", 100000);
  EXPECT_THAT(all, IsOk());
  if (!all.ok()) return out;
  for (const TokenEntry& e : *all) {
    auto key = FieldCipher::KeyIdOfText(e.ciphertext);
    EXPECT_THAT(key, IsOk());
    out[e.token] = key.ok() ? *key : 0;
  }
  return out;
}

// Sums Rekey pages of `limit` until done.
RekeyStats RekeyAll(const Tokenizer& t, size_t limit) {
  RekeyStats total;
  for (int pages = 0; !total.done && pages < 100000; ++pages) {
    auto page = t.Rekey(total.last_token, limit);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) break;
    EXPECT_LE(page->read, static_cast<int64_t>(limit));
    EXPECT_EQ(page->rekeyed + page->current + page->changed + page->unreadable, page->read);
    total += *page;
  }
  EXPECT_TRUE(total.done);
  return total;
}

TEST_P(TokenizerTest, RekeyMovesEveryEntryToThePrimaryKeepingTokens) {
  TokenizerOptions det;
  TokenizerOptions rnd;
  rnd.mode = TokenMode::kRandom;
  rnd.ttl = absl::Hours(24);
  std::map<std::string, std::string> det_tokens, rnd_tokens;  // token -> value
  {
    auto d = Make(det, "det"), r = Make(rnd, "rnd");
    for (int i = 0; i < 40; ++i) {
      const std::string v = absl::StrCat("customer", i, "@example.com");
      det_tokens[*d->Tokenize(v)] = v;
    }
    for (int i = 0; i < 6; ++i) {
      const std::string v = absl::StrCat("4111 1111 1111 ", 1000 + i);
      rnd_tokens[*r->Tokenize(v)] = v;
      rnd_tokens[*r->Tokenize(v)] = v;  // random: a second token of the same value
    }
  }
  ASSERT_EQ(det_tokens.size(), 40u);
  ASSERT_EQ(rnd_tokens.size(), 12u);
  const uint32_t old_key = keyset_->primary_key_id();
  auto rnd_before = store_->List(Field("rnd"), "", 100);
  ASSERT_THAT(rnd_before, IsOk());
  ASSERT_TRUE(keyset_->Rotate().ok());
  const uint32_t new_key = keyset_->primary_key_id();

  // Pages of 7, with the tokenizer of either mode: the mode does not matter to Rekey.
  auto d = Make(det, "det"), r = Make(rnd, "rnd");
  RekeyStats det_stats = RekeyAll(*d, 7);
  EXPECT_EQ(det_stats.read, 40);
  EXPECT_EQ(det_stats.rekeyed, 40);
  EXPECT_EQ(det_stats.current + det_stats.changed + det_stats.unreadable + det_stats.duplicates, 0);
  RekeyStats rnd_stats = RekeyAll(*Make(det, "rnd"), 5);
  EXPECT_EQ(rnd_stats.read, 12);
  EXPECT_EQ(rnd_stats.rekeyed, 12);
  for (const auto& [token, key] : KeysOfEntries(*store_, Field("det"))) {
    EXPECT_EQ(key, new_key) << token;
    EXPECT_EQ(det_tokens.count(token), 1u) << "tokens stay";
  }
  EXPECT_EQ(KeysOfEntries(*store_, Field("det")).size(), 40u);
  auto rnd_after = store_->List(Field("rnd"), "", 100);
  ASSERT_THAT(rnd_after, IsOk());
  ASSERT_EQ(rnd_after->size(), rnd_before->size());
  for (size_t i = 0; i < rnd_after->size(); ++i) {
    EXPECT_EQ((*rnd_after)[i].token, (*rnd_before)[i].token);
    EXPECT_EQ((*rnd_after)[i].expires_unix_seconds, (*rnd_before)[i].expires_unix_seconds);
    EXPECT_NE((*rnd_after)[i].ciphertext, (*rnd_before)[i].ciphertext);
    EXPECT_EQ(*FieldCipher::KeyIdOfText((*rnd_after)[i].ciphertext), new_key);
  }

  // The old key can go: every token still detokenizes, and each value still finds its
  // one token through its lookup under the new key.
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  auto d2 = Make(det, "det"), r2 = Make(rnd, "rnd");
  for (const auto& [token, value] : det_tokens) {
    EXPECT_EQ(*d2->Detokenize(token), value);
    EXPECT_EQ(*d2->Tokenize(value), token);
  }
  for (const auto& [token, value] : rnd_tokens) EXPECT_EQ(*r2->Detokenize(token), value);
  // Random fields got no lookups: a value still gets a new token each time.
  const std::string fresh = *r2->Tokenize("4111 1111 1111 1000");
  EXPECT_EQ(rnd_tokens.count(fresh), 0u);
  EXPECT_EQ(KeysOfEntries(*store_, Field("det")).size(), 40u) << "no new rows";

  // A second run finds nothing to do.
  RekeyStats again = RekeyAll(*d2, 1000);
  EXPECT_EQ(again.read, 40);
  EXPECT_EQ(again.current, 40);
  EXPECT_EQ(again.rekeyed, 0);
}

TEST_P(TokenizerTest, RekeyCountsDisabledKeysAndKeepsTheNewerTokenOfAValue) {
  TokenizerOptions o;
  const std::string old_token = *Make(o, "f")->Tokenize("jane@example.com");
  const std::string other = *Make(o, "f")->Tokenize("bob@example.com");
  const uint32_t old_key = keyset_->primary_key_id();
  ASSERT_TRUE(keyset_->Rotate().ok());
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  // With the old key disabled its lookup is not computed: the value gets a second token.
  const std::string new_token = *Make(o, "f")->Tokenize("jane@example.com");
  ASSERT_NE(new_token, old_token);

  RekeyStats stats = RekeyAll(*Make(o, "f"), 10);
  EXPECT_EQ(stats.read, 3);
  EXPECT_EQ(stats.unreadable, 2);  // under the disabled key: left alone
  EXPECT_EQ(stats.current, 1);
  EXPECT_EQ(stats.rekeyed, 0);

  ASSERT_THAT(keyset_->Enable(old_key), IsOk());
  stats = RekeyAll(*Make(o, "f"), 10);
  EXPECT_EQ(stats.rekeyed, 2);
  EXPECT_EQ(stats.duplicates, 1);  // jane's old token: her lookup belongs to the new one
  EXPECT_EQ(stats.current, 1);
  EXPECT_EQ(stats.unreadable, 0);

  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  auto t = Make(o, "f");
  EXPECT_EQ(*t->Detokenize(old_token), "jane@example.com");
  EXPECT_EQ(*t->Detokenize(new_token), "jane@example.com");
  EXPECT_EQ(*t->Detokenize(other), "bob@example.com");
  EXPECT_EQ(*t->Tokenize("jane@example.com"), new_token);
  EXPECT_EQ(*t->Tokenize("bob@example.com"), other);
  EXPECT_THAT(t->Rekey("", 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Rekey in small pages while other threads tokenize new values and delete old tokens:
// no deleted token comes back, every remaining one detokenizes, and all end up under the
// primary key.
TEST_P(TokenizerTest, RekeyAlongsideConcurrentWriters) {
  TokenizerOptions o;
  std::vector<std::pair<std::string, std::string>> old;  // token, value
  {
    auto t = Make(o, "f");
    for (int i = 0; i < 150; ++i) {
      const std::string v = absl::StrCat("old", i, "@example.com");
      old.emplace_back(*t->Tokenize(v), v);
    }
  }
  const uint32_t old_key = keyset_->primary_key_id();
  ASSERT_TRUE(keyset_->Rotate().ok());
  auto t = Make(o, "f");
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  std::vector<std::vector<std::string>> deleted(2);
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      // 40 deletions each (old tokens w, w + 2, ...), and new values until Rekey is done.
      for (int i = 0; i < 40 || (!stop.load() && i < 2000); ++i) {
        ASSERT_THAT(t->Tokenize(absl::StrCat("new", w, "-", i, "@example.com")), IsOk());
        if (i < 40) {
          const std::string& victim = old[static_cast<size_t>(w + 2 * i)].first;
          ASSERT_THAT(t->DeleteToken(victim), IsOk());
          deleted[w].push_back(victim);
        }
      }
    });
  }
  RekeyStats stats = RekeyAll(*t, 5);
  stop = true;
  for (auto& th : writers) th.join();
  EXPECT_EQ(stats.unreadable, 0);
  EXPECT_GT(stats.rekeyed, 0);

  // Whatever the first pass met, a second one leaves every old entry under the primary.
  RekeyAll(*t, 50);
  ASSERT_THAT(keyset_->Disable(old_key), IsOk());
  auto after = Make(o, "f");
  std::set<std::string> gone;
  for (const auto& d : deleted) gone.insert(d.begin(), d.end());
  EXPECT_EQ(gone.size(), 80u);
  for (const auto& [token, value] : old) {
    if (gone.count(token) != 0) {
      EXPECT_THAT(after->Detokenize(token), StatusIs(absl::StatusCode::kNotFound)) << "came back";
    } else {
      EXPECT_EQ(*after->Detokenize(token), value);
    }
  }
  for (const auto& [token, key] : KeysOfEntries(*store_, Field("f"))) {
    EXPECT_EQ(key, keyset_->primary_key_id()) << token;
  }
}

TEST_P(TokenizerTest, RekeyTokensCommand) {
  ASSERT_NO_FATAL_FAILURE(WriteKeysetFile());
  const std::string& kek = kek_;
  const std::string& keyset_path = keyset_path_;
  TokenizerOptions o;
  o.format = TokenFormat::kCard;
  std::vector<std::pair<std::string, std::string>> tokens;
  {
    auto t = Make(o, "card");
    for (const char* v : {"4111 1111 1111 1111", "5500 0000 0000 0004", "6011 0009 9013 9424"}) {
      tokens.emplace_back(*t->Tokenize(v), v);
    }
  }
  const uint32_t old_key = keyset_->primary_key_id();
  const std::string base = absl::StrCat(CliPath(), " ");
  const std::string common = absl::StrCat(" --kek '", kek, "' --keyset '", keyset_path,
                                          "' --field '", Field("card"), "' --store '", url_, "'");
  CommandResult rotate =
      RunCommand(absl::StrCat(base, "keyset rotate --kek '", kek, "' '", keyset_path, "'"));
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  // The old key disabled first: nothing can be re-encrypted, and the exit status says so.
  ASSERT_EQ(RunCommand(absl::StrCat(base, "keyset disable ", old_key, " --kek '", kek, "' '",
                                    keyset_path, "'"))
                .exit_code,
            0);
  CommandResult refused = RunCommand(base + "rekey-tokens" + common);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.out, HasSubstr("3 entries: 0 re-encrypted"));
  EXPECT_THAT(refused.out, HasSubstr("3 unreadable"));
  EXPECT_THAT(refused.err, HasSubstr("enable their key"));
  ASSERT_EQ(RunCommand(absl::StrCat(base, "keyset enable ", old_key, " --kek '", kek, "' '",
                                    keyset_path, "'"))
                .exit_code,
            0);
  CommandResult run = RunCommand(base + "rekey-tokens --batch 2" + common);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat(Field("card"), ": 3 entries: 3 re-encrypted")));
  EXPECT_THAT(run.out, HasSubstr("(0 duplicates, 0 upgraded from entry format 1)"));
  EXPECT_THAT(run.out, HasSubstr("0 unreadable"));
  for (const auto& [token, value] : tokens) {
    EXPECT_THAT(run.out + run.err, Not(HasSubstr(value)));
    EXPECT_THAT(run.out + run.err, Not(HasSubstr(token)));
  }
  CommandResult again = RunCommand(base + "rekey-tokens" + common);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("0 re-encrypted"));
  EXPECT_THAT(again.out, HasSubstr("3 already under it"));
  ASSERT_EQ(RunCommand(absl::StrCat(base, "keyset disable ", old_key, " --kek '", kek, "' '",
                                    keyset_path, "'"))
                .exit_code,
            0);
  std::string input;
  for (const auto& [token, value] : tokens) absl::StrAppend(&input, token, "\n");
  CommandResult detok = RunCommand(base + "detokenize --format card" + common, input);
  ASSERT_EQ(detok.exit_code, 0) << detok.err;
  EXPECT_EQ(detok.out,
            absl::StrCat(tokens[0].second, "\n", tokens[1].second, "\n", tokens[2].second, "\n"));
  // Bad usage.
  EXPECT_EQ(RunCommand(base + "rekey-tokens --batch 0" + common).exit_code, 2);
  EXPECT_EQ(RunCommand(absl::StrCat(base, "rekey-tokens --kek '", kek, "' --keyset '", keyset_path,
                                    "' --field f"))
                .exit_code,
            2);
  EXPECT_EQ(RunCommand(absl::StrCat(base, "rekey-tokens --kek '", kek, "' --keyset '", keyset_path,
                                    "' --field f --store mysql://x"))
                .exit_code,
            2);
}

// The value of `s` as text, or its error: for comparisons that must fail, not crash, when
// the code a test guards is broken.
template <typename T>
std::string Or(const absl::StatusOr<T>& s) {
  return s.ok() ? absl::StrCat(*s) : s.status().ToString();
}

// An entry as written before expiry times were authenticated (entry format version 1:
// the ciphertext's record is the token alone), with the lookup of a deterministic field.
void InsertVersion1Entry(const Keyset& keyset, const TokenStore& store, const std::string& field,
                         const TokenEntry& plain_entry, const std::string& value, bool lookup) {
  auto cipher = keyset.FieldCipherFor(field, FieldMode::kRandomized);
  ASSERT_THAT(cipher, IsOk());
  TokenEntry entry = plain_entry;
  auto ciphertext = (*cipher)->EncryptText(value, entry.token);
  ASSERT_THAT(ciphertext, IsOk());
  entry.ciphertext = *ciphertext;
  std::string lookup_hex;
  if (lookup) {
    auto root = keyset.KeyMaterial(keyset.primary_key_id(), InsecureSecretKeyAccess::Get());
    ASSERT_THAT(root, IsOk());
    auto key = internal::DeriveFieldKey(*root, internal::FieldPurpose::kToken, field);
    ASSERT_THAT(key, IsOk());
    auto hmac = internal::HmacSha256::Create(*key);
    ASSERT_THAT(hmac, IsOk());
    internal::HmacSha256::Tag tag;
    ASSERT_THAT((*hmac)->Compute(value, tag), IsOk());
    lookup_hex = internal::TruncatedHex(tag, 128);
  }
  ASSERT_EQ(*store.Insert(field, entry, lookup_hex), InsertOutcome::kInserted);
}

// Someone who can write to the database swaps the lookups of two deterministic entries:
// the value of one then leads to the other's token. Neither Tokenize nor EraseValue
// believes it, and nothing is deleted.
TEST_P(TokenizerTest, SwappedLookupsAreDetectedAndNothingIsDeleted) {
  TokenizerOptions o;
  o.format = TokenFormat::kCard;
  auto t = Make(o, "card");
  const std::string card_a = "4111 1111 1111 1111", card_b = "5500 0000 0000 0004";
  const std::string a = *t->Tokenize(card_a), b = *t->Tokenize(card_b);
  const std::string where =
      absl::StrCat("FROM piicrypt_tokens WHERE field = '", Field("card"), "' AND token = ");
  auto lookup_a = store_loc_.SqlValue(absl::StrCat("SELECT lookup ", where, "'", a, "'"));
  auto lookup_b = store_loc_.SqlValue(absl::StrCat("SELECT lookup ", where, "'", b, "'"));
  ASSERT_THAT(lookup_a, IsOk());
  ASSERT_THAT(lookup_b, IsOk());
  ASSERT_EQ(lookup_a->size(), 32u);
  const std::string update = absl::StrCat("UPDATE piicrypt_tokens SET lookup = ");
  const std::string row = absl::StrCat(" WHERE field = '", Field("card"), "' AND token = ");
  ASSERT_THAT(store_loc_.Sql(absl::StrCat(update, "'swap'", row, "'", a, "'")), IsOk());
  ASSERT_THAT(store_loc_.Sql(absl::StrCat(update, "'", *lookup_a, "'", row, "'", b, "'")), IsOk());
  ASSERT_THAT(store_loc_.Sql(absl::StrCat(update, "'", *lookup_b, "'", row, "'", a, "'")), IsOk());

  auto t2 = Make(o, "card");
  auto for_b = t2->Tokenize(card_b);
  EXPECT_THAT(for_b, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(for_b.status().message()), HasSubstr("altered"));
  EXPECT_THAT(t2->Tokenize(card_a), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(t2->EraseValue(card_a), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(t2->EraseValue(card_b), StatusIs(absl::StatusCode::kDataLoss));
  // Both entries are still there, each with its own value.
  EXPECT_EQ(Or(t2->Detokenize(a)), card_a);
  EXPECT_EQ(Or(t2->Detokenize(b)), card_b);
}

// Rewriting an entry's expiry time (to revive an expired token, or to mark a live one as
// expired) makes its token fail to detokenize: the expiry is authenticated.
TEST_P(TokenizerTest, RewrittenExpiryTimesDoNotDetokenize) {
  auto now = std::make_shared<std::atomic<int64_t>>(1700000000);
  TokenizerOptions o;
  o.ttl = absl::Seconds(60);
  o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
  o.mode = TokenMode::kRandom;
  auto t = Make(o, "f");
  std::vector<std::string> rewrites = {"9223372036854775807", "NULL", "0", "1700000100",
                                       "1700000030"};
  // SQLite keeps any type in any column; such rows are corrupt, never "no expiry".
  const std::set<std::string> corrupt = {"'abc'", "X'01'", "1.5"};
  if (GetParam() == StoreKind::kSqlite) {
    rewrites.insert(rewrites.end(), corrupt.begin(), corrupt.end());
    rewrites.push_back("'1700000100'");  // SQLite makes an integer of it
  }
  for (const std::string& rewrite : rewrites) {
    SCOPED_TRACE(rewrite);
    const std::string token = *t->Tokenize("jane@example.com");
    ASSERT_EQ(Or(t->Detokenize(token)), "jane@example.com");
    ASSERT_THAT(
        store_loc_.Sql(absl::StrCat("UPDATE piicrypt_tokens SET expires_at = ", rewrite,
                                    " WHERE field = '", Field("f"), "' AND token = '", token, "'")),
        IsOk());
    for (int64_t when : {0, 90}) {  // before and after the real expiry time
      *now += when;
      EXPECT_THAT(t->Detokenize(token),
                  StatusIs(corrupt.count(rewrite) != 0 ? absl::StatusCode::kDataLoss
                                                       : absl::StatusCode::kInvalidArgument));
      *now -= when;
    }
  }
  // The same for a deterministic field: the value's token is not handed out again.
  o.mode = TokenMode::kDeterministic;
  auto det = Make(o, "det");
  const std::string token = *det->Tokenize("bob@example.com");
  *now += 120;
  ASSERT_THAT(store_loc_.Sql(absl::StrCat("UPDATE piicrypt_tokens SET expires_at = NULL WHERE "
                                          "field = '",
                                          Field("det"), "'")),
              IsOk());
  EXPECT_THAT(det->Detokenize(token), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(det->Tokenize("bob@example.com"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A row moved to another field (its `field` column rewritten) does not detokenize there,
// and its lookup finds nothing: the field is the ciphertext's CONTEXT, and lookups are
// keyed per field.
TEST_P(TokenizerTest, RowMovedToAnotherFieldDoesNotDetokenize) {
  auto from = Make(TokenizerOptions(), "from"), to = Make(TokenizerOptions(), "to");
  const std::string token = *from->Tokenize("jane@example.com");
  ASSERT_THAT(store_loc_.Sql(absl::StrCat("UPDATE piicrypt_tokens SET field = '", Field("to"),
                                          "' WHERE field = '", Field("from"), "'")),
              IsOk());
  EXPECT_THAT(to->Detokenize(token), StatusIs(absl::StatusCode::kInvalidArgument));
  auto fresh = to->Tokenize("jane@example.com");
  ASSERT_THAT(fresh, IsOk());
  EXPECT_NE(*fresh, token);
}

// Entries of format version 1 (expiry not authenticated) do not detokenize, and their
// values do not get their token, until Rekey upgrades them; erasure still finds them.
TEST_P(TokenizerTest, Version1EntriesAreRefusedUntilRekeyUpgradesThem) {
  TokenizerOptions det;
  TokenizerOptions rnd;
  rnd.mode = TokenMode::kRandom;
  InsertVersion1Entry(*keyset_, *store_, Field("det"), TokenEntry{"tok-jane", "", 0},
                      "jane@example.com", /*lookup=*/true);
  InsertVersion1Entry(*keyset_, *store_, Field("det"), TokenEntry{"tok-bob", "", 4000000000},
                      "bob@example.com", /*lookup=*/true);
  InsertVersion1Entry(*keyset_, *store_, Field("rnd"), TokenEntry{"tok-ann", "", 0},
                      "ann@example.com", /*lookup=*/false);
  InsertVersion1Entry(*keyset_, *store_, Field("rnd"), TokenEntry{"tok-eve", "", 0},
                      "eve@example.com", /*lookup=*/false);
  auto d = Make(det, "det"), r = Make(rnd, "rnd");
  auto refused = d->Detokenize("tok-jane");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("rekey-tokens"));
  EXPECT_THAT(d->Tokenize("jane@example.com"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(r->Detokenize("tok-ann"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Or(r->EraseValue("eve@example.com")), "1");  // erasure needs no expiry

  // Under the primary key already, and upgraded all the same; the expiry is kept.
  RekeyStats stats = RekeyAll(*d, 10);
  EXPECT_EQ(stats.read, 2);
  EXPECT_EQ(stats.rekeyed, 2);
  EXPECT_EQ(stats.upgraded, 2);
  EXPECT_EQ(stats.current, 0);
  stats = RekeyAll(*r, 10);
  EXPECT_EQ(stats.upgraded, 1);
  EXPECT_EQ(Or(d->Detokenize("tok-jane")), "jane@example.com");
  EXPECT_EQ(Or(d->Tokenize("jane@example.com")), "tok-jane");
  EXPECT_EQ(Or(d->Tokenize("bob@example.com")), "tok-bob");
  EXPECT_EQ((*store_->Find(Field("det"), "tok-bob"))->expires_unix_seconds, 4000000000);
  EXPECT_EQ(Or(r->Detokenize("tok-ann")), "ann@example.com");
  stats = RekeyAll(*d, 10);
  EXPECT_EQ(stats.current, 2);
  EXPECT_EQ(stats.upgraded, 0);
  // An upgraded entry's expiry is authenticated like any other.
  ASSERT_THAT(store_loc_.Sql(absl::StrCat("UPDATE piicrypt_tokens SET expires_at = 5 WHERE "
                                          "field = '",
                                          Field("det"), "' AND token = 'tok-bob'")),
              IsOk());
  EXPECT_THAT(d->Detokenize("tok-bob"), StatusIs(absl::StatusCode::kInvalidArgument));
  stats = RekeyAll(*d, 10);
  EXPECT_EQ(stats.unreadable, 1);
}

// Strings that one back-end could store and the other could not (a NUL byte, which
// PostgreSQL's C strings used to cut; invalid UTF-8) get the same answer from both.
TEST_P(TokenizerTest, NulBytesAndInvalidUtf8GetTheSameAnswerOnBothStores) {
  TokenizerOptions o;
  o.format = TokenFormat::kCard;
  auto t = Make(o, "card");
  const std::string token = *t->Tokenize("4111 1111 1111 1111");
  const std::string nul_token = token + std::string("\0ZZZZ", 5);
  const std::string bad_utf8 = token + "\xff";
  const std::string f = Field("card");
  for (const std::string& bad : {nul_token, bad_utf8}) {
    EXPECT_THAT(t->Detokenize(bad), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(t->DeleteToken(bad), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Find(f, bad), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Delete(f, bad), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->FindByLookup(f, bad), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->List(f, bad, 10), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Insert(f, TokenEntry{bad, "ct", 0}, ""),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Insert(f, TokenEntry{"t", bad, 0}, ""),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Insert(f, TokenEntry{"t", "ct", 0}, bad),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Replace(f, bad, "a", "b", std::nullopt),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->Replace(f, token, "a", "b", bad),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->ReplaceAll(f, {Replacement{token, bad, "b", std::nullopt}}),
                StatusIs(absl::StatusCode::kInvalidArgument));
    const std::string bad_field = f + bad.substr(token.size());
    EXPECT_THAT(store_->Find(bad_field, token), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->DeleteExpired(bad_field, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  // The token itself is untouched and still the value's.
  EXPECT_EQ(Or(t->Detokenize(token)), "4111 1111 1111 1111");
  EXPECT_EQ(Or(t->Tokenize("4111 1111 1111 1111")), token);
  // A format that keeps the value's other bytes in the token refuses such values up front.
  auto preserve = Make(TokenizerOptions(), "preserve");
  EXPECT_THAT(preserve->Tokenize(std::string("ab\0cd12", 7)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(preserve->Tokenize("Zo\xeb 42"), StatusIs(absl::StatusCode::kInvalidArgument));
  TokenizerOptions nul_field;
  nul_field.field = std::string("orders\0x", 8);
  EXPECT_THAT(Tokenizer::Create(*keyset_, nul_field, store_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kSqlite ? "sqlite" : "postgresql";
}
// Deterministic tokens of a normalizing field: values that normalize alike share one
// token, which detokenizes to the value as first given; erasure of any spelling erases it.
TEST_P(TokenizerTest, ValuesThatNormalizeAlikeShareOneToken) {
  TokenizerOptions card;
  card.format = TokenFormat::kCard;
  card.normalizer = TokenNormalizer::kCardDigits;
  auto t = Make(card, "card");
  const std::string token = Or(t->Tokenize("4111 1111 1111 1111"));
  EXPECT_EQ(Or(t->Tokenize("4111111111111111")), token);
  EXPECT_EQ(Or(t->Tokenize("4111-1111-1111-1111")), token);
  EXPECT_EQ(Or(t->Detokenize(token)), "4111 1111 1111 1111") << "the value as first given";
  EXPECT_NE(Or(t->Tokenize("5500 0000 0000 0004")), token);
  auto bad = t->Tokenize("4111 1111 1111 111x");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("4111")));
  EXPECT_EQ(Or(t->EraseValue("4111111111111111")), "1");
  EXPECT_THAT(t->Detokenize(token), StatusIs(absl::StatusCode::kNotFound));

  TokenizerOptions email;
  email.normalizer = TokenNormalizer::kEmail;
  auto e = Make(email, "email");
  const std::string jane = Or(e->Tokenize(" Jane.Doe@Example.COM"));
  EXPECT_EQ(Or(e->Tokenize("jane.doe@example.com")), jane);
  EXPECT_EQ(Or(e->Detokenize(jane)), " Jane.Doe@Example.COM");
  EXPECT_THAT(e->Tokenize("not an address"), StatusIs(absl::StatusCode::kInvalidArgument));

  TokenizerOptions phone;
  phone.normalizer = TokenNormalizer::kPhone;
  phone.phone_region = "AU";
  auto p = Make(phone, "phone");
  EXPECT_EQ(Or(p->Tokenize("02 5550 0199")), Or(p->Tokenize("+61 2 5550 0199")));

  // Random fields keep no lookup; erasure there matches normalized forms too.
  card.mode = TokenMode::kRandom;
  auto r = Make(card, "random");
  const std::string r1 = Or(r->Tokenize("4111 1111 1111 1111"));
  const std::string r2 = Or(r->Tokenize("4111111111111111"));
  EXPECT_NE(r1, r2);
  ASSERT_THAT(r->Tokenize("5500 0000 0000 0004"), IsOk());
  EXPECT_EQ(Or(r->EraseValue("4111-1111-1111-1111")), "2");

  // Vaultless tokens encrypt the value as given: a normalizer is refused.
  TokenizerOptions vaultless;
  vaultless.vaultless = true;
  vaultless.normalizer = TokenNormalizer::kCardDigits;
  vaultless.field = Field("vaultless");
  EXPECT_THAT(Tokenizer::Create(*keyset_, vaultless, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
  TokenizerOptions region_only;
  region_only.field = Field("region");
  region_only.phone_region = "AU";
  EXPECT_THAT(Tokenizer::Create(*keyset_, region_only, store_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// The policy's kind selects the normalizer of a vault field.
TEST_P(TokenizerTest, CreateForFieldNormalizesByTheFieldsKind) {
  auto policy = Policy::ParseTextProto(
      absl::StrCat("field { name: '", Field("card"), "' kind: KIND_CARD mode: MODE_VAULT_TOKEN ",
                   "token { format: TOKEN_FORMAT_CARD } } field { name: '", Field("text"),
                   "' mode: MODE_VAULT_TOKEN }"));
  ASSERT_THAT(policy, IsOk());
  auto card = Tokenizer::CreateForField(*keyset_, *policy, Field("card"), store_);
  ASSERT_THAT(card, IsOk());
  EXPECT_EQ((*card)->options().normalizer, TokenNormalizer::kCardDigits);
  EXPECT_EQ(Or((*card)->Tokenize("4111111111111111")),
            Or((*card)->Tokenize("4111 1111 1111 1111")));
  auto text = Tokenizer::CreateForField(*keyset_, *policy, Field("text"), store_);
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ((*text)->options().normalizer, TokenNormalizer::kExact);
}

// A lookup moved between two entries of a normalizing field is still caught: the entry's
// value is normalized and compared with the normalized value.
TEST_P(TokenizerTest, SwappedLookupsOfANormalizingFieldAreDetected) {
  TokenizerOptions o;
  o.normalizer = TokenNormalizer::kEmail;
  auto t = Make(o, "f");
  const std::string a = Or(t->Tokenize("Jane@example.com"));
  const std::string b = Or(t->Tokenize("Bob@example.com"));
  const std::string where = absl::StrCat(" WHERE field = '", Field("f"), "' AND token = '");
  auto lookup_a =
      store_loc_.SqlValue(absl::StrCat("SELECT lookup FROM piicrypt_tokens", where, a, "'"));
  auto lookup_b =
      store_loc_.SqlValue(absl::StrCat("SELECT lookup FROM piicrypt_tokens", where, b, "'"));
  ASSERT_THAT(lookup_a, IsOk());
  ASSERT_THAT(lookup_b, IsOk());
  const std::string set = "UPDATE piicrypt_tokens SET lookup = ";
  ASSERT_THAT(store_loc_.Sql(absl::StrCat(set, "'swap'", where, a, "'")), IsOk());
  ASSERT_THAT(store_loc_.Sql(absl::StrCat(set, "'", *lookup_a, "'", where, b, "'")), IsOk());
  ASSERT_THAT(store_loc_.Sql(absl::StrCat(set, "'", *lookup_b, "'", where, a, "'")), IsOk());
  EXPECT_THAT(t->Tokenize("jane@example.com"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(t->EraseValue("BOB@example.com"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(Or(t->Detokenize(a)), "Jane@example.com");
  EXPECT_EQ(Or(t->Detokenize(b)), "Bob@example.com");
}

// A store written without normalization: Rekey with the field's normalizer recomputes the
// lookups of entries already under the primary, keeps one token of values that now
// normalize alike (the other still detokenizes), and drops the lookup of values the
// normalizer refuses.
TEST_P(TokenizerTest, RekeyMovesLookupsToNormalizedValues) {
  TokenizerOptions exact;
  exact.format = TokenFormat::kPreserve;
  std::map<std::string, std::string> tokens;  // value -> token
  {
    auto t = Make(exact, "f");
    for (const char* v :
         {"4111 1111 1111 1111", "4111111111111111", "5500 0000 0000 0004", "card 7"}) {
      tokens[v] = Or(t->Tokenize(v));
    }
  }
  ASSERT_NE(tokens["4111 1111 1111 1111"], tokens["4111111111111111"]);
  TokenizerOptions card = exact;
  card.normalizer = TokenNormalizer::kCardDigits;
  auto t = Make(card, "f");
  RekeyStats stats = RekeyAll(*t, 3);
  EXPECT_EQ(stats.read, 4);
  EXPECT_EQ(stats.current, 4);
  EXPECT_EQ(stats.relooked, 4);
  EXPECT_EQ(stats.rekeyed, 0);
  EXPECT_EQ(stats.duplicates, 1);
  EXPECT_EQ(stats.unnormalized, 1);
  EXPECT_EQ(stats.changed + stats.unreadable, 0);
  EXPECT_EQ(Or(t->Tokenize("5500000000000004")), tokens["5500 0000 0000 0004"]);
  const std::string kept = Or(t->Tokenize("4111-1111-1111-1111"));
  EXPECT_TRUE(kept == tokens["4111 1111 1111 1111"] || kept == tokens["4111111111111111"]) << kept;
  for (const auto& [value, token] : tokens) EXPECT_EQ(Or(t->Detokenize(token)), value);
  EXPECT_EQ(store_->List(Field("f"), "", 100)->size(), 4u) << "no new entries";
  // A second run changes nothing.
  stats = RekeyAll(*t, 100);
  EXPECT_EQ(stats.duplicates, 0);
  EXPECT_EQ(stats.unnormalized, 1);
  EXPECT_EQ(Or(t->Tokenize("4111111111111111")), kept);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, TokenizerTest, ::testing::Values(StoreKind::kSqlite), StoreName);
// Named Postgres* so that ctest runs them in one process with one server (tests/CMakeLists).
INSTANTIATE_TEST_SUITE_P(Postgres, TokenizerTest, ::testing::Values(StoreKind::kPostgres),
                         StoreName);

}  // namespace
}  // namespace piicrypt
