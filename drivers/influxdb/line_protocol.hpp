// InfluxDB line protocol for osprof's events: escaping, timestamps that are unique within a
// series, and a batch encoder that writes one point per event, split into request bodies of a
// bounded size. The schema is described in drivers/influxdb/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/http/http_writer.hpp"

namespace osprof::detail::influxdb {

/// Appends a tag value (or tag key): ',', ' ' and '=' are escaped with '\'. Line protocol cannot
/// carry a backslash before a separator or at the end, nor a line break, so '\' becomes '/' and
/// CR/LF become spaces. Tags are the index only: the stored event keeps the exact text.
void append_tag_value(std::string& out, std::string_view value);

/// Appends a string field value in double quotes, '"' and '\' escaped: stored exactly.
void append_string_field(std::string& out, std::string_view value);

/// Gives each point a nanosecond timestamp inside its microsecond that no other point of the
/// same series (measurement + tags) written by this process has: InfluxDB keeps one point per
/// series and time, so two events in one microsecond must not share a time. The offset starts
/// at a value taken from the point's own id (so other writers rarely pick the same) and moves
/// on while taken. Remembers the last 2 x `generation` points.
class timestamp_assigner {
 public:
  explicit timestamp_assigner(std::size_t generation = 1u << 16) : generation_(generation) {}
  /// The time in ns for a point of `series` at `time_us`; `seed` picks the first offset tried.
  std::int64_t assign(std::uint64_t series, std::int64_t time_us, std::uint64_t seed);

 private:
  bool taken(std::uint64_t key) const { return current_.contains(key) || previous_.contains(key); }
  std::size_t generation_;
  std::unordered_set<std::uint64_t> current_;
  std::unordered_set<std::uint64_t> previous_;
};

struct encoder_settings {
  std::string measurement = "osprofiler_events";
  std::string project;  ///< tag values of every point (omitted when empty)
  std::string service;
  std::string host;
  std::size_t max_body_bytes = 8u << 20;
};

/// Encodes a batch into request bodies of at most `max_body_bytes` (a single larger point gets
/// a body of its own).
std::vector<http::part> encode_batch(std::span<const event_record> batch, const encoder_settings& settings,
                                       timestamp_assigner& times);

/// From a "partial write: ... dropped=N" message, N; 0 when the text has no such count.
std::size_t parse_dropped(std::string_view body);

/// The "error" of an InfluxDB JSON error body, or the start of the body.
std::string error_text(std::string_view body);

}  // namespace osprof::detail::influxdb
