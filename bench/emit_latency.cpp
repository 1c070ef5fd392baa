// Emit latency on the caller's thread, as published logger benchmarks measure it (Quill's
// method, bench/burst_harness.hpp): time a burst of K operations with the TSC, record the
// average per operation, pause so the worker keeps up, repeat; report percentiles over the
// bursts. The worker drains and writes to the real backend while this runs.
//
//   osprof_emit_latency [--connection-string CS]... [--bursts N] [--burst-size K]
//                       [--pause-us P] [--threads 1,2,4] [--neighbour-rates R1,R2]
//                       [--neighbour-driver CS] [--in-turns-driver CS] [--no-baselines]
//                       [--json FILE]
//
// Rows per connection string: one span (start + stop, a small info) and one trace point (a
// start alone; the burst's points are closed untimed) on one thread, then the span on each
// thread count of --threads (every thread runs its own bursts at once, pausing threads times
// as long, so the backend sees the same event rate; the table merges them). With
// --neighbour-rates, for --neighbour-driver (default null://): the one-thread span again while
// another thread emits spans at each rate (paced every 100 us, sleeping between), to show
// whether one producer's latency grows with another's rate. For --in-turns-driver (default
// null://, "" for none): the one-thread span and the floor with the TSC and 64-byte events again,
// burst after burst in turns, so that their ratio does not depend on the phase of a shared
// machine each was measured in (two rows). Baselines in the same run: an
// empty loop; the floor (two clock reads and two pushes of a 64-byte event into a moodycamel
// ConcurrentQueue with a consumer draining it, with clock_gettime and with the TSC, and with a
// 256-byte event as osprof's); a span on a thread without a profiler; a span compiled out
// (OSPROF_DISABLE).
#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <concurrentqueue.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/burst_harness.hpp"
#include "bench/floor.hpp"

namespace {

using namespace std::chrono_literals;
using osprof_bench::burst_config;
using osprof_bench::floor_event;
using osprof_bench::floor_event_256;
using osprof_bench::percentiles;
using osprof_bench::push_floor_span;
using osprof_bench::read_tsc;

struct settings {
  std::vector<std::string> connection_strings;
  burst_config bursts{.bursts = 20000, .burst_size = 20, .pause_ns = 20'000};
  std::vector<int> threads = {1};
  std::vector<int> neighbour_rates;  // spans/s of a second producer
  std::string neighbour_driver = "null://";
  std::string in_turns_driver = "null://";  // "" for none
  bool baselines = true;
  std::string json_path;
};

struct row {
  std::string name;
  std::string kind;  // baseline, span or point
  std::string connection_string;
  int threads = 1;
  percentiles p;
  std::uint64_t emitted = 0, written = 0, dropped = 0;
  int neighbour_spans_per_s = 0;  // a second producer's rate meanwhile (kind "neighbour")
  std::uint64_t neighbour_spans = 0;
};

void traced_span(int i) {
  OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}});
  OSPROF_STOP();
}

void traced_point(int i) { OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", i}}}}); }

// A new trace per burst, as a request would start one (untimed).
void next_trace() {
  osprof::clean();
  osprof::init("SECRET_KEY");
}

// Runs `samples_of()` on `n` threads at once and merges their burst averages.
std::vector<double> on_threads(int n, const std::function<std::vector<double>()>& samples_of) {
  std::vector<std::vector<double>> per_thread(static_cast<std::size_t>(n));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      osprof::prepare_thread();
      ready.fetch_add(1);
      while (ready.load() < n) std::this_thread::yield();
      per_thread[static_cast<std::size_t>(t)] = samples_of();
    });
  }
  for (auto& th : threads) th.join();
  std::vector<double> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  return all;
}

