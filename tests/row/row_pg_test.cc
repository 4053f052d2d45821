// Rows whose id PostgreSQL generates (BIGSERIAL), through libpq: the pattern of docs/ROWS.md
// with INSERT ... RETURNING id. The id comes back as text and goes through ParseRecordId, so
// it is bound as the same bytes as RecordIdFromInt64 (and `piicrypt reencrypt`) make.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/row_cryptor.h"
#include "tests/order_fixture.h"
#include "tests/pg/pg_server.h"
#include "tests/test_util.h"

namespace piicrypt {
namespace {

using ::piicrypt::testing::SharedPgServer;
using ::piicrypt::testing::StatusIs;

std::string OrderPolicy() {
  return absl::StrCat(::piicrypt::testing::kOrderNameField, ::piicrypt::testing::kOrderEmailField);
}

// The result of `sql` with text parameters (NULL: nullopt); the caller PQclear()s it.
PGresult* PgRun(PGconn* conn, const std::string& sql,
                const std::vector<std::optional<std::string>>& params = {}) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.has_value() ? p->c_str() : nullptr);
  return PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                      nullptr, nullptr, 0);
}

bool Ok(PGresult* r) {
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

TEST(PostgresRowTest, GeneratedIdsAreBoundInTheSameTransaction) {
  std::string error;
  testing::PgServer* server = SharedPgServer(&error);
  ASSERT_NE(server, nullptr) << error;
  ASSERT_TRUE(server->CreateDatabase("rows_serial").ok());
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(server->Url("rows_serial").c_str()),
                                                  PQfinish);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  ASSERT_TRUE(Ok(PgRun(conn.get(),
                       "CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, status TEXT NOT NULL,"
                       " customer_name TEXT, customer_email TEXT, customer_email_idx TEXT)")));
  auto keyset = Keyset::Generate();
  ASSERT_TRUE(keyset.ok());
  auto policy = Policy::ParseTextProto(OrderPolicy());
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto orders = RowCryptor::Create(*keyset, *policy, "orders");
  ASSERT_TRUE(orders.ok()) << orders.status();

  // BEGIN; INSERT ... RETURNING id; encrypt bound to it; UPDATE; COMMIT.
  ASSERT_TRUE(Ok(PgRun(conn.get(), "BEGIN")));
  PGresult* inserted = PgRun(conn.get(), "INSERT INTO orders (status) VALUES ('new') RETURNING id");
  ASSERT_EQ(PQresultStatus(inserted), PGRES_TUPLES_OK);
  const std::string id_text = PQgetvalue(inserted, 0, 0);
  PQclear(inserted);
  auto id = ParseRecordId(id_text);
  ASSERT_TRUE(id.ok()) << id.status();
  auto stored = (*orders)->Encrypt(
      *id, {{"customer_name", "Jane Doe"}, {"customer_email", "jane@example.com"}});
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::vector<std::string> sets;
  std::vector<std::optional<std::string>> params;
  for (const Row::Column& c : *stored) {
    params.push_back(c.value);
    sets.push_back(absl::StrCat(c.name, " = $", params.size()));
  }
  params.push_back(id_text);
  ASSERT_TRUE(Ok(PgRun(
      conn.get(),
      absl::StrCat("UPDATE orders SET ", absl::StrJoin(sets, ", "), " WHERE id = $", params.size()),
      params)));
  ASSERT_TRUE(Ok(PgRun(conn.get(), "COMMIT")));

  // Read back by the e-mail's index, decrypted by the row's own id.
  auto index = (*orders)->EncryptColumns(*id, {{"customer_email", " JANE@example.com"}});
  ASSERT_TRUE(index.ok());
  PGresult* found = PgRun(conn.get(),
                          "SELECT id, customer_name, customer_email FROM orders "
                          "WHERE customer_email_idx = $1",
                          {*index->Find("customer_email_idx")});
  ASSERT_EQ(PQresultStatus(found), PGRES_TUPLES_OK);
  ASSERT_EQ(PQntuples(found), 1);
  auto row_id = ParseRecordId(PQgetvalue(found, 0, 0));
  auto plain =
      (*orders)->Decrypt(*row_id, {{"customer_name", absl::string_view(PQgetvalue(found, 0, 1))},
                                   {"customer_email", absl::string_view(PQgetvalue(found, 0, 2))}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(**plain->Find("customer_name"), "Jane Doe");
  EXPECT_EQ(**plain->Find("customer_email"), "jane@example.com");
  // Bound to that id: under the next id it fails.
  EXPECT_THAT((*orders)->Decrypt(*row_id + 1,
                                 {{"customer_name", absl::string_view(PQgetvalue(found, 0, 1))}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  PQclear(found);
}

}  // namespace
}  // namespace piicrypt
