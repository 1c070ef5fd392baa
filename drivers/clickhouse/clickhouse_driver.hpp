// The ClickHouse driver: events inserted through the HTTP interface with INSERT ... FORMAT
// JSONEachRow into a MergeTree table (created if missing), read back with SELECT for
// `osprof trace show/list`. Created through the registry (clickhouse://, clickhouse+https://).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/driver.hpp"
#include "drivers/http/body_batch.hpp"
#include "drivers/clickhouse/clickhouse_options.hpp"
#include "drivers/clickhouse/json_each_row.hpp"
#include "drivers/http/client.hpp"

namespace osprof::detail::clickhouse {

class clickhouse_driver final : public driver {
 public:
  clickhouse_driver(std::string scheme, clickhouse_options options, const driver_context& context);
  ~clickhouse_driver() override;

  std::string_view scheme() const noexcept override { return scheme_; }
  const clickhouse_options& options() const noexcept { return options_; }

  asio::awaitable<write_result> write(std::span<const event_record> batch) override;
  asio::awaitable<void> close() override;

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;

 private:
  void prepare(std::span<const event_record> batch);
  asio::awaitable<write_result> write_bodies();
  asio::awaitable<std::optional<std::string>> create_table();
  asio::awaitable<std::vector<trace_summary>> list(bool errors_only);
  write_result give_up(const std::string& why);
  write_result finish();
  std::string where() const;

  std::string scheme_;
  clickhouse_options options_;
  row_settings rows_;
  std::string insert_target_;
  std::unique_ptr<http::client> writer_;
  std::optional<http::body_batch<encoded_body>> inflight_;  ///< kept across the emitter's retries
  bool table_checked_ = false;  ///< EXISTS TABLE asked since the last connection failure
};

}  // namespace osprof::detail::clickhouse
