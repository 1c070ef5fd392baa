// The emitter: the worker side of osprof. Trace points push fixed-size events into a
// lock-free queue; the emitter's coroutine workers (own thread, Boost.Asio) drain it in
// batches and write them to the backend named by the connection string.
//
// One emitter is active per process. Keep it in main() (not in a static): its destructor
// delivers what is held, within `options::shutdown_timeout`.
//
//   int main() {
//     osprof::emitter tracing{osprof::options{.service = "api"}};
//     ...
//   }
#pragma once

#include <chrono>
#include <memory>

#include <osprof/options.hpp>
#include <osprof/stats.hpp>

namespace osprof::detail {
class emitter_impl;
}

namespace osprof {
inline namespace v1 {

class emitter {
 public:
  /// Starts the workers. What stops it from starting: invalid options (every problem
  /// options::validate() finds, bad values in the environment included), a malformed
  /// connection string, an unknown scheme, a bad driver option, another emitter already
  /// running. Then by default it logs that error once and runs without tracing (trace points
  /// are no-ops; stats::start_error says why), so a typo never stops the service; with
  /// options::strict it throws it as osprof::error. An unreachable backend is not an error
  /// here: events are held, writes retried and counted.
  explicit emitter(options opts = options{});
  /// shutdown(options::shutdown_timeout).
  ~emitter();

  emitter(const emitter&) = delete;
  emitter& operator=(const emitter&) = delete;

  /// Writes every event accepted before the call. Returns false if the deadline passed first.
  /// @note Thread safe.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds{5});

  /// Stops accepting events, delivers what is held until the deadline, drops (and counts) the
  /// rest, closes the backend and joins the worker thread. Trace points afterwards are no-ops.
  /// Idempotent. Returns true if nothing was dropped at shutdown.
  /// @note Thread safe.
  bool shutdown(std::chrono::milliseconds timeout);

  /// A snapshot of this emitter's counters. @note Thread safe.
  stats get_stats() const;

  const options& config() const noexcept;

 private:
  std::unique_ptr<detail::emitter_impl> impl_;
};

/// Asks the running emitter to write what it holds now, without waiting: the worker seals its
/// partial batch at its next wake-up (within options::poll_interval). Async-signal-safe (it
/// only sets a lock-free flag), so a signal handler may call it; emitter::flush() and
/// shutdown() may not be called from a signal handler (they lock and wait).
void request_flush() noexcept;

}  // namespace v1
}  // namespace osprof
