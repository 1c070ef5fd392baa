// The Elasticsearch driver: OSProfiler's layout (index osprofiler-notifications, error
// documents in osprofiler-notifications-error) written with _bulk over the shared HTTP client,
// per-item results judged one by one; read back with a scrolled search (show) and a terms
// aggregation (list). Created through the registry (elasticsearch://, elasticsearch+https://).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/driver.hpp"
#include "drivers/elasticsearch/es_options.hpp"
#include "drivers/elasticsearch/es_protocol.hpp"
#include "drivers/http/batch_identity.hpp"
#include "drivers/http/client.hpp"

namespace osprof::detail::elasticsearch {

class es_driver final : public driver {
 public:
  es_driver(std::string scheme, es_options options, const driver_context& context);
  ~es_driver() override;

  std::string_view scheme() const noexcept override { return scheme_; }
  const es_options& options() const noexcept { return options_; }

  asio::awaitable<write_result> write(std::span<const event_record> batch) override;
  asio::awaitable<void> flush() override;
  asio::awaitable<void> close() override;

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;

 private:
  enum class action_state : std::uint8_t { pending, stored, rejected };
  /// The batch being written, kept across the emitter's retries: only actions still pending
  /// are sent again (those Elasticsearch answered 429 for, or all after a lost answer).
  struct inflight_batch {
    http::batch_identity id;
    std::vector<bulk_action> actions;
    std::vector<action_state> states;
    std::size_t rejected_events = 0;
    std::string rejection;  ///< the first item error, for the log
  };

  asio::awaitable<std::optional<write_result>> ensure_indices(http::client& c);
  write_result settle(inflight_batch& b, const bulk_response& r, const std::vector<std::size_t>& sent);
  write_result give_up(inflight_batch& b, write_result why);
  static http::request json_request(std::string method, std::string target, std::string body);
  asio::awaitable<http::response> search(http::client& c, std::string target, std::string body, std::string_view what);
  asio::awaitable<std::vector<trace_summary>> list_from(http::client& c, std::span<const std::string> only);

  std::string scheme_;
  es_options options_;
  bool filter_error_trace_ = true;
  bool indices_ready_ = false;
  std::unique_ptr<http::client> writer_;
  std::optional<inflight_batch> inflight_;
};

}  // namespace osprof::detail::elasticsearch
