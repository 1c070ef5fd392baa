#include "drivers/sql/sql_reader.hpp"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

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

namespace {

// "base_id IN (p1, p2, ...)" with placeholders from `first`.
std::string in_list(dialect d, std::size_t n, std::size_t first = 1) {
  std::string sql = "base_id IN (";
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) sql += ", ";
    sql += placeholder(d, first + i);
  }
  return sql + ")";
}

bool newer(const trace_summary& a, const trace_summary& b) {
  return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.base_id > b.base_id;
}

constexpr std::size_t walk_chunk = 4000;

}  // namespace

asio::awaitable<std::vector<trace_summary>> sql_reader::starts_of(const std::vector<std::string>& ids) {
  std::vector<trace_summary> out;
  for (std::size_t from = 0; from < ids.size(); from += ids_per_query) {
    const std::size_t n = std::min(ids_per_query, ids.size() - from);
    std::vector<std::string> params(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                    ids.begin() + static_cast<std::ptrdiff_t>(from + n));
    std::string sql = "SELECT base_id, MIN(timestamp) FROM data WHERE " + in_list(dialect_, n) + " GROUP BY base_id";
    const result_rows rows = co_await runner_->query(std::move(sql), std::move(params));
    for (auto& s : summaries(rows)) out.push_back(std::move(s));
  }
  co_return out;
}

asio::awaitable<std::set<std::string>> sql_reader::passing(const list_query& query, const std::vector<std::string>& ids) {
  std::set<std::string> keep(ids.begin(), ids.end());
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  // SQLite: a unary + keeps the planner on ix_data_base_id rather than the field's index.
  const std::string plus = dialect_ == dialect::sqlite ? "+" : "";
  if (!query.project.empty()) fields.push_back({plus + "project = ", {query.project}});
  if (!query.service.empty()) fields.push_back({plus + "service = ", {query.service}});
  if (!query.host.empty()) fields.push_back({plus + "host = ", {query.host}});
  if (!query.name.empty()) fields.push_back({plus + "name IN ", {query.name + "-start", query.name + "-stop"}});
  for (std::size_t f = 0; f < fields.size(); ++f) {
    const std::string& condition = fields[f].first;
    const std::vector<std::string>& values = fields[f].second;
    std::vector<std::string> params(keep.begin(), keep.end());
    if (params.empty()) co_return keep;
    std::string sql = "SELECT DISTINCT base_id FROM data WHERE " + in_list(dialect_, params.size()) + " AND " + condition;
    if (values.size() == 1) {
      sql += placeholder(dialect_, params.size() + 1);
    } else {
      sql += "(" + placeholder(dialect_, params.size() + 1) + ", " + placeholder(dialect_, params.size() + 2) + ")";
    }
    for (const auto& v : values) params.push_back(v);
    const result_rows rows = co_await runner_->query(std::move(sql), std::move(params));
    std::set<std::string> matched;
    for (std::size_t i = 0; i < rows.size(); ++i) matched.emplace(rows.text(i, 0));
    keep = std::move(matched);
  }
  if (query.errors_only && !keep.empty()) {
    std::vector<std::string> params(keep.begin(), keep.end());
    std::string sql = error_candidates_sql(dialect_) + " AND " + in_list(dialect_, params.size());
    const result_rows rows = co_await runner_->query(std::move(sql), std::move(params));
    std::set<std::string> failed;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows.at(i, 0) && rows.at(i, 1) && data_has_error(rows.text(i, 1))) failed.emplace(rows.text(i, 0));
    }
    keep = std::move(failed);
  }
  co_return keep;
}

asio::awaitable<void> sql_reader::add_details(std::vector<trace_summary>& page) {
  if (page.empty()) co_return;
  std::vector<std::string> ids;
  for (const auto& row : page) ids.push_back(row.base_id);
  std::vector<std::string> params = ids;
  const result_rows span = co_await runner_->query(
      "SELECT base_id, MAX(timestamp), COUNT(*) FROM data WHERE " + in_list(dialect_, ids.size()) + " GROUP BY base_id",
      std::move(params));
  params = ids;
  // The rows at each trace's first timestamp only (not all of a big trace's rows).
  const result_rows first = co_await runner_->query(
      "SELECT d.base_id, d.name, d.service FROM data d JOIN (SELECT base_id, MIN(timestamp) AS t FROM data WHERE " +
          in_list(dialect_, ids.size()) + " GROUP BY base_id) f ON d.base_id = f.base_id AND d.timestamp = f.t ORDER BY d.id",
      std::move(params));
  list_query errors;
  errors.errors_only = true;
  const std::set<std::string> failed = co_await passing(errors, ids);
  for (auto& row : page) {
    for (std::size_t i = 0; i < span.size(); ++i) {
      if (span.text(i, 0) != row.base_id) continue;
      row.finished = span.text(i, 1);
      row.events = static_cast<std::size_t>(std::stoull(std::string(span.text(i, 2))));
    }
    for (std::size_t i = 0; i < first.size(); ++i) {
      if (first.text(i, 0) != row.base_id) continue;
      row.name = first.text(i, 1);
      for (std::string_view suffix : {"-start", "-stop"}) {
        if (row.name.ends_with(suffix)) row.name.resize(row.name.size() - suffix.size());
      }
      row.service = first.text(i, 2);
      break;
    }
    row.has_error = failed.contains(row.base_id);
  }
}

