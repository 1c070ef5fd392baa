// oslo.messaging's notification message, as its Notifier publishes one for OSProfiler
// (`Notifier(publisher_id=host, driver="messaging", topics=["profiler"]).info({}, "profiler.<service>",
// payload)`, message version 1.0, so no oslo.message envelope): the JSON body, and reading
// one back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <osprof/driver.hpp>

namespace osprof::detail::messaging {

/// Appends the message body for one event:
/// {"message_id": uuid4, "publisher_id": host, "event_type": "profiler.<service>",
///  "priority": "INFO", "payload": <the stored event>, "timestamp": "YYYY-MM-DD HH:MM:SS.ffffff",
///  "_unique_id": 32 hex digits}
/// with Python's separators. `now_us`: microseconds since the epoch, UTC (the send time, as
/// oslo.messaging stamps it).
void append_notification(std::string& out, std::string_view payload, std::string_view publisher_id,
                         std::string_view service, std::int64_t now_us);

/// Python's str(datetime): "YYYY-MM-DD HH:MM:SS.ffffff", without the fraction when it is 0.
std::string python_datetime_text(std::int64_t us);

/// What a consumer needs from a received message.
struct received_notification {
  std::string payload;      ///< the stored event (OSProfiler's notification with project/service)
  std::string base_id;      ///< payload.base_id, empty if absent
  std::string event_type;
  std::string priority;
  std::string unique_id;    ///< _unique_id, empty if absent
};

/// Parses a message body; nullopt when it is not a notification (not JSON, no payload object).
/// A body in the oslo.message envelope (message version 2.0) is unwrapped.
std::optional<received_notification> parse_notification(std::string_view body);

}  // namespace osprof::detail::messaging
