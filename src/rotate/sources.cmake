# The re-encryption job behind `piicrypt reencrypt` (docs/ROTATION.md): key rotation and
# plaintext migration of table columns, on SQLite and PostgreSQL. A component of its own
# (piicrypt_reencrypt) that only the command-line tool links; not installed.
list(APPEND PIICRYPT_REENCRYPT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/reencrypt.cc
  ${CMAKE_CURRENT_LIST_DIR}/reencrypt_pg.cc
  ${CMAKE_CURRENT_LIST_DIR}/rewrite.cc
)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
list(APPEND PIICRYPT_REENCRYPT_LIBS SQLite::SQLite3 PostgreSQL::PostgreSQL absl::str_format)
