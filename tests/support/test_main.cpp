// The main of every GoogleTest binary: registers the drivers this build has and the tests'
// memory:// driver before any test runs, as a program registers its backends in main().
#include <gtest/gtest.h>

#include <osprof/drivers.hpp>

#include "support/memory_store.hpp"

int main(int argc, char** argv) {
  osprof::register_builtin_drivers();
  osprof::test::register_memory_driver();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
