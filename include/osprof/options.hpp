// Settings of the emitter: where events go and how the queue and the workers behave.
// A plain struct: each default is read from an environment variable when the struct is
// constructed (empty = unset; an invalid value is reported through the log and ignored),
// and code may override any field, e.g. `osprof::options{.batch_size = 1024}`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace osprof {
inline namespace v1 {

/// What a trace point does when the queue is at its capacity.
enum class overflow_policy : std::uint8_t {
  drop,   ///< drop the new event and count it (never blocks the caller; the default)
  block,  ///< wait up to `options::block_timeout` for room, then drop and count
};

/// Which clock stamps events on the caller's thread.
enum class clock_source : std::uint8_t {
  automatic,  ///< the TSC when it is invariant (constant_tsc and nonstop_tsc), otherwise realtime
  tsc,        ///< raw TSC read (~10 ns), converted to UTC on the worker side
  realtime,   ///< clock_gettime(CLOCK_REALTIME) (~25 ns)
};

namespace env {
std::string connection_string();
std::string string(const char* name, const char* fallback = "");
std::vector<std::string> list(const char* name, const char* fallback);
std::size_t size(const char* name, std::size_t fallback, std::size_t min = 1);
std::chrono::milliseconds milliseconds(const char* name, std::chrono::milliseconds fallback);
std::chrono::microseconds microseconds(const char* name, std::chrono::microseconds fallback);
bool boolean(const char* name, bool fallback);
overflow_policy overflow(const char* name, overflow_policy fallback);
clock_source clock(const char* name, clock_source fallback);
std::string service_name();
std::string host_name();
}  // namespace env

/// Emitter settings. Every field's environment variable is listed in the README.
struct options {
  /// Backend, as `<scheme>://[[user[:password]]@][host][:port][/database][?options]`.
  /// OSPROF_CONNECTION_STRING, then OSPROFILER_CONNECTION_STRING; default `sqlite:///osprof.db`.
  std::string connection_string = env::connection_string();
  /// Added to every stored event as `project`. OSPROF_PROJECT; default empty.
  std::string project = env::string("OSPROF_PROJECT");
  /// Added to every stored event as `service`. OSPROF_SERVICE, then OTEL_SERVICE_NAME;
  /// default: the program's name.
  std::string service = env::service_name();
  /// Added to every event's info as `host`. OSPROF_HOST; default: gethostname().
  std::string host = env::host_name();

  /// Most events held at once (queued plus being written). OSPROF_QUEUE_CAPACITY; default 65536.
  std::size_t queue_capacity = env::size("OSPROF_QUEUE_CAPACITY", 65536);
  /// Most bytes held at once: fixed-size events plus out-of-line payloads.
  /// OSPROF_QUEUE_MAX_BYTES; default 64 MiB.
  std::size_t queue_max_bytes = env::size("OSPROF_QUEUE_MAX_BYTES", std::size_t{64} << 20, 4096);
  /// Events per backend write. OSPROF_BATCH_SIZE; default 512.
  std::size_t batch_size = env::size("OSPROF_BATCH_SIZE", 512);
  /// Longest time an event waits in a partial batch. OSPROF_FLUSH_INTERVAL_MS; default 200.
  std::chrono::milliseconds flush_interval =
      env::milliseconds("OSPROF_FLUSH_INTERVAL_MS", std::chrono::milliseconds{200});
  /// How often an idle worker looks for new events. Shorter means fresher batches but more
  /// wake-ups; the worker never spins. OSPROF_POLL_INTERVAL_US; default 1000.
  std::chrono::microseconds poll_interval =
      env::microseconds("OSPROF_POLL_INTERVAL_US", std::chrono::microseconds{1000});
  /// OSPROF_OVERFLOW = `drop` (default) or `block`.
  overflow_policy overflow = env::overflow("OSPROF_OVERFLOW", overflow_policy::drop);
  /// With `overflow_policy::block`, the longest a trace point waits. OSPROF_BLOCK_TIMEOUT_MS; default 10.
  std::chrono::milliseconds block_timeout =
      env::milliseconds("OSPROF_BLOCK_TIMEOUT_MS", std::chrono::milliseconds{10});
  /// Longest one backend write may take before it is cancelled and retried.
  /// OSPROF_WRITE_TIMEOUT_MS; default 10000.
  std::chrono::milliseconds write_timeout =
      env::milliseconds("OSPROF_WRITE_TIMEOUT_MS", std::chrono::milliseconds{10000});
  /// First retry delay after a failed write; doubles (with jitter) up to `retry_backoff_max`.
  /// OSPROF_RETRY_BACKOFF_MS; default 100.
  std::chrono::milliseconds retry_backoff =
      env::milliseconds("OSPROF_RETRY_BACKOFF_MS", std::chrono::milliseconds{100});
  /// OSPROF_RETRY_BACKOFF_MAX_MS; default 5000.
  std::chrono::milliseconds retry_backoff_max =
      env::milliseconds("OSPROF_RETRY_BACKOFF_MAX_MS", std::chrono::milliseconds{5000});
  /// How long the emitter's destructor waits to deliver what is held. OSPROF_SHUTDOWN_TIMEOUT_MS;
  /// default 5000.
  std::chrono::milliseconds shutdown_timeout =
      env::milliseconds("OSPROF_SHUTDOWN_TIMEOUT_MS", std::chrono::milliseconds{5000});
  /// Largest encoded name + info of one event; larger info is replaced by a truncation marker.
  /// OSPROF_MAX_EVENT_BYTES; default 65536.
  std::size_t max_event_bytes = env::size("OSPROF_MAX_EVENT_BYTES", 65536, 256);
  /// Mark traces that contain an error so `trace list --error-trace` finds them.
  /// OSPROF_FILTER_ERROR_TRACE; default true.
  bool filter_error_trace = env::boolean("OSPROF_FILTER_ERROR_TRACE", true);
  /// OSPROF_CLOCK = `auto` (default), `tsc` or `realtime`.
  clock_source clock = env::clock("OSPROF_CLOCK", clock_source::automatic);
  /// false turns every trace point into a no-op (nothing is queued or written).
  /// OSPROF_ENABLED; default true. OTEL_SDK_DISABLED=true also disables.
  bool enabled = env::boolean("OSPROF_ENABLED", true) && !env::boolean("OTEL_SDK_DISABLED", false);
};

}  // namespace v1
}  // namespace osprof
