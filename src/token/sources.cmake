# Tokenization. In piicrypt::core: the Tokenizer (include/piicrypt/tokenizer.h), the token
# format, TokenStore::Open and its back-end registry (stores.h). The back-ends are
# components of their own: piicrypt::sqlite (SQLite) and piicrypt::postgres (libpq).
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/store_registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_entry.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cc
)
list(APPEND PIICRYPT_SQLITE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sqlite_component.cc
  ${CMAKE_CURRENT_LIST_DIR}/sqlite_store.cc
)
list(APPEND PIICRYPT_POSTGRES_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/postgres_component.cc
  ${CMAKE_CURRENT_LIST_DIR}/postgres_store.cc
)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
list(APPEND PIICRYPT_SQLITE_LIBS SQLite::SQLite3 absl::str_format absl::flat_hash_map)
list(APPEND PIICRYPT_POSTGRES_LIBS PostgreSQL::PostgreSQL absl::str_format absl::flat_hash_map)
