// store_sql.h: what the SQL token store back-ends (sqlite_store.cc, postgres_store.cc)
// share: the names of their prepared statements. (The schema-version check is
// src/db/schema_version.h, shared with the subject key stores.)
#ifndef PIICRYPT_SRC_TOKEN_STORE_SQL_H_
#define PIICRYPT_SRC_TOKEN_STORE_SQL_H_

namespace piicrypt::internal {

// The statements each back-end prepares on every connection; each back-end's table of
// SQL (kStatements) is indexed by them.
enum Statement {
  kInsert,
  kFind,
  kFindByLookup,
  kDelete,
  kList,
  kDeleteExpired,
  kReplace,
  kStatementCount
};

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_TOKEN_STORE_SQL_H_
