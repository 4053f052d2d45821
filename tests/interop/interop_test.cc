// Interoperability: piicrypt's ciphertexts, blind indexes, subject field values and subject
// key store, checked by an independent implementation of docs/SPEC.md's formats
// (tests/interop/verify.py on Debian's python3-cryptography and Python's sqlite3), with the
// key material that `piicrypt keyset export-cleartext` prints. What ships is exactly what the
// format document says.
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/subject_cryptor.h"
#include "piicrypt/subject_key_store.h"
#include "piicrypt/subject_rewrap.h"
#include "piicrypt/subtle/field_cipher.h"
#include "tests/subject/subject_test_util.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::CliPath;
using ::piicrypt::testing::CommandResult;
using ::piicrypt::testing::HexEncode;
using ::piicrypt::testing::IsOk;
using ::piicrypt::testing::RunCommand;
using ::piicrypt::testing::SubjectStoreEnv;
using ::piicrypt::testing::SubjectStoreKind;
using ::piicrypt::testing::TempDir;
using ::testing::HasSubstr;

// Debian's interpreter: `python3` on PATH may be another one without python3-cryptography.
constexpr char kPython[] = "/usr/bin/python3";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string VerifierPath() { return std::string(PIICRYPT_SOURCE_DIR) + "/tests/interop/verify.py"; }

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream f(path, std::ios::binary);
  f << contents;
  ASSERT_TRUE(f.good()) << path;
}

// Values worth a second opinion: empty, one byte, around the AES block size (SIV pads
// below 16 bytes and xors the last block from 16 on), Unicode in several scripts, a NUL
// byte, bytes that are not UTF-8, and long values.
std::vector<std::string> Values() {
  return {"",
          "a",
          std::string(15, 'x'),
          std::string(16, 'x'),
          std::string(17, 'x'),
          std::string(32, 'y'),
          std::string(33, 'y'),
          "jane.doe@example.com",
          "+61 2 5550 0199",
          "Zoë Ångström-Núñez",
          "佐藤 美咲",
          "Δημήτρης Παπαδόπουλος 🙂",
          std::string("nul\0inside", 10),
          "\xff\xfe not UTF-8 \x80",
          std::string(1000, 'L'),
          std::string(5000, 'M')};
}

// Subject fields: unpadded (0x05) and padded (0x06), bound to their record and not.
constexpr char kSubjectPolicy[] = R"pb(
  field {
    name: "orders.delivery_address"
    mode: MODE_RANDOMIZED
    bind_record: true
    subject {}
  }
  field {
    name: "orders.customer_name"
    kind: KIND_NAME
    mode: MODE_RANDOMIZED
    bind_record: true
    padding { buckets: [ 16, 32, 64 ] }
    subject { column: "customer_id" }
  }
  field {
    name: "orders.gift_note"
    mode: MODE_RANDOMIZED
    subject {}
  }
  field {
    name: "orders.gift_name"
    mode: MODE_RANDOMIZED
    padding { multiple: 16 }
    subject {}
  }
)pb";

// The padding of each padded field of kSubjectPolicy, as the verifier reads it.
nlohmann::json SubjectPadding(const std::string& field) {
  if (field == "orders.customer_name") return {{"buckets", {16, 32, 64}}};
  if (field == "orders.gift_name") return {{"multiple", 16}};
  return nullptr;
}

