// Converts the caller's raw TSC readings to UTC on the worker side, as the fastest loggers
// do: a (TSC, CLOCK_REALTIME) anchor plus a tick rate measured over a growing baseline.
// The worker calibrates once before it formats its first event and re-anchors every second.
#pragma once

#include <chrono>
#include <cstdint>

namespace osprof::detail {

class clock_model {
 public:
  /// Measures the tick rate over `window` (blocks the calling thread for that long).
  void calibrate(std::chrono::milliseconds window);
  /// Takes a fresh anchor and refines the rate; cheap, call it about once a second.
  void resync();
  /// Microseconds since the Unix epoch for a raw reading (TSC ticks, or realtime ns).
  std::int64_t to_unix_us(std::uint64_t raw, bool tsc) const noexcept;
  double ns_per_tick() const noexcept { return ns_per_tick_; }

 private:
  struct pair {
    std::uint64_t tsc;
    std::int64_t ns;
  };
  static pair sample() noexcept;

  pair first_{};
  pair anchor_{};
  double ns_per_tick_ = 1.0;
  bool calibrated_ = false;
};

}  // namespace osprof::detail
