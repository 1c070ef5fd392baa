// The write side of clickhouse:// on the HTTP write path: a batch is encoded once into one or
// more JSONEachRow bodies (one INSERT each, one MergeTree part each, so bodies are as large as
// the batch allows); a retry of the batch resumes at the first body not acknowledged.
// MergeTree does not deduplicate inserts, so a body whose answer was lost and that is sent
// again is stored twice; reading drops such identical copies.
#include "drivers/clickhouse/clickhouse_driver.hpp"

#include "common/text.hpp"
#include "drivers/clickhouse/json_each_row.hpp"
#include "drivers/http/http_writer.hpp"

namespace osprof::detail::clickhouse {

namespace {

class clickhouse_codec final : public http::codec {
 public:
  clickhouse_codec(clickhouse_options options, const driver_context& context) : options_(std::move(options)) {
    rows_.project = context.project;
    rows_.service = context.service;
    rows_.host = context.host;
    rows_.max_body_bytes = options_.endpoint.max_body_bytes;
    // insert_distributed_sync: into a Distributed table, acknowledge only once the shards have
    // the rows (otherwise the node queues them and answers at once).
    insert_target_ = "/?insert_distributed_sync=1&query=" +
                     percent_encode("INSERT INTO " + options_.qualified_table() + " FORMAT JSONEachRow");
  }

  std::vector<http::part> encode(const batch& b) override { return encode_batch(b.events, rows_); }

  http::request request_for(const http::part&) override {
    http::request req;
    req.target = insert_target_;
    req.content_type = "application/x-ndjson";
    return req;
  }

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

  clickhouse_options options_;
  row_settings rows_;
  std::string insert_target_;
};

}  // namespace

http::request query_request(std::string sql, std::string_view url_settings) {
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

std::unique_ptr<writer> make_writer(clickhouse_options options, const driver_context& context) {
  auto endpoint = options.endpoint;
  auto where = options.where();
  return std::make_unique<http::http_writer>(context.executor, std::move(endpoint), std::move(where),
                                             std::make_unique<clickhouse_codec>(std::move(options), context));
}

}  // namespace osprof::detail::clickhouse
