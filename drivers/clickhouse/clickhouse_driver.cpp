// The write side of clickhouse:// on the HTTP write path: a batch is encoded once into one or
// more JSONEachRow bodies (one INSERT each, one MergeTree part each, so bodies are as large as
// the batch allows); a retry of the batch resumes at the first body not acknowledged.
// MergeTree does not deduplicate inserts, so a body whose answer was lost and that is sent
// again is stored twice; reading drops such identical copies.
//
// The read side: SELECTs through the HTTP interface, RowBinary for a trace's
// events (the stored bytes exactly) and JSONEachRow for the trace lists.
#include <unordered_set>

#include <boost/asio/this_coro.hpp>
#include <simdjson.h>

#include <osprof/drivers/clickhouse.hpp>
#include <osprof/error.hpp>

#include "common/text.hpp"
#include "drivers/clickhouse/clickhouse_options.hpp"
#include "drivers/clickhouse/json_each_row.hpp"
#include "drivers/http/http_writer.hpp"

namespace osprof::detail::clickhouse {

namespace asio = boost::asio;

// ---------------------------------------------------------------- read side

namespace {

// A statement sent as the body of POST / (every statement names its table with the database,
// so no `database=`, which would fail while the database does not exist yet).
http::request query_request(std::string sql, std::string_view url_settings = {}) {
  http::request req;
  req.target = "/";
  if (!url_settings.empty()) {
    req.target += '?';
    req.target += url_settings;
  }
  req.body = std::move(sql);
  req.content_type = "text/plain; charset=utf-8";
  return req;
}

// Runs one SELECT and returns the answer's body. Throws osprof::error with the server's message.
asio::awaitable<std::string> run_select(const clickhouse_options& options, std::string sql) {
  const std::string where = options.where();
  http::client client(co_await asio::this_coro::executor, options.endpoint.client);
  // No settings in the URL: a readonly user may not change any (its reads would fail).
  http::response res = co_await http::fetch(client, query_request(std::move(sql)), where);
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

asio::awaitable<std::vector<std::string>> read_trace(const clickhouse_options& o, std::string_view base_id) {
  // RowBinary: the stored bytes exactly, no JSON escaping to undo.
  const std::string body = co_await run_select(o,
                                               "SELECT event FROM " + o.qualified_table() + " WHERE base_id = " +
                                                   backslash_quoted(base_id, '\'') + " ORDER BY time_us FORMAT RowBinary");
  auto events = parse_row_binary_strings(body);
  if (!events) throw error(o.where() + ": the answer to SELECT event is not RowBinary strings (cut short?)");
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

asio::awaitable<std::vector<trace_summary>> list_traces(const clickhouse_options& o, bool errors_only) {
  std::string sql = "SELECT base_id, argMin(timestamp, time_us) AS started, min(time_us) AS started_us FROM " +
                    o.qualified_table() + " GROUP BY base_id";
  if (errors_only) sql += " HAVING max(has_error) = 1";
  sql += " ORDER BY started_us DESC, base_id FORMAT JSONEachRow";
  const std::string body = co_await run_select(o, std::move(sql));
  std::vector<trace_summary> out;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::dom::document_stream rows;
  if (parser.parse_many(padded).get(rows) != simdjson::SUCCESS) throw error(o.where() + ": the answer to SELECT is not JSON");
  for (auto row : rows) {
    std::string_view base_id;
    std::string_view started;
    if (row["base_id"].get(base_id) != simdjson::SUCCESS || row["started"].get(started) != simdjson::SUCCESS) {
      throw error(o.where() + ": unexpected row in the answer to SELECT");
    }
    out.push_back({std::string(base_id), std::string(started)});
  }
  co_return out;
}

// ---------------------------------------------------------------- write side

namespace {

class clickhouse_codec final : public http::codec {
 public:
  // insert_distributed_sync: into a Distributed table, acknowledge only once the shards have
  // the rows (otherwise the node queues them and answers at once).
  clickhouse_codec(clickhouse_options options, const driver_context& context)
      : http::codec("/?insert_distributed_sync=1&query=" +
                        percent_encode("INSERT INTO " + options.qualified_table() + " FORMAT JSONEachRow"),
                    "application/x-ndjson"),
        options_(std::move(options)) {
    rows_.project = context.project;
    rows_.service = context.service;
    rows_.host = context.host;
    rows_.max_body_bytes = options_.endpoint.max_body_bytes;
  }

  std::vector<http::part> encode(const batch& b) override { return encode_batch(b.events, rows_); }

  // Before the first INSERT (and after a connection failure): ClickHouse refuses an INSERT
  // into a missing table before reading its body and closes the connection, which a large
  // body sees as a broken pipe, never as the error. EXISTS needs no rights beyond reading.
  asio::awaitable<std::optional<http::verdict>> prepare(http::client& c) override {
    if (!options_.create_table) co_return std::nullopt;
    const http::response res = co_await c.send(query_request("EXISTS TABLE " + options_.qualified_table()));
    if (res.ok() && res.body.starts_with('0')) co_return co_await create_table(c);
    if (!res.ok() && res.status >= 500 && !permanent_error(exception_code(res.body))) {
      co_return http::verdict::retry(error_text(res.body));
    }
    co_return std::nullopt;
  }

  asio::awaitable<http::verdict> judge(http::client& c, const batch&, const http::response& res, http::part&) override {
    if (res.ok()) co_return http::verdict::stored_part();
    const int code = exception_code(res.body);
    const std::string message = error_text(res.body);
    if (code == 60 || code == 81) {  // UNKNOWN_TABLE, UNKNOWN_DATABASE
      if (!options_.create_table) {
        co_return http::verdict::give_up(message + " (create the table, or leave out create_table=false)");
      }
      if (auto failed = co_await create_table(c)) co_return *failed;
      co_return http::verdict::send_again();
    }
    if (res.status == 401 || res.status == 403 || authentication_error(code)) {
      co_return http::verdict::give_up("authentication failed (HTTP " + std::to_string(res.status) + "): " + message);
    }
    if (permanent_error(code)) co_return http::verdict::give_up(message);
    http::verdict v = http::judge_status(res, "ClickHouse insert");
    if (v.what == http::verdict::kind::retry) v.why = message;
    co_return v;
  }

 private:
  clickhouse_options options_;
  row_settings rows_;

  asio::awaitable<std::optional<http::verdict>> create_table(http::client& c) {
    for (std::string sql : {"CREATE DATABASE IF NOT EXISTS " + quote_identifier(options_.database),
                            create_table_sql(options_.qualified_table())}) {
      const http::response res = co_await c.send(query_request(std::move(sql)));
      if (!res.ok()) {
        co_return http::verdict::give_up("table " + options_.database + "." + options_.table +
                                         " does not exist and cannot be created (" + error_text(res.body) + ")");
      }
    }
    co_return std::nullopt;
  }
};

}  // namespace

}  // namespace osprof::detail::clickhouse

void osprof::drivers::register_clickhouse() {
  osprof::detail::http::register_backend<osprof::detail::clickhouse::clickhouse_options, osprof::detail::clickhouse::clickhouse_codec>();
}
