// The burst method of the published logger benchmarks (Quill's): time a burst of K operations
// with the TSC, record the average per operation, pause so the worker keeps up, repeat;
// percentiles are over the burst averages. Shared by the harness's translation units, one of
// which is compiled with OSPROF_DISABLE.
#pragma once

#include <x86intrin.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "bench/latency_stats.hpp"

namespace osprof_bench {

struct burst_config {
  int bursts = 3000;
  int burst_size = 20;
  std::uint64_t pause_ns = 1'000'000;  // between bursts: keeps the event rate below what backends take
  int warmup_bursts = 100;
  double ticks_per_ns = 1.0;
};

inline double measure_ticks_per_ns() {
  using namespace std::chrono_literals;
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(50ms);
  const std::uint64_t c1 = __rdtsc();
  const auto t1 = std::chrono::steady_clock::now();
  return static_cast<double>(c1 - c0) /
         static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

// Busy-waits (sleeping would let the core idle and make the next burst start cold).
inline void pause_ns(double ticks_per_ns, std::uint64_t ns) {
  const std::uint64_t until = __rdtsc() + static_cast<std::uint64_t>(static_cast<double>(ns) * ticks_per_ns);
  while (__rdtsc() < until) _mm_pause();
}

/// One burst: `op(i)` timed `burst_size` times, then `after_burst()` untimed, then the pause.
/// The average per operation, in ns.
template <class Op, class After>
double one_burst(const burst_config& c, Op& op, After& after_burst) {
  unsigned aux;
  const std::uint64_t t0 = __rdtscp(&aux);
  for (int i = 0; i < c.burst_size; ++i) op(i);
  const std::uint64_t t1 = __rdtscp(&aux);
  after_burst();
  pause_ns(c.ticks_per_ns, c.pause_ns);
  return static_cast<double>(t1 - t0) / c.ticks_per_ns / c.burst_size;
}

/// Per-operation averages of each burst, in ns. `op(i)` is timed; `after_burst()` runs untimed
/// after each burst (e.g. closing the trace points a burst of starts opened).
template <class Op, class After>
std::vector<double> burst_samples(const burst_config& c, Op&& op, After&& after_burst) {
  std::vector<double> per_op;
  per_op.reserve(static_cast<std::size_t>(c.bursts));
  for (int b = -c.warmup_bursts; b < c.bursts; ++b) {
    const double ns = one_burst(c, op, after_burst);
    if (b >= 0) per_op.push_back(ns);
  }
  return per_op;
}

template <class Op>
std::vector<double> burst_samples(const burst_config& c, Op&& op) {
  return burst_samples(c, op, [] {});
}

/// Two operations measured in turns, burst after burst (a burst of `a`, a pause, a burst of
/// `b`, a pause), so that both meet the same phases of a shared machine: measured one after
/// the other, a baseline and the operation compared with it can land in phases whose costs
/// differ by 2x. Per-operation averages of each one's bursts, in ns.
template <class OpA, class AfterA, class OpB, class AfterB>
std::pair<std::vector<double>, std::vector<double>> burst_samples_in_turns(const burst_config& c, OpA&& a,
                                                                            AfterA&& after_a, OpB&& b,
                                                                            AfterB&& after_b) {
  std::pair<std::vector<double>, std::vector<double>> per_op;
  per_op.first.reserve(static_cast<std::size_t>(c.bursts));
  per_op.second.reserve(static_cast<std::size_t>(c.bursts));
  for (int burst = -c.warmup_bursts; burst < c.bursts; ++burst) {
    const double a_ns = one_burst(c, a, after_a);
    const double b_ns = one_burst(c, b, after_b);
    if (burst >= 0) {
      per_op.first.push_back(a_ns);
      per_op.second.push_back(b_ns);
    }
  }
  return per_op;
}

/// The same operation with tracing compiled out (compiled_out.cpp, built with OSPROF_DISABLE).
std::vector<double> compiled_out_span_samples(const burst_config& c);

}  // namespace osprof_bench
