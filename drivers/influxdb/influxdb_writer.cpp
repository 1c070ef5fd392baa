// The write side of influxdb:// on the HTTP write path: a batch is encoded once into one or
// more line-protocol bodies; a retry of the batch resumes at the first body not acknowledged.
// A body sent twice (its answer lost) is harmless: InfluxDB keeps one point per series and
// time, and a retry carries the same points with the same times.
#include "drivers/influxdb/influxdb_driver.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "drivers/http/http_writer.hpp"
#include "drivers/influxdb/line_protocol.hpp"

namespace osprof::detail::influxdb {

namespace {

class influxdb_codec final : public http::codec {
 public:
  influxdb_codec(influxdb_options options, const driver_context& context) : options_(std::move(options)) {
    encoder_.measurement = options_.measurement;
    encoder_.project = context.project;
    encoder_.service = context.service;
    encoder_.host = context.host;
    encoder_.max_body_bytes = options_.endpoint.max_body_bytes;
    write_target_ = "/write?db=" + percent_encode(options_.database) + "&precision=ns";
    if (!options_.retention_policy.empty()) write_target_ += "&rp=" + percent_encode(options_.retention_policy);
  }

  std::vector<http::part> encode(const batch& b) override { return encode_batch(b.events, encoder_, times_); }

  http::request request_for(const http::part&) override {
    http::request req;
    req.target = write_target_;
    req.content_type = "text/plain; charset=utf-8";
    return req;
  }

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
  http::request create_database_request() const {
    http::request req;
    req.target = "/query";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "q=" + percent_encode("CREATE DATABASE " + quote_identifier(options_.database));
    return req;
  }

  influxdb_options options_;
  encoder_settings encoder_;
  timestamp_assigner times_;
  std::string write_target_;
};

}  // namespace

std::unique_ptr<writer> make_writer(influxdb_options options, const driver_context& context) {
  auto endpoint = options.endpoint;
  auto where = options.where();
  return std::make_unique<http::http_writer>(context.executor, std::move(endpoint), std::move(where),
                                             std::make_unique<influxdb_codec>(std::move(options), context));
}

}  // namespace osprof::detail::influxdb