// Another producer on its own thread, emitting spans at `spans_per_s` while it lives: every
// 100 us the spans due, then a sleep (not a busy wait, so it takes the CPU its rate needs).
// A new trace every 100 spans, as `osprof bench` does.
class neighbour {
 public:
  explicit neighbour(int spans_per_s) : rate_(spans_per_s) {
    if (rate_ > 0) thread_ = std::thread([this] { run(); });
  }
  ~neighbour() { stop(); }
  std::uint64_t stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return spans_;
  }

 private:
  void run() {
    osprof::prepare_thread();
    osprof::init("SECRET_KEY");
    const auto tick = 100us;
    const double per_tick = static_cast<double>(rate_) * 1e-4;
    const auto started = std::chrono::steady_clock::now();
    auto next = started;
    while (!stop_.load(std::memory_order_relaxed)) {
      next += tick;
      const auto due = static_cast<std::uint64_t>(per_tick * static_cast<double>((next - started) / tick));
      // A neighbour that fell behind (preempted) catches up by at most one tick's worth more.
      const auto most = 2 * static_cast<std::uint64_t>(per_tick) + 1;
      for (std::uint64_t emitted = 0; spans_ < due && emitted < most; ++emitted) {
        if (spans_ % 100 == 0) next_trace_of_neighbour();
        OSPROF_START("db", {{"db", {{"statement", "SELECT 1"}, {"params", static_cast<std::int64_t>(spans_)}}}});
        OSPROF_STOP();
        ++spans_;
      }
      std::this_thread::sleep_until(next);
    }
    osprof::clean();
  }
  static void next_trace_of_neighbour() {
    osprof::clean();
    osprof::init("SECRET_KEY");
  }

  int rate_;
  std::atomic<bool> stop_{false};
  std::uint64_t spans_ = 0;
  std::thread thread_;
};

// The floor (bench/floor.hpp) with a consumer that drains in bulk and sleeps 1 ms when the
// queue is empty (as the emitter's worker polls by default).
template <class Event>
class floor_queue {
 public:
  floor_queue() : consumer_([this] { drain(); }) {}
  ~floor_queue() {
    stop_.store(true);
    consumer_.join();
  }
  floor_queue(const floor_queue&) = delete;
  floor_queue& operator=(const floor_queue&) = delete;

  /// One floor operation: two clock reads, two pushes.
  template <class Clock>
  void push_two(int i, Clock& clock) {
    push_floor_span(queue_, producer_, event_, static_cast<std::uint64_t>(i), clock);
  }

 private:
  void drain() {
    moodycamel::ConsumerToken token(queue_);
    std::vector<Event> batch(512);
    while (!stop_.load(std::memory_order_relaxed)) {
      if (queue_.try_dequeue_bulk(token, batch.data(), batch.size()) == 0) std::this_thread::sleep_for(1ms);
    }
  }

  moodycamel::ConcurrentQueue<Event> queue_{1 << 16};
  moodycamel::ProducerToken producer_{queue_};
  Event event_{};
  std::atomic<bool> stop_{false};
  std::thread consumer_;  // last: it starts once the queue exists
};

template <class Event = floor_event, class Clock>
std::vector<double> floor_samples(const burst_config& c, Clock&& clock) {
  floor_queue<Event> floor;
  return osprof_bench::burst_samples(c, [&](int i) { floor.push_two(i, clock); });
}

