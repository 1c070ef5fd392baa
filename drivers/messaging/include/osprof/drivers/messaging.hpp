// The messaging driver (CMake target osprof::messaging): messaging:// and the transport URLs
// rabbit://, rabbits://, amqp://: OSProfiler's default notifier, over RabbitMQ.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_messaging();

namespace messaging {

/// A message taken from the profiler topic's queue, not yet acknowledged.
struct received {
  std::uint64_t tag = 0;       ///< the delivery tag, for ack_through() and reject()
  bool redelivered = false;    ///< delivered before and not acknowledged (a consumer stopped)
  bool notification = false;   ///< an oslo.messaging notification with a payload object
  std::string event;           ///< the payload: OSProfiler's stored event (with project, service)
};

/// A blocking consumer of "<topic>.info" with manual acknowledgement, for `osprof collect`:
/// a message leaves the queue only when acknowledged, so one taken and not acknowledged (the
/// consumer stopped or failed) is delivered again. Not thread safe; blocking calls.
class consumer {
 public:
  /// `connection_string`: messaging:// (with its transport) or a transport URL. Throws
  /// osprof::error for a bad one; connects on the first next().
  consumer(std::string_view connection_string, std::chrono::milliseconds timeout = std::chrono::seconds(10),
           std::uint16_t prefetch = 2048);
  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  /// The next message, or nullopt when `wait` passed without one. Throws osprof::error when
  /// the broker fails (unacknowledged messages then return to the queue); the next call
  /// connects again.
  std::optional<received> next(std::chrono::milliseconds wait);
  /// Acknowledges every message up to `tag` (taken on the current connection).
  void ack_through(std::uint64_t tag);
  /// Drops a message that is not a notification (dead-lettered if the queue has a DLX).
  void reject(std::uint64_t tag);
  /// Returns every unacknowledged message to the queue and disconnects.
  void close() noexcept;
  /// The connection string with passwords hidden.
  const std::string& where() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace messaging

}  // namespace osprof::drivers
