// The read side of influxdb://: InfluxQL through /query (chunked, epoch=ns) for a trace's
// events (by the base_id tag) and the trace lists (first() per base_id series).
#include "drivers/influxdb/influxdb_driver.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/asio/this_coro.hpp>
#include <simdjson.h>

#include <osprof/error.hpp>

#include "common/text.hpp"
#include "common/time_format.hpp"
#include "drivers/http/client.hpp"
#include "drivers/influxdb/line_protocol.hpp"

namespace osprof::detail::influxdb {

namespace {

constexpr std::size_t chunk_rows = 10000;  // rows per chunk of a chunked /query response

// One row of a query result: the statement it answers, the series' base_id tag (GROUP BY),
// the time and the first value column when it is a string.
struct query_row {
  std::uint64_t statement = 0;
  std::string base_id;
  std::int64_t time = 0;
  std::string value;
};

std::string iso_from_ns(std::int64_t ns) { return format_timestamp(ns / 1000); }

// Runs InfluxQL statements (chunked, epoch=ns) and returns their rows. Throws osprof::error
// with the server's message.
asio::awaitable<std::vector<query_row>> run_query(const influxdb_options& options, const std::string& statements) {
  const std::string where = options.where();
  http::client client(co_await asio::this_coro::executor, options.endpoint.client);
  http::request req;
  req.target = "/query?db=" + percent_encode(options.database) + "&epoch=ns&chunked=true&chunk_size=" + std::to_string(chunk_rows);
  if (!options.retention_policy.empty()) req.target += "&rp=" + percent_encode(options.retention_policy);
  req.content_type = "application/x-www-form-urlencoded";
  req.body = "q=" + percent_encode(statements);
  const http::response res = co_await http::fetch(client, std::move(req), where);
  if (res.status == 401 || res.status == 403) {
    throw error(where + ": authentication failed (HTTP " + std::to_string(res.status) + "): " + error_text(res.body));
  }
  if (!res.ok()) throw error(where + ": query failed (HTTP " + std::to_string(res.status) + "): " + error_text(res.body));

  std::vector<query_row> rows;
  simdjson::dom::parser parser;
  std::string_view rest = res.body;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    simdjson::dom::element doc;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) {
      throw error(where + ": the query answer is not JSON: " + excerpt(line));
    }
    std::string_view message;
    if (doc["error"].get(message) == simdjson::SUCCESS) throw error(where + ": " + std::string(message));
    simdjson::dom::array results;
    if (doc["results"].get(results) != simdjson::SUCCESS) throw error(where + ": unexpected query answer: " + excerpt(line));
    for (simdjson::dom::element result : results) {
      if (result["error"].get(message) == simdjson::SUCCESS) {
        if (message.starts_with("database not found")) {
          throw error(where + ": database '" + options.database + "' does not exist (nothing was written to it yet?)");
        }
        throw error(where + ": " + std::string(message));
      }
      std::uint64_t statement = 0;
      if (result["statement_id"].get(statement) != simdjson::SUCCESS) statement = 0;
      simdjson::dom::array series;
      if (result["series"].get(series) != simdjson::SUCCESS) continue;  // no rows
      for (simdjson::dom::element s : series) {
        std::string_view base_id;
        if (s["tags"]["base_id"].get(base_id) != simdjson::SUCCESS) base_id = {};
        simdjson::dom::array values;
        if (s["values"].get(values) != simdjson::SUCCESS) continue;
        for (simdjson::dom::element v : values) {
          query_row row;
          row.statement = statement;
          row.base_id = base_id;
          simdjson::dom::array cells;
          if (v.get(cells) != simdjson::SUCCESS || cells.size() < 2) continue;
          std::int64_t t = 0;
          if (cells.at(0).get(t) != simdjson::SUCCESS) continue;
          row.time = t;
          std::string_view text;
          if (cells.at(1).get(text) == simdjson::SUCCESS) row.value = text;
          rows.push_back(std::move(row));
        }
      }
    }
  }
  co_return rows;
}

std::vector<trace_summary> newest_first(const std::vector<query_row>& rows, std::uint64_t statement,
                                        const std::set<std::string>* only) {
  std::map<std::string, std::int64_t> first;
  for (const auto& r : rows) {
    if (r.statement != statement || r.base_id.empty()) continue;
    if (only && !only->contains(r.base_id)) continue;
    auto [it, inserted] = first.try_emplace(r.base_id, r.time);
    if (!inserted) it->second = std::min(it->second, r.time);
  }
  std::vector<std::pair<std::int64_t, std::string>> order;
  for (auto& [base, t] : first) order.emplace_back(t, base);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  std::vector<trace_summary> out;
  out.reserve(order.size());
  for (auto& [t, base] : order) out.push_back({base, iso_from_ns(t)});
  return out;
}

std::string from_clause(const influxdb_options& o, const std::string& measurement) {
  std::string out = quote_identifier(o.database) + ".";
  if (!o.retention_policy.empty()) out += quote_identifier(o.retention_policy);
  return out + "." + quote_identifier(measurement);
}

class influxdb_reader final : public reader {
 public:
  explicit influxdb_reader(influxdb_options options) : options_(std::move(options)) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    const std::string q = "SELECT \"event\" FROM " + from_clause(options_, options_.measurement) +
                          " WHERE \"base_id\" = " + quote_string(base_id);
    auto rows = co_await run_query(options_, q);
    std::vector<std::string> events;
    events.reserve(rows.size());
    for (auto& r : rows) {
      if (!r.value.empty()) events.push_back(std::move(r.value));
    }
    co_return events;
  }

  // first() per series reads the first value of each series from the index, not every point;
  // `error` exists only on failed stop events, so series without it cost nothing.
  asio::awaitable<std::vector<trace_summary>> list_traces() override {
    const std::string q = "SELECT first(\"event\") FROM " + from_clause(options_, options_.measurement) + " GROUP BY \"base_id\"";
    const auto rows = co_await run_query(options_, q);
    co_return newest_first(rows, 0, nullptr);
  }

  asio::awaitable<std::vector<trace_summary>> list_error_traces() override {
    const std::string from = from_clause(options_, options_.measurement);
    const std::string q = "SELECT first(\"event\") FROM " + from + " GROUP BY \"base_id\"; SELECT first(\"error\") FROM " + from +
                          " GROUP BY \"base_id\"";
    const auto rows = co_await run_query(options_, q);
    std::set<std::string> failed;
    for (const auto& r : rows) {
      if (r.statement == 1) failed.insert(r.base_id);
    }
    co_return newest_first(rows, 0, &failed);
  }

 private:
  influxdb_options options_;
};

}  // namespace

std::unique_ptr<reader> make_reader(influxdb_options options) {
  return std::make_unique<influxdb_reader>(std::move(options));
}

}  // namespace osprof::detail::influxdb
