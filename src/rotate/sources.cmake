# The re-encryption job behind `piicrypt reencrypt` (docs/ROTATION.md): key rotation and
# plaintext migration of table columns, on SQLite and PostgreSQL.
list(APPEND PIICRYPT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/reencrypt.cc
  ${CMAKE_CURRENT_LIST_DIR}/reencrypt_pg.cc
  ${CMAKE_CURRENT_LIST_DIR}/rewrite.cc
)
find_package(SQLite3 REQUIRED)
list(APPEND PIICRYPT_PRIVATE_LIBS SQLite::SQLite3)
