# Tokenization: the Tokenizer (include/piicrypt/tokenizer.h) and the token stores
# (include/piicrypt/token_store.h) on SQLite and PostgreSQL (libpq).
list(APPEND PIICRYPT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/postgres_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/sqlite_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_entry.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cc
)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
list(APPEND PIICRYPT_PRIVATE_LIBS SQLite::SQLite3 PostgreSQL::PostgreSQL absl::str_format
     absl::flat_hash_map)
