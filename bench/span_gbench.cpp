// Warm, dense costs with Google Benchmark, next to the burst harness's sparse ones: spans
// emitted back to back (8,192 per timed batch, 16,384 events: within the queue's capacity, so
// nothing is dropped), the worker draining untimed between batches; the same for the floor
// (two clock reads and two 64-byte moodycamel pushes); a bound on a span written as one
// record into a thread's own ring (BM_one_record_floor_warm); and the primitives all are made
// of. Reported per span (manual time / spans).
#include <benchmark/benchmark.h>
#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <concurrentqueue.h>
#include <time.h>
#include <x86intrin.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/floor.hpp"
#include "core/info_codec.hpp"
#include "core/random.hpp"

namespace {

using namespace std::chrono_literals;
using osprof_bench::floor_event;
using osprof_bench::push_floor_span;
using osprof_bench::read_tsc;
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
  for (auto _ : state) {
    const auto t0 = steady::now();
    for (int i = 0; i < spans_per_batch; ++i) push_floor_span(queue, producer, ev, static_cast<std::uint64_t>(i), read_clock);
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

// What the redesign the span targets call for would cost at best here: one variable-size
// record per span, written at the stop into a ring of bytes that only this thread writes (one
// release store publishes it), with osprof's id generator and osprof's info encoding, and none
// of osprof's checks (running state, capacity credits, name and size limits, exceptions, spill).
// The start's time, id and info wait on the stack, as `hold_starts` keeps them in the profiler.
// Not a design: a bound on one.
struct byte_ring {
  static constexpr std::size_t size = std::size_t{1} << 22;  // 4 MiB: a batch of spans fits
  std::unique_ptr<std::byte[]> bytes = std::make_unique<std::byte[]>(size);
  alignas(64) std::atomic<std::size_t> written{0};  // what the consumer may read
};

struct held_span {
  osprof::uuid id;
  std::uint64_t start;
  std::uint32_t info_size;
  std::byte info[168];
};

template <bool with_info>
void BM_one_record_floor_warm(benchmark::State& state) {
  using namespace osprof::detail;
  byte_ring ring;
  const osprof::uuid base = random_uuid(), parent = random_uuid();
  constexpr std::string_view name = "db";
  for (auto _ : state) {
    const auto t0 = steady::now();
    std::size_t at = ring.written.load(std::memory_order_relaxed);
    for (int i = 0; i < spans_per_batch; ++i) {
      // start
      held_span held;
      held.id = random_uuid();
      std::byte* info_end = held.info;
      if constexpr (with_info) {
        // In one full expression, as in a trace point: the nested list lives until its end.
        const auto encode = [&](osprof::info fields) {
          return encode_info_bounded(held.info, held.info + sizeof held.info, {fields.begin(), fields.size()});
        };
        info_end = encode({{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
      } else {
        info_end = encode_info_bounded(held.info, held.info + sizeof held.info, {});
      }
      held.info_size = static_cast<std::uint32_t>(info_end - held.info);
      held.start = __rdtsc();
      // stop: header (three ids, two times, sizes), name, the start's info, the stop's (none)
      const std::uint64_t stop = __rdtsc();
      std::byte* out = ring.bytes.get() + at;
      std::memcpy(out, &base, 16);
      std::memcpy(out + 16, &held.id, 16);
      std::memcpy(out + 32, &parent, 16);
      std::memcpy(out + 48, &held.start, 8);
      std::memcpy(out + 56, &stop, 8);
      const std::uint32_t sizes[2] = {static_cast<std::uint32_t>(name.size()), held.info_size};
      std::memcpy(out + 64, sizes, 8);
      std::memcpy(out + 72, name.data(), name.size());
      std::memcpy(out + 72 + name.size(), held.info, held.info_size);
      const std::uint32_t no_stop_info = 0;
      std::memcpy(out + 72 + name.size() + held.info_size, &no_stop_info, 4);
      at += (76 + name.size() + held.info_size + 7) & ~std::size_t{7};
      ring.written.store(at, std::memory_order_release);
    }
    const auto t1 = steady::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    benchmark::DoNotOptimize(ring.bytes.get());
    ring.written.store(0, std::memory_order_relaxed);  // drained, untimed
  }
  set_per_span(state);
}
BENCHMARK(BM_one_record_floor_warm<true>)->Name("BM_one_record_floor_warm/info")->UseManualTime();
BENCHMARK(BM_one_record_floor_warm<false>)->Name("BM_one_record_floor_warm/no_info")->UseManualTime();

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
