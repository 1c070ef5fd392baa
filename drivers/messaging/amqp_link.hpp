// One AMQP 0-9-1 connection and channel to RabbitMQ through rabbitmq-c (Debian's
// librabbitmq-dev), with every call bounded by a deadline. rabbitmq-c blocks, so a link is
// used by one thread of the driver's own (amqp_thread.hpp), never by the emitter's worker.
//
// Failures are amqp_failure exceptions with a message that names the broker and what it said
// (never a password), and whether trying again may help.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "drivers/messaging/messaging_options.hpp"

struct amqp_connection_state_t_;

namespace osprof::detail::messaging {

using clock = std::chrono::steady_clock;

enum class failure_kind : std::uint8_t {
  network,   ///< refused, reset, timed out, closed: retry
  refused,   ///< the broker refused for good: credentials, vhost, permissions, TLS verification
  protocol,  ///< the peer does not speak AMQP as expected: retry
};

class amqp_failure : public std::runtime_error {
 public:
  amqp_failure(failure_kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  failure_kind kind() const noexcept { return kind_; }
  bool retryable() const noexcept { return kind_ != failure_kind::refused; }

 private:
  failure_kind kind_;
};

/// A message delivered to a consumer.
struct delivery {
  std::uint64_t tag = 0;
  bool redelivered = false;
  std::string body;
};

class amqp_link {
 public:
  /// `name`: the connection's name in the broker's management (connection_name property).
  amqp_link(const messaging_options& options, std::string name);
  ~amqp_link();
  amqp_link(const amqp_link&) = delete;
  amqp_link& operator=(const amqp_link&) = delete;

  /// Connects to the first broker that accepts (in the transport URL's order), logs in and
  /// opens a channel. Throws amqp_failure naming every broker tried.
  void open();
  bool is_open() const noexcept { return conn_ != nullptr; }
  /// Closes gracefully (bounded by the timeout), or drops the socket.
  void close() noexcept;
  /// Ends any call blocked on the socket, from another thread; the link is then unusable
  /// until closed and reopened.
  void interrupt() noexcept;

  /// The exchange (topic), the queue "<topic>.info" and its binding, as oslo.messaging
  /// declares them. An exchange or queue that exists is used as it is (passive declare first),
  /// so a deployment with other durability settings is not refused.
  void declare_topology();

  // Publishing with publisher confirms.
  void select_confirms();
  /// Sends one notification; returns its delivery tag. Does not wait.
  std::uint64_t publish(std::string_view body);
  /// Everything confirmed up to here by the broker: acks and nacks, as tags.
  struct confirm_sink {
    virtual void on_confirm(std::uint64_t tag, bool multiple, bool ack) = 0;
  };
  /// Reads what the broker sends until `deadline` or until `done()` says stop; confirms go to
  /// `sink`. Returns false if the deadline passed first. Throws amqp_failure on a closed
  /// connection or channel.
  template <class Done>
  bool pump(clock::time_point deadline, confirm_sink& sink, Done done) {
    while (!done()) {
      if (!read_one(deadline, &sink, nullptr)) return false;
    }
    return true;
  }
  /// Handles what is already received (heartbeats, blocked notices) without waiting.
  void poll(confirm_sink* sink);
  /// Set while the broker blocks publishing (connection.blocked: a memory or disk alarm).
  bool blocked() const noexcept { return blocked_; }
  const std::string& blocked_reason() const noexcept { return blocked_reason_; }

  // Consuming.
  /// basic.consume on "<topic>.info", manual acknowledgement; `prefetch` 0 = unlimited.
  void consume(std::uint16_t prefetch);
  /// The next message, or nullopt when the deadline passed.
  std::optional<delivery> next(clock::time_point deadline);
  void ack(std::uint64_t tag, bool multiple);
  void nack(std::uint64_t tag, bool multiple, bool requeue);

  /// The broker this link is connected to, "host:port".
  const std::string& where() const noexcept { return where_; }

 private:
  void open_one(const broker& b);
  void open_channel();
  bool read_one(clock::time_point deadline, confirm_sink* sink, delivery* out);
  [[noreturn]] void fail_reply(const char* what, int reply_type, int library_error, const void* method_id_and_decoded);
  [[noreturn]] void fail_status(const char* what, int status);
  void check_rpc(const char* what);

  const messaging_options& options_;
  std::string name_;
  amqp_connection_state_t_* conn_ = nullptr;
  std::atomic<int> fd_{-1};
  std::uint16_t channel_ = 0;
  std::uint64_t next_tag_ = 1;
  bool blocked_ = false;
  std::string blocked_reason_;
  std::string where_;
  std::string default_ca_;
};

}  // namespace osprof::detail::messaging
