#include "drivers/sql/sql_reader.hpp"

#include <algorithm>
#include <set>

namespace osprof::detail::sql {

namespace {

// Traces asked for by id in one query at most (parameters per statement are limited).
constexpr std::size_t ids_per_query = 500;

// A substring of `data` that every error event has (in either encoding); rows with it are
// checked exactly here, so a scan never parses JSON in SQL (a corrupt row cannot fail it).
std::string error_candidates_sql(dialect d) {
  const char* contains = d == dialect::postgresql ? "strpos(data::text, 'etype') > 0"
                         : d == dialect::mysql    ? "LOCATE('etype', data) > 0"
                                                  : "instr(data, 'etype') > 0";
  return std::string("SELECT base_id, data FROM data WHERE name LIKE '%-stop' AND ") + contains;
}

std::vector<trace_summary> summaries(const result_rows& rows) {
  std::vector<trace_summary> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows.at(i, 0)) continue;  // a row without base_id belongs to no trace
    out.push_back({std::string(rows.text(i, 0)), std::string(rows.text(i, 1))});
  }
  return out;
}

}  // namespace

std::string placeholder(dialect d, std::size_t index) {
  return d == dialect::postgresql ? "$" + std::to_string(index) : std::string("?");
}

asio::awaitable<std::vector<std::string>> sql_reader::read_trace(std::string_view base_id) {
  // Named, not braced in the co_await: GCC 12 miscompiles an initializer list there.
  std::vector<std::string> params;
  params.emplace_back(base_id);
  const result_rows rows = co_await runner_->query(
      "SELECT name, base_id, trace_id, parent_id, timestamp, project, service, data FROM data WHERE base_id = " +
          placeholder(dialect_, 1) + " ORDER BY id",
      std::move(params));
  std::vector<std::string> events;
  events.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    stored_row r{rows.text(i, 0), rows.text(i, 1), rows.text(i, 2), rows.text(i, 3),
                 rows.text(i, 4), rows.text(i, 5), rows.text(i, 6), std::nullopt};
    if (rows.at(i, 7)) r.data = *rows.at(i, 7);
    events.push_back(rebuild_event(r));
  }
  co_return events;
}

asio::awaitable<std::vector<trace_summary>> sql_reader::list_traces() {
  // One row per trace with its first event's time. MariaDB would read every row for that
  // (InnoDB has no narrower way to the timestamps): it lists each trace's first stored row
  // instead, found by a loose scan of ix_data_base_id (drivers/mysql/README.md, Reading).
  const char* sql = dialect_ == dialect::mysql
                        ? "SELECT d.base_id, d.timestamp FROM (SELECT MIN(id) AS id FROM data GROUP BY base_id) f"
                          " JOIN data d ON d.id = f.id ORDER BY d.timestamp DESC"
                        : "SELECT base_id, MIN(timestamp) AS started FROM data GROUP BY base_id ORDER BY started DESC";
  const result_rows rows = co_await runner_->query(sql, std::vector<std::string>());
  co_return summaries(rows);
}

asio::awaitable<std::vector<trace_summary>> sql_reader::list_error_traces() {
  const result_rows candidates = co_await runner_->query(error_candidates_sql(dialect_), std::vector<std::string>());
  std::set<std::string> failed;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!candidates.at(i, 0) || !candidates.at(i, 1)) continue;
    const std::string_view base_id = candidates.text(i, 0);
    if (failed.contains(std::string(base_id))) continue;
    if (data_has_error(candidates.text(i, 1))) failed.emplace(base_id);
  }
  std::vector<trace_summary> out;
  std::vector<std::string> ids(failed.begin(), failed.end());
  for (std::size_t from = 0; from < ids.size(); from += ids_per_query) {
    const std::size_t n = std::min(ids_per_query, ids.size() - from);
    // As list_traces(): MariaDB shows each trace's first stored row (one index dive and one
    // primary-key read per trace instead of reading all of its rows).
    std::string sql = dialect_ == dialect::mysql
                          ? "SELECT d.base_id, d.timestamp FROM (SELECT MIN(id) AS id FROM data WHERE base_id IN ("
                          : "SELECT base_id, MIN(timestamp) FROM data WHERE base_id IN (";
    for (std::size_t i = 0; i < n; ++i) {
      if (i != 0) sql += ", ";
      sql += placeholder(dialect_, i + 1);
    }
    sql += dialect_ == dialect::mysql ? ") GROUP BY base_id) f JOIN data d ON d.id = f.id" : ") GROUP BY base_id";
    const result_rows rows =
        co_await runner_->query(std::move(sql), std::vector<std::string>(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                                                         ids.begin() + static_cast<std::ptrdiff_t>(from + n)));
    for (auto& s : summaries(rows)) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const trace_summary& a, const trace_summary& b) {
    return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.base_id < b.base_id;
  });
  co_return out;
}

}  // namespace osprof::detail::sql