// Subject ids of one byte, of the most bytes allowed (UTF-8), and in between.
std::vector<std::string> SubjectIds() {
  std::string longest;
  while (longest.size() < 1024) longest += "ü";
  return {"7", "cust-10042", "顧客-一〇〇四二", longest};
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_uri_ = "file:" + dir_.File("kek.key");
    keyset_path_ = dir_.File("orders.keyset");
    ASSERT_THAT(Kek::Create(kek_uri_), IsOk());
    auto kek = Kek::Open(kek_uri_);
    ASSERT_THAT(kek, IsOk());
    kek_ = *std::move(kek);
    // Three keys after two rotations: values under each of them, the newest primary.
    auto keyset = Keyset::Generate();
    ASSERT_THAT(keyset, IsOk());
    std::string error;
    store_url_ = store_env_.NewUrl(&error);
    ASSERT_FALSE(store_url_.empty()) << error;
    for (int i = 0; i < 3; ++i) {
      if (i > 0) {
        ASSERT_THAT(keyset->Rotate(), IsOk());
      }
      // After the first rotation, the store's rows move under the new primary; rows
      // created after the second stay under the third key: the store has rows under two.
      if (i == 1) {
        auto store = SubjectKeyStore::Open(store_url_);
        ASSERT_THAT(store, IsOk());
        auto rewrap = RewrapSubjectKeys(*keyset, **store, {});
        ASSERT_THAT(rewrap, IsOk());
        ASSERT_TRUE(rewrap->Complete());
        ASSERT_GT(rewrap->rewrapped, 1);
        for (auto& row : row_wrap_key_ids_) row.second = keyset->primary_key_id();
      }
      AddSubjectCases(*keyset, i);
      ASSERT_FALSE(HasFailure());
    }
    ASSERT_THAT(keyset->WriteNew(keyset_path_, *kek_), IsOk());
    std::set<uint32_t> row_wraps;
    for (auto& c : subject_cases_) {
      const uint32_t wrap = row_wrap_key_ids_.at(c["subject_id_hex"].get<std::string>());
      c["row_wrap_key_id"] = wrap;
      row_wraps.insert(wrap);
    }
    ASSERT_EQ(row_wraps.size(), 2u);
  }

  // Values of every subject field for the subjects of `phase` (the phase-th primary key):
  // new subjects in each phase, and subjects of an earlier phase written again.
  void AddSubjectCases(const Keyset& keyset, int phase) {
    auto policy = Policy::ParseTextProto(kSubjectPolicy);
    ASSERT_THAT(policy, IsOk());
    auto store = SubjectKeyStore::Open(store_url_);
    ASSERT_THAT(store, IsOk());
    auto cryptor = SubjectCryptor::Create(keyset, *policy, *std::move(store));
    ASSERT_THAT(cryptor, IsOk());
    const std::vector<std::string> ids = SubjectIds();
    const std::vector<std::vector<std::string>> subjects_of_phase = {
        {ids[0], ids[1]}, {ids[2], ids[0]}, {ids[3], ids[1]}};
    for (const std::string& subject : subjects_of_phase[phase]) {
      // The header names the data key that wrapped the subject's key when written: the
      // primary for a new subject, else the one its row is under.
      const auto row = row_wrap_key_ids_.emplace(HexEncode(subject), keyset.primary_key_id()).first;
      for (const std::string field : {"orders.delivery_address", "orders.customer_name",
                                      "orders.gift_note", "orders.gift_name"}) {
        const bool bound = field.rfind("orders.gift_", 0) != 0;
        const std::string record = bound ? (phase == 1 ? "order-ü-7" : "10042") : "";
        for (const std::string& value : Values()) {
          auto stored = (*cryptor)->EncryptValue(field, subject, value, record);
          ASSERT_THAT(stored, IsOk());
          nlohmann::json c = {{"store", store_url_.substr(std::string("sqlite:").size())},
                              {"subject_id_hex", HexEncode(subject)},
                              {"context_hex", HexEncode(field)},
                              {"record_hex", HexEncode(record)},
                              {"plaintext_hex", HexEncode(value)},
                              {"wrap_key_id", row->second},
                              {"stored", *stored}};
          if (!SubjectPadding(field).is_null()) c["padding"] = SubjectPadding(field);
          subject_cases_.push_back(c);
        }
      }
    }
  }

  // The key material, as the CLI exports it.
  std::string ExportCleartext() {
    CommandResult r = RunCommand(absl::StrCat(Quote(CliPath()), " keyset export-cleartext --kek ",
                                              Quote(kek_uri_), " ", Quote(keyset_path_),
                                              " --i-understand-this-reveals-keys"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // Runs the verifier; returns its exit status and output.
  CommandResult Verify(const nlohmann::json& cases) {
    const std::string keys_path = dir_.File("keys.json"), cases_path = dir_.File("cases.json");
    WriteFile(keys_path, ExportCleartext());
    WriteFile(cases_path, cases.dump());
    return RunCommand(absl::StrCat(kPython, " ", Quote(VerifierPath()), " ", Quote(keys_path), " ",
                                   Quote(cases_path)));
  }

  // Ciphertexts of every value under every key, both modes, bound and unbound, in the
  // text form (and the binary form under the primary key); blind indexes of every value
  // under every key at several lengths; lookup indexes through the public FieldCryptor.
  nlohmann::json MakeCases() {
    nlohmann::json cases;
    cases["subject_ciphertexts"] = subject_cases_;
    auto keyset = Keyset::Read(keyset_path_, *kek_);
    EXPECT_THAT(keyset, IsOk());
    if (!keyset.ok()) return cases;
    const std::vector<std::string> contexts = {"orders.customer_email", "bookings.kunde.straße",
                                               std::string(1024, 'c')};
    const std::vector<std::string> records = {"", "10042", "order-ü-7"};
    cases["ciphertexts"] = nlohmann::json::array();
    for (const KeyInfo& key : keyset->ListKeys()) {
      for (FieldMode mode : {FieldMode::kRandomized, FieldMode::kDeterministic}) {
        for (const std::string& context : contexts) {
          auto cipher = keyset->FieldCipherForKey(key.id, context, mode);
          EXPECT_THAT(cipher, IsOk());
          if (!cipher.ok()) return cases;
          for (const std::string& record : records) {
            for (const std::string& value : Values()) {
              nlohmann::json c = {
                  {"mode", mode == FieldMode::kRandomized ? "randomized" : "deterministic"},
                  {"key_id", key.id},
                  {"context_hex", HexEncode(context)},
                  {"record_hex", HexEncode(record)},
                  {"plaintext_hex", HexEncode(value)}};
              auto text = (*cipher)->EncryptText(value, record);
              EXPECT_THAT(text, IsOk());
              c["form"] = "text";
              c["stored"] = text.value_or("");
              cases["ciphertexts"].push_back(c);
              if (key.primary && record == "10042") {
                auto binary = (*cipher)->Encrypt(value, record);
                EXPECT_THAT(binary, IsOk());
                c["form"] = "binary";
                c["stored"] = HexEncode(binary.value_or(""));
                cases["ciphertexts"].push_back(c);
              }
            }
          }
        }
      }
    }

    AddPaddedCases(*keyset, cases);

    cases["blind_indexes"] = nlohmann::json::array();
    for (int bits : {8, 12, 31, 32, 64, 129, 255, 256}) {
      auto indexers = keyset->BlindIndexersFor("orders.phone", bits);
      EXPECT_THAT(indexers, IsOk());
      if (!indexers.ok()) return cases;
      EXPECT_EQ(indexers->size(), 3u);
      for (const auto& [key_id, indexer] : *indexers) {
        for (const std::string& value : Values()) {
          auto index = indexer->Compute(value);
          EXPECT_THAT(index, IsOk());
          cases["blind_indexes"].push_back({{"key_id", key_id},
                                            {"context_hex", HexEncode("orders.phone")},
                                            {"value_hex", HexEncode(value)},
                                            {"bits", bits},
                                            {"index", index.value_or("")}});
        }
      }
    }

    // Through the application's API: a policy, a cryptor, LookupIndexes during a rotation.
    FieldRule email;
    email.name = "orders.customer_email";
    email.kind = FieldKind::kEmail;
    email.bind_record = true;
    BlindIndexRule index;
    index.bits = 24;
    email.blind_index = index;
    FieldRule name;
    name.name = "orders.customer_name";
    name.kind = FieldKind::kName;
    name.bind_record = true;
    name.padding = Buckets({16, 32, 64});
    auto policy = Policy::Create({email, name});
    EXPECT_THAT(policy, IsOk());
    auto cryptor = FieldCryptor::Create(*keyset, *policy);
    EXPECT_THAT(cryptor, IsOk());
    if (!policy.ok() || !cryptor.ok()) return cases;
    cases["lookups"] = nlohmann::json::array();
    for (const std::string typed : {"jane.doe@example.com", "  Jane.Doe@Example.COM\t", "x@y"}) {
      auto indexes = (*cryptor)->LookupIndexes("orders.customer_email", typed);
      EXPECT_THAT(indexes, IsOk());
      cases["lookups"].push_back({{"context_hex", HexEncode("orders.customer_email")},
                                  {"typed", typed},
                                  {"normalizer", "email"},
                                  {"bits", 24},
                                  {"indexes", indexes.value_or(std::vector<std::string>())}});
      auto stored = (*cryptor)->Encrypt("orders.customer_email", typed, "10042");
      EXPECT_THAT(stored, IsOk());
      cases["ciphertexts"].push_back({{"mode", "randomized"},
                                      {"form", "text"},
                                      {"key_id", keyset->primary_key_id()},
                                      {"context_hex", HexEncode("orders.customer_email")},
                                      {"record_hex", HexEncode("10042")},
                                      {"plaintext_hex", HexEncode(typed)},
                                      {"stored", stored.ok() ? stored->value_or("") : ""}});
    }
    // A policy's padding, through the application's API.
    for (const std::string& value : Values()) {
      auto stored = (*cryptor)->Encrypt("orders.customer_name", value, "10042");
      EXPECT_THAT(stored, IsOk());
      cases["ciphertexts"].push_back({{"mode", "randomized"},
                                      {"form", "text"},
                                      {"key_id", keyset->primary_key_id()},
                                      {"context_hex", HexEncode("orders.customer_name")},
                                      {"record_hex", HexEncode("10042")},
                                      {"plaintext_hex", HexEncode(value)},
                                      {"padding", {{"buckets", {16, 32, 64}}}},
                                      {"stored", stored.ok() ? stored->value_or("") : ""}});
    }
    return cases;
  }

  // Padded values (formats 0x03 and 0x04) of every value under every key, both modes,
  // bound and unbound, with buckets and multiples: each case says its padding, which the
  // verifier applies independently.
  static void AddPaddedCases(const Keyset& keyset, nlohmann::json& cases) {
    const std::vector<std::pair<FieldPadding, nlohmann::json>> paddings = {
        {Buckets({16, 32, 64}), {{"buckets", {16, 32, 64}}}},
        {Multiple(16), {{"multiple", 16}}},
        {Multiple(1), {{"multiple", 1}}}};
    for (const KeyInfo& key : keyset.ListKeys()) {
      for (FieldMode mode : {FieldMode::kRandomized, FieldMode::kDeterministic}) {
        for (const std::string context : {"orders.customer_name", "bookings.kunde.straße"}) {
          auto plain_cipher = keyset.FieldCipherForKey(key.id, context, mode);
          EXPECT_THAT(plain_cipher, IsOk());
          if (!plain_cipher.ok()) return;
          for (const auto& [padding, padding_json] : paddings) {
            auto cipher = (*plain_cipher)->WithPadding(padding);
            EXPECT_THAT(cipher, IsOk());
            if (!cipher.ok()) return;
            for (const std::string record : {"", "10042"}) {
              for (const std::string& value : Values()) {
                auto text = (*cipher)->EncryptText(value, record);
                EXPECT_THAT(text, IsOk());
                cases["ciphertexts"].push_back(
                    {{"mode", mode == FieldMode::kRandomized ? "randomized" : "deterministic"},
                     {"form", "text"},
                     {"key_id", key.id},
                     {"context_hex", HexEncode(context)},
                     {"record_hex", HexEncode(record)},
                     {"plaintext_hex", HexEncode(value)},
                     {"padding", padding_json},
                     {"stored", text.value_or("")}});
              }
            }
          }
        }
      }
    }
  }

  static FieldPadding Buckets(std::vector<uint32_t> buckets) {
    FieldPadding p;
    p.buckets = std::move(buckets);
    return p;
  }
  static FieldPadding Multiple(uint32_t n) {
    FieldPadding p;
    p.multiple = n;
    return p;
  }

  static size_t CountCases(const nlohmann::json& cases) {
    return cases["ciphertexts"].size() + cases["blind_indexes"].size() + cases["lookups"].size() +
           cases["subject_ciphertexts"].size();
  }

  TempDir dir_;
  SubjectStoreEnv store_env_{SubjectStoreKind::kSqlite};
  std::string store_url_;
  // Subject id (hex) -> the data key its store row is wrapped under, as this test moves them.
  std::map<std::string, uint32_t> row_wrap_key_ids_;
  nlohmann::json subject_cases_ = nlohmann::json::array();
  std::string kek_uri_;
  std::string keyset_path_;
  std::unique_ptr<Kek> kek_;
};

TEST_F(InteropTest, PythonCryptographyVerifiesEveryCiphertextAndIndex) {
  const nlohmann::json cases = MakeCases();
  ASSERT_FALSE(HasFailure());
  const size_t n = CountCases(cases);
  ASSERT_GT(n, 1000u);
  CommandResult r = Verify(cases);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("interop: ", n, " cases verified, 0 failed"))) << r.err;
}

