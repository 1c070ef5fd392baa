// Counters of one emitter, as a snapshot. Once the emitter has flushed,
// emitted == written + dropped() holds exactly.
#pragma once

#include <cstdint>
#include <string>

namespace osprof {
inline namespace v1 {

struct stats {
  std::uint64_t emitted = 0;             ///< events offered by trace points while running
  std::uint64_t written = 0;             ///< events the backend acknowledged
  std::uint64_t dropped_queue_full = 0;  ///< refused on the caller's thread: capacity reached
  std::uint64_t dropped_backend = 0;     ///< rejected by the backend, or undeliverable
  std::uint64_t dropped_shutdown = 0;    ///< still held when the shutdown deadline passed
  std::uint64_t write_failures = 0;      ///< failed write attempts (each retry counts)
  std::uint64_t retries = 0;             ///< writes attempted again after a failure
  std::uint64_t batches_written = 0;     ///< successful backend writes
  std::uint64_t queue_depth = 0;         ///< events accepted but not yet taken by the worker
  std::uint64_t held = 0;                ///< events accepted but not yet written or dropped
  std::uint64_t spilled_events = 0;      ///< payload above the inline budget, copied to the heap
  std::uint64_t truncated_events = 0;    ///< info above max_event_bytes or the byte cap, replaced by a marker
  std::uint64_t cut_names = 0;           ///< point names cut at max_point_name_bytes (1024)
  std::uint64_t cut_info = 0;            ///< info nested deeper than max_info_depth (16) stored as null, or a key cut
  std::uint64_t invalid_utf8 = 0;        ///< events whose name or info had bytes that are not UTF-8 (stored as U+FFFD)
  std::uint64_t rejected_headers = 0;    ///< incoming trace headers that failed verification
  std::uint64_t write_latency_count = 0; ///< timed backend writes
  std::uint64_t write_latency_avg_us = 0;
  std::uint64_t write_latency_p99_us = 0; ///< upper bound of the p99 bucket (powers of two)
  std::uint64_t write_latency_max_us = 0;
  std::string last_error;                 ///< the latest backend error, empty if none
  /// Why this emitter is not tracing: what stopped it from starting (invalid options, an
  /// unknown backend, ...), logged once when it was constructed. Empty when it started (and
  /// when options::enabled is false).
  std::string start_error;

  std::uint64_t dropped() const noexcept { return dropped_queue_full + dropped_backend + dropped_shutdown; }
};

}  // namespace v1
}  // namespace osprof
