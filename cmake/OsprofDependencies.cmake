# Every dependency comes from Debian 12's packages; nothing is downloaded at build time.
#   Boost 1.81 (libboost1.81-dev, libboost-url1.81-dev): Asio coroutines, Beast, Boost.URL
#   simdjson (libsimdjson-dev): reading stored events
#   moodycamel ConcurrentQueue (libconcurrentqueue-dev): the caller-side event queue
#   OpenSSL (libssl-dev): HMAC-SHA1 for signed trace headers (core); TLS (network drivers)
# A driver finds what only it needs in its own drivers/<name>/CMakeLists.txt (SQLite, zlib).
#   CLI11 (libcli11-dev): the command lines of the tools only, never a dependency of the library
find_package(Threads REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS url)
find_package(simdjson CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
# The same condition as tools/ in the top-level CMakeLists.txt: the tests and benchmarks run the tools.
if(OSPROF_BUILD_TOOLS OR OSPROF_BUILD_TESTS OR OSPROF_BUILD_BENCH)
  find_package(CLI11 2.1 CONFIG REQUIRED)
endif()

# libconcurrentqueue-dev ships headers only (no CMake config, no pkg-config). Debian puts them
# under <concurrentqueue/...>; upstream's install uses <concurrentqueue/moodycamel/...>.
find_path(OSPROF_CONCURRENTQUEUE_INCLUDE_DIR
  NAMES concurrentqueue/concurrentqueue.h concurrentqueue/moodycamel/concurrentqueue.h
  DOC "Directory that holds concurrentqueue/concurrentqueue.h (libconcurrentqueue-dev)")
if(NOT OSPROF_CONCURRENTQUEUE_INCLUDE_DIR)
  message(FATAL_ERROR "moodycamel ConcurrentQueue not found: install libconcurrentqueue-dev")
endif()
if(NOT TARGET osprof_concurrentqueue)
  add_library(osprof_concurrentqueue INTERFACE IMPORTED)
  if(EXISTS "${OSPROF_CONCURRENTQUEUE_INCLUDE_DIR}/concurrentqueue/moodycamel/concurrentqueue.h")
    set_target_properties(osprof_concurrentqueue PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${OSPROF_CONCURRENTQUEUE_INCLUDE_DIR}/concurrentqueue/moodycamel")
  else()
    set_target_properties(osprof_concurrentqueue PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${OSPROF_CONCURRENTQUEUE_INCLUDE_DIR}/concurrentqueue")
  endif()
endif()
