// The read side of messaging://: what OSProfiler's messaging driver does for `trace show`
// (listen on the profiler topic, keep the trace's events, stop after idle_timeout without a
// new one), except that other traces' events go back to the queue instead of being lost.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/messaging/amqp_link.hpp"
#include "drivers/messaging/amqp_thread.hpp"
#include "drivers/messaging/messaging_options.hpp"

namespace osprof::detail::messaging {

/// What one read took from the queue.
struct read_outcome {
  std::vector<std::string> events;  ///< the trace's events (payloads)
  std::size_t requeued = 0;         ///< other traces' events, returned to the queue
  std::size_t not_notifications = 0;  ///< messages that were not notifications (returned too)
  std::string error;                ///< a failure, when nothing could be read
};

/// Consumes "<topic>.info" until `idle_timeout` passes without an event of `base_id` (or
/// `limit` passes), acknowledging the trace's events and returning every other message to the
/// queue. Blocking; runs on the reader's thread.
read_outcome read_trace_blocking(const messaging_options& options, const std::string& base_id, amqp_link& link,
                                 clock::time_point limit);

class messaging_reader final : public reader {
 public:
  messaging_reader(messaging_options options, const driver_context& context);
  ~messaging_reader() override;

  boost::asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  boost::asio::awaitable<std::vector<trace_summary>> list_traces() override;
  boost::asio::awaitable<std::vector<trace_summary>> list_error_traces() override;

 private:
  messaging_options options_;
  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds limit_;
  std::unique_ptr<amqp_link> link_;
  std::unique_ptr<amqp_thread> thread_;
};

/// Why messaging:// cannot list traces, and what to do instead.
extern const char* const no_list_message;

}  // namespace osprof::detail::messaging
