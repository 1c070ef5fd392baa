# Install rules and the CMake package: find_package(osprof CONFIG) gives osprof::osprof.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(OSPROF_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/osprof")

install(TARGETS osprof
  EXPORT osprof-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/osprof DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# osprof::beast (header-only, Asio/Beast types in its API) is its own include root.
if(TARGET osprof_beast)
  install(TARGETS osprof_beast EXPORT osprof-targets)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/integrations/beast/include/osprof_beast
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(FILES ${PROJECT_BINARY_DIR}/include/osprof/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/osprof)
if(TARGET osprof_cli)
  install(TARGETS osprof_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT osprof-targets
  NAMESPACE osprof::
  FILE osprof-targets.cmake
  DESTINATION ${OSPROF_CMAKE_DIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/osprof-config.cmake.in
  ${PROJECT_BINARY_DIR}/osprof-config.cmake
  INSTALL_DESTINATION ${OSPROF_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/osprof-config-version.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/osprof-config.cmake
  ${PROJECT_BINARY_DIR}/osprof-config-version.cmake
  DESTINATION ${OSPROF_CMAKE_DIR})

# pkg-config: a static libosprof needs its private dependencies on the link line.
get_target_property(_osprof_type osprof TYPE)
if(_osprof_type STREQUAL "STATIC_LIBRARY")
  set(OSPROF_PC_LIBS_PRIVATE "-lboost_url -lsimdjson -lssl -lcrypto -lz -ldl")
  set(OSPROF_PC_REQUIRES_PRIVATE "sqlite3, simdjson, openssl, zlib")
else()
  set(OSPROF_PC_LIBS_PRIVATE "")
  set(OSPROF_PC_REQUIRES_PRIVATE "")
endif()
# Relocatable: the prefix is found from the .pc file's own location.
file(RELATIVE_PATH OSPROF_PC_PREFIX_FROM_PCFILEDIR
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/osprof.pc.in ${PROJECT_BINARY_DIR}/osprof.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/osprof.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
