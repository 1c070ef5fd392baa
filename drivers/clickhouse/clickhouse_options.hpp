// What a clickhouse:// (or clickhouse+https://) connection string means, as a plain struct:
// where the server is (the options every HTTP backend shares), the database and table. Parsed once when
// the driver is created; a bad value is an osprof::error naming the option.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <osprof/connection_string.hpp>

#include "drivers/http/endpoint_options.hpp"

namespace osprof::detail::clickhouse {

struct clickhouse_options : http::backend_options<clickhouse_options> {
  std::string database = "default";           ///< the path: clickhouse://host:port/<database>
  std::string table = "osprofiler_events";    ///< ?table=: e.g. a Distributed table in a cluster
  bool create_table = true;                   ///< ?create_table=false: never send CREATE

  /// `database`.`table`, quoted.
  std::string qualified_table() const;

  static clickhouse_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);

  /// The schemes, defaults and summary of this backend.
  static constexpr http::backend backend{"clickhouse", "ClickHouse", 8123, 64u << 20, "[/database][?table=]",
                                         "JSONEachRow inserts into MergeTree"};
};

/// A ClickHouse identifier in backquotes.
std::string quote_identifier(std::string_view name);

}  // namespace osprof::detail::clickhouse