// The verifier is not a rubber stamp: one altered byte of a randomized ciphertext, of a
// deterministic one, a wrong blind index, a wrong plaintext, a ciphertext attributed to
// another record, a padded value said to be padded to another size, one altered byte of a
// subject field value, a subject value attributed to another subject, and a subject value
// read from a store whose subject rows (or lookup key row) have one altered byte each fail,
// and nothing else does.
TEST_F(InteropTest, VerifierRejectsEveryAlteration) {
  nlohmann::json cases = MakeCases();
  ASSERT_FALSE(HasFailure());
  const size_t n = CountCases(cases);
  auto& ct = cases["ciphertexts"];
  auto find = [&](const std::string& mode, size_t min_plaintext_hex) -> nlohmann::json& {
    for (auto& c : ct) {
      if (c["mode"] == mode && c["form"] == "text" &&
          c["plaintext_hex"].get<std::string>().size() >= min_plaintext_hex) {
        return c;
      }
    }
    ADD_FAILURE() << "no " << mode << " case";
    return ct[0];
  };
  auto alter = [](nlohmann::json& c) {
    std::string s = c["stored"].get<std::string>();
    char& middle = s[s.size() / 2];  // every bit of a middle character is data
    middle = middle == 'A' ? 'B' : 'A';
    c["stored"] = s;
  };
  alter(find("randomized", 20));
  alter(find("deterministic", 20));
  std::string index = cases["blind_indexes"][5]["index"].get<std::string>();
  index[0] = index[0] == '0' ? '1' : '0';
  cases["blind_indexes"][5]["index"] = index;
  find("deterministic", 2)["plaintext_hex"] = HexEncode("not what was encrypted");
  find("randomized", 2)["record_hex"] = HexEncode("another-order");
  // A padded value said to be padded otherwise than it was: "a" to 16 bytes, not 32.
  for (auto& c : ct) {
    if (c.contains("padding") && c["padding"] == nlohmann::json{{"multiple", 16}} &&
        c["plaintext_hex"] == HexEncode("a") && c["mode"] == "deterministic") {
      c["padding"] = {{"multiple", 32}};
      break;
    }
  }

  auto& subject_ct = cases["subject_ciphertexts"];
  auto find_subject = [&](const std::string& subject, size_t min_plaintext_hex) -> nlohmann::json& {
    for (auto& c : subject_ct) {
      if (c["subject_id_hex"] == HexEncode(subject) &&
          c["plaintext_hex"].get<std::string>().size() >= min_plaintext_hex) {
        return c;
      }
    }
    ADD_FAILURE() << "no subject case";
    return subject_ct[0];
  };
  const std::vector<std::string> ids = SubjectIds();
  alter(find_subject(ids[2], 20));
  // Copies of the store with every subject row's wrapped key altered, and with the lookup
  // key's row altered; one case reads each.
  const std::string lookup_key_row(64, '0');
  const std::string flip_middle =
      "UPDATE piicrypt_subject_keys SET wrapped = substr(wrapped, 1, 43) || "
      "(CASE substr(wrapped, 44, 1) WHEN 'A' THEN 'B' ELSE 'A' END) || substr(wrapped, 45) ";
  for (const std::string& where :
       {"WHERE lookup <> '" + lookup_key_row + "'", "WHERE lookup = '" + lookup_key_row + "'"}) {
    auto store = SubjectKeyStore::Open(store_url_);
    ASSERT_THAT(store, IsOk());
    auto copy = store_env_.Copy(**store);
    ASSERT_THAT(copy, IsOk());
    ASSERT_THAT(store_env_.Sql(*copy, flip_middle + where), IsOk());
    find_subject(ids[where.find("<>") == std::string::npos ? 3 : 0], 2)["store"] =
        copy->substr(std::string("sqlite:").size());
  }
  // Another subject's value: its header names another subject key than the row's.
  find_subject(ids[1], 2)["subject_id_hex"] = HexEncode(ids[0]);

  CommandResult r = Verify(cases);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("interop: ", n, " cases verified, 10 failed")))
      << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  size_t fail_lines = 0;
  for (const std::string& line : lines) fail_lines += line.rfind("FAIL ", 0) == 0;
  EXPECT_EQ(fail_lines, 10u) << r.out;
}

}  // namespace
}  // namespace piicrypt
