# Debian packages: `cpack -G DEB` in a shared build makes
#   libpiicrypt0     the shared libraries (runtime)
#   libpiicrypt-dev  headers, static and shared link files, CMake and pkg-config files
#   piicrypt         the command-line tool
# A shared build does not build the tool, and the static libraries come from a static
# build: give its build directory as PIICRYPT_PACKAGE_STATIC_BUILD_DIR and CPack installs
# both builds into the packages (scripts/package does this). Configure both builds with
# -DCMAKE_INSTALL_PREFIX=/usr so that the libraries land in Debian's multiarch directory.
set(PIICRYPT_PACKAGE_STATIC_BUILD_DIR "" CACHE PATH
    "A static build of the same sources whose libraries and tool go into the packages too")

set(CPACK_PACKAGE_NAME piicrypt)
set(CPACK_PACKAGE_VENDOR "piicrypt")
set(CPACK_PACKAGE_CONTACT "piicrypt maintainers <maintainers@piicrypt.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "encryption and tokenization of personal data fields")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development cli)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Dependencies of the shared libraries and of the tool from the binaries (dpkg-shlibdeps);
# the runtime package records its own shlibs file for the packages built against it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # libpiicrypt0 only: the one with SONAMEs
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

set(PIICRYPT_DEB_VERSION "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libpiicrypt${PROJECT_VERSION_MAJOR})
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "piicrypt: encryption and tokenization of personal data fields - shared libraries")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libpiicrypt-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION
    "piicrypt: encryption and tokenization of personal data fields - development files")
# The shared link files need the runtime package and Abseil's headers (public headers use
# absl::Status); the static libraries of the optional components need their libraries'
# development files too; piicrypt_protobuf_generate runs protoc (protobuf-compiler).
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libpiicrypt${PROJECT_VERSION_MAJOR} (= ${PIICRYPT_DEB_VERSION}), libabsl-dev, libssl-dev, libprotobuf-dev")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_RECOMMENDS
    "libicu-dev, libphonenumber-dev, libsqlite3-dev, libpq-dev, pkg-config, protobuf-compiler")
set(CPACK_DEBIAN_CLI_PACKAGE_NAME piicrypt)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_CLI_DESCRIPTION
    "piicrypt: encryption and tokenization of personal data fields - command-line tool")

if(PIICRYPT_PACKAGE_STATIC_BUILD_DIR)
  set(CPACK_INSTALL_CMAKE_PROJECTS
      "${PIICRYPT_PACKAGE_STATIC_BUILD_DIR};piicrypt;ALL;/"
      "${PROJECT_BINARY_DIR};piicrypt;ALL;/")
endif()
include(CPack)
