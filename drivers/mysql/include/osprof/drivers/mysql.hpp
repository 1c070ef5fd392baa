// The mysql driver (CMake target osprof::mysql): mysql://, mysql+pymysql:// and mysql+mysqldb://,
// OSProfiler's SQL layout on a MariaDB or MySQL server through MariaDB Connector/C's
// non-blocking API. osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when
// the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_mysql();

}  // namespace osprof::drivers
