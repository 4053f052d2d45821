# Keysets, KEKs (file and PKCS#11) and the protobuf code of proto/piicrypt/keyset.proto:
# piicrypt::core. Included by src/CMakeLists.txt before the libraries are defined.
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/keyset.cc
  ${CMAKE_CURRENT_LIST_DIR}/keyset_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/../kek/kek.cc
  ${CMAKE_CURRENT_LIST_DIR}/../kek/file_kek.cc
  ${CMAKE_CURRENT_LIST_DIR}/../kek/pkcs11_uri.cc
  ${CMAKE_CURRENT_LIST_DIR}/../kek/pkcs11_module.cc
  ${CMAKE_CURRENT_LIST_DIR}/../kek/pkcs11_kek.cc
)

# Generated protobuf code: compiled into piicrypt::core, included as "piicrypt/keyset.pb.h" from
# src/ only (never from a public header). Generated code is not held to our warning flags.
set(PIICRYPT_PROTO_OUT_DIR ${PROJECT_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${PIICRYPT_PROTO_OUT_DIR})
protobuf_generate(
  LANGUAGE cpp
  OUT_VAR PIICRYPT_KEYSET_PROTO_SOURCES
  PROTOS ${PROJECT_SOURCE_DIR}/proto/piicrypt/keyset.proto
  IMPORT_DIRS ${PROJECT_SOURCE_DIR}/proto
  PROTOC_OUT_DIR ${PIICRYPT_PROTO_OUT_DIR})
set_source_files_properties(${PIICRYPT_KEYSET_PROTO_SOURCES} PROPERTIES COMPILE_OPTIONS "-w")
list(APPEND PIICRYPT_CORE_SOURCES ${PIICRYPT_KEYSET_PROTO_SOURCES})

# The standard PKCS#11 header from p11-kit (Debian: libp11-kit-dev). The module itself is
# loaded with dlopen at run time: no link-time dependency on any HSM library.
find_path(PIICRYPT_PKCS11_INCLUDE_DIR p11-kit/pkcs11.h PATH_SUFFIXES p11-kit-1 REQUIRED)

list(APPEND PIICRYPT_CORE_INCLUDE_DIRS ${PIICRYPT_PROTO_OUT_DIR} ${PIICRYPT_PKCS11_INCLUDE_DIR})
list(APPEND PIICRYPT_CORE_LIBS protobuf::libprotobuf absl::time absl::str_format ${CMAKE_DL_LIBS})
