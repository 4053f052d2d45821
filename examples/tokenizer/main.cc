// Vault tokens for card numbers, in a SQLite token store (docs/TOKENS.md).
//
//   piicrypt_tokenizer_example DIR
//
// An order table keeps a card token instead of the card number. The token keeps the last
// four digits (for receipts and support) and fails the Luhn check, so it is never taken for
// a card. Tokens are deterministic: the same card, however it is written, gets the same
// token, so orders can be grouped and joined on it without the number. The number comes
// back only through the tokenizer (Detokenize), and erasing a customer's card deletes its
// tokens for good. Writes DIR/orders.db and DIR/tokens.db (DIR must exist).
#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <string>

#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/tokenizer.h"

namespace {

// The card field of the policy: vault tokens in the card format (last 4 kept, Luhn-invalid).
constexpr char kPolicy[] = R"pb(
  field {
    name: "orders.card_number"
    kind: KIND_CARD
    mode: MODE_VAULT_TOKEN
    token { format: TOKEN_FORMAT_CARD }
  }
)pb";

absl::Status Sql(sqlite3* db, const std::string& sql) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return absl::InternalError("orders.db: " + std::string(sqlite3_errmsg(db)));
  }
  return absl::OkStatus();
}

// Stores order `id` with the token of its card (the number itself is never stored).
absl::Status StoreOrder(sqlite3* db, const piicrypt::Tokenizer& cards, int id,
                        const std::string& card_number) {
  PIICRYPT_ASSIGN_OR_RETURN(std::string token, cards.Tokenize(card_number));
  std::printf("order %d: card stored as %s\n", id, token.c_str());
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO orders (id, card_token) VALUES (?, ?)", -1, &insert, nullptr);
  sqlite3_bind_int(insert, 1, id);
  sqlite3_bind_text(insert, 2, token.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(insert);
  sqlite3_finalize(insert);
  return rc == SQLITE_DONE ? absl::OkStatus() : absl::InternalError("orders.db: insert failed");
}

// How many orders were paid with the card of order `id`: a join on the token.
absl::StatusOr<int> OrdersWithSameCard(sqlite3* db, int id) {
  sqlite3_stmt* query = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT COUNT(*) FROM orders a JOIN orders b ON a.card_token = b.card_token"
                     " WHERE a.id = ?",
                     -1, &query, nullptr);
  sqlite3_bind_int(query, 1, id);
  const int rc = sqlite3_step(query);
  const int count = rc == SQLITE_ROW ? sqlite3_column_int(query, 0) : -1;
  sqlite3_finalize(query);
  if (count < 0) return absl::InternalError("orders.db: query failed");
  return count;
}

absl::Status Run(const std::string& dir) {
  // In production: the keyset from its file under a KEK (key_handle.h, docs/KEYS.md).
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ParseTextProto(kPolicy));
  PIICRYPT_ASSIGN_OR_RETURN(std::shared_ptr<piicrypt::TokenStore> store,
                            piicrypt::TokenStore::Open("sqlite:" + dir + "/tokens.db"));
  PIICRYPT_ASSIGN_OR_RETURN(
      std::unique_ptr<piicrypt::Tokenizer> cards,
      piicrypt::Tokenizer::CreateForField(keyset, policy, "orders.card_number", store));

  sqlite3* db = nullptr;
  if (sqlite3_open((dir + "/orders.db").c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::UnavailableError("cannot open orders.db");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
  PIICRYPT_RETURN_IF_ERROR(
      Sql(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY, card_token TEXT NOT NULL)"));

  // Two orders with one card, written differently; a third with another card.
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *cards, 1, "4111 1111 1111 1111"));
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *cards, 2, "4111111111111111"));
  PIICRYPT_RETURN_IF_ERROR(StoreOrder(db, *cards, 3, "5555 5555 5555 4444"));
  PIICRYPT_ASSIGN_OR_RETURN(int same_card, OrdersWithSameCard(db, 1));
  std::printf("orders paid with the card of order 1: %d\n", same_card);
  if (same_card != 2) return absl::InternalError("the join on card tokens found the wrong rows");

  // The payment service turns a token back into the number.
  PIICRYPT_ASSIGN_OR_RETURN(std::string token, cards->Tokenize("4111 1111 1111 1111"));
  PIICRYPT_ASSIGN_OR_RETURN(std::string number, cards->Detokenize(token));
  std::printf("detokenized: a card number ending in %s\n",
              number.substr(number.size() - 4).c_str());
  if (number != "4111 1111 1111 1111") return absl::InternalError("detokenized a wrong value");

  // The customer asks to be forgotten: every token of the card is deleted from the store.
  PIICRYPT_ASSIGN_OR_RETURN(int64_t erased, cards->EraseValue("4111111111111111"));
  std::printf("erased %lld token(s) of the card\n", static_cast<long long>(erased));
  const absl::Status after = cards->Detokenize(token).status();
  if (!absl::IsNotFound(after)) return absl::InternalError("an erased token still detokenizes");
  std::printf("its token no longer detokenizes (%s)\n",
              absl::StatusCodeToString(after.code()).c_str());
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const absl::Status status = Run(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "tokenizer example: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
