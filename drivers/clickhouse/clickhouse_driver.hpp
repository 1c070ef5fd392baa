// The ClickHouse driver: events inserted through the HTTP interface with INSERT ... FORMAT
// JSONEachRow (json_each_row.hpp) into a MergeTree table created if missing, on the HTTP
// write path (drivers/http/http_writer.hpp); read back with SELECT for `osprof trace
// show/list`. Schema: README.md.
#pragma once

#include <memory>

#include <osprof/driver.hpp>

#include "drivers/clickhouse/clickhouse_options.hpp"
#include "drivers/http/client.hpp"

namespace osprof::detail::clickhouse {

namespace asio = boost::asio;

std::unique_ptr<writer> make_writer(clickhouse_options options, const driver_context& context);
std::unique_ptr<reader> make_reader(clickhouse_options options);

/// A statement sent as the body of POST / (every statement names its table with the
/// database, so no `database=`, which would fail while the database does not exist yet).
http::request query_request(std::string sql, std::string_view url_settings = {});

}  // namespace osprof::detail::clickhouse
