// `osprof bench`: drives a synthetic workload (spans of two events with a small info, shaped
// like a database call) through the real emitter into a backend, and reports what an operator
// tunes against: emit latency on the producing threads, throughput, drops by reason, write
// latency per batch and peak memory. `--sweep SETTING=V1,V2,...` repeats the run for each
// value and draws throughput and p99 emit latency against the setting (SVG).
#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include <malloc.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define OSPROF_BENCH_HAS_TSC 1
#endif

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_chart.hpp"
#include "bench_histogram.hpp"
#include "cli.hpp"
#include "common/json_writer.hpp"
#include <osprof/connection_string.hpp>

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

bool interrupted() { return interrupts.load(std::memory_order_relaxed) > 0; }

// Sampling 1 span in 4 keeps the timer's own cost (~20 ns per read) mostly out of throughput.
constexpr std::uint64_t sample_mask = 3;
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

struct run_settings {
  std::string connection_string;
  int producers = 1;
  double duration_s = 10;
  double rate = 0;  // events/s over all producers; 0: as fast as the emitter accepts
  double drain_timeout_s = 30;
  osprof::options emitter;
};

struct run_result {
  run_settings settings;
  double load_s = 0, drain_s = 0;
  osprof::stats st;
  latency_histogram span_ticks;
  double ticks_per_ns = 1, timer_overhead_ns = 0;
  std::uint64_t rss_start_kib = 0, peak_rss_kib = 0, max_held = 0;
  bool drained = false;
  bool interrupted = false;

