// The InfluxDB 1.x driver: events written with /write in line protocol at nanosecond precision
// (line_protocol.hpp) on the HTTP write path (drivers/http/http_writer.hpp), read back with
// InfluxQL through /query for `osprof trace show/list`. Schema: README.md.
#pragma once

#include <memory>

#include <osprof/driver.hpp>

#include "drivers/influxdb/influxdb_options.hpp"

namespace osprof::detail::influxdb {

namespace asio = boost::asio;

std::unique_ptr<writer> make_writer(influxdb_options options, const driver_context& context);
std::unique_ptr<reader> make_reader(influxdb_options options);

}  // namespace osprof::detail::influxdb
