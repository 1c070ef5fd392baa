// What the driver suites share to emit through the real emitter and to check its accounting:
// start/stop pairs in traces, and the balance every run must keep (each event emitted is
// written or counted as dropped, none is left held).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

namespace osprof_test {

/// Emits `points` start/stop pairs (2 events each) on the calling thread, in traces of
/// `per_trace` points; sleeps `pause` every `every` points to spread them over time.
inline void emit_points(int points, int per_trace = 50, int every = 0, std::chrono::microseconds pause = {}) {
  for (int i = 0; i < points; ++i) {
    if (i % per_trace == 0) {
      osprof::clean();
      osprof::init("SECRET_KEY");
    }
    osprof::start("point", {{"i", i}});
    osprof::stop();
    if (every != 0 && i % every == every - 1) std::this_thread::sleep_for(pause);
  }
  osprof::clean();
}

/// The emitter's counters once it has counted a failed write, or after `within` without one. A
/// fault test waits for the failure it caused rather than for a fixed time: a loaded machine
/// can take longer than any fixed sleep to reach the first attempt or its timeout.
inline osprof::stats stats_after_first_failure(const osprof::emitter& e,
                                               std::chrono::milliseconds within = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  osprof::stats s = e.get_stats();
  while (s.write_failures == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    s = e.get_stats();
  }
  return s;
}

/// The counters, for a failed expectation's message.
inline std::string balance_text(const osprof::stats& s) {
  return "emitted " + std::to_string(s.emitted) + ", written " + std::to_string(s.written) + ", dropped " +
         std::to_string(s.dropped_queue_full) + " queue full + " + std::to_string(s.dropped_backend) + " backend + " +
         std::to_string(s.dropped_shutdown) + " shutdown; last error: " + s.last_error;
}

/// Every event emitted was written or counted as dropped, and none is still held.
inline void expect_balanced(const osprof::stats& s) {
  EXPECT_EQ(s.emitted, s.written + s.dropped()) << balance_text(s);
  EXPECT_EQ(s.held, 0u);
}

}  // namespace osprof_test