  double ns(double ticks) const { return ticks / ticks_per_ns; }
  double written_per_s() const { return (load_s + drain_s) > 0 ? static_cast<double>(st.written) / (load_s + drain_s) : 0; }
  double offered_per_s() const { return load_s > 0 ? static_cast<double>(st.emitted) / load_s : 0; }
  double drop_fraction() const { return st.emitted ? static_cast<double>(st.dropped()) / static_cast<double>(st.emitted) : 0; }
  std::uint64_t bytes_per_held_event() const {
    if (max_held == 0 || peak_rss_kib <= rss_start_kib) return 0;
    return (peak_rss_kib - rss_start_kib) * 1024 / max_held;
  }
};

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
    if ((spans & sample_mask) == 0) {
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

std::string si(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
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

run_result run_once(const run_settings& s) {
  run_result r;
  r.settings = s;
  r.ticks_per_ns = measure_ticks_per_ns();
  r.timer_overhead_ns = r.ns(timer_overhead_ticks());

  osprof::options o = s.emitter;
  o.connection_string = s.connection_string;
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

const char* overflow_name(osprof::overflow_policy p) {
  return p == osprof::overflow_policy::block ? "block" : "drop";
}

void print_run(const run_result& r) {
  const auto& s = r.settings;
  const auto& o = s.emitter;
  const auto& st = r.st;
  const auto q = [&](double quantile) { return r.ns(r.span_ticks.quantile(quantile)); };
  std::printf("osprof bench: %s for %.2f s, %d producer(s), rate %s, overflow %s%s\n",
              redact_connection_string(s.connection_string).c_str(), r.load_s, s.producers,
              s.rate > 0 ? (si(s.rate) + " events/s").c_str() : "unlimited", overflow_name(o.overflow),
              r.interrupted ? "  (interrupted: results so far)" : "");
  std::printf("  settings      queue capacity %zu (%.0f MiB), batch size %zu, flush interval %lld ms, block timeout %lld ms, "
              "write timeout %lld ms\n",
              o.queue_capacity, static_cast<double>(o.queue_max_bytes) / 1048576.0, o.batch_size,
              static_cast<long long>(o.flush_interval.count()),
              static_cast<long long>(o.block_timeout.count()), static_cast<long long>(o.write_timeout.count()));
  std::printf("  events        emitted %llu, written %llu, dropped %llu (queue full %llu, backend %llu, shutdown %llu)\n",
              static_cast<unsigned long long>(st.emitted), static_cast<unsigned long long>(st.written),
              static_cast<unsigned long long>(st.dropped()), static_cast<unsigned long long>(st.dropped_queue_full),
              static_cast<unsigned long long>(st.dropped_backend), static_cast<unsigned long long>(st.dropped_shutdown));
  std::printf("  throughput    offered %s events/s over %.2f s; written %s events/s (including %.2f s of drain%s)\n",
              si(r.offered_per_s()).c_str(), r.load_s, si(r.written_per_s()).c_str(), r.drain_s,
              r.drained ? "" : ", not drained");
  std::printf("  emit latency  per span (start + stop), ns: p50 %.0f, p90 %.0f, p99 %.0f, p99.9 %.0f, max %.0f "
              "(%llu spans timed, 1 in %llu; includes the timer, ~%.0f ns)\n",
              q(0.5), q(0.9), q(0.99), q(0.999), r.ns(static_cast<double>(r.span_ticks.max())),
              static_cast<unsigned long long>(r.span_ticks.count()),
              static_cast<unsigned long long>(sample_mask + 1), r.timer_overhead_ns);
  std::printf("  backend       %llu batches, write latency avg %llu us, p99 <= %llu us, max %llu us; %llu failed "
              "writes, %llu retries%s%s\n",
              static_cast<unsigned long long>(st.batches_written), static_cast<unsigned long long>(st.write_latency_avg_us),
              static_cast<unsigned long long>(st.write_latency_p99_us),
              static_cast<unsigned long long>(st.write_latency_max_us), static_cast<unsigned long long>(st.write_failures),
              static_cast<unsigned long long>(st.retries), st.last_error.empty() ? "" : "; last error: ",
              st.last_error.c_str());
  std::printf("  memory        peak RSS %.1f MiB (%.1f MiB with the emitter started); at most %llu events held",
              static_cast<double>(r.peak_rss_kib) / 1024.0, static_cast<double>(r.rss_start_kib) / 1024.0,
              static_cast<unsigned long long>(r.max_held));
  if (r.bytes_per_held_event() > 0 && r.max_held >= 1000) {
    std::printf(", ~%llu bytes of RSS per held event", static_cast<unsigned long long>(r.bytes_per_held_event()));
  }
  std::printf("\n");
}

void append_field(std::string& out, const char* name, double v, bool comma = true) {
  out += "\"";
  out += name;
  out += "\": ";
  detail::append_json_double(out, v);
  if (comma) out += ", ";
}
void append_field(std::string& out, const char* name, std::uint64_t v, bool comma = true) {
  out += "\"";
  out += name;
  out += "\": ";
  detail::append_json_uint(out, v);
  if (comma) out += ", ";
}

std::string run_json(const run_result& r) {
  const auto& s = r.settings;
  const auto& o = s.emitter;
  const auto& st = r.st;
  const auto q = [&](double quantile) { return r.ns(r.span_ticks.quantile(quantile)); };
  std::string j = "{\"connection_string\": ";
  detail::append_json_string(j, redact_connection_string(s.connection_string));
  j += ", \"settings\": {";
  append_field(j, "producers", static_cast<std::uint64_t>(s.producers));
  append_field(j, "duration_s", s.duration_s);
  append_field(j, "rate_events_per_s", s.rate);
  append_field(j, "queue_capacity", static_cast<std::uint64_t>(o.queue_capacity));
  append_field(j, "queue_max_bytes", static_cast<std::uint64_t>(o.queue_max_bytes));
  append_field(j, "batch_size", static_cast<std::uint64_t>(o.batch_size));
  append_field(j, "flush_interval_ms", static_cast<std::uint64_t>(o.flush_interval.count()));
  append_field(j, "block_timeout_ms", static_cast<std::uint64_t>(o.block_timeout.count()));
  append_field(j, "write_timeout_ms", static_cast<std::uint64_t>(o.write_timeout.count()));
  j += std::string("\"overflow\": \"") + overflow_name(o.overflow) + "\"}, ";
  append_field(j, "load_s", r.load_s);
  append_field(j, "drain_s", r.drain_s);
  j += std::string("\"drained\": ") + (r.drained ? "true" : "false") + ", ";
  j += std::string("\"interrupted\": ") + (r.interrupted ? "true" : "false") + ", ";
  j += "\"events\": {";
  append_field(j, "emitted", st.emitted);
  append_field(j, "written", st.written);
  append_field(j, "dropped", st.dropped());
  append_field(j, "dropped_queue_full", st.dropped_queue_full);
  append_field(j, "dropped_backend", st.dropped_backend);
  append_field(j, "dropped_shutdown", st.dropped_shutdown);
  append_field(j, "drop_fraction", r.drop_fraction(), false);
  j += "}, \"throughput\": {";
  append_field(j, "offered_events_per_s", r.offered_per_s());
  append_field(j, "written_events_per_s", r.written_per_s(), false);
  j += "}, \"emit_latency_ns\": {\"unit\": \"one span (start + stop)\", ";
  append_field(j, "p50", q(0.5));
  append_field(j, "p90", q(0.9));
  append_field(j, "p99", q(0.99));
  append_field(j, "p999", q(0.999));
  append_field(j, "max", r.ns(static_cast<double>(r.span_ticks.max())));
  append_field(j, "mean", r.ns(r.span_ticks.mean()));
  append_field(j, "samples", r.span_ticks.count());
  append_field(j, "sampled_one_in", sample_mask + 1);
  append_field(j, "timer_overhead_ns", r.timer_overhead_ns, false);
  j += "}, \"backend\": {";
  append_field(j, "batches_written", st.batches_written);
  append_field(j, "write_latency_avg_us", st.write_latency_avg_us);
  append_field(j, "write_latency_p99_us", st.write_latency_p99_us);
  append_field(j, "write_latency_max_us", st.write_latency_max_us);
  append_field(j, "write_failures", st.write_failures);
  append_field(j, "retries", st.retries);
  j += "\"last_error\": ";
  detail::append_json_string(j, st.last_error);
  j += "}, \"memory\": {";
  append_field(j, "rss_start_kib", r.rss_start_kib);
  append_field(j, "peak_rss_kib", r.peak_rss_kib);
  append_field(j, "max_held_events", r.max_held);
  append_field(j, "bytes_per_held_event", r.bytes_per_held_event(), false);
  j += "}}";
  return j;
}

// --- options

double parse_number(const arguments& args, std::string_view name, double fallback, double min, double max) {
  const auto text = args.value(name);
  if (!text) return fallback;
  double v = 0;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || r.ec != std::errc{} || r.ptr != text->data() + text->size() || !(v >= min && v <= max)) {
    std::ostringstream msg;
    msg << "option '" << name << "' must be a number from " << min << " to " << max << ", not '" << *text << "'";
    throw usage_error{msg.str()};
  }
  return v;
}

// The settings a sweep can vary, applied to one run's settings.
struct sweep_spec {
  std::string setting;
  std::vector<std::string> values;
};

void apply_setting(run_settings& s, const std::string& setting, const std::string& value) {
  // Reuse the option parser's checks: "--batch-size=V" is exactly what the user could have typed.
  const std::string option = "--" + setting;
  const arguments one({option + "=" + value}, {{option, true}});
  if (setting == "batch-size") {
    s.emitter.batch_size = static_cast<std::size_t>(*one.integer(option, 1, 1 << 24));
  } else if (setting == "queue-capacity") {
    s.emitter.queue_capacity = static_cast<std::size_t>(*one.integer(option, 1, 1 << 28));
  } else if (setting == "flush-interval") {
    s.emitter.flush_interval = std::chrono::milliseconds(*one.integer(option, 1, 3'600'000));
  } else if (setting == "producers") {
    s.producers = static_cast<int>(*one.integer(option, 1, 256));
  } else {
    throw usage_error{"--sweep: cannot sweep '" + setting +
                      "' (batch-size, queue-capacity, flush-interval or producers)"};
  }
}

sweep_spec parse_sweep(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw usage_error{"--sweep takes SETTING=V1,V2,... (e.g. batch-size=64,256,1024), not '" + text + "'"};
  }
  sweep_spec spec{text.substr(0, eq), {}};
  std::string rest = text.substr(eq + 1);
  std::size_t from = 0;
  while (from <= rest.size()) {
    const auto comma = rest.find(',', from);
    const std::string v = rest.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (v.empty()) throw usage_error{"--sweep: empty value in '" + text + "'"};
    spec.values.push_back(v);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return spec;
}

run_settings parse_run_settings(const arguments& args) {
  run_settings s;
  s.connection_string = connection_string(args);
  s.emitter.service = "osprof-bench";
  s.emitter.project = "osprof-bench";
  s.emitter.shutdown_timeout = 1s;
  s.producers = static_cast<int>(args.integer("--producers", 1, 256).value_or(1));
  s.duration_s = parse_number(args, "--duration", 10, 0.01, 86400);
  s.rate = parse_number(args, "--rate", 0, 0, 1e10);
  s.drain_timeout_s = parse_number(args, "--drain-timeout", 30, 0, 86400);
  if (auto v = args.integer("--queue-capacity", 1, 1 << 28)) s.emitter.queue_capacity = static_cast<std::size_t>(*v);
  if (auto v = args.integer("--queue-max-bytes", 4096, std::int64_t{1} << 40)) {
    s.emitter.queue_max_bytes = static_cast<std::size_t>(*v);
  }
  if (auto v = args.integer("--batch-size", 1, 1 << 24)) s.emitter.batch_size = static_cast<std::size_t>(*v);
  if (auto v = args.integer("--flush-interval", 1, 3'600'000)) s.emitter.flush_interval = std::chrono::milliseconds(*v);
  if (auto v = args.integer("--block-timeout", 0, 3'600'000)) s.emitter.block_timeout = std::chrono::milliseconds(*v);
  if (auto v = args.integer("--write-timeout", 1, 3'600'000)) s.emitter.write_timeout = std::chrono::milliseconds(*v);
  if (auto v = args.value("--overflow")) {
    if (*v == "drop") {
      s.emitter.overflow = osprof::overflow_policy::drop_newest;
    } else if (*v == "block") {
      s.emitter.overflow = osprof::overflow_policy::block;
    } else {
      throw usage_error{"option '--overflow' must be drop or block, not '" + *v + "'"};
    }
  }
  return s;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw osprof::error("cannot write " + path);
}

// Restores the previous SIGINT disposition when the command ends.
class interrupt_handler {
 public:
  interrupt_handler() {
    interrupts.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_);
  }
  ~interrupt_handler() { sigaction(SIGINT, &previous_, nullptr); }
  interrupt_handler(const interrupt_handler&) = delete;
  interrupt_handler& operator=(const interrupt_handler&) = delete;

 private:
  struct sigaction previous_ {};
};

}  // namespace

