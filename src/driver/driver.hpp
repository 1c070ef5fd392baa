// The driver interface: how a backend receives batches of events (write side) and gives a
// trace back for `osprof trace show/list` (read side), as OSProfiler's drivers do both.
//
// Concurrency contract
// - One emitter owns a driver and calls it from its own io_context thread only; the write
//   side (write, flush, close) is never called concurrently on one instance: at most one of
//   its awaitables is in progress at a time. Drivers therefore need no locks.
// - Every awaitable completes on the executor the driver was created with. A driver that must
//   block (SQLite) runs the blocking call on a thread of its own and resumes there.
// - write() must honour cancellation (the emitter cancels a write that exceeds
//   options::write_timeout, and everything at the shutdown deadline) and must not throw:
//   failures are reported in write_result.
// - The read side is used by the CLI and tests, from a coroutine on any io_context. It throws
//   osprof::error with a clear message (never a password) when the backend fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "driver/event_record.hpp"

namespace osprof::detail {

namespace asio = boost::asio;

enum class write_status : std::uint8_t {
  ok,     ///< the batch was stored (less `rejected` events)
  retry,  ///< nothing is known to be stored and trying again may succeed (connection, 5xx, 429)
  failed, ///< the backend refused the batch for good (bad request, bad credentials): drop it
};

struct write_result {
  write_status status = write_status::ok;
  std::size_t rejected = 0;  ///< with ok: events the backend refused permanently (not retried)
  std::string error;         ///< what went wrong, for the log and stats::last_error
  std::chrono::milliseconds retry_after{0};  ///< a delay the backend asked for (Retry-After)

  static write_result success() { return {}; }
  static write_result retryable(std::string why, std::chrono::milliseconds after = {}) {
    return {write_status::retry, 0, std::move(why), after};
  }
  static write_result fatal(std::string why) { return {write_status::failed, 0, std::move(why), {}}; }
};

/// One row of `trace list`.
struct trace_summary {
  std::string base_id;
  std::string timestamp;  ///< the trace's first event, "%Y-%m-%dT%H:%M:%S.%f"
};

/// What a driver is created for: writing (the emitter) or reading (the CLI). A driver may
/// check its backend eagerly for writing (e.g. create the SQLite file and schema) and open it
/// read-only for reading.
enum class driver_purpose : std::uint8_t { write, read };

/// What a driver learns at construction besides its connection string.
struct driver_context {
  asio::any_io_executor executor;
  driver_purpose purpose = driver_purpose::write;
  std::string project;
  std::string service;
  std::string host;
  bool filter_error_trace = true;
  std::chrono::milliseconds timeout{10000};  ///< per network operation
};

class driver {
 public:
  virtual ~driver() = default;

  /// The connection string's scheme.
  virtual std::string_view scheme() const noexcept = 0;

  // ---- write side
  /// Stores a batch. `batch` stays valid until the awaitable completes.
  virtual asio::awaitable<write_result> write(std::span<const event_record> batch) = 0;
  /// Makes written events durable/visible where the backend buffers (default: nothing to do).
  virtual asio::awaitable<void> flush();
  /// Releases connections. No write follows.
  virtual asio::awaitable<void> close();

  // ---- read side
  /// Whether read_trace/list_traces work; a write-only driver says why in `read_unsupported()`.
  virtual bool can_read() const noexcept { return true; }
  /// The stored events of one trace as JSON texts, in any order. Empty when unknown.
  virtual asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id);
  /// One row per trace, newest first.
  virtual asio::awaitable<std::vector<trace_summary>> list_traces();
  /// Traces that contain an error (a stop event with `etype`), newest first.
  virtual asio::awaitable<std::vector<trace_summary>> list_error_traces();

 protected:
  /// Throws the standard "cannot read" error for this scheme.
  [[noreturn]] void read_unsupported() const;
};

}  // namespace osprof::detail
