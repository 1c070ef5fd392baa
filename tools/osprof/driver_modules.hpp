// The drivers the osprof command loads from modules (osprof-<driver>.so) when a connection
// string first names them: those whose client libraries (libmongoc, libpq, libmariadb and what
// they pull in) cost megabytes of memory and milliseconds to map and initialise at every start.
// A driver's CMakeLists.txt marks it LOADABLE; the list is generated (cli_drivers.cpp.in).
#pragma once

#include <string>
#include <vector>

namespace osprof::cli {

struct loadable_driver {
  const char* name;     // the driver (its module is osprof-<name>.so)
  const char* schemes;  // the schemes it registers, separated by spaces
};

/// Registers the drivers linked into the command and arranges for the others to be loaded
/// from their modules when first named (generated: cli_drivers.cpp).
void register_drivers();

/// Loads the listed drivers' modules on demand from now on.
void use_driver_modules(std::vector<loadable_driver> drivers);

/// Loads every module not loaded yet (for `osprof drivers`); returns one line per module that
/// could not be loaded, saying why.
std::vector<std::string> load_all_driver_modules();

/// Where the modules are looked for: $OSPROF_DRIVER_DIR, else the folder beside the command
/// where they are installed (lib/osprof relative to bin/osprof).
std::string driver_module_dir();

}  // namespace osprof::cli
