# Install rules and the CMake package. Each part is a package component with its own export
# set, so find_package(osprof COMPONENTS redis sqlite) loads those drivers (and their
# dependencies) only:
#   osprof::osprof   the core (always)        osprof::render   the report for people
#   osprof::<driver> one per built driver      osprof::drivers  every built driver, registered in one call
#   osprof::http     the HTTP drivers' shared client (pulled in by them)
#   osprof::sql      the SQL drivers' shared layout (pulled in by them)
#   osprof::beast    the Boost.Beast integration (header-only)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(OSPROF_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/osprof")

# osprof_install_component(<component> <targets...>): the targets into osprof-<component>-targets.cmake.
function(osprof_install_component component)
  install(TARGETS ${ARGN}
    EXPORT osprof-${component}-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT osprof-${component}-targets
    NAMESPACE osprof::
    FILE osprof-${component}-targets.cmake
    DESTINATION ${OSPROF_CMAKE_DIR})
endfunction()

osprof_install_component(core osprof)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/osprof DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/osprof/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/osprof)
osprof_install_component(render osprof_render)

set(OSPROF_INSTALLED_COMPONENTS core render)
if(TARGET osprof_http)
  osprof_install_component(http osprof_http)
  list(APPEND OSPROF_INSTALLED_COMPONENTS http)
endif()
if(TARGET osprof_sql)
  osprof_install_component(sql osprof_sql)
  list(APPEND OSPROF_INSTALLED_COMPONENTS sql)
endif()
foreach(d IN LISTS OSPROF_BUILT_DRIVERS)
  osprof_install_component(${d} osprof_driver_${d})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/drivers/${d}/include/osprof DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  list(APPEND OSPROF_INSTALLED_COMPONENTS ${d})
endforeach()
osprof_install_component(drivers osprof_drivers)
install(FILES ${PROJECT_SOURCE_DIR}/drivers/include/osprof/drivers.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/osprof)
list(APPEND OSPROF_INSTALLED_COMPONENTS drivers)
# osprof::beast (header-only, Asio/Beast types in its API) is its own include root.
if(TARGET osprof_beast)
  osprof_install_component(beast osprof_beast)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/integrations/beast/include/osprof_beast DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  list(APPEND OSPROF_INSTALLED_COMPONENTS beast)
endif()
if(TARGET osprof_cli)
  install(TARGETS osprof_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Static libraries carry their private dependencies into a consumer's link.
get_target_property(_osprof_type osprof TYPE)
set(_osprof_static OFF)
if(_osprof_type STREQUAL "STATIC_LIBRARY")
  set(_osprof_static ON)
endif()
# What each component needs loaded first (other components), and the packages it needs found
# when the libraries are static, for osprof-config.cmake.
set(OSPROF_CONFIG_COMPONENT_NEEDS "")
foreach(c IN LISTS OSPROF_BUILT_DRIVERS ITEMS http sql)
  get_property(_needs GLOBAL PROPERTY OSPROF_NEEDS_${c})
  get_property(_packages GLOBAL PROPERTY OSPROF_PACKAGES_${c})
  string(APPEND OSPROF_CONFIG_COMPONENT_NEEDS "set(_osprof_needs_${c} core ${_needs})\nset(_osprof_packages_${c} ${_packages})\n")
endforeach()
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

# pkg-config: osprof.pc (the core) and osprof-drivers.pc (every built driver, registered by
# osprof::register_builtin_drivers()).
if(_osprof_static)
  set(OSPROF_PC_LIBS_PRIVATE "-lboost_url -lsimdjson -lcrypto -ldl")
  set(OSPROF_PC_REQUIRES_PRIVATE "simdjson, libcrypto")
else()
  set(OSPROF_PC_LIBS_PRIVATE "")
  set(OSPROF_PC_REQUIRES_PRIVATE "")
endif()
set(OSPROF_PC_DRIVER_LIBS "-losprof_drivers")
foreach(d IN LISTS OSPROF_BUILT_DRIVERS)
  string(APPEND OSPROF_PC_DRIVER_LIBS " -losprof_${d}")
endforeach()
set(OSPROF_PC_DRIVERS_REQUIRES_PRIVATE "")
set(OSPROF_PC_DRIVERS_LIBS_PRIVATE "")
if(TARGET osprof_http)
  string(APPEND OSPROF_PC_DRIVER_LIBS " -losprof_http")
endif()
if(TARGET osprof_sql)
  string(APPEND OSPROF_PC_DRIVER_LIBS " -losprof_sql")
endif()
if(_osprof_static)
  set(_osprof_requires simdjson)
  if("sqlite" IN_LIST OSPROF_BUILT_DRIVERS)
    list(APPEND _osprof_requires sqlite3)
  endif()
  if(TARGET osprof_http OR "redis" IN_LIST OSPROF_BUILT_DRIVERS)
    list(APPEND _osprof_requires openssl)
  endif()
  if("mongodb" IN_LIST OSPROF_BUILT_DRIVERS)
    list(APPEND _osprof_requires libmongoc-1.0)
  endif()
  if("messaging" IN_LIST OSPROF_BUILT_DRIVERS)
    list(APPEND _osprof_requires librabbitmq)
  endif()
  if(TARGET osprof_http)
    list(APPEND _osprof_requires zlib)
    set(OSPROF_PC_DRIVERS_LIBS_PRIVATE "-lboost_url")
  endif()
  # The SQL servers' client libraries by name, not by their .pc files: libpq.pc's static
  # dependencies (libpgcommon.a, krb5, ldap) are not in libpq-dev; the shared libraries need none.
  if("postgresql" IN_LIST OSPROF_BUILT_DRIVERS)
    string(APPEND OSPROF_PC_DRIVERS_LIBS_PRIVATE " -lpq")
  endif()
  if("mysql" IN_LIST OSPROF_BUILT_DRIVERS)
    string(APPEND OSPROF_PC_DRIVERS_LIBS_PRIVATE " -lmariadb")
  endif()
  string(STRIP "${OSPROF_PC_DRIVERS_LIBS_PRIVATE}" OSPROF_PC_DRIVERS_LIBS_PRIVATE)
  list(JOIN _osprof_requires ", " OSPROF_PC_DRIVERS_REQUIRES_PRIVATE)
endif()
# Relocatable: the prefix is found from the .pc file's own location.
file(RELATIVE_PATH OSPROF_PC_PREFIX_FROM_PCFILEDIR
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/osprof.pc.in ${PROJECT_BINARY_DIR}/osprof.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/osprof-drivers.pc.in ${PROJECT_BINARY_DIR}/osprof-drivers.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/osprof.pc ${PROJECT_BINARY_DIR}/osprof-drivers.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
