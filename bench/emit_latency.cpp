// Emit latency on the caller's thread, as published logger benchmarks measure it (Quill's
// method): time a burst of spans with the TSC, record the average per span, pause so the
// worker keeps up, repeat; report percentiles over the bursts. A span is start + stop with a
// small info. The worker drains and writes to the backend while this runs.
//
//   osprof_emit_latency [--connection-string CS]... [--bursts N] [--burst-size K] [--json FILE]
//
// Each connection string gets a row; two baselines are measured in the same run: the
// no-profiler cost (a trace point without init()) and an empty loop.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/latency_stats.hpp"

namespace {

using namespace std::chrono_literals;
using osprof_bench::percentiles;

struct settings {
  std::vector<std::string> connection_strings;
  int bursts = 20000;
  int burst_size = 20;
  std::string json_path;
};

// Busy-waits `ns` (sleeping would let the core go idle and skew the next burst).
void pause_ns(double ticks_per_ns, std::uint64_t ns) {
  const std::uint64_t until = __rdtsc() + static_cast<std::uint64_t>(ns * ticks_per_ns);
  while (__rdtsc() < until) _mm_pause();
}

double measure_ticks_per_ns() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(50ms);
  const std::uint64_t c1 = __rdtsc();
  const auto t1 = std::chrono::steady_clock::now();
  return static_cast<double>(c1 - c0) / static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

template <class F>
percentiles run_bursts(const settings& s, double ticks_per_ns, F&& one_span) {
  std::vector<double> per_span;
  per_span.reserve(static_cast<std::size_t>(s.bursts));
  for (int warm = 0; warm < 2000; ++warm) one_span(warm);
  for (int b = 0; b < s.bursts; ++b) {
    unsigned aux;
    const std::uint64_t t0 = __rdtscp(&aux);
    for (int i = 0; i < s.burst_size; ++i) one_span(i);
    const std::uint64_t t1 = __rdtscp(&aux);
    per_span.push_back(static_cast<double>(t1 - t0) / ticks_per_ns / s.burst_size);
    pause_ns(ticks_per_ns, 20000);
  }
  return osprof_bench::compute(per_span);
}

void traced_span(int i) {
  OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
  OSPROF_STOP();
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--connection-string") {
      s.connection_strings.push_back(next());
    } else if (arg == "--bursts") {
      s.bursts = std::stoi(next());
    } else if (arg == "--burst-size") {
      s.burst_size = std::stoi(next());
    } else if (arg == "--json") {
      s.json_path = next();
    } else {
      std::fprintf(stderr, "usage: %s [--connection-string CS]... [--bursts N] [--burst-size K] [--json FILE]\n", argv[0]);
      return 2;
    }
  }
  if (s.connection_strings.empty()) s.connection_strings = {"null://", "sqlite:///osprof-bench.db"};

  const double ticks_per_ns = measure_ticks_per_ns();
  std::vector<std::pair<std::string, percentiles>> rows;
  std::vector<std::string> notes;

  rows.emplace_back("empty loop (baseline)", run_bursts(s, ticks_per_ns, [](int i) { asm volatile("" ::"r"(i)); }));
  osprof::clean();
  rows.emplace_back("no profiler on the thread", run_bursts(s, ticks_per_ns, traced_span));

  for (const auto& cs : s.connection_strings) {
    osprof::options o;
    o.connection_string = cs;
    o.service = "bench";
    osprof::emitter em(o);
    osprof::init("SECRET_KEY");
    const auto p = run_bursts(s, ticks_per_ns, traced_span);
    osprof::clean();
    em.flush(60s);
    const auto st = em.get_stats();
    char note[256];
    std::snprintf(note, sizeof note, "%s: %llu events, %llu written, %llu dropped", cs.c_str(),
                  static_cast<unsigned long long>(st.emitted), static_cast<unsigned long long>(st.written),
                  static_cast<unsigned long long>(st.dropped()));
    notes.emplace_back(note);
    rows.emplace_back("span, " + cs, p);
  }

  std::printf("emit latency per span (start + stop, small info), ns; %d bursts of %d spans, TSC at %.3f GHz\n",
              s.bursts, s.burst_size, ticks_per_ns);
  osprof_bench::print_table(rows);
  for (const auto& n : notes) std::printf("  %s\n", n.c_str());
  if (!s.json_path.empty()) {
    std::ofstream out(s.json_path);
    out << osprof_bench::to_json(rows);
  }
  return 0;
}
