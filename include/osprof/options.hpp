// Settings of the emitter: where events go and how the queue and the workers behave.
// A plain struct: each default is read from an environment variable when the struct is
// constructed (empty = unset), and code may override any field, e.g.
// `osprof::options{.batch_size = 1024}`. An invalid value in the environment leaves the
// field at its default and is recorded in `environment_problems`; `validate()` returns those
// and the fields' own invalid values. The emitter does not start with options that have any:
// it logs the problems and runs without tracing, or throws them with `strict`.
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

/// One invalid setting, in terms a user can act on.
struct option_problem {
  std::string field;     ///< the `options` field, e.g. `batch_size`
  std::string variable;  ///< the environment variable the value came from; empty when set in code
  std::string value;     ///< the rejected value, as given
  std::string allowed;   ///< what is accepted
  /// One line: `OSPROF_BATCH_SIZE="x" (options.batch_size): expected an integer from 1 to
  /// 4294967295`, or for a value set in code `options.batch_size = 0: expected ...`.
  std::string message() const;
};

namespace env {
// General readers, also used by propagation and the integrations: an invalid value is
// reported through the log and `fallback` is used.
std::string connection_string();
std::string string(const char* name, const char* fallback = "");
std::vector<std::string> list(const char* name, const char* fallback);
bool boolean(const char* name, bool fallback);
std::string service_name();
std::string host_name();

// The readers behind `options`' defaults. `name` is one of the variables in the README's
// table and the accepted range is its field's; an invalid value is appended to `problems` and
// `fallback` is used.
std::size_t size(const char* name, std::size_t fallback, std::vector<option_problem>& problems);
std::chrono::milliseconds milliseconds(const char* name, std::chrono::milliseconds fallback,
                                       std::vector<option_problem>& problems);
std::chrono::microseconds microseconds(const char* name, std::chrono::microseconds fallback,
                                       std::vector<option_problem>& problems);
bool boolean(const char* name, bool fallback, std::vector<option_problem>& problems);
overflow_policy overflow(const char* name, overflow_policy fallback, std::vector<option_problem>& problems);
clock_source clock(const char* name, clock_source fallback, std::vector<option_problem>& problems);
/// OSPROF_ENABLED (default true), and false when OTEL_SDK_DISABLED is true; both are read,
/// so that an invalid value in either is recorded.
bool enabled(std::vector<option_problem>& problems);
}  // namespace env

