// What an influxdb:// (or influxdb+https://) connection string means, as a plain struct:
// where the server is, the database and measurement names, and how batches are sent. Parsed
// once when the driver is created; a bad value is an osprof::error naming the option.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "driver/connection_string.hpp"
#include "drivers/http/client.hpp"

namespace osprof::detail::influxdb {

inline constexpr std::uint16_t default_port = 8086;

struct influxdb_options {
  http::client_options http;               ///< host, port (8086), TLS, Basic auth, timeout_ms
  std::string database = "osprofiler";     ///< the path: influxdb://host:port/<database>
  std::string retention_policy;            ///< ?rp=: write to and read from this policy (default: the database's)
  std::string measurement = "osprofiler_events";  ///< ?measurement=: where the events go
  bool create_database = true;             ///< ?create_database=false: never send CREATE DATABASE
  bool gzip = false;                       ///< ?gzip=true: compress request bodies
  std::size_t max_body_bytes = 8u << 20;   ///< ?max_body_bytes=: split a batch into requests of at most this

  static influxdb_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);
};

/// An InfluxQL identifier in double quotes ("db"."rp"."m").
std::string quote_identifier(std::string_view name);
/// An InfluxQL string literal in single quotes.
std::string quote_string(std::string_view text);

}  // namespace osprof::detail::influxdb