int bench(const std::vector<std::string>& raw) {
  const arguments args(raw, {{"--connection-string", true},
                             {"--producers", true},
                             {"--duration", true},
                             {"--rate", true},
                             {"--queue-capacity", true},
                             {"--queue-max-bytes", true},
                             {"--batch-size", true},
                             {"--flush-interval", true},
                             {"--block-timeout", true},
                             {"--write-timeout", true},
                             {"--overflow", true},
                             {"--drain-timeout", true},
                             {"--json", true},
                             {"--sweep", true},
                             {"--svg", true}});
  if (!args.positional().empty()) throw usage_error{"bench takes no positional arguments"};
  const run_settings base = parse_run_settings(args);
  std::optional<sweep_spec> sweep;
  if (auto text = args.value("--sweep")) {
    sweep = parse_sweep(*text);
    for (const auto& v : sweep->values) {
      run_settings check = base;
      apply_setting(check, sweep->setting, v);  // every value is checked before anything runs
    }
  } else if (args.value("--svg")) {
    throw usage_error{"--svg needs --sweep"};
  }
  // Fail on a bad connection string before any load starts.
  connection_string::parse(base.connection_string);

  interrupt_handler on_ctrl_c;
  std::vector<run_result> results;
  if (!sweep) {
    results.push_back(run_once(base));
    print_run(results.back());
  } else {
    for (const auto& v : sweep->values) {
      run_settings s = base;
      apply_setting(s, sweep->setting, v);
      std::fprintf(stderr, "osprof bench: %s=%s\n", sweep->setting.c_str(), v.c_str());
      results.push_back(run_once(s));
      print_run(results.back());
      std::printf("\n");
      if (interrupted()) break;
    }
    std::printf("sweep of %s on %s (%s):\n", sweep->setting.c_str(),
                redact_connection_string(base.connection_string).c_str(),
                base.rate > 0 ? ("rate " + si(base.rate) + " events/s").c_str() : "rate unlimited");
    std::printf("%16s %12s %12s %9s %9s %9s %9s %9s %10s %12s %12s\n", sweep->setting.c_str(), "written/s",
                "offered/s", "p50 ns", "p99 ns", "p99.9 ns", "dropped", "batches", "avg batch", "write p99us",
                "peak RSS MiB");
    std::vector<sweep_point> points;
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      const double p99 = r.ns(r.span_ticks.quantile(0.99));
      const double avg_batch =
          r.st.batches_written ? static_cast<double>(r.st.written) / static_cast<double>(r.st.batches_written) : 0;
      std::printf("%16s %12.0f %12.0f %9.0f %9.0f %9.0f %8.2f%% %9llu %10.0f %12llu %12.1f\n", sweep->values[i].c_str(),
                  r.written_per_s(), r.offered_per_s(), r.ns(r.span_ticks.quantile(0.5)), p99,
                  r.ns(r.span_ticks.quantile(0.999)), 100.0 * r.drop_fraction(),
                  static_cast<unsigned long long>(r.st.batches_written), avg_batch,
                  static_cast<unsigned long long>(r.st.write_latency_p99_us), static_cast<double>(r.peak_rss_kib) / 1024.0);
      points.push_back({sweep->values[i], r.written_per_s(), p99});
    }
    const std::string svg_path = args.value("--svg").value_or("osprof-sweep.svg");
    write_file(svg_path, sweep_chart_svg("osprof bench: " + redact_connection_string(base.connection_string),
                                         sweep->setting, points));
    std::printf("chart: %s\n", svg_path.c_str());
  }
  std::fflush(stdout);

  if (auto path = args.value("--json")) {
    std::string j;
    if (!sweep) {
      j = run_json(results.front());
    } else {
      j = "{\"sweep\": {\"setting\": ";
      detail::append_json_string(j, sweep->setting);
      j += ", \"values\": [";
      for (std::size_t i = 0; i < sweep->values.size(); ++i) {
        if (i) j += ", ";
        detail::append_json_string(j, sweep->values[i]);
      }
      j += "]}, \"runs\": [";
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (i) j += ", ";
        j += run_json(results[i]);
      }
      j += "]}";
    }
    write_file(*path, j + "\n");
  }
  return interrupted() ? 130 : 0;
}

}  // namespace osprof::cli
