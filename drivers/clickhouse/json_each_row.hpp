// The rows osprof inserts into ClickHouse (INSERT ... FORMAT JSONEachRow), the table they go
// into, and the two answers the driver reads back: RowBinary strings and exception codes.
// The schema is described in drivers/clickhouse/README.md.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/http/http_writer.hpp"

namespace osprof::detail::clickhouse {

struct row_settings {
  std::string project;  ///< the writer's project, service and host columns
  std::string service;
  std::string host;
  std::size_t max_body_bytes = 64u << 20;
};

/// Appends one event as a JSONEachRow line, every column (`date` is the UTC day of time_us).
void append_row(std::string& out, const event_record& e, const row_settings& settings);

/// Encodes a batch into bodies of at most `max_body_bytes` (a larger single row gets its own).
std::vector<http::part> encode_batch(std::span<const event_record> batch, const row_settings& settings);

/// CREATE TABLE IF NOT EXISTS for `qualified_table` (a MergeTree ordered by base_id, time_us).
std::string create_table_sql(std::string_view qualified_table);

/// Strings of a one-column RowBinary answer (LEB128 length + bytes each); nullopt if cut short.
std::optional<std::vector<std::string>> parse_row_binary_strings(std::string_view data);

/// The N of "Code: N, e.displayText() = ..." in an error body; 0 when absent.
int exception_code(std::string_view body);

/// Errors that sending the same rows again cannot fix (bad data or schema, readonly user, unknown
/// table or database that cannot be created): the rows are dropped and counted.
bool permanent_error(int code);
/// Unknown user, wrong or missing password, address not allowed.
bool authentication_error(int code);

/// The message of a ClickHouse error body, without its trailing ", e.what() = DB::Exception".
std::string error_text(std::string_view body);

}  // namespace osprof::detail::clickhouse
