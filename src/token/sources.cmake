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
# SQLite and libpq come with the database layer (src/db/sources.cmake).
list(APPEND PIICRYPT_SQLITE_LIBS absl::str_format absl::flat_hash_map)
list(APPEND PIICRYPT_POSTGRES_LIBS absl::str_format absl::flat_hash_map)
