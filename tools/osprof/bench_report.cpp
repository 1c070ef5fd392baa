#include "bench_report.hpp"

#include <cstdio>

#include "bench_format.hpp"
#include "common/json_writer.hpp"
#include <osprof/connection_string.hpp>

namespace osprof::cli {

namespace {

const char* overflow_name(osprof::overflow_policy p) {
  return p == osprof::overflow_policy::block ? "block" : "drop";
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

}  // namespace

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
  std::printf("  emit latency  per accepted span (start + stop), ns: p50 %.0f, p90 %.0f, p99 %.0f, p99.9 %.0f, max %.0f "
              "(%llu spans timed, 1 in %llu; includes the timer, ~%.0f ns)\n",
              q(0.5), q(0.9), q(0.99), q(0.999), r.ns(static_cast<double>(r.span_ticks.max())),
              static_cast<unsigned long long>(r.span_ticks.count()),
              static_cast<unsigned long long>(sampled_one_in), r.timer_overhead_ns);
  if (r.dropped_span_ticks.count() != 0) {
    const auto d = [&](double quantile) { return r.ns(r.dropped_span_ticks.quantile(quantile)); };
    std::printf("  dropped spans per span with a dropped event, ns: p50 %.0f, p99 %.0f (%llu spans timed, %.1f %% of those "
                "timed)\n",
                d(0.5), d(0.99), static_cast<unsigned long long>(r.dropped_span_ticks.count()),
                100.0 * r.dropped_span_fraction());
  }
  if (!r.latency_meaningful()) {
    std::printf("  warning       %.1f %% of the timed spans were dropped: the emitter was overloaded, and the latency above "
                "is that of the spans that got through an overflowing queue, not of a steady state. Lower --rate, or raise "
                "the queue capacity or the backend's throughput.\n",
                100.0 * r.dropped_span_fraction());
  }
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
  j += "}, \"emit_latency_ns\": {\"unit\": \"one accepted span (start + stop)\", ";
  append_field(j, "p50", q(0.5));
  append_field(j, "p90", q(0.9));
  append_field(j, "p99", q(0.99));
  append_field(j, "p999", q(0.999));
  append_field(j, "max", r.ns(static_cast<double>(r.span_ticks.max())));
  append_field(j, "mean", r.ns(r.span_ticks.mean()));
  append_field(j, "samples", r.span_ticks.count());
  append_field(j, "sampled_one_in", sampled_one_in);
  append_field(j, "timer_overhead_ns", r.timer_overhead_ns, false);
  j += "}, \"dropped_span_latency_ns\": {\"unit\": \"one span with a dropped event\", ";
  {
    const auto d = [&](double quantile) { return r.ns(r.dropped_span_ticks.quantile(quantile)); };
    append_field(j, "p50", d(0.5));
    append_field(j, "p99", d(0.99));
    append_field(j, "samples", r.dropped_span_ticks.count());
    append_field(j, "fraction_of_timed", r.dropped_span_fraction(), false);
  }
  j += "}, ";
  j += std::string("\"latency_meaningful\": ") + (r.latency_meaningful() ? "true" : "false");
  j += ", \"backend\": {";
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

}  // namespace osprof::cli
