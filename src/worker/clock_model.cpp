#include "worker/clock_model.hpp"

#include <thread>

#include "core/clock.hpp"

namespace osprof::detail {

clock_model::pair clock_model::sample() noexcept {
  // The realtime read bracketed by two TSC reads; keep the tightest of a few tries.
  pair best{0, 0};
  std::uint64_t best_gap = ~std::uint64_t{0};
  for (int i = 0; i < 7; ++i) {
    const std::uint64_t t0 = read_tsc();
    const auto ns = static_cast<std::int64_t>(realtime_ns());
    const std::uint64_t t1 = read_tsc();
    if (t1 - t0 < best_gap) {
      best_gap = t1 - t0;
      best = {t0 + (t1 - t0) / 2, ns};
    }
  }
  return best;
}

void clock_model::calibrate(std::chrono::milliseconds window) {
#if OSPROF_HAVE_TSC
  first_ = sample();
  std::this_thread::sleep_for(window);
  anchor_ = sample();
  if (anchor_.tsc > first_.tsc) {
    ns_per_tick_ = static_cast<double>(anchor_.ns - first_.ns) / static_cast<double>(anchor_.tsc - first_.tsc);
  }
  calibrated_ = true;
#else
  (void)window;
#endif
}

void clock_model::resync() {
  if (!calibrated_) return;
  const pair now = sample();
  if (now.tsc > first_.tsc && now.ns > first_.ns) {
    ns_per_tick_ = static_cast<double>(now.ns - first_.ns) / static_cast<double>(now.tsc - first_.tsc);
  }
  anchor_ = now;
}

std::int64_t clock_model::to_unix_us(std::uint64_t raw, bool tsc) const noexcept {
  std::int64_t ns;
  if (tsc) {
    const auto delta = static_cast<std::int64_t>(raw - anchor_.tsc);  // may be negative: queued before the anchor
    ns = anchor_.ns + static_cast<std::int64_t>(static_cast<double>(delta) * ns_per_tick_);
  } else {
    ns = static_cast<std::int64_t>(raw);
  }
  return ns >= 0 ? ns / 1000 : (ns - 999) / 1000;
}

}  // namespace osprof::detail
