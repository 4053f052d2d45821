#include "forget_step.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_cryptor.h"
#include "piicrypt/subject_key_store.h"
#include "piicrypt/subject_rewrap.h"

namespace order_store {
namespace {

constexpr size_t kMaxOrders = 300;
constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.customer_name"
    kind: KIND_NAME
    mode: MODE_RANDOMIZED
    bind_record: true
    subject { column: "customer_id" }
  }
  field {
    name: "orders.delivery_address"
    kind: KIND_ADDRESS
    mode: MODE_RANDOMIZED
    bind_record: true
    subject { column: "customer_id" }
  }
)pb";

// A customer profile row of the shop's database: what a backup of it holds.
struct Profile {
  std::string order_id;
  std::string customer;
  std::string name_ct;
  std::string address_ct;
};

absl::Status Exec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK
             ? absl::OkStatus()
             : absl::InternalError("profiles: SQLite statement failed");
}

absl::Status WriteProfiles(const std::string& path, const std::vector<Profile>& rows) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open(path.c_str(), &db);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> close(db, sqlite3_close);
  if (rc != SQLITE_OK) return absl::UnavailableError("profiles: cannot open the database");
  PIICRYPT_RETURN_IF_ERROR(Exec(db,
                                "CREATE TABLE profiles (order_id TEXT PRIMARY KEY, customer_id "
                                "TEXT, customer_name TEXT, delivery_address TEXT); BEGIN"));
  for (const Profile& p : rows) {
    char* sql = sqlite3_mprintf("INSERT INTO profiles VALUES (%Q, %Q, %Q, %Q)", p.order_id.c_str(),
                                p.customer.c_str(), p.name_ct.c_str(), p.address_ct.c_str());
    absl::Status s = Exec(db, sql);
    sqlite3_free(sql);
    PIICRYPT_RETURN_IF_ERROR(s);
  }
  return Exec(db, "COMMIT");
}

absl::StatusOr<std::vector<Profile>> ReadProfiles(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> close(db, sqlite3_close);
  if (rc != SQLITE_OK) return absl::UnavailableError("profiles: cannot open the backup");
  std::vector<Profile> rows;
  auto row = [](void* out, int, char** v, char**) {
    static_cast<std::vector<Profile>*>(out)->push_back(Profile{v[0], v[1], v[2], v[3]});
    return 0;
  };
  if (sqlite3_exec(db, "SELECT * FROM profiles", row, &rows, nullptr) != SQLITE_OK) {
    return absl::DataLossError("profiles: cannot read the backup");
  }
  return rows;
}

// How many values of `rows` `cryptor` opens: of customer `forgotten`, and of the others.
std::pair<int64_t, int64_t> Readable(const piicrypt::SubjectCryptor& cryptor,
                                     const std::vector<Profile>& rows,
                                     const std::string& forgotten) {
  int64_t theirs = 0, others = 0;
  for (const Profile& p : rows) {
    for (auto [field, ct] : {std::make_pair("orders.customer_name", &p.name_ct),
                             std::make_pair("orders.delivery_address", &p.address_ct)}) {
      if (!cryptor.DecryptValue(field, p.customer, *ct, p.order_id).ok()) continue;
      ++(p.customer == forgotten ? theirs : others);
    }
  }
  return {theirs, others};
}

}  // namespace

