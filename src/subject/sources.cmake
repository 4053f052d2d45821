# Per-subject keys (crypto-shredding; docs/SUBJECTS.md). In piicrypt::core: SubjectCryptor
# (include/piicrypt/subject_cryptor.h), its key cache, the subject formats, the rewrap job,
# and SubjectKeyStore::Open and ClearSubjectIndexes with their back-end registries
# (subject_stores.h). The back-ends (key stores and index clearers) are in the components of
# their databases: SQLite in piicrypt::sqlite, PostgreSQL in piicrypt::postgres; they register
# with the core when linked.
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/key_cache.cc
  ${CMAKE_CURRENT_LIST_DIR}/rewrap.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_cryptor.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_indexes.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_key_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_keys.cc
)
list(APPEND PIICRYPT_SQLITE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sqlite_subject_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_indexes_sqlite.cc
)
list(APPEND PIICRYPT_POSTGRES_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/postgres_subject_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/subject_indexes_pg.cc
)
