// Registers influxdb:// and influxdb+https://.
#include <osprof/drivers/influxdb.hpp>

#include "drivers/influxdb/influxdb_driver.hpp"

namespace osprof::drivers {

void register_influxdb() {
  using namespace osprof::detail::influxdb;
  for (const char* scheme : {"influxdb", "influxdb+https"}) {
    register_driver({
        .scheme = scheme,
        .summary = std::string_view(scheme) == "influxdb"
                       ? "InfluxDB 1.x: influxdb://[user:password@]host[:8086][/database] (line protocol at ns precision, InfluxQL reads)"
                       : "InfluxDB 1.x over TLS, certificates verified: influxdb+https://[user:password@]host[:8086][/database]",
        .make_writer = [](const connection_string& cs, const driver_context& context) {
          return make_writer(influxdb_options::from(cs, context.timeout), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) {
          return make_reader(influxdb_options::from(cs, context.timeout));
        },
    });
  }
}

}  // namespace osprof::drivers
