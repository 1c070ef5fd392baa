// Registers messaging:// (the transport from transport_url=, --transport-url or
// OSPROF_TRANSPORT_URL) and the transport URLs themselves as connection strings: rabbit://,
// rabbits://, amqp://, amqps://.
#include <osprof/drivers/messaging.hpp>

#include "common/env_parse.hpp"
#include "drivers/messaging/messaging_reader.hpp"
#include "drivers/messaging/messaging_writer.hpp"

namespace osprof::drivers {

void register_messaging() {
  using namespace osprof::detail::messaging;
  struct scheme_info {
    const char* scheme;
    const char* summary;
  };
  static constexpr scheme_info schemes[] = {
      {"messaging", "messaging://[?transport_url=URL] OSProfiler's default: oslo.messaging notifications on the "
                    "profiler topic (transport from --transport-url or OSPROF_TRANSPORT_URL)"},
      {"rabbit", "rabbit://user:password@host:5672[,user:password@host2:5672]/vhost the same, the transport URL as "
                 "the connection string"},
      {"rabbits", "rabbits://user:password@host:5671/vhost the same over TLS, certificates verified"},
      {"amqp", "amqp://user:password@host:5672/vhost the same (RabbitMQ's AMQP 0-9-1 URI, not oslo.messaging's "
               "AMQP 1.0 driver)"},
      {"amqps", "amqps://user:password@host:5671/vhost the same over TLS"},
  };
  for (const auto& s : schemes) {
    register_driver({
        .scheme = s.scheme,
        .summary = s.summary,
        .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
          return std::make_unique<messaging_writer>(
              messaging_options::from(cs, context.timeout, osprof::detail::env_value("OSPROF_TRANSPORT_URL")), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<reader> {
          return std::make_unique<messaging_reader>(
              messaging_options::from(cs, context.timeout, osprof::detail::env_value("OSPROF_TRANSPORT_URL")), context);
        },
    });
  }
}

}  // namespace osprof::drivers
