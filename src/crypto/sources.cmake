# Primitives (AES-GCM, AES-SIV, HKDF, HMAC, randomness) and FieldCipher: piicrypt::core.
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/aes_gcm.cc
  ${CMAKE_CURRENT_LIST_DIR}/aes_siv.cc
  ${CMAKE_CURRENT_LIST_DIR}/field_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/field_cipher.cc
  ${CMAKE_CURRENT_LIST_DIR}/hkdf.cc
  ${CMAKE_CURRENT_LIST_DIR}/hmac.cc
  ${CMAKE_CURRENT_LIST_DIR}/random.cc
  ${CMAKE_CURRENT_LIST_DIR}/secret_data.cc
  ${CMAKE_CURRENT_LIST_DIR}/ssl_util.cc
)
