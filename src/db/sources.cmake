# Database plumbing shared by the token stores and the re-encryption jobs: error reports
# that never carry libpq's or SQLite's own text.
list(APPEND PIICRYPT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/db_error.cc
)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
list(APPEND PIICRYPT_PRIVATE_LIBS SQLite::SQLite3 PostgreSQL::PostgreSQL)
