// The read side of clickhouse://: SELECTs through the HTTP interface, RowBinary for a trace's
// events (the stored bytes exactly) and JSONEachRow for the trace lists.
#include "drivers/clickhouse/clickhouse_driver.hpp"

#include <unordered_set>

#include <boost/asio/this_coro.hpp>
#include <simdjson.h>

#include <osprof/error.hpp>

#include "drivers/clickhouse/json_each_row.hpp"

namespace osprof::detail::clickhouse {

namespace {

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

class clickhouse_reader final : public reader {
 public:
  explicit clickhouse_reader(clickhouse_options options) : options_(std::move(options)) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    // RowBinary: the stored bytes exactly, no JSON escaping to undo.
    const std::string body = co_await run_select(options_,
                                                 "SELECT event FROM " + options_.qualified_table() + " WHERE base_id = " +
                                                     quote_string(base_id) + " ORDER BY time_us FORMAT RowBinary");
    auto events = parse_row_binary_strings(body);
    if (!events) throw error(options_.where() + ": the answer to SELECT event is not RowBinary strings (cut short?)");
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

  asio::awaitable<std::vector<trace_summary>> list(bool errors_only) {
    std::string sql = "SELECT base_id, argMin(timestamp, time_us) AS started, min(time_us) AS started_us FROM " +
                      options_.qualified_table() + " GROUP BY base_id";
    if (errors_only) sql += " HAVING max(has_error) = 1";
    sql += " ORDER BY started_us DESC, base_id FORMAT JSONEachRow";
    const std::string body = co_await run_select(options_, std::move(sql));
    std::vector<trace_summary> out;
    simdjson::dom::parser parser;
    const simdjson::padded_string padded(body);
    simdjson::dom::document_stream rows;
    if (parser.parse_many(padded).get(rows) != simdjson::SUCCESS) throw error(options_.where() + ": the answer to SELECT is not JSON");
    for (auto row : rows) {
      std::string_view base_id;
      std::string_view started;
      if (row["base_id"].get(base_id) != simdjson::SUCCESS || row["started"].get(started) != simdjson::SUCCESS) {
        throw error(options_.where() + ": unexpected row in the answer to SELECT");
      }
      out.push_back({std::string(base_id), std::string(started)});
    }
    co_return out;
  }

  asio::awaitable<std::vector<trace_summary>> list_traces() override { co_return co_await list(false); }

  asio::awaitable<std::vector<trace_summary>> list_error_traces() override { co_return co_await list(true); }

 private:
  clickhouse_options options_;
};

}  // namespace

std::unique_ptr<reader> make_reader(clickhouse_options options) {
  return std::make_unique<clickhouse_reader>(std::move(options));
}

}  // namespace osprof::detail::clickhouse
