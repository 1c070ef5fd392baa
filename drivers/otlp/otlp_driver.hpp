// The OTLP driver: joins start/stop events into spans (otlp_spans.hpp), encodes them as
// OTLP/HTTP JSON (otlp_encoder.hpp) and posts them to a collector's /v1/traces over the shared
// HTTP client. Write-only: collectors do not give traces back. Created through the registry
// (otlp://, otlp+https://).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "driver/driver.hpp"
#include "drivers/http/batch_identity.hpp"
#include "drivers/http/client.hpp"
#include "drivers/otlp/otlp_encoder.hpp"
#include "drivers/otlp/otlp_options.hpp"
#include "drivers/otlp/otlp_spans.hpp"

namespace osprof::detail::otlp {

class otlp_driver final : public driver {
 public:
  otlp_driver(std::string scheme, otlp_options options, const driver_context& context);
  ~otlp_driver() override;

  std::string_view scheme() const noexcept override { return scheme_; }
  const otlp_options& options() const noexcept { return options_; }

  asio::awaitable<write_result> write(std::span<const event_record> batch) override;
  asio::awaitable<void> close() override;

  bool can_read() const noexcept override { return false; }
  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;

 private:
  /// The export of one batch, kept across the emitter's retries: the spans were joined once
  /// (the joiner's state moved on), so a retry sends the same body again.
  struct inflight_export {
    http::batch_identity id;
    std::string body;
    std::size_t spans = 0;
    std::size_t events = 0;         ///< events the body carries (from this batch and held starts)
    std::size_t events_before = 0;  ///< of those, held starts of earlier batches
  };

  asio::awaitable<write_result> send(const std::string& body, std::size_t spans, std::size_t events,
                                     std::size_t& lost, std::string& why);
  write_result settle(std::size_t batch_size, std::size_t lost, std::string why);
  [[noreturn]] void write_only() const;

  std::string scheme_;
  otlp_options options_;
  span_joiner joiner_;
  span_encoder encoder_;
  std::unique_ptr<http::client> client_;
  std::optional<inflight_export> inflight_;
  /// Events counted written when their start was held, whose span was lost later: charged
  /// as rejected to the next batches (a batch can be charged at most its own size).
  std::size_t lost_debt_ = 0;
};

}  // namespace osprof::detail::otlp
