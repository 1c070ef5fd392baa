// The span of emit_latency.cpp with tracing compiled out: this file is built with
// -DOSPROF_DISABLE, so the macros vanish and only the loop around them remains.
#include <osprof/profiler.hpp>

#include "bench/burst_harness.hpp"

#if !defined(OSPROF_DISABLE)
#error "compiled_out.cpp must be built with OSPROF_DISABLE"
#endif

namespace osprof_bench {

std::vector<double> compiled_out_span_samples(const burst_config& c) {
  return burst_samples(c, [](int i) {
    OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
    OSPROF_STOP();
    asm volatile("" ::"r"(i));  // the caller's own work, as in the empty-loop baseline
  });
}

}  // namespace osprof_bench
