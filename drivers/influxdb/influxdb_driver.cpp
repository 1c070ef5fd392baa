// influxdb:// and influxdb+https://: osprof's events in InfluxDB 1.x (README.md).
//
// Write side. A batch is encoded once into one or more line-protocol bodies; the bodies go
// out one request at a time, and the emitter's retry of the same batch resumes at the first
// body not yet acknowledged. A body sent twice (its response lost) is harmless: InfluxDB keeps
// one point per series and time, and a retry carries the same points with the same times.
#include "drivers/influxdb/influxdb_driver.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <simdjson.h>

#include <osprof/error.hpp>

#include "common/time_format.hpp"
#include "drivers/builtin.hpp"

namespace osprof::detail {

namespace influxdb {

namespace {

constexpr std::size_t chunk_rows = 10000;  // rows per chunk of a chunked /query response

std::string body_excerpt(std::string_view body) {
  std::string text(body.substr(0, 300));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The "error" of an InfluxDB JSON error body, or the body itself.
std::string error_text(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view message;
  if (parser.parse(body.data(), body.size()).get(doc) == simdjson::SUCCESS && doc["error"].get(message) == simdjson::SUCCESS) {
    return std::string(message);
  }
  return body_excerpt(body);
}

// One row of a query result: the statement it answers, the series' base_id tag (GROUP BY),
// the time and the first value column when it is a string.
struct query_row {
  std::uint64_t statement = 0;
  std::string base_id;
  std::int64_t time = 0;
  std::string value;
};

std::string iso_from_ns(std::int64_t ns) {
  return format_timestamp(ns / 1000);
}

}  // namespace

influxdb_driver::influxdb_driver(std::string scheme, influxdb_options options, const driver_context& context)
    : scheme_(std::move(scheme)), options_(std::move(options)) {
  encoder_.measurement = options_.measurement;
  encoder_.project = context.project;
  encoder_.service = context.service;
  encoder_.host = context.host;
  encoder_.max_body_bytes = options_.max_body_bytes;
  write_target_ = "/write?db=" + http::url_encode(options_.database) + "&precision=ns";
  if (!options_.retention_policy.empty()) write_target_ += "&rp=" + http::url_encode(options_.retention_policy);
  if (context.purpose == driver_purpose::write) writer_ = std::make_unique<http::client>(context.executor, options_.http);
}

influxdb_driver::~influxdb_driver() = default;

std::string influxdb_driver::where() const { return "InfluxDB at " + options_.http.redacted; }

// ---------------------------------------------------------------- write side

asio::awaitable<write_result> influxdb_driver::write(std::span<const event_record> batch) {
  if (batch.empty()) co_return write_result::success();
  if (!writer_) co_return write_result::fatal(where() + ": the driver was opened for reading");
  try {
    prepare(batch);
    co_return co_await write_bodies();
  } catch (const http::transport_error& e) {
    writer_->close();
    database_checked_ = false;  // a server that answers early (404) and closes looks like this
    auto r = http::classify(e, "InfluxDB write");
    if (r.status == write_status::failed) co_return give_up(where() + ": " + r.error);
    r.error = where() + ": " + r.error;
    co_return r;
  } catch (const std::exception& e) {
    // Cancelled by the emitter's write timeout, or anything unexpected: the connection may be
    // mid-request, so start afresh; the bodies not acknowledged are sent again.
    writer_->close();
    co_return write_result::retryable(where() + ": the write failed: " + e.what());
  }
}

void influxdb_driver::prepare(std::span<const event_record> batch) {
  if (inflight_ && inflight_->is(batch)) return;  // the emitter retries the batch it gave last time: resume
  inflight_.emplace();
  inflight_->identity = http::batch_identity::of(batch);
  inflight_->bodies = encode_batch(batch, encoder_, times_);
}

asio::awaitable<write_result> influxdb_driver::write_bodies() {
  bool created = false;
  if (!database_checked_ && options_.create_database) {
    // Before the first body (and after a connection failure): InfluxDB answers a write to a
    // missing database with 404 before reading the body and closes the connection, which a
    // large body sees as a broken pipe, never as the 404. CREATE DATABASE of an existing one
    // does nothing. A user who may not create databases goes on (the database may exist).
    const http::response res = co_await writer_->send(create_database_request());
    if (res.status >= 500 || res.status == 408 || res.status == 429) {
      co_return write_result::retryable(where() + ": CREATE DATABASE: HTTP " + std::to_string(res.status) + ": " + error_text(res.body));
    }
    database_checked_ = true;
    created = res.ok() && res.body.find("\"error\"") == std::string::npos;
  }
  while (inflight_->next < inflight_->bodies.size()) {
    encoded_body& body = inflight_->bodies[inflight_->next];
    http::request req;
    req.method = "POST";
    req.target = write_target_;
    req.body = body.text;
    req.content_type = "text/plain; charset=utf-8";
    req.gzip = options_.gzip;
    const http::response res = co_await writer_->send(std::move(req));
    if (res.ok()) {
      ++inflight_->next;
      continue;
    }
    const std::string message = error_text(res.body);
    if (res.status == 404 && message.find("database not found") != std::string::npos) {
      if (!options_.create_database) {
        co_return give_up(where() + ": database '" + options_.database + "' does not exist (create it, or leave out create_database=false)");
      }
      if (created) co_return write_result::retryable(where() + ": database '" + options_.database + "' still not found after CREATE DATABASE");
      if (auto failure = co_await create_database()) co_return give_up(*failure);
      created = true;
      continue;  // the same body again
    }
    if (res.status == 400) {
      // "partial write: ... dropped=N": the other points are stored. Any other 400 (a line
      // that does not parse, a type conflict inside the body): nothing of it is stored.
      const std::size_t dropped = message.starts_with("partial write") ? parse_dropped(message) : 0;
      const std::size_t refused = dropped != 0 ? std::min(dropped, body.events) : body.events;
      inflight_->rejected += refused;
      if (inflight_->rejection.empty()) {
        inflight_->rejection = where() + ": " + message;
        if (message.find("max-values-per-tag") != std::string::npos) {
          inflight_->rejection += " (raise or disable max-values-per-tag in influxdb.conf [data]; see drivers/influxdb/README.md)";
        }
      }
      ++inflight_->next;
      continue;
    }
    if (res.status == 401 || res.status == 403) {
      co_return give_up(where() + ": authentication failed (HTTP " + std::to_string(res.status) + "): " + message);
    }
    if (res.status == 413) {
      co_return give_up(where() + ": request body too large (HTTP 413; lower max_body_bytes below the server's max-body-size): " + message);
    }
    write_result r = http::classify(res, "InfluxDB write");
    if (r.status == write_status::retry) {
      r.error = where() + ": " + r.error;
      co_return r;
    }
    co_return give_up(where() + ": " + r.error);
  }
  co_return finish();
}

http::request influxdb_driver::create_database_request() const {
  http::request req;
  req.method = "POST";
  req.target = "/query";
  req.content_type = "application/x-www-form-urlencoded";
  req.body = "q=" + http::url_encode("CREATE DATABASE " + quote_identifier(options_.database));
  return req;
}

asio::awaitable<std::optional<std::string>> influxdb_driver::create_database() {
  const http::response res = co_await writer_->send(create_database_request());
  std::string failure;
  if (!res.ok()) {
    failure = "HTTP " + std::to_string(res.status) + ": " + error_text(res.body);
  } else if (res.body.find("\"error\"") != std::string::npos) {
    failure = body_excerpt(res.body);
  }
  if (failure.empty()) co_return std::nullopt;
  co_return where() + ": database '" + options_.database + "' does not exist and cannot be created (" + failure + ")";
}

write_result influxdb_driver::give_up(const std::string& why) {
  if (!inflight_) return write_result::fatal(why);
  inflight_->give_up_rest(why);
  return finish();
}

write_result influxdb_driver::finish() {
  auto result = inflight_->outcome();
  inflight_.reset();
  return result;
}

asio::awaitable<void> influxdb_driver::close() {
  if (writer_) writer_->close();
  co_return;
}

// ---------------------------------------------------------------- read side

namespace {

// Runs InfluxQL statements (chunked, epoch=ns) and returns their rows. Throws osprof::error
// with the server's message.
asio::awaitable<std::vector<query_row>> run_query(const influxdb_options& options, const std::string& where,
                                                  const std::string& statements) {
  http::client client(co_await asio::this_coro::executor, options.http);
  http::request req;
  req.method = "POST";
  req.target = "/query?db=" + http::url_encode(options.database) + "&epoch=ns&chunked=true&chunk_size=" + std::to_string(chunk_rows);
  if (!options.retention_policy.empty()) req.target += "&rp=" + http::url_encode(options.retention_policy);
  req.content_type = "application/x-www-form-urlencoded";
  req.body = "q=" + http::url_encode(statements);
  http::response res;
  try {
    res = co_await client.send(std::move(req));
  } catch (const http::transport_error& e) {
    throw error("cannot reach " + where + ": " + e.what());
  }
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
      throw error(where + ": the query answer is not JSON: " + body_excerpt(line));
    }
    std::string_view message;
    if (doc["error"].get(message) == simdjson::SUCCESS) throw error(where + ": " + std::string(message));
    simdjson::dom::array results;
    if (doc["results"].get(results) != simdjson::SUCCESS) throw error(where + ": unexpected query answer: " + body_excerpt(line));
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

asio::awaitable<std::vector<std::string>> influxdb_driver::read_trace(std::string_view base_id) {
  const std::string q = "SELECT \"event\" FROM " + from_clause(options_, options_.measurement) +
                        " WHERE \"base_id\" = " + quote_string(base_id);
  auto rows = co_await run_query(options_, where(), q);
  std::vector<std::string> events;
  events.reserve(rows.size());
  for (auto& r : rows) {
    if (!r.value.empty()) events.push_back(std::move(r.value));
  }
  co_return events;
}

// first() per series reads the first value of each series from the index, not every point;
// `error` exists only on failed stop events, so series without it cost nothing.
asio::awaitable<std::vector<trace_summary>> influxdb_driver::list_traces() {
  const std::string q = "SELECT first(\"event\") FROM " + from_clause(options_, options_.measurement) + " GROUP BY \"base_id\"";
  const auto rows = co_await run_query(options_, where(), q);
  co_return newest_first(rows, 0, nullptr);
}

asio::awaitable<std::vector<trace_summary>> influxdb_driver::list_error_traces() {
  const std::string from = from_clause(options_, options_.measurement);
  const std::string q = "SELECT first(\"event\") FROM " + from + " GROUP BY \"base_id\"; SELECT first(\"error\") FROM " + from +
                        " GROUP BY \"base_id\"";
  const auto rows = co_await run_query(options_, where(), q);
  std::set<std::string> failed;
  for (const auto& r : rows) {
    if (r.statement == 1) failed.insert(r.base_id);
  }
  co_return newest_first(rows, 0, &failed);
}

}  // namespace influxdb

void register_influxdb_driver(driver_registry& registry) {
  auto make = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<driver> {
    auto options = influxdb::influxdb_options::from(cs, context.timeout);
    return std::make_unique<influxdb::influxdb_driver>(cs.scheme, std::move(options), context);
  };
  registry.add("influxdb", make,
               "InfluxDB 1.x: influxdb://[user:password@]host[:8086][/database] (line protocol at ns precision, InfluxQL reads)");
  registry.add("influxdb+https", make, "InfluxDB 1.x over TLS, certificates verified: influxdb+https://[user:password@]host[:8086][/database]");
}

}  // namespace osprof::detail
