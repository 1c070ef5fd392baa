// Warm, dense costs with Google Benchmark, next to the burst harness's sparse ones: spans
// emitted back to back (8,192 per timed batch, 16,384 events: within the queue's capacity, so
// nothing is dropped), the worker draining untimed between batches; the same for the floor
// (two clock reads and two 64-byte moodycamel pushes); and the primitives both are made of.
// Reported per span (manual time / spans).
#include <benchmark/benchmark.h>
#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <concurrentqueue.h>
#include <time.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int spans_per_batch = 8192;

void set_per_span(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * spans_per_batch);
  state.counters["ns_per_span"] = benchmark::Counter(static_cast<double>(state.iterations() * spans_per_batch),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_span_warm(benchmark::State& state, const char* connection_string, bool with_info) {
  osprof::options o;
  o.connection_string = connection_string;
  o.service = "bench";
  o.strict = true;  // measure the backend asked for, or fail
  osprof::emitter em(o);
  osprof::init("SECRET_KEY");
  for (auto _ : state) {
    const auto t0 = steady::now();
    if (with_info) {
      for (int i = 0; i < spans_per_batch; ++i) {
        OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
        OSPROF_STOP();
      }
    } else {
      for (int i = 0; i < spans_per_batch; ++i) {
        OSPROF_START("db");
        OSPROF_STOP();
      }
    }
    const auto t1 = steady::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    em.flush(60s);
    osprof::clean();
    osprof::init("SECRET_KEY");
  }
  osprof::clean();
  em.flush(60s);
  if (em.get_stats().dropped() != 0) state.SkipWithError("events were dropped: not the emit path");
  set_per_span(state);
}
BENCHMARK_CAPTURE(BM_span_warm, null, "null://", true)->UseManualTime();
// The same span without info: what the info's encoding adds.
BENCHMARK_CAPTURE(BM_span_warm, null_no_info, "null://", false)->UseManualTime();

struct alignas(64) floor_event {
  std::uint64_t ids[4];
  std::uint64_t timestamp;
  const char* name;
  std::uint64_t kind_and_count;
  const void* fields;
};
static_assert(sizeof(floor_event) == 64);

std::uint64_t read_tsc() { return __rdtsc(); }

std::uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

template <std::uint64_t (*read_clock)()>
void BM_floor_warm(benchmark::State& state) {
  moodycamel::ConcurrentQueue<floor_event> queue(1 << 16);
  moodycamel::ProducerToken producer(queue);
  moodycamel::ConsumerToken consumer(queue);
  std::vector<floor_event> drained(4096);
  floor_event ev{};
  ev.name = "db";
  for (auto _ : state) {
    const auto t0 = steady::now();
    for (int i = 0; i < spans_per_batch; ++i) {
      ev.kind_and_count = 0;
      ev.timestamp = read_clock();
      queue.enqueue(producer, ev);
      ev.kind_and_count = 1;
      ev.timestamp = read_clock();
      queue.enqueue(producer, ev);
    }
    const auto t1 = steady::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    while (queue.try_dequeue_bulk(consumer, drained.data(), drained.size()) != 0) {
    }
  }
  set_per_span(state);
}
// The floor reads the TSC (as osprof does where the TSC is invariant); the realtime
// one is what a span pays with OSPROF_CLOCK=realtime.
BENCHMARK(BM_floor_warm<read_tsc>)->Name("BM_floor_warm/tsc")->UseManualTime();
BENCHMARK(BM_floor_warm<realtime_ns>)->Name("BM_floor_warm/realtime")->UseManualTime();

void BM_span_no_profiler(benchmark::State& state) {
  osprof::clean();
  int i = 0;
  for (auto _ : state) {
    OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
    OSPROF_STOP();
    benchmark::DoNotOptimize(++i);
  }
}
BENCHMARK(BM_span_no_profiler);

void BM_clock_gettime_realtime(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(realtime_ns());
}
BENCHMARK(BM_clock_gettime_realtime);

void BM_rdtsc(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(__rdtsc());
}
BENCHMARK(BM_rdtsc);

}  // namespace

int main(int argc, char** argv) {
  osprof::register_builtin_drivers();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