/// Emitter settings. Every field's environment variable is listed in the README.
struct options {
  /// The invalid values found in the environment while this struct was constructed (the
  /// fields they were meant for kept their defaults). Declared first: the defaults below
  /// record into it as they are read. A field set in code does not read its variable.
  std::vector<option_problem> environment_problems{};

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
  std::size_t queue_capacity = env::size("OSPROF_QUEUE_CAPACITY", 65536, environment_problems);
  /// Most bytes held at once: fixed-size events, out-of-line payloads and the formatted
  /// events waiting to be written (retried ones included). Over it, payloads that do not fit
  /// inline lose their info (stats::truncated_events) and the worker leaves events queued, so
  /// new ones are dropped (stats::dropped_queue_full). Resident memory stays within about 1.5x
  /// of it. OSPROF_QUEUE_MAX_BYTES; default 64 MiB.
  std::size_t queue_max_bytes = env::size("OSPROF_QUEUE_MAX_BYTES", std::size_t{64} << 20, environment_problems);
  /// Events per backend write. OSPROF_BATCH_SIZE; default 512.
  std::size_t batch_size = env::size("OSPROF_BATCH_SIZE", 512, environment_problems);
  /// Longest time an event waits in a partial batch. OSPROF_FLUSH_INTERVAL_MS; default 200.
  std::chrono::milliseconds flush_interval =
      env::milliseconds("OSPROF_FLUSH_INTERVAL_MS", std::chrono::milliseconds{200}, environment_problems);
  /// How often a worker that is receiving events looks for more. Shorter means fresher batches
  /// but more wake-ups; the worker never spins. Once the queue stays empty the sleep doubles at
  /// each empty look, up to min(100 ms, flush_interval / 2) (never below poll_interval), and
  /// comes back to poll_interval at the next event. OSPROF_POLL_INTERVAL_US; default 1000.
  std::chrono::microseconds poll_interval =
      env::microseconds("OSPROF_POLL_INTERVAL_US", std::chrono::microseconds{1000}, environment_problems);
  /// OSPROF_OVERFLOW = `drop` (default) or `block`.
  overflow_policy overflow = env::overflow("OSPROF_OVERFLOW", overflow_policy::drop, environment_problems);
  /// With `overflow_policy::block`, the longest a trace point waits. OSPROF_BLOCK_TIMEOUT_MS; default 10.
  std::chrono::milliseconds block_timeout =
      env::milliseconds("OSPROF_BLOCK_TIMEOUT_MS", std::chrono::milliseconds{10}, environment_problems);
  /// Longest one backend write may take before it is cancelled and retried.
  /// OSPROF_WRITE_TIMEOUT_MS; default 10000.
  std::chrono::milliseconds write_timeout =
      env::milliseconds("OSPROF_WRITE_TIMEOUT_MS", std::chrono::milliseconds{10000}, environment_problems);
  /// First retry delay after a failed write; doubles (with jitter) up to `retry_backoff_max`.
  /// OSPROF_RETRY_BACKOFF_MS; default 100.
  std::chrono::milliseconds retry_backoff =
      env::milliseconds("OSPROF_RETRY_BACKOFF_MS", std::chrono::milliseconds{100}, environment_problems);
  /// OSPROF_RETRY_BACKOFF_MAX_MS; default 5000.
  std::chrono::milliseconds retry_backoff_max =
      env::milliseconds("OSPROF_RETRY_BACKOFF_MAX_MS", std::chrono::milliseconds{5000}, environment_problems);
  /// How long the emitter's destructor waits to deliver what is held. OSPROF_SHUTDOWN_TIMEOUT_MS;
  /// default 5000.
  std::chrono::milliseconds shutdown_timeout =
      env::milliseconds("OSPROF_SHUTDOWN_TIMEOUT_MS", std::chrono::milliseconds{5000}, environment_problems);
  /// Largest encoded name + info of one event; larger info is replaced by a truncation marker.
  /// OSPROF_MAX_EVENT_BYTES; default 65536.
  std::size_t max_event_bytes = env::size("OSPROF_MAX_EVENT_BYTES", 65536, environment_problems);
  /// While a trace point is the innermost open one, its start event waits on the caller's
  /// thread and goes into the queue with its stop, as one record: one push per span instead of
  /// two (when name + both infos fit one event, inline_payload_budget bytes; otherwise the
  /// start is sent at once). The start keeps its own timestamp, and is sent at once as soon as
  /// anything can refer to its point: a point starting inside it, capture(), outgoing headers,
  /// propagated_trace::fork(), osprof::clean() or the profiler's end; a profiler's first start
  /// is always sent at once. So a thread's events are stored in OSProfiler's order. What
  /// changes: an innermost point's start reaches the backend when it stops, not when it
  /// starts, and the innermost point still open when the process dies (or the emitter stops)
  /// is not stored at all, where OSProfiler would have stored its start alone.
  /// OSPROF_HOLD_STARTS; default true (false: every start is pushed when it happens).
  bool hold_starts = env::boolean("OSPROF_HOLD_STARTS", true, environment_problems);
  /// Mark traces that contain an error so `trace list --error-trace` finds them.
  /// OSPROF_FILTER_ERROR_TRACE; default true.
  bool filter_error_trace = env::boolean("OSPROF_FILTER_ERROR_TRACE", true, environment_problems);
  /// OSPROF_CLOCK = `auto` (default), `tsc` or `realtime`.
  clock_source clock = env::clock("OSPROF_CLOCK", clock_source::automatic, environment_problems);
  /// false turns every trace point into a no-op (nothing is queued or written).
  /// OSPROF_ENABLED; default true. OTEL_SDK_DISABLED=true also disables.
  bool enabled = env::enabled(environment_problems);
  /// What the emitter does when it cannot start (invalid options, a connection string no
  /// driver takes, another emitter running): false logs one error and runs without tracing,
  /// so tracing never stops the service (stats::start_error says why); true throws it.
  /// OSPROF_STRICT; default false.
  bool strict = env::boolean("OSPROF_STRICT", false, environment_problems);

  /// Every problem: `environment_problems`, then each field whose value is out of its range
  /// (the ranges are the README's; e.g. `batch_size` at least 1, `write_timeout` at least
  /// 1 ms, `retry_backoff_max` at least `retry_backoff`). Empty means valid. The connection
  /// string is checked when the emitter opens the backend, since only the backend's driver
  /// knows its options.
  std::vector<option_problem> validate() const;
};

}  // namespace v1
}  // namespace osprof
