// What a clickhouse:// (or clickhouse+https://) connection string means, as a plain struct:
// where the server is, the database and table, and how batches are sent. Parsed once when
// the driver is created; a bad value is an osprof::error naming the option.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "driver/connection_string.hpp"
#include "drivers/http/client.hpp"

namespace osprof::detail::clickhouse {

inline constexpr std::uint16_t default_port = 8123;

struct clickhouse_options {
  http::client_options http;                  ///< host, port (8123), TLS, Basic auth, timeout_ms
  std::string database = "default";           ///< the path: clickhouse://host:port/<database>
  std::string table = "osprofiler_events";    ///< ?table=: e.g. a Distributed table in a cluster
  bool create_table = true;                   ///< ?create_table=false: never send CREATE
  bool gzip = false;                          ///< ?gzip=true: compress request bodies
  std::size_t max_body_bytes = 64u << 20;     ///< ?max_body_bytes=: split a batch into INSERTs of at most this

  /// `database`.`table`, quoted.
  std::string qualified_table() const;

  static clickhouse_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);
};

/// A ClickHouse identifier in backquotes.
std::string quote_identifier(std::string_view name);
/// A ClickHouse string literal in single quotes.
std::string quote_string(std::string_view text);

}  // namespace osprof::detail::clickhouse
