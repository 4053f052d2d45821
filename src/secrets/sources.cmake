# Keeping secrets where they belong: the secure heap and the process settings that keep
# key memory out of core dumps (include/piicrypt/process_secrets.h), and the rule for files
# that hold secrets (secret_file.h: KEK files, PIN files, keysets, token databases).
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/process_secrets.cc
  ${CMAKE_CURRENT_LIST_DIR}/secret_file.cc
)
