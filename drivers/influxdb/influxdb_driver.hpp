// The InfluxDB 1.x driver: events written with /write in line protocol at nanosecond precision
// (line_protocol.hpp), read back with InfluxQL through /query for `osprof trace show/list`.
// Created through the registry (influxdb://, influxdb+https://). Schema: README.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/driver.hpp"
#include "drivers/http/body_batch.hpp"
#include "drivers/http/client.hpp"
#include "drivers/influxdb/influxdb_options.hpp"
#include "drivers/influxdb/line_protocol.hpp"

namespace osprof::detail::influxdb {

class influxdb_driver final : public driver {
 public:
  influxdb_driver(std::string scheme, influxdb_options options, const driver_context& context);
  ~influxdb_driver() override;

  std::string_view scheme() const noexcept override { return scheme_; }
  const influxdb_options& options() const noexcept { return options_; }

  asio::awaitable<write_result> write(std::span<const event_record> batch) override;
  asio::awaitable<void> close() override;

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;

 private:
  void prepare(std::span<const event_record> batch);
  asio::awaitable<write_result> write_bodies();
  http::request create_database_request() const;
  asio::awaitable<std::optional<std::string>> create_database();
  write_result give_up(const std::string& why);
  write_result finish();
  std::string where() const;

  std::string scheme_;
  influxdb_options options_;
  encoder_settings encoder_;
  std::string write_target_;
  std::unique_ptr<http::client> writer_;
  timestamp_assigner times_;
  std::optional<http::body_batch<encoded_body>> inflight_;  ///< kept across the emitter's retries
  bool database_checked_ = false;  ///< CREATE DATABASE sent since the last connection failure
};

}  // namespace osprof::detail::influxdb
