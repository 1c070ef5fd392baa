#include "bench_run.hpp"

#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <malloc.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define OSPROF_BENCH_HAS_TSC 1
#endif

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "bench_format.hpp"

namespace osprof::cli {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Ctrl-C: the first stops the load (results so far are still printed), a second one kills.
std::atomic<int> interrupts{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_interrupt(int) {
  if (interrupts.fetch_add(1, std::memory_order_relaxed) >= 1) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

constexpr std::uint64_t spans_per_trace = 100;

std::uint64_t now_ticks() noexcept {
#if OSPROF_BENCH_HAS_TSC
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(steady::now().time_since_epoch().count());
#endif
}

// Ordered reads for timing a short section (rdtscp waits for earlier instructions).
std::uint64_t timed_ticks() noexcept {
#if OSPROF_BENCH_HAS_TSC
  unsigned aux;
  return __rdtscp(&aux);
#else
  return now_ticks();
#endif
}

double measure_ticks_per_ns() {
#if OSPROF_BENCH_HAS_TSC
  const auto t0 = steady::now();
  const std::uint64_t c0 = now_ticks();
  std::this_thread::sleep_for(20ms);
  const std::uint64_t c1 = now_ticks();
  const auto t1 = steady::now();
  return static_cast<double>(c1 - c0) / static_cast<double>(std::chrono::nanoseconds(t1 - t0).count());
#else
  using period = steady::period;
  return static_cast<double>(period::den) / static_cast<double>(period::num) / 1e9;
#endif
}

// The timer's own cost: the median of an empty timed section, in ticks.
double timer_overhead_ticks() {
  latency_histogram h;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t t0 = timed_ticks();
    const std::uint64_t t1 = timed_ticks();
    h.record(t1 - t0);
  }
  return h.quantile(0.5);
}

// kB values of /proc/self/status (VmRSS, VmHWM); 0 where unavailable.
std::uint64_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream rest(line.substr(prefix.size()));
      std::uint64_t kib = 0;
      rest >> kib;
      return kib;
    }
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux: "5" to clear_refs), so each run of a sweep reports
// its own peak. Harmless where unsupported: the peak is then the process's.
void reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

void one_span(std::uint64_t i) {
  OSPROF_START("db", {{"db", {{"statement", "SELECT * FROM instances WHERE id = ?"},
                              {"params", static_cast<std::int64_t>(i)}}}});
  OSPROF_STOP();
}

// One producer: spans until told to stop, paced to `interval_ticks` per span when non-zero
// (open loop: a late producer catches up, but by no more than 1000 spans).
void produce(std::uint64_t interval_ticks, std::uint64_t sleep_above_ticks, const std::atomic<bool>& stop,
             latency_histogram& hist) {
  osprof::prepare_thread();
  std::uint64_t next = now_ticks();
  for (std::uint64_t spans = 0; !stop.load(std::memory_order_relaxed); ++spans) {
    if (spans % spans_per_trace == 0) {
      osprof::clean();
      osprof::init("SECRET_KEY");
    }
    if (interval_ticks != 0) {
      for (std::uint64_t now = now_ticks(); now < next && !stop.load(std::memory_order_relaxed); now = now_ticks()) {
        if (next - now > sleep_above_ticks) {
          std::this_thread::sleep_for(50us);
        } else {
#if OSPROF_BENCH_HAS_TSC
          _mm_pause();
#endif
        }
      }
      const std::uint64_t now = now_ticks();
      next += interval_ticks;
      if (now > next + 1000 * interval_ticks) next = now;
    }
    if (spans % sampled_one_in == 0) {
      const std::uint64_t t0 = timed_ticks();
      one_span(spans);
      const std::uint64_t t1 = timed_ticks();
      hist.record(t1 - t0);
    } else {
      one_span(spans);
    }
  }
  osprof::clean();
}

