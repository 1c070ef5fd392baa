// The write side of influxdb:// on the HTTP write path: a batch is encoded once into one or
// more line-protocol bodies; a retry of the batch resumes at the first body not acknowledged.
// A body sent twice (its answer lost) is harmless: InfluxDB keeps one point per series and
// time, and a retry carries the same points with the same times.
//
// The read side: InfluxQL through /query (chunked, epoch=ns) for a trace's
// events (by the base_id tag) and the trace lists (first() per base_id series).
#include <algorithm>
#include <map>
#include <set>

#include <boost/asio/this_coro.hpp>
#include <simdjson.h>

#include <osprof/drivers/influxdb.hpp>
#include <osprof/error.hpp>

#include "common/text.hpp"
#include "common/time_format.hpp"
#include "drivers/http/client.hpp"
#include "drivers/http/http_writer.hpp"
#include "drivers/influxdb/influxdb_options.hpp"
#include "drivers/influxdb/line_protocol.hpp"

namespace osprof::detail::influxdb {

namespace asio = boost::asio;

// ---------------------------------------------------------------- read side

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

}  // namespace

asio::awaitable<std::vector<std::string>> read_trace(const influxdb_options& o, std::string_view base_id) {
  const std::string q =
      "SELECT \"event\" FROM " + from_clause(o, o.measurement) + " WHERE \"base_id\" = " + backslash_quoted(base_id, '\'');
  auto rows = co_await run_query(o, q);
  std::vector<std::string> events;
  events.reserve(rows.size());
  for (auto& r : rows) {
    if (!r.value.empty()) events.push_back(std::move(r.value));
  }
  co_return events;
}

// first() per series reads the first value of each series from the index, not every point;
// `error` exists only on failed stop events, so series without it cost nothing.
asio::awaitable<std::vector<trace_summary>> list_traces(const influxdb_options& o, bool errors_only) {
  const std::string from = from_clause(o, o.measurement);
  std::string q = "SELECT first(\"event\") FROM " + from + " GROUP BY \"base_id\"";
  if (!errors_only) co_return newest_first(co_await run_query(o, q), 0, nullptr);
  q += "; SELECT first(\"error\") FROM " + from + " GROUP BY \"base_id\"";
  const auto rows = co_await run_query(o, q);
  std::set<std::string> failed;
  for (const auto& r : rows) {
    if (r.statement == 1) failed.insert(r.base_id);
  }
  co_return newest_first(rows, 0, &failed);
}

// ---------------------------------------------------------------- write side

namespace {

class influxdb_codec final : public http::codec {
 public:
  influxdb_codec(influxdb_options options, const driver_context& context)
      : http::codec(write_target(options), "text/plain; charset=utf-8"), options_(std::move(options)) {
    encoder_.measurement = options_.measurement;
    encoder_.project = context.project;
    encoder_.service = context.service;
    encoder_.host = context.host;
    encoder_.max_body_bytes = options_.endpoint.max_body_bytes;
  }

  std::vector<http::part> encode(const batch& b) override { return encode_batch(b.events, encoder_, times_); }

  // Before the first body (and after a connection failure): InfluxDB answers a write to a
  // missing database with 404 before reading the body and closes the connection, which a
  // large body sees as a broken pipe, never as the 404. CREATE DATABASE of an existing one
  // does nothing. A user who may not create databases goes on (the database may exist).
  asio::awaitable<std::optional<http::verdict>> prepare(http::client& c) override {
    if (!options_.create_database) co_return std::nullopt;
    const http::response res = co_await c.send(create_database_request());
    if (res.status >= 500 || res.status == 408 || res.status == 429) {
      co_return http::verdict::retry("CREATE DATABASE: HTTP " + std::to_string(res.status) + ": " + error_text(res.body));
    }
    co_return std::nullopt;
  }

  asio::awaitable<http::verdict> judge(http::client& c, const batch&, const http::response& res, http::part& p) override {
    if (res.ok()) co_return http::verdict::stored_part();
    const std::string message = error_text(res.body);
    if (res.status == 404 && message.find("database not found") != std::string::npos) {
      if (!options_.create_database) {
        co_return http::verdict::give_up("database '" + options_.database +
                                         "' does not exist (create it, or leave out create_database=false)");
      }
      const http::response created = co_await c.send(create_database_request());
      if (!created.ok() || created.body.find("\"error\"") != std::string::npos) {
        co_return http::verdict::give_up("database '" + options_.database + "' does not exist and cannot be created (" +
                                         (created.ok() ? excerpt(created.body) : "HTTP " + std::to_string(created.status) + ": " + error_text(created.body)) +
                                         ")");
      }
      co_return http::verdict::send_again();
    }
    if (res.status == 400) {
      // "partial write: ... dropped=N": the other points are stored. Any other 400 (a line
      // that does not parse, a type conflict inside the body): nothing of it is stored.
      const std::size_t dropped = message.starts_with("partial write") ? parse_dropped(message) : 0;
      std::string why = message;
      if (message.find("max-values-per-tag") != std::string::npos) {
        why += " (raise or disable max-values-per-tag in influxdb.conf [data]; see drivers/influxdb/README.md)";
      }
      co_return http::verdict::stored_part(dropped != 0 ? std::min(dropped, p.events) : p.events, std::move(why));
    }
    if (res.status == 413) {
      co_return http::verdict::give_up("request body too large (HTTP 413; lower max_body_bytes below the server's max-body-size): " +
                                       message);
    }
    co_return http::judge_status(res, "InfluxDB write");
  }

 private:
  influxdb_options options_;
  encoder_settings encoder_;
  timestamp_assigner times_;

  http::request create_database_request() const {
    http::request req;
    req.target = "/query";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "q=" + percent_encode("CREATE DATABASE " + quote_identifier(options_.database));
    return req;
  }

  static std::string write_target(const influxdb_options& o) {
    std::string target = "/write?db=" + percent_encode(o.database) + "&precision=ns";
    if (!o.retention_policy.empty()) target += "&rp=" + percent_encode(o.retention_policy);
    return target;
  }
};

}  // namespace

}  // namespace osprof::detail::influxdb

void osprof::drivers::register_influxdb() {
  osprof::detail::http::register_backend<osprof::detail::influxdb::influxdb_options, osprof::detail::influxdb::influxdb_codec>();
}
