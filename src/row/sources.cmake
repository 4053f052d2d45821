# Row encryption (include/piicrypt/row_cryptor.h), in piicrypt::core: RowCryptor protects
# every column of a row in one call, tokens of vault-token fields included, so it sits
# above the field and token modules it combines.
list(APPEND PIICRYPT_CORE_SOURCES ${CMAKE_CURRENT_LIST_DIR}/row_cryptor.cc)
