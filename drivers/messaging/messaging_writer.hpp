// The write side of messaging://: each event published as the notification oslo.messaging's
// Notifier sends for OSProfiler, with publisher confirms, from a thread of the driver's own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/messaging/amqp_link.hpp"
#include "drivers/messaging/amqp_thread.hpp"
#include "drivers/messaging/messaging_options.hpp"

namespace osprof::detail::messaging {

/// The thread's side: the connection, and the batch being published, kept across the
/// emitter's retries of it (the same batch::id) so that a retry publishes only what the
/// broker has not confirmed.
class publisher final : public amqp_link::confirm_sink {
 public:
  explicit publisher(const messaging_options& options);

  /// Publishes what of batch `id` the broker has not confirmed and waits for its confirms.
  /// `bodies` is given the first time an id is seen. Never throws.
  write_result write(std::uint64_t id, std::shared_ptr<const std::vector<std::string>> bodies);
  /// Services heartbeats and notices (blocked, confirms of an abandoned wait) while idle.
  void idle() noexcept;
  void close() noexcept;
  void interrupt() noexcept { link_.interrupt(); }

  void on_confirm(std::uint64_t tag, bool multiple, bool ack) override;

 private:
  enum class state : std::uint8_t { unsent, sent, confirmed };
  struct inflight_batch {
    std::uint64_t id = 0;
    std::shared_ptr<const std::vector<std::string>> bodies;
    std::vector<state> states;
    std::size_t confirmed = 0;
  };

  void ensure_ready();
  void lose_connection() noexcept;
  std::size_t unsent() const;

  const messaging_options& options_;
  amqp_link link_;
  bool ready_ = false;
  std::optional<inflight_batch> inflight_;
  std::map<std::uint64_t, std::size_t> pending_;  ///< delivery tag -> index in the batch
  std::size_t sent_waiting_ = 0;
};

class messaging_writer final : public writer {
 public:
  messaging_writer(messaging_options options, const driver_context& context);
  ~messaging_writer() override;

  boost::asio::awaitable<write_result> write(const batch& b) override;
  boost::asio::awaitable<close_result> close() override;

 private:
  messaging_options options_;
  boost::asio::any_io_executor executor_;
  std::string host_;
  std::string service_;
  std::unique_ptr<publisher> publisher_;
  std::unique_ptr<amqp_thread> thread_;  // after publisher_: stopped (joined) first
  std::uint64_t encoded_id_ = 0;
  bool encoded_any_ = false;
};

}  // namespace osprof::detail::messaging
