// What an influxdb:// (or influxdb+https://) connection string means, as a plain struct:
// where the server is (the options every HTTP backend shares), the database and measurement
// names. Parsed once when the driver is created; a bad value is an osprof::error naming the
// option.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <osprof/connection_string.hpp>

#include "drivers/http/endpoint_options.hpp"

namespace osprof::detail::influxdb {

struct influxdb_options : http::backend_options<influxdb_options> {
  std::string database = "osprofiler";     ///< the path: influxdb://host:port/<database>
  std::string retention_policy;            ///< ?rp=: write to and read from this policy (default: the database's)
  std::string measurement = "osprofiler_events";  ///< ?measurement=: where the events go
  bool create_database = true;             ///< ?create_database=false: never send CREATE DATABASE

  static influxdb_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);

  /// The schemes, defaults and summary of this backend.
  static constexpr http::backend backend{"influxdb", "InfluxDB 1.x", 8086, 8u << 20, "[/database]",
                                         "line protocol at ns precision, InfluxQL reads"};
};

/// An InfluxQL identifier in double quotes ("db"."rp"."m").
std::string quote_identifier(std::string_view name);

}  // namespace osprof::detail::influxdb
