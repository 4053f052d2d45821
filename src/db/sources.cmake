# Database error reports that never carry libpq's or SQLite's own text (db_error.h): the
# PostgreSQL part in the postgres component (its token store and the re-encryption job use
# it), the SQLite part with the re-encryption job, its only user.
list(APPEND PIICRYPT_POSTGRES_SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_error.cc)
list(APPEND PIICRYPT_REENCRYPT_SOURCES ${CMAKE_CURRENT_LIST_DIR}/sqlite_error.cc)
