# Field encryption for applications: policies, normalizers, masks, FieldCryptor and
# MessageCryptor, with the protobuf code of policy.proto and options.proto.
list(APPEND PIICRYPT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/field_cryptor.cc
  ${CMAKE_CURRENT_LIST_DIR}/index_planner.cc
  ${CMAKE_CURRENT_LIST_DIR}/mask.cc
  ${CMAKE_CURRENT_LIST_DIR}/message_cryptor.cc
  ${CMAKE_CURRENT_LIST_DIR}/normalizers.cc
  ${CMAKE_CURRENT_LIST_DIR}/policy.cc
)

# Generated code of policy.proto and options.proto, as for keyset.proto (src/keyset).
# options.pb.h and policy.pb.h are installed (piicrypt/options.pb.h): applications that
# annotate their own messages compile against them; the code itself is in libpiicrypt.
set(PIICRYPT_PROTO_OUT_DIR ${PROJECT_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${PIICRYPT_PROTO_OUT_DIR})
protobuf_generate(
  LANGUAGE cpp
  OUT_VAR PIICRYPT_FIELD_PROTO_SOURCES
  PROTOS ${PROJECT_SOURCE_DIR}/proto/piicrypt/policy.proto
         ${PROJECT_SOURCE_DIR}/proto/piicrypt/options.proto
  IMPORT_DIRS ${PROJECT_SOURCE_DIR}/proto
  PROTOC_OUT_DIR ${PIICRYPT_PROTO_OUT_DIR})
set_source_files_properties(${PIICRYPT_FIELD_PROTO_SOURCES} PROPERTIES COMPILE_OPTIONS "-w")
list(APPEND PIICRYPT_SOURCES ${PIICRYPT_FIELD_PROTO_SOURCES})

# ICU (normalizers, masks) and libphonenumber (phone normalizer). Debian's libphonenumber
# ships no CMake config: found by name, and named plainly (-lphonenumber) in the
# installed package so that it does not pin this machine's path.
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_library(PIICRYPT_PHONENUMBER_LIB phonenumber REQUIRED)
find_path(PIICRYPT_PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h REQUIRED)
list(APPEND PIICRYPT_PRIVATE_INCLUDE_DIRS ${PIICRYPT_PHONENUMBER_INCLUDE_DIR})
list(APPEND PIICRYPT_PRIVATE_LIBS ICU::i18n ICU::uc
  $<BUILD_INTERFACE:${PIICRYPT_PHONENUMBER_LIB}> $<INSTALL_INTERFACE:phonenumber>)
