// clickhouse:// and clickhouse+https://: osprof's events in a ClickHouse table (README.md).
//
// Write side. A batch is encoded once into one or more JSONEachRow bodies (one INSERT each,
// one MergeTree part each, so bodies are as large as the batch allows); the emitter's retry
// of the same batch resumes at the first body not yet acknowledged. MergeTree does not
// deduplicate inserts, so a body whose response was lost and that is sent again is stored
// twice; reading drops such identical copies.
#include "drivers/clickhouse/clickhouse_driver.hpp"

#include <algorithm>
#include <unordered_set>

#include <simdjson.h>

#include <osprof/error.hpp>

#include "drivers/builtin.hpp"

namespace osprof::detail {

namespace clickhouse {

namespace {

// The message of a ClickHouse error body, without its trailing ", e.what() = DB::Exception".
std::string error_text(std::string_view body) {
  std::string text(body.substr(0, 400));
  if (const auto at = text.find(", e.what() = "); at != std::string::npos) text.resize(at);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// Every statement names its table with the database, so no `database=` (which would fail
// while the database does not exist yet).
http::request query_request(std::string sql, std::string_view url_settings = {}) {
  http::request req;
  req.method = "POST";
  req.target = "/";
  if (!url_settings.empty()) {
    req.target += '?';
    req.target += url_settings;
  }
  req.body = std::move(sql);
  req.content_type = "text/plain; charset=utf-8";
  return req;
}

}  // namespace

clickhouse_driver::clickhouse_driver(std::string scheme, clickhouse_options options, const driver_context& context)
    : scheme_(std::move(scheme)), options_(std::move(options)) {
  rows_.project = context.project;
  rows_.service = context.service;
  rows_.host = context.host;
  rows_.max_body_bytes = options_.max_body_bytes;
  // insert_distributed_sync: into a Distributed table, acknowledge only once the shards have
  // the rows (otherwise the node queues them and answers at once).
  insert_target_ = "/?insert_distributed_sync=1&query=" +
                   http::url_encode("INSERT INTO " + options_.qualified_table() + " FORMAT JSONEachRow");
  if (context.purpose == driver_purpose::write) writer_ = std::make_unique<http::client>(context.executor, options_.http);
}

clickhouse_driver::~clickhouse_driver() = default;

std::string clickhouse_driver::where() const { return "ClickHouse at " + options_.http.redacted; }

// ---------------------------------------------------------------- write side

asio::awaitable<write_result> clickhouse_driver::write(std::span<const event_record> batch) {
  if (batch.empty()) co_return write_result::success();
  if (!writer_) co_return write_result::fatal(where() + ": the driver was opened for reading");
  try {
    prepare(batch);
    co_return co_await write_bodies();
  } catch (const http::transport_error& e) {
    writer_->close();
    table_checked_ = false;  // a server that answers early (unknown table) and closes looks like this
    auto r = http::classify(e, "ClickHouse insert");
    if (r.status == write_status::failed) co_return give_up(where() + ": " + r.error);
    r.error = where() + ": " + r.error;
    co_return r;
  } catch (const std::exception& e) {
    // Cancelled by the emitter's write timeout, or anything unexpected: start afresh.
    writer_->close();
    co_return write_result::retryable(where() + ": the insert failed: " + e.what());
  }
}

void clickhouse_driver::prepare(std::span<const event_record> batch) {
  if (inflight_ && inflight_->is(batch)) return;  // the emitter retries the batch it gave last time: resume
  inflight_.emplace();
  inflight_->identity = http::batch_identity::of(batch);
  inflight_->bodies = encode_batch(batch, rows_);
}

asio::awaitable<write_result> clickhouse_driver::write_bodies() {
  bool created = false;
  if (!table_checked_ && options_.create_table) {
    // Before the first INSERT (and after a connection failure): ClickHouse refuses an INSERT
    // into a missing table before reading its body and closes the connection, which a large
    // body sees as a broken pipe, never as the error. EXISTS needs no rights beyond reading.
    const http::response res = co_await writer_->send(query_request("EXISTS TABLE " + options_.qualified_table()));
    if (res.ok() && res.body.starts_with('0')) {
      if (auto failure = co_await create_table()) co_return give_up(*failure);
      created = true;
    } else if (!res.ok() && res.status >= 500 && !permanent_error(exception_code(res.body))) {
      co_return write_result::retryable(where() + ": " + error_text(res.body));
    }
    table_checked_ = true;
  }
  while (inflight_->next < inflight_->bodies.size()) {
    const encoded_body& body = inflight_->bodies[inflight_->next];
    http::request req;
    req.method = "POST";
    req.target = insert_target_;
    req.body = body.text;
    req.content_type = "application/x-ndjson";
    req.gzip = options_.gzip;
    const http::response res = co_await writer_->send(std::move(req));
    if (res.ok()) {
      ++inflight_->next;
      continue;
    }
    const int code = exception_code(res.body);
    const std::string message = error_text(res.body);
    if ((code == 60 || code == 81) && !created) {  // UNKNOWN_TABLE, UNKNOWN_DATABASE
      if (!options_.create_table) {
        co_return give_up(where() + ": " + message + " (create the table, or leave out create_table=false)");
      }
      if (auto failure = co_await create_table()) co_return give_up(*failure);
      created = true;
      continue;  // the same body again
    }
    if (res.status == 401 || res.status == 403 || authentication_error(code)) {
      co_return give_up(where() + ": authentication failed (HTTP " + std::to_string(res.status) + "): " + message);
    }
    if (permanent_error(code)) co_return give_up(where() + ": " + message);
    write_result r = http::classify(res, "ClickHouse insert");
    if (r.status == write_status::retry) {
      r.error = where() + ": " + message;
      co_return r;
    }
    co_return give_up(where() + ": " + r.error);
  }
  co_return finish();
}

asio::awaitable<std::optional<std::string>> clickhouse_driver::create_table() {
  for (std::string sql : {"CREATE DATABASE IF NOT EXISTS " + quote_identifier(options_.database),
                          create_table_sql(options_.qualified_table())}) {
    const http::response res = co_await writer_->send(query_request(std::move(sql)));
    if (!res.ok()) {
      co_return where() + ": table " + options_.database + "." + options_.table + " does not exist and cannot be created (" +
          error_text(res.body) + ")";
    }
  }
  co_return std::nullopt;
}

write_result clickhouse_driver::give_up(const std::string& why) {
  if (!inflight_) return write_result::fatal(why);
  inflight_->give_up_rest(why);
  return finish();
}

write_result clickhouse_driver::finish() {
  auto result = inflight_->outcome();
  inflight_.reset();
  return result;
}

asio::awaitable<void> clickhouse_driver::close() {
  if (writer_) writer_->close();
  co_return;
}

// ---------------------------------------------------------------- read side

namespace {

// Runs one SELECT and returns the answer's body. Throws osprof::error with the server's message.
asio::awaitable<std::string> run_select(const clickhouse_options& options, const std::string& where, std::string sql) {
  http::client client(co_await asio::this_coro::executor, options.http);
  http::response res;
  try {
    // No settings in the URL: a readonly user may not change any (its reads would fail).
    res = co_await client.send(query_request(std::move(sql)));
  } catch (const http::transport_error& e) {
    throw error("cannot reach " + where + ": " + e.what());
  }
  if (res.ok()) co_return std::move(res.body);
  const int code = exception_code(res.body);
  if (code == 60 || code == 81) {
    throw error(where + ": " + error_text(res.body) + " (nothing was written there yet?)");
  }
  if (res.status == 401 || res.status == 403 || authentication_error(code)) {
    throw error(where + ": authentication failed (HTTP " + std::to_string(res.status) + "): " + error_text(res.body));
  }
  throw error(where + ": query failed (HTTP " + std::to_string(res.status) + "): " + error_text(res.body));
}

}  // namespace

asio::awaitable<std::vector<std::string>> clickhouse_driver::read_trace(std::string_view base_id) {
  // RowBinary: the stored bytes exactly, no JSON escaping to undo.
  const std::string body = co_await run_select(options_, where(),
                                               "SELECT event FROM " + options_.qualified_table() + " WHERE base_id = " +
                                                   quote_string(base_id) + " ORDER BY time_us FORMAT RowBinary");
  auto events = parse_row_binary_strings(body);
  if (!events) throw error(where() + ": the answer to SELECT event is not RowBinary strings (cut short?)");
  // An INSERT sent again after its response was lost stored the same rows twice.
  std::vector<bool> first_copy(events->size());
  {
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < events->size(); ++i) first_copy[i] = seen.insert((*events)[i]).second;
  }
  std::vector<std::string> unique;
  unique.reserve(events->size());
  for (std::size_t i = 0; i < events->size(); ++i) {
    if (first_copy[i]) unique.push_back(std::move((*events)[i]));
  }
  co_return unique;
}

asio::awaitable<std::vector<trace_summary>> clickhouse_driver::list(bool errors_only) {
  std::string sql = "SELECT base_id, argMin(timestamp, time_us) AS started, min(time_us) AS started_us FROM " +
                    options_.qualified_table() + " GROUP BY base_id";
  if (errors_only) sql += " HAVING max(has_error) = 1";
  sql += " ORDER BY started_us DESC, base_id FORMAT JSONEachRow";
  const std::string body = co_await run_select(options_, where(), std::move(sql));
  std::vector<trace_summary> out;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::dom::document_stream rows;
  if (parser.parse_many(padded).get(rows) != simdjson::SUCCESS) throw error(where() + ": the answer to SELECT is not JSON");
  for (auto row : rows) {
    std::string_view base_id;
    std::string_view started;
    if (row["base_id"].get(base_id) != simdjson::SUCCESS || row["started"].get(started) != simdjson::SUCCESS) {
      throw error(where() + ": unexpected row in the answer to SELECT");
    }
    out.push_back({std::string(base_id), std::string(started)});
  }
  co_return out;
}

asio::awaitable<std::vector<trace_summary>> clickhouse_driver::list_traces() { co_return co_await list(false); }

asio::awaitable<std::vector<trace_summary>> clickhouse_driver::list_error_traces() { co_return co_await list(true); }

}  // namespace clickhouse

void register_clickhouse_driver(driver_registry& registry) {
  auto make = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<driver> {
    auto options = clickhouse::clickhouse_options::from(cs, context.timeout);
    return std::make_unique<clickhouse::clickhouse_driver>(cs.scheme, std::move(options), context);
  };
  registry.add("clickhouse", make,
               "ClickHouse: clickhouse://[user:password@]host[:8123][/database][?table=] (JSONEachRow inserts into MergeTree)");
  registry.add("clickhouse+https", make, "ClickHouse over TLS, certificates verified: clickhouse+https://[user:password@]host[:8123][/database]");
}

}  // namespace osprof::detail