class progress_line {
 public:
  progress_line() : tty_(::isatty(STDERR_FILENO) == 1) {}
  void show(const std::string& text) {
    if (tty_) {
      std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (tty_ && shown_) std::fputs("\n", stderr);
    shown_ = false;
  }

 private:
  bool tty_;
  bool shown_ = false;
};

std::string progress_text(const char* phase, double elapsed, double total, const osprof::stats& st, double since_s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "osprof bench: %s %5.1f/%.1f s  emitted %s (%s/s)  written %s  dropped %s  held %s  RSS %.1f MiB",
                phase, elapsed, total, si(static_cast<double>(st.emitted)).c_str(),
                si(since_s > 0 ? static_cast<double>(st.emitted) / since_s : 0).c_str(),
                si(static_cast<double>(st.written)).c_str(), si(static_cast<double>(st.dropped())).c_str(),
                si(static_cast<double>(st.held)).c_str(), static_cast<double>(status_kib("VmRSS")) / 1024.0);
  return buf;
}

}  // namespace

run_result run_once(const run_settings& s) {
  run_result r;
  r.settings = s;
  r.ticks_per_ns = measure_ticks_per_ns();
  r.timer_overhead_ns = r.ns(timer_overhead_ticks());

  osprof::options o = s.emitter;
  o.connection_string = s.connection_string;
  o.strict = true;  // a benchmark that cannot reach its backend has nothing to measure
  // Give back what an earlier run of a sweep freed, so each run's memory is its own.
  malloc_trim(0);
  reset_peak_rss();
  osprof::emitter em(o);
  r.rss_start_kib = status_kib("VmRSS");

  const double per_producer_rate = s.rate / s.producers;  // events/s; a span is two events
  const std::uint64_t interval_ticks =
      s.rate > 0 ? static_cast<std::uint64_t>(2.0 / per_producer_rate * 1e9 * r.ticks_per_ns) : 0;
  const std::uint64_t sleep_above_ticks = static_cast<std::uint64_t>(200e3 * r.ticks_per_ns);  // 200 us
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<latency_histogram>> histograms;
  std::vector<std::thread> threads;
  for (int p = 0; p < s.producers; ++p) histograms.push_back(std::make_unique<latency_histogram>());

  progress_line progress;
  const auto t0 = steady::now();
  for (int p = 0; p < s.producers; ++p) {
    threads.emplace_back(produce, interval_ticks, sleep_above_ticks, std::cref(stop), std::ref(*histograms[p]));
  }
  auto next_progress = t0 + 1s;
  const auto load_end = t0 + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s.duration_s));
  while (steady::now() < load_end && !interrupted()) {
    std::this_thread::sleep_for(std::min<steady::duration>(20ms, load_end - steady::now()));
    const auto st = em.get_stats();
    r.max_held = std::max(r.max_held, st.held);
    if (steady::now() >= next_progress) {
      const double elapsed = std::chrono::duration<double>(steady::now() - t0).count();
      progress.show(progress_text("load ", elapsed, s.duration_s, st, elapsed));
      next_progress += 1s;
    }
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& t : threads) t.join();
  const auto t_loaded = steady::now();
  r.load_s = std::chrono::duration<double>(t_loaded - t0).count();
  r.max_held = std::max(r.max_held, em.get_stats().held);

  // Drain: give the backend what is held, up to the drain timeout (2 s after a Ctrl-C).
  const double drain_limit = interrupted() ? std::min(2.0, s.drain_timeout_s) : s.drain_timeout_s;
  const auto drain_deadline =
      t_loaded + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(drain_limit));
  next_progress = t_loaded + 1s;
  while (!(r.drained = em.flush(100ms))) {
    // A Ctrl-C during the drain cuts it to 2 s as well.
    if (steady::now() >= drain_deadline || (interrupted() && steady::now() - t_loaded >= 2s)) break;
    if (steady::now() >= next_progress) {
      const double elapsed = std::chrono::duration<double>(steady::now() - t_loaded).count();
      progress.show(progress_text("drain", elapsed, drain_limit, em.get_stats(), r.load_s + elapsed));
      next_progress += 1s;
    }
  }
  r.drain_s = std::chrono::duration<double>(steady::now() - t_loaded).count();
  progress.done();
  em.shutdown(1s);  // what is still held now is dropped and counted as shutdown drops
  r.st = em.get_stats();
  r.peak_rss_kib = status_kib("VmHWM");
  for (const auto& h : histograms) r.span_ticks.merge(*h);
  r.interrupted = interrupted();
  return r;
}

interrupt_handler::interrupt_handler() {
  interrupts.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &previous_);
}

interrupt_handler::~interrupt_handler() { sigaction(SIGINT, &previous_, nullptr); }

bool interrupted() { return interrupts.load(std::memory_order_relaxed) > 0; }

}  // namespace osprof::cli
