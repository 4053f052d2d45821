# Keeping key memory out of core dumps: the secure heap and the process settings
# (include/piicrypt/process_secrets.h).
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/process_secrets.cc
)