absl::StatusOr<ForgetOutcome> RunForgetStep(const std::vector<Order>& orders,
                                            const std::string& dir, const std::string& backup_dir) {
  ForgetOutcome out;
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ParseTextProto(kPolicy));
  PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<piicrypt::SubjectKeyStore> store,
                            piicrypt::SubjectKeyStore::Open("sqlite:" + dir + "/subjects.db"));
  PIICRYPT_ASSIGN_OR_RETURN(auto cryptor, piicrypt::SubjectCryptor::Create(keyset, policy, store));

  // The shop's customers get ids (returning customers share theirs) and keys of their own.
  absl::flat_hash_map<std::string, std::string> ids;  // lower-cased e-mail -> customer id
  std::vector<Profile> rows;
  for (size_t i = 0; i < std::min(orders.size(), kMaxOrders); ++i) {
    const Order& o = orders[i];
    auto [it, added] =
        ids.try_emplace(absl::AsciiStrToLower(o.email), absl::StrCat("customer-", ids.size() + 1));
    Profile p{absl::StrCat(o.id), it->second, "", ""};
    PIICRYPT_ASSIGN_OR_RETURN(p.name_ct, cryptor->EncryptValue("orders.customer_name", p.customer,
                                                               o.customer_name, p.order_id));
    PIICRYPT_ASSIGN_OR_RETURN(p.address_ct,
                              cryptor->EncryptValue("orders.delivery_address", p.customer,
                                                    o.delivery_address, p.order_id));
    rows.push_back(std::move(p));
  }
  out.orders = static_cast<int64_t>(rows.size());
  out.customers = static_cast<int64_t>(ids.size());
  PIICRYPT_RETURN_IF_ERROR(WriteProfiles(dir + "/profiles.db", rows));

  // The backup the attacker steals: the profiles and the subject key store, as of now.
  std::error_code ec;
  std::filesystem::create_directories(backup_dir, ec);
  for (const char* file : {"profiles.db", "subjects.db", "subjects.db-wal"}) {
    if (!std::filesystem::exists(dir + "/" + file)) continue;
    std::filesystem::copy_file(dir + "/" + file, backup_dir + "/" + file, ec);
    if (ec) return absl::UnavailableError("cannot copy the backup");
  }

  // The first customer asks to be erased.
  out.forgotten = rows.front().customer;
  PIICRYPT_ASSIGN_OR_RETURN(bool erased, cryptor->Forget(out.forgotten));
  if (!erased) return absl::InternalError("the customer had no key");

  PIICRYPT_ASSIGN_OR_RETURN(std::vector<Profile> stolen, ReadProfiles(backup_dir + "/profiles.db"));
  for (const Profile& p : stolen)
    (p.customer == out.forgotten ? out.forgotten_values : out.other_values) += 2;
  PIICRYPT_ASSIGN_OR_RETURN(auto live, piicrypt::SubjectCryptor::Create(keyset, policy, store));
  std::tie(out.live_forgotten, out.live_others) = Readable(*live, stolen, out.forgotten);

  // The backup's own copy of the key store still holds the key until its wrapping key is
  // destroyed: rotate, rewrap the live store, destroy the old key.
  PIICRYPT_ASSIGN_OR_RETURN(
      std::shared_ptr<piicrypt::SubjectKeyStore> copy,
      piicrypt::SubjectKeyStore::Open("sqlite:" + backup_dir + "/subjects.db"));
  {
    PIICRYPT_ASSIGN_OR_RETURN(auto old, piicrypt::SubjectCryptor::Create(keyset, policy, copy));
    out.copy_forgotten_before = Readable(*old, stolen, out.forgotten).first;
  }
  const uint32_t old_key = keyset.primary_key_id();
  PIICRYPT_RETURN_IF_ERROR(keyset.Rotate().status());
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::SubjectRewrapSummary rewrap,
                            piicrypt::RewrapSubjectKeys(keyset, *store, {}));
  if (!rewrap.Complete()) return absl::InternalError("the rewrap job did not complete");
  PIICRYPT_RETURN_IF_ERROR(keyset.Disable(old_key));
  PIICRYPT_RETURN_IF_ERROR(keyset.Destroy(old_key));
  auto after = piicrypt::SubjectCryptor::Create(keyset, policy, copy);
  if (after.ok()) {
    auto [theirs, others] = Readable(**after, stolen, out.forgotten);
    out.copy_values_after = theirs + others;
  }
  return out;
}

}  // namespace order_store
