# Installs the headers, the component libraries, their CMake package and pkg-config files.
# A static and a shared build install into one prefix side by side: the libraries differ
# by suffix (libpiicrypt_core.a, libpiicrypt_core.so.0), the CMake exports by file name
# (piicrypt-static-targets.cmake, piicrypt-shared-targets.cmake); the rest is identical.
#
# Install components, which the Debian packages are made of (cmake/packaging.cmake):
#   runtime      the shared libraries (libpiicrypt0)
#   development  headers, static libraries, .so links, CMake and pkg-config files (libpiicrypt-dev)
#   cli          the piicrypt command (piicrypt; tools/CMakeLists.txt)
include(CMakePackageConfigHelpers)

set(PIICRYPT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/piicrypt)
if(BUILD_SHARED_LIBS)
  set(PIICRYPT_VARIANT shared)
else()
  set(PIICRYPT_VARIANT static)
endif()

install(DIRECTORY include/piicrypt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT development)
# For applications that mark their own messages with piicrypt's options (message_cryptor.h):
# the .proto files to import and the generated headers their generated code includes.
install(FILES proto/piicrypt/options.proto proto/piicrypt/policy.proto
              ${PROJECT_BINARY_DIR}/proto/piicrypt/options.pb.h
              ${PROJECT_BINARY_DIR}/proto/piicrypt/policy.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/piicrypt COMPONENT development)

set(PIICRYPT_INSTALLED_TARGETS piicrypt)
foreach(component IN LISTS PIICRYPT_INSTALLED_COMPONENTS)
  list(APPEND PIICRYPT_INSTALLED_TARGETS piicrypt_${component})
endforeach()
install(TARGETS ${PIICRYPT_INSTALLED_TARGETS} EXPORT piicrypt-${PIICRYPT_VARIANT}-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
          NAMELINK_COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The registration sources of the registering components (src/CMakeLists.txt).
install(DIRECTORY ${PROJECT_BINARY_DIR}/link/ DESTINATION ${CMAKE_INSTALL_DATADIR}/piicrypt
        COMPONENT development)
install(EXPORT piicrypt-${PIICRYPT_VARIANT}-targets NAMESPACE piicrypt::
  DESTINATION ${PIICRYPT_CMAKE_DIR} COMPONENT development)
configure_package_config_file(cmake/piicryptConfig.cmake.in
  ${PROJECT_BINARY_DIR}/piicryptConfig.cmake
  INSTALL_DESTINATION ${PIICRYPT_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/piicryptConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/piicryptConfig.cmake
              ${PROJECT_BINARY_DIR}/piicryptConfigVersion.cmake
              cmake/piicryptProtobuf.cmake
  DESTINATION ${PIICRYPT_CMAKE_DIR} COMPONENT development)

# pkg-config: piicrypt-<component>.pc for each component, piicrypt.pc for all of them.
# Relocatable (prefix from the .pc file's own place), so that an unpacked package works.
file(RELATIVE_PATH PIICRYPT_PC_TO_PREFIX
     /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
function(piicrypt_pkg_config name description requires requires_private libs libs_private)
  set(PC_NAME ${name})
  set(PC_DESCRIPTION ${description})
  set(PC_REQUIRES ${requires})
  set(PC_REQUIRES_PRIVATE ${requires_private})
  set(PC_LIBS ${libs})
  set(PC_LIBS_PRIVATE ${libs_private})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/piicrypt.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc
                 @ONLY)
endfunction()
set(absl_public "absl_status absl_statusor absl_strings absl_span absl_time")
set(absl_private "absl_base absl_cleanup absl_synchronization absl_str_format absl_flat_hash_map")
# A registering component: -u pulls its registration out of a static archive; the shared
# library is kept even under --as-needed, since nothing calls it by name.
macro(piicrypt_registering_libs component)
  set(${component}_libs
      "-Wl,-u,piicrypt_link_${component} -L\${libdir} -Wl,--push-state,--no-as-needed,-lpiicrypt_${component},--pop-state")
endmacro()
piicrypt_registering_libs(normalizers)
piicrypt_registering_libs(sqlite)
piicrypt_registering_libs(postgres)
list(TRANSFORM CMAKE_DL_LIBS PREPEND "-l" OUTPUT_VARIABLE dl_flags)
piicrypt_pkg_config(piicrypt-core "crypto, keysets, KEKs, policies, field encryption, FF1, tokenizer"
  "${absl_public}" "libcrypto protobuf ${absl_private}" "-L\${libdir} -lpiicrypt_core" "${dl_flags}")
piicrypt_pkg_config(piicrypt-normalizers "e-mail, phone and name normalizers (ICU, libphonenumber)"
  "piicrypt-core" "icu-uc icu-i18n ${absl_private}" "${normalizers_libs}" "-lphonenumber")
piicrypt_pkg_config(piicrypt-sqlite "the SQLite token store"
  "piicrypt-core" "sqlite3 ${absl_private}" "${sqlite_libs}" "")
piicrypt_pkg_config(piicrypt-postgres "the PostgreSQL token store"
  "piicrypt-core" "libpq ${absl_private}" "${postgres_libs}" "")
piicrypt_pkg_config(piicrypt-messages "MessageCryptor and piicrypt/options.proto"
  "piicrypt-core" "protobuf ${absl_private}" "-L\${libdir} -lpiicrypt_messages" "")
piicrypt_pkg_config(piicrypt "every piicrypt component"
  "piicrypt-core piicrypt-normalizers piicrypt-sqlite piicrypt-postgres piicrypt-messages" "" "" "")
install(DIRECTORY ${PROJECT_BINARY_DIR}/pkgconfig/ DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT development)