std::uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::size_t from = 0;
  while (from < text.size()) {
    const auto comma = text.find(',', from);
    out.push_back(std::stoi(text.substr(from, comma - from)));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

void write_json(const settings& s, const std::vector<row>& rows, const std::string& path) {
  std::ofstream out(path);
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "{\"method\": \"bursts of %d operations timed with rdtscp, average per operation recorded, "
                "%.0f us busy-wait between bursts, %d bursts per thread after %d warm-up bursts; percentiles over "
                "the burst averages\",\n \"tsc_ghz\": %.4f, \"bursts\": %d, \"burst_size\": %d, \"pause_us\": %.1f,\n"
                " \"rows\": [\n",
                s.bursts.burst_size, static_cast<double>(s.bursts.pause_ns) / 1e3, s.bursts.bursts,
                s.bursts.warmup_bursts, s.bursts.ticks_per_ns, s.bursts.bursts, s.bursts.burst_size,
                static_cast<double>(s.bursts.pause_ns) / 1e3);
  out << buf;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::snprintf(buf, sizeof buf,
                  "\"threads\": %d, \"p50_ns\": %.2f, \"p90_ns\": %.2f, \"p99_ns\": %.2f, \"p999_ns\": %.2f, "
                  "\"max_ns\": %.2f, \"mean_ns\": %.2f, \"samples\": %zu, \"emitted\": %llu, \"written\": %llu, "
                  "\"dropped\": %llu, \"neighbour_spans_per_s\": %d, \"neighbour_spans\": %llu}",
                  r.threads, r.p.p50, r.p.p90, r.p.p99, r.p.p999, r.p.max, r.p.mean, r.p.samples,
                  static_cast<unsigned long long>(r.emitted), static_cast<unsigned long long>(r.written),
                  static_cast<unsigned long long>(r.dropped), r.neighbour_spans_per_s,
                  static_cast<unsigned long long>(r.neighbour_spans));
    out << "  {\"case\": " << json_string(r.name) << ", \"kind\": " << json_string(r.kind)
        << ", \"connection_string\": " << json_string(r.connection_string) << ", " << buf
        << (i + 1 < rows.size() ? ",\n" : "\n");
  }
  out << " ]}\n";
}

}  // namespace

