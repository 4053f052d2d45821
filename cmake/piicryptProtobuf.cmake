# piicrypt_protobuf_generate(TARGET target PROTOS file.proto... [IMPORT_DIRS dir...])
#
# Compiles an application's own .proto files, which import "piicrypt/options.proto" to mark
# their personal fields (message_cryptor.h), into C++ and adds the code to `target`:
#
#   find_package(piicrypt 0.1 CONFIG REQUIRED COMPONENTS core messages)
#   add_executable(shop main.cc)
#   piicrypt_protobuf_generate(TARGET shop PROTOS shop/order.proto)   # #include "shop/order.pb.h"
#
# - PROTOS: paths relative to the current source directory (or absolute, under it). A file
#   is imported, and its header included, by its path relative to the import directory that
#   holds it: shop/order.proto gives "shop/order.pb.h".
# - IMPORT_DIRS: where the protos and the files they import are; default: the current
#   source directory. piicrypt's own protos (piicrypt/options.proto, piicrypt/policy.proto)
#   are always found, and google/protobuf/*.proto through protoc's own include path.
# The generated files go to <current binary dir>/<target>_protos, which becomes a PUBLIC
# include directory of `target`; `target` links piicrypt::messages and protobuf::libprotobuf
# PUBLIC (keyword signature: use PRIVATE/PUBLIC in your own target_link_libraries calls
# for it). Generated code is compiled without warnings (-w), as protoc's output is not held
# to an application's warning flags.
#
# The installed package defines this function when the messages component is found; the
# piicrypt project defines it for its own examples (examples/protobuf). Whoever includes
# this file sets PIICRYPT_PROTO_IMPORT_DIR (the directory holding piicrypt/options.proto)
# and, when the generated piicrypt/options.pb.h is elsewhere, PIICRYPT_PROTO_GENERATED_DIR.
set_property(GLOBAL PROPERTY PIICRYPT_PROTO_IMPORT_DIR "${PIICRYPT_PROTO_IMPORT_DIR}")
set_property(GLOBAL PROPERTY PIICRYPT_PROTO_GENERATED_DIR "${PIICRYPT_PROTO_GENERATED_DIR}")

function(piicrypt_protobuf_generate)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET" "PROTOS;IMPORT_DIRS")
  if(arg_UNPARSED_ARGUMENTS OR NOT arg_TARGET OR NOT arg_PROTOS)
    message(FATAL_ERROR "usage: piicrypt_protobuf_generate(TARGET target PROTOS file.proto... "
                        "[IMPORT_DIRS dir...])")
  endif()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "piicrypt_protobuf_generate: no target named ${arg_TARGET}")
  endif()
  if(NOT arg_IMPORT_DIRS)
    set(arg_IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_property(piicrypt_import_dir GLOBAL PROPERTY PIICRYPT_PROTO_IMPORT_DIR)
  get_property(piicrypt_generated_dir GLOBAL PROPERTY PIICRYPT_PROTO_GENERATED_DIR)
  if(NOT EXISTS "${piicrypt_import_dir}/piicrypt/options.proto")
    message(FATAL_ERROR "piicrypt_protobuf_generate: piicrypt/options.proto is not in "
                        "\"${piicrypt_import_dir}\"")
  endif()

  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${arg_TARGET}_protos)
  file(MAKE_DIRECTORY ${out_dir})  # protoc writes into an existing directory only
  protobuf_generate(
    TARGET ${arg_TARGET}
    LANGUAGE cpp
    OUT_VAR generated
    PROTOS ${arg_PROTOS}
    IMPORT_DIRS ${arg_IMPORT_DIRS} ${piicrypt_import_dir}
    PROTOC_OUT_DIR ${out_dir})
  set_source_files_properties(${generated} PROPERTIES COMPILE_OPTIONS "-w")
  target_include_directories(${arg_TARGET} PUBLIC ${out_dir})
  if(piicrypt_generated_dir)
    target_include_directories(${arg_TARGET} SYSTEM PUBLIC ${piicrypt_generated_dir})
  endif()
  target_link_libraries(${arg_TARGET} PUBLIC piicrypt::messages protobuf::libprotobuf)
endfunction()
