# The re-encryption job behind `piicrypt reencrypt` (docs/ROTATION.md): key rotation and
# plaintext migration of table columns, on SQLite.
list(APPEND PIICRYPT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/reencrypt.cc
)
find_package(SQLite3 REQUIRED)
list(APPEND PIICRYPT_PRIVATE_LIBS SQLite::SQLite3)
