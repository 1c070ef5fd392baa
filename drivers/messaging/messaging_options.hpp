// What a messaging:// connection string (or a transport URL given as the connection string:
// rabbit://, rabbits://, amqp://) means, as a plain struct: the brokers to try in order, the
// virtual host, TLS, and where notifications go (control_exchange, topic). Parsed once when
// the driver is created; a bad value is an osprof::error that names it (never a password).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <osprof/connection_string.hpp>

namespace osprof::detail::messaging {

/// One host of the transport URL, with its credentials (oslo.messaging gives each its own).
struct broker {
  std::string host;
  std::uint16_t port = 5672;
  std::string user = "guest";
  std::string password = "guest";

  /// "host:port", with brackets around an IPv6 address.
  std::string text() const;
};

struct messaging_options {
  std::vector<broker> brokers;  ///< tried in order, as oslo.messaging does
  std::string vhost = "/";
  bool tls = false;             ///< rabbits:// or ?ssl=1
  bool tls_verify = true;       ///< the broker's certificate and host name are checked
  std::string ca_file;          ///< ssl_ca_file: PEM CAs (default: the system's)
  std::string cert_file;        ///< ssl_cert_file / ssl_key_file: a client certificate
  std::string key_file;
  std::string exchange = "openstack";  ///< oslo.messaging's control_exchange
  std::string topic = "profiler";      ///< notifications go to <topic>.info
  bool durable = false;       ///< amqp_durable_queues, for the exchange and queue we declare
  bool auto_delete = false;   ///< amqp_auto_delete
  std::chrono::milliseconds timeout{10000};       ///< connecting, each handshake step, confirms
  std::chrono::milliseconds idle_timeout{1000};   ///< reader: stop after this long without the trace's events
  int heartbeat_s = 60;       ///< AMQP heartbeat (oslo.messaging's heartbeat_timeout_threshold)
  std::string redacted;       ///< the connection string with every password hidden, for messages

  /// The queue notifications are routed to, and its routing key: "<topic>.info".
  std::string routing_key() const { return topic + ".info"; }

  /// Throws osprof::error for a missing transport URL, a bad option or an unknown one.
  /// `environment_url`: the value of OSPROF_TRANSPORT_URL, used by messaging:// without a
  /// transport_url option.
  static messaging_options from(const connection_string& cs, std::chrono::milliseconds default_timeout,
                                const char* environment_url);
};

/// Whether `scheme` is a transport URL scheme this driver takes as a connection string.
bool is_transport_scheme(std::string_view scheme) noexcept;

/// `url` with the password of every host replaced by "***".
std::string redact_transport_url(std::string_view url);

}  // namespace osprof::detail::messaging