asio::awaitable<trace_page> sql_reader::list_page(const list_query& query) {
  std::vector<trace_summary> found;
  // The traces to group, when few rows can hold them: an id prefix (a range of the base_id
  // index), or a field filter that matches fewer than sparse_rows rows (counted on its index).
  std::string subset;
  std::vector<std::string> subset_params;
  if (!query.id_prefix.empty()) {
    std::string end = query.id_prefix;
    end.back() = static_cast<char>(end.back() + 1);
    subset = "base_id >= " + placeholder(dialect_, 1) + " AND base_id < " + placeholder(dialect_, 2);
    subset_params = {query.id_prefix, end};
  } else {
    constexpr int sparse_rows = 50000;
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
    if (!query.project.empty()) fields.push_back({"project = " + placeholder(dialect_, 1), {query.project}});
    if (!query.service.empty()) fields.push_back({"service = " + placeholder(dialect_, 1), {query.service}});
    if (!query.host.empty()) fields.push_back({"host = " + placeholder(dialect_, 1), {query.host}});
    if (!query.name.empty()) {
      fields.push_back({"name IN (" + placeholder(dialect_, 1) + ", " + placeholder(dialect_, 2) + ")",
                        {query.name + "-start", query.name + "-stop"}});
    }
    for (std::size_t f = 0; f < fields.size() && subset.empty(); ++f) {
      std::vector<std::string> params = fields[f].second;
      const result_rows count = co_await runner_->query(
          "SELECT COUNT(*) FROM (SELECT 1 AS one FROM data WHERE " + fields[f].first + " LIMIT " +
              std::to_string(sparse_rows) + ") sample",
          std::move(params));
      if (count.size() == 1 && std::stoll(std::string(count.text(0, 0))) < sparse_rows) {
        subset = "base_id IN (SELECT base_id FROM data WHERE " + fields[f].first + ")";
        subset_params = fields[f].second;
      }
    }
  }
  if (!subset.empty()) {
    const result_rows rows = co_await runner_->query(
        "SELECT base_id, MIN(timestamp) FROM data WHERE " + subset + " GROUP BY base_id", std::move(subset_params));
    std::vector<trace_summary> all = summaries(rows);
    std::vector<std::string> ids;
    for (const auto& row : all) ids.push_back(row.base_id);
    const std::set<std::string> keep = co_await passing(query, ids);
    std::erase_if(all, [&](const trace_summary& row) { return !keep.contains(row.base_id); });
    trace_page page = page_of(std::move(all), query);
    co_await add_details(page.traces);
    co_return page;
  }
  // The walk: chunks of the newest rows (by timestamp, then id) at or before the cursor.
  const std::size_t wanted = query.limit == 0 ? SIZE_MAX : query.limit + 1;
  std::unordered_set<std::string> seen;
  std::priority_queue<std::string> pending;  // starts of found traces not yet above the walk
  std::size_t certain = 0;
  std::optional<std::pair<std::string, std::string>> last;  // (timestamp, id) of the last row read
  bool done = false;
  while (!done) {
    std::vector<std::string> params;
    std::string sql = "SELECT base_id, timestamp, id FROM data WHERE 1 = 1";
    const auto arg = [&](std::string v) {
      params.push_back(std::move(v));
      return placeholder(dialect_, params.size());
    };
    if (!query.until.empty()) sql += " AND timestamp < " + arg(query.until);
    if (query.after) sql += " AND timestamp <= " + arg(query.after->timestamp);
    if (last) {
      const std::string t1 = arg(last->first), t2 = arg(last->first);
      sql += " AND (timestamp < " + t1 + " OR (timestamp = " + t2 + " AND id < " + arg(last->second) + "))";
    }
    sql += " ORDER BY timestamp DESC, id DESC LIMIT " + std::to_string(walk_chunk);
    const result_rows rows = co_await runner_->query(std::move(sql), std::move(params));
    const bool exhausted = rows.size() < walk_chunk;
    // The starts and filters of the traces this chunk meets first, in a few queries.
    std::vector<std::string> fresh;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows.at(i, 0) && seen.insert(std::string(rows.text(i, 0))).second) fresh.emplace_back(rows.text(i, 0));
    }
    std::vector<trace_summary> starts = co_await starts_of(fresh);
    std::erase_if(starts, [&](const trace_summary& row) { return !in_page_range(query, row); });
    std::vector<std::string> candidates;
    for (const auto& row : starts) candidates.push_back(row.base_id);
    // Not `cond ? co_await ... : ...`: GCC 12 frees the result of such an expression twice.
    std::set<std::string> keep(candidates.begin(), candidates.end());
    if (query.errors_only || query.has_field_filter()) keep = co_await passing(query, candidates);
    std::unordered_map<std::string, std::string> start_of;
    for (auto& row : starts) {
      if (keep.contains(row.base_id)) start_of.emplace(row.base_id, row.timestamp);
    }
    // Replay the chunk in order: a trace counts as found where the walk first met it.
    std::unordered_set<std::string> met;
    for (std::size_t i = 0; i < rows.size() && !done; ++i) {
      const std::string position(rows.text(i, 1));
      while (!pending.empty() && pending.top() > position) {
        pending.pop();
        ++certain;
      }
      if (certain >= wanted || (!query.since.empty() && position < query.since)) {
        done = true;
        break;
      }
      const std::string id(rows.text(i, 0));
      if (!met.insert(id).second) continue;
      if (auto it = start_of.find(id); it != start_of.end()) {
        pending.push(it->second);
        found.push_back({id, it->second});
      }
    }
    if (exhausted) done = true;
    if (!done) last = {std::string(rows.text(rows.size() - 1, 1)), std::string(rows.text(rows.size() - 1, 2))};
  }
  trace_page page;
  std::sort(found.begin(), found.end(), newer);
  if (query.limit != 0 && found.size() > query.limit) {
    found.resize(query.limit);
    page.more = true;
  }
  page.traces = std::move(found);
  co_await add_details(page.traces);
  co_return page;
}

}  // namespace osprof::detail::sql
