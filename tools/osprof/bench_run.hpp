// One run of `osprof bench`: producer threads emit synthetic spans (two events with a small
// info, shaped like a database call) through the real emitter, paced to a rate or as fast
// as it accepts, while the emit latency, the emitter's counters and the process's memory
// are measured; then what is held is drained to the backend.
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>

#include <osprof/options.hpp>
#include <osprof/stats.hpp>

#include "bench_histogram.hpp"

namespace osprof::cli {

/// One span in this many is timed; the rest keep the timer's own cost (~20 ns per read)
/// mostly out of throughput.
inline constexpr std::uint64_t sampled_one_in = 4;

struct run_settings {
  std::string connection_string;
  int producers = 1;
  double duration_s = 10;
  double rate = 0;  ///< events/s over all producers; 0: as fast as the emitter accepts
  double drain_timeout_s = 30;
  osprof::options emitter;
};

struct run_result {
  run_settings settings;
  double load_s = 0, drain_s = 0;
  osprof::stats st;
  latency_histogram span_ticks;          ///< timed spans whose two events were both accepted
  latency_histogram dropped_span_ticks;  ///< timed spans with an event dropped (queue full)
  double ticks_per_ns = 1, timer_overhead_ns = 0;
  std::uint64_t rss_start_kib = 0, peak_rss_kib = 0, max_held = 0;
  bool drained = false;
  bool interrupted = false;

  double ns(double ticks) const { return ticks / ticks_per_ns; }
  double written_per_s() const { return (load_s + drain_s) > 0 ? static_cast<double>(st.written) / (load_s + drain_s) : 0; }
  double offered_per_s() const { return load_s > 0 ? static_cast<double>(st.emitted) / load_s : 0; }
  /// Spans with a drop return without queueing anything: their latency is not the emitter's
  /// cost. Over 1 % of timed spans dropped, the run's figure describes an overloaded emitter.
  double dropped_span_fraction() const {
    const auto all = span_ticks.count() + dropped_span_ticks.count();
    return all ? static_cast<double>(dropped_span_ticks.count()) / static_cast<double>(all) : 0;
  }
  bool latency_meaningful() const { return dropped_span_fraction() <= 0.01; }
  double drop_fraction() const { return st.emitted ? static_cast<double>(st.dropped()) / static_cast<double>(st.emitted) : 0; }
  std::uint64_t bytes_per_held_event() const {
    if (max_held == 0 || peak_rss_kib <= rss_start_kib) return 0;
    return (peak_rss_kib - rss_start_kib) * 1024 / max_held;
  }
};

/// Loads, drains and measures; shows a progress line on stderr once a second.
run_result run_once(const run_settings& s);

/// While it lives, Ctrl-C stops the load (the results so far are still reported) and a
/// second Ctrl-C kills; the previous SIGINT disposition comes back when it ends.
class interrupt_handler {
 public:
  interrupt_handler();
  ~interrupt_handler();
  interrupt_handler(const interrupt_handler&) = delete;
  interrupt_handler& operator=(const interrupt_handler&) = delete;

 private:
  struct sigaction previous_ {};
};

/// Whether Ctrl-C was pressed under the current interrupt_handler.
bool interrupted();

}  // namespace osprof::cli