int main(int argc, char** argv) {
  osprof::register_builtin_drivers();
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
      s.bursts.bursts = std::stoi(next());
    } else if (arg == "--burst-size") {
      s.bursts.burst_size = std::stoi(next());
    } else if (arg == "--pause-us") {
      s.bursts.pause_ns = static_cast<std::uint64_t>(std::stod(next()) * 1e3);
    } else if (arg == "--threads") {
      s.threads = parse_list(next());
    } else if (arg == "--neighbour-rates") {
      s.neighbour_rates = parse_list(next());
    } else if (arg == "--neighbour-driver") {
      s.neighbour_driver = next();
    } else if (arg == "--in-turns-driver") {
      s.in_turns_driver = next();
    } else if (arg == "--no-baselines") {
      s.baselines = false;
    } else if (arg == "--json") {
      s.json_path = next();
    } else {
      std::fprintf(stderr,
                   "usage: %s [--connection-string CS]... [--bursts N] [--burst-size K] [--pause-us P] "
                   "[--threads 1,2,4] [--neighbour-rates R1,R2] [--neighbour-driver CS] [--in-turns-driver CS] "
                   "[--no-baselines] [--json FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  if (s.connection_strings.empty()) s.connection_strings = {"null://", "sqlite:///osprof-bench.db"};
  s.bursts.warmup_bursts = std::min(100, std::max(1, s.bursts.bursts / 10));
  s.bursts.ticks_per_ns = osprof_bench::measure_ticks_per_ns();
  const burst_config& c = s.bursts;

  std::vector<row> rows;
  const auto add = [&](std::string name, std::string kind, std::string cs, int threads, std::vector<double> samples) {
    rows.push_back({std::move(name), std::move(kind), std::move(cs), threads, osprof_bench::compute(std::move(samples))});
    std::fprintf(stderr, "  measured: %s\n", rows.back().name.c_str());
  };

  if (s.baselines) {
    add("empty loop (baseline)", "baseline", "", 1,
        osprof_bench::burst_samples(c, [](int i) { asm volatile("" ::"r"(i)); }));
    add("floor: 2 x (clock_gettime + moodycamel push, 64 B)", "baseline", "", 1, floor_samples(c, realtime_ns));
    add("floor: 2 x (rdtsc + moodycamel push, 64 B)", "baseline", "", 1, floor_samples(c, read_tsc));
    add("floor: 2 x (rdtsc + moodycamel push, 256 B)", "baseline", "", 1, floor_samples<floor_event_256>(c, read_tsc));
    osprof::clean();
    add("span, no profiler on the thread", "baseline", "", 1, osprof_bench::burst_samples(c, traced_span));
    add("span, compiled out (OSPROF_DISABLE)", "baseline", "", 1, osprof_bench::compiled_out_span_samples(c));
  }

  for (const auto& cs : s.connection_strings) {
    osprof::options o;
    o.connection_string = cs;
    o.service = "bench";
    o.strict = true;  // measure the backend asked for, or fail
    osprof::emitter em(o);
    // Each row starts from an empty queue and counts its own events.
    osprof::stats before;
    const auto measured = [&](std::string name, std::string kind, int threads, std::vector<double> samples) {
      em.flush(60s);
      const auto after = em.get_stats();
      add(std::move(name), std::move(kind), cs, threads, std::move(samples));
      rows.back().emitted = after.emitted - before.emitted;
      rows.back().written = after.written - before.written;
      rows.back().dropped = after.dropped() - before.dropped();
      before = after;
    };
    const auto span_samples = [](const burst_config& config) {
      next_trace();
      auto v = osprof_bench::burst_samples(config, traced_span, next_trace);
      osprof::clean();
      return v;
    };
    const auto point_samples = [&c] {
      next_trace();
      auto v = osprof_bench::burst_samples(c, traced_point, [&c] {
        for (int i = 0; i < c.burst_size; ++i) OSPROF_STOP();
        next_trace();
      });
      osprof::clean();
      return v;
    };
    measured("span, " + cs, "span", 1, span_samples(c));
    if (cs == s.in_turns_driver) {
      // The span and the floor (rdtsc, 64-byte pushes) burst after burst, for the ratio of
      // the two that does not depend on the machine's phase when each was measured.
      floor_queue<floor_event> floor;
      next_trace();
      auto [floor_bursts, span_bursts] = osprof_bench::burst_samples_in_turns(
          c, [&](int i) { floor.push_two(i, read_tsc); }, [] {}, traced_span, next_trace);
      osprof::clean();
      measured("span, " + cs + ", in turns with the floor", "span_in_turns", 1, std::move(span_bursts));
      add("floor: 2 x (rdtsc + moodycamel push, 64 B), in turns with the span", "floor_in_turns", cs, 1,
          std::move(floor_bursts));
    }
    measured("trace point, " + cs, "point", 1, point_samples());
    for (int t : s.threads) {
      if (t <= 1) continue;
      // The same total event rate and sample count as one thread: each of t threads pauses t
      // times as long and runs 1/t of the bursts, so the backend sees the same load.
      burst_config per_thread = c;
      per_thread.pause_ns = c.pause_ns * static_cast<std::uint64_t>(t);
      per_thread.bursts = std::max(1, c.bursts / t);
      measured("span, " + cs + ", " + std::to_string(t) + " threads", "span", t,
               on_threads(t, [&] { return span_samples(per_thread); }));
    }
    if (cs != s.neighbour_driver) continue;
    for (int rate : s.neighbour_rates) {
      neighbour other(rate);
      auto samples = span_samples(c);
      const std::uint64_t spans = other.stop();
      measured("span, " + cs + ", beside a producer at " + std::to_string(rate) + " spans/s", "neighbour", 1,
               std::move(samples));
      rows.back().neighbour_spans_per_s = rate;
      rows.back().neighbour_spans = spans;
    }
  }

  std::printf("emit latency per operation, ns: bursts of %d timed with rdtscp, %.0f us between bursts, %d bursts per "
              "thread; TSC at %.3f GHz\n",
              c.burst_size, static_cast<double>(c.pause_ns) / 1e3, c.bursts, c.ticks_per_ns);
  std::printf("%-60s %8s %8s %8s %8s %10s %9s\n", "case", "p50", "p90", "p99", "p99.9", "max", "dropped");
  for (const auto& r : rows) {
    std::printf("%-60s %8.1f %8.1f %8.1f %8.1f %10.1f %9llu\n", r.name.c_str(), r.p.p50, r.p.p90, r.p.p99, r.p.p999,
                r.p.max, static_cast<unsigned long long>(r.dropped));
  }
  if (!s.json_path.empty()) write_json(s, rows, s.json_path);
  return 0;
}
