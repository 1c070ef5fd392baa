// OSProfiler's SQL layout, written once for the SQL drivers (sqlite://, postgresql://,
// mysql://): the `data` table and its indexes as Python's SQLAlchemy driver creates them, an
// event as a row (the columns, and the rest of the event double-encoded in `data`), a row back
// as the stored notification, and the table that lets a retried batch be stored only once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/connection_string.hpp>
#include <osprof/driver.hpp>

namespace osprof::detail::sql {

enum class dialect : std::uint8_t { sqlite, postgresql, mysql };

/// The table Python's SQLAlchemy driver (osprofiler/drivers/sqlalchemy_driver.py) creates.
inline constexpr std::string_view data_table = "data";

/// Which of `data`'s indexes a writer creates when they are missing.
enum class index_set : std::uint8_t {
  all,      ///< the eight SQLAlchemy creates, one per column (ix_data_<column>)
  reading,  ///< ix_data_base_id and ix_data_timestamp: what `trace show` and the `trace list` walk use
};

/// The connection string's `indexes` option (`all` or `reading`); `all` when absent. Throws
/// osprof::error naming the option for any other value.
index_set index_set_param(const connection_string& cs);

/// Statements that create `data` and its indexes (`which`), each only if missing, with the
/// column types SQLAlchemy 1.4 gives `Integer` primary keys, `String(n)` and `JSON` in each dialect.
std::vector<std::string> data_table_ddl(dialect d, index_set which = index_set::all);

/// The writers table: one row per writer (a random id) holding the number of the last batch it
/// stored, advanced in the same transaction as the batch's rows. A CHECK constraint makes
/// advancing to a number already reached fail, so a batch whose outcome was lost (the
/// connection broke before COMMIT's answer) is found stored when it is written again.
inline constexpr std::string_view writers_table = "osprof_writers";
inline constexpr std::string_view stored_constraint = "osprof_batch_stored";
std::string writers_table_ddl(dialect d);

/// The statement that claims batch `sequence` for writer `writer_id` (32 hex digits). It fails
/// with a violation of `stored_constraint` when that batch (or a later one) is already stored;
/// a missing row (pruned, or a new writer) is inserted.
std::string claim_batch_sql(dialect d, std::string_view writer_id, std::uint64_t sequence, std::int64_t now_s);

/// Deletes the rows of writers not heard from for `max_age_s` seconds (crashed processes).
std::string prune_writers_sql(dialect d, std::int64_t now_s, std::int64_t max_age_s);

/// The columns of `data` osprof writes, in this order (`id` is the server's).
inline constexpr std::array<std::string_view, 9> columns = {"timestamp", "base_id", "parent_id", "trace_id", "project",
                                                            "host",      "service", "name",      "data"};

/// Character limits of `data`'s text columns as the table in use has them (read from the
/// server: a table made elsewhere may differ). 0: no limit.
struct column_limits {
  std::size_t project = 255;
  std::size_t host = 255;
  std::size_t service = 255;
  std::size_t name = 255;
  std::size_t ids = 255;       ///< base_id, parent_id, trace_id (36 characters each)
  std::size_t timestamp = 26;  ///< always 26 characters
  std::size_t row_bytes = 0;   ///< largest row the server takes in one statement (MySQL's packet); 0: none

  /// Sets the limit of `column` (a name of `columns`); other names are ignored.
  void set(std::string_view column, std::size_t limit);
};

/// `text` as a column value: invalid UTF-8 and NUL bytes become U+FFFD (the servers refuse
/// both in text columns; the JSON in `data` has the same replacement).
std::string column_text(std::string_view text);
/// column_text() into `out`, reusing its buffer.
void assign_column_text(std::string& out, std::string_view text);

/// One event as the values of a row.
struct row {
  std::array<char, 36> base_id{};
  std::array<char, 36> parent_id{};
  std::array<char, 36> trace_id{};
  std::string name;  ///< column_text() of the event's name
  std::string data;  ///< OSProfiler's double encoding: the JSON string of {"info": ...}

  std::string_view base_id_text() const noexcept { return {base_id.data(), base_id.size()}; }
  std::string_view parent_id_text() const noexcept { return {parent_id.data(), parent_id.size()}; }
  std::string_view trace_id_text() const noexcept { return {trace_id.data(), trace_id.size()}; }
};

/// Fills `out` from `e` (reusing its buffers).
void make_row(const event_record& e, row& out);

/// The writer's constant columns (project, host, service as column_text()).
struct writer_columns {
  std::string project;
  std::string host;
  std::string service;
};

/// Why `r` does not fit the table (a value longer than its column), or empty when it does.
std::string check_row(const row& r, const writer_columns& w, const column_limits& limits);

/// Number of code points in valid UTF-8 `text`.
std::size_t code_points(std::string_view text) noexcept;

/// A stored row as the reader gets it. `data` is empty when the column is NULL.
struct stored_row {
  std::string_view name, base_id, trace_id, parent_id, timestamp, project, service;
  std::optional<std::string_view> data;
};

/// The notification the row was made from, as JSON: the columns, then the members of the
/// decoded `data` object (OSProfiler's `info`). A `data` that is not such an object is handed
/// on as `"data": <text>`, so the report names the event as corrupt instead of losing it.
std::string rebuild_event(const stored_row& r);

/// Whether a stored `data` value holds `info.etype` (a stop event that failed). Corrupt data: false.
bool data_has_error(std::string_view data);

}  // namespace osprof::detail::sql
