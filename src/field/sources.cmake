# Field encryption for applications. In piicrypt::core: policies, FieldCryptor, masks and
# the normalizer registry, KeyHandle, with the protobuf code of policy.proto. In
# piicrypt::normalizers: the e-mail, phone and name normalizers (ICU, libphonenumber). In
# piicrypt::messages: MessageCryptor, with the protobuf code of options.proto.
list(APPEND PIICRYPT_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/compound_index.cc
  ${CMAKE_CURRENT_LIST_DIR}/field_cryptor.cc
  ${CMAKE_CURRENT_LIST_DIR}/index_planner.cc
  ${CMAKE_CURRENT_LIST_DIR}/key_handle.cc
  ${CMAKE_CURRENT_LIST_DIR}/lookup.cc
  ${CMAKE_CURRENT_LIST_DIR}/mask.cc
  ${CMAKE_CURRENT_LIST_DIR}/policy.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/value_normalizer.cc
)
list(APPEND PIICRYPT_NORMALIZERS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/normalizers.cc
  ${CMAKE_CURRENT_LIST_DIR}/normalizers_component.cc
)
list(APPEND PIICRYPT_MESSAGES_SOURCES ${CMAKE_CURRENT_LIST_DIR}/message_cryptor.cc)

# Generated code of policy.proto and options.proto, as for keyset.proto (src/keyset).
# options.pb.h and policy.pb.h are installed (piicrypt/options.pb.h): applications that
# annotate their own messages compile against them and link piicrypt::messages. Generated
# code keeps the default visibility: an application's own generated code refers to it.
set(PIICRYPT_PROTO_OUT_DIR ${PROJECT_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${PIICRYPT_PROTO_OUT_DIR})
foreach(proto policy options)
  protobuf_generate(
    LANGUAGE cpp
    OUT_VAR PIICRYPT_${proto}_PROTO_SOURCES
    PROTOS ${PROJECT_SOURCE_DIR}/proto/piicrypt/${proto}.proto
    IMPORT_DIRS ${PROJECT_SOURCE_DIR}/proto
    PROTOC_OUT_DIR ${PIICRYPT_PROTO_OUT_DIR})
  set_source_files_properties(${PIICRYPT_${proto}_PROTO_SOURCES} PROPERTIES
    COMPILE_OPTIONS "-w;-fvisibility=default")
endforeach()
list(APPEND PIICRYPT_CORE_SOURCES ${PIICRYPT_policy_PROTO_SOURCES})
list(APPEND PIICRYPT_MESSAGES_SOURCES ${PIICRYPT_options_PROTO_SOURCES})
list(APPEND PIICRYPT_MESSAGES_LIBS protobuf::libprotobuf)

# ICU and libphonenumber: the normalizers component only. Debian's libphonenumber ships no
# CMake config: found by name, and named plainly (-lphonenumber) in the installed package
# so that it does not pin this machine's path.
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_library(PIICRYPT_PHONENUMBER_LIB phonenumber REQUIRED)
find_path(PIICRYPT_PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h REQUIRED)
list(APPEND PIICRYPT_NORMALIZERS_INCLUDE_DIRS ${PIICRYPT_PHONENUMBER_INCLUDE_DIR})
list(APPEND PIICRYPT_NORMALIZERS_LIBS ICU::i18n ICU::uc
  $<BUILD_INTERFACE:${PIICRYPT_PHONENUMBER_LIB}> $<INSTALL_INTERFACE:phonenumber>)
