# The database layer (src/db): handle wrappers, the one mapping of database errors to
# canonical statuses, and the connection pool (connection_pool.h, header only, back-end
# free). The SQLite part is in the sqlite component, the libpq part in the postgres
# component: the core links neither. The re-encryption job links both components.
list(APPEND PIICRYPT_SQLITE_SOURCES ${CMAKE_CURRENT_LIST_DIR}/sqlite.cc)
list(APPEND PIICRYPT_POSTGRES_SOURCES ${CMAKE_CURRENT_LIST_DIR}/postgres.cc)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
list(APPEND PIICRYPT_SQLITE_LIBS SQLite::SQLite3)
list(APPEND PIICRYPT_POSTGRES_LIBS PostgreSQL::PostgreSQL)
