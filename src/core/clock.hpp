// Caller-side timestamps. A raw TSC read (~10 ns here) when the TSC is invariant, converted
// to UTC on the worker side (worker/clock_model.hpp); clock_gettime(CLOCK_REALTIME) otherwise.
#pragma once

#include <cstdint>
#include <ctime>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define OSPROF_HAVE_TSC 1
#else
#define OSPROF_HAVE_TSC 0
#endif

#include <osprof/options.hpp>

namespace osprof::detail {

inline std::uint64_t read_tsc() noexcept {
#if OSPROF_HAVE_TSC
  return __rdtsc();
#else
  return 0;
#endif
}

inline std::uint64_t realtime_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// Whether the TSC can stamp events on this machine: x86, with constant_tsc and nonstop_tsc.
bool tsc_is_invariant();

/// Resolves `automatic` (and a `tsc` request on a machine without an invariant TSC).
bool use_tsc(clock_source requested);

}  // namespace osprof::detail
