#include "bench_sweep.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "bench_chart.hpp"
#include "bench_format.hpp"
#include "bench_options.hpp"
#include "bench_report.hpp"
#include "cli.hpp"
#include "common/json_writer.hpp"
#include <osprof/connection_string.hpp>

namespace osprof::cli {

namespace {

// Settings whose effect is worth a chart; any other option is fixed for the whole sweep.
constexpr std::array<std::string_view, 4> sweepable = {"batch-size", "queue-capacity", "flush-interval", "producers"};

run_settings with_value(const run_settings& base, const sweep_spec& sweep, const std::string& value) {
  run_settings s = base;
  try {
    apply_run_option(s, sweep.setting, value);
  } catch (const usage_error& e) {
    throw usage_error{"--sweep: " + e.message};
  }
  return s;
}

void print_table(const run_settings& base, const sweep_spec& sweep, const std::vector<run_result>& results) {
  std::printf("sweep of %s on %s (%s):\n", sweep.setting.c_str(),
              redact_connection_string(base.connection_string).c_str(),
              base.rate > 0 ? ("rate " + si(base.rate) + " events/s").c_str() : "rate unlimited");
  std::printf("%16s %12s %12s %9s %9s %9s %9s %9s %10s %12s %12s\n", sweep.setting.c_str(), "written/s", "offered/s",
              "p50 ns", "p99 ns", "p99.9 ns", "dropped", "batches", "avg batch", "write p99us", "peak RSS MiB");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const double avg_batch =
        r.st.batches_written ? static_cast<double>(r.st.written) / static_cast<double>(r.st.batches_written) : 0;
    std::printf("%16s %12.0f %12.0f %9.0f %9.0f %9.0f %8.2f%% %9llu %10.0f %12llu %12.1f\n", sweep.values[i].c_str(),
                r.written_per_s(), r.offered_per_s(), r.ns(r.span_ticks.quantile(0.5)),
                r.ns(r.span_ticks.quantile(0.99)), r.ns(r.span_ticks.quantile(0.999)), 100.0 * r.drop_fraction(),
                static_cast<unsigned long long>(r.st.batches_written), avg_batch,
                static_cast<unsigned long long>(r.st.write_latency_p99_us),
                static_cast<double>(r.peak_rss_kib) / 1024.0);
  }
}

}  // namespace

sweep_spec parse_sweep(const std::string& text, const run_settings& base) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw usage_error{"--sweep takes SETTING=V1,V2,... (e.g. batch-size=64,256,1024), not '" + text + "'"};
  }
  sweep_spec spec{text.substr(0, eq), {}};
  if (std::find(sweepable.begin(), sweepable.end(), spec.setting) == sweepable.end()) {
    throw usage_error{"--sweep: cannot sweep '" + spec.setting +
                      "' (batch-size, queue-capacity, flush-interval or producers)"};
  }
  const std::string rest = text.substr(eq + 1);
  std::size_t from = 0;
  while (from <= rest.size()) {
    const auto comma = rest.find(',', from);
    const std::string v = rest.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (v.empty()) throw usage_error{"--sweep: empty value in '" + text + "'"};
    with_value(base, spec, v);  // every value is checked before anything runs
    spec.values.push_back(v);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return spec;
}

std::vector<run_result> run_sweep(const run_settings& base, const sweep_spec& sweep, const std::string& svg_path) {
  std::vector<run_result> results;
  for (const auto& v : sweep.values) {
    std::fprintf(stderr, "osprof bench: %s=%s\n", sweep.setting.c_str(), v.c_str());
    results.push_back(run_once(with_value(base, sweep, v)));
    print_run(results.back());
    std::printf("\n");
    if (interrupted()) break;
  }
  print_table(base, sweep, results);

  std::vector<sweep_point> points;
  for (std::size_t i = 0; i < results.size(); ++i) {
    points.push_back({sweep.values[i], results[i].written_per_s(), results[i].ns(results[i].span_ticks.quantile(0.99))});
  }
  write_file(svg_path, sweep_chart_svg("osprof bench: " + redact_connection_string(base.connection_string),
                                       sweep.setting, points));
  std::printf("chart: %s\n", svg_path.c_str());
  return results;
}

std::string sweep_json(const sweep_spec& sweep, const std::vector<run_result>& results) {
  std::string j = "{\"sweep\": {\"setting\": ";
  detail::append_json_string(j, sweep.setting);
  j += ", \"values\": [";
  for (std::size_t i = 0; i < sweep.values.size(); ++i) {
    if (i) j += ", ";
    detail::append_json_string(j, sweep.values[i]);
  }
  j += "]}, \"runs\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i) j += ", ";
    j += run_json(results[i]);
  }
  j += "]}";
  return j;
}

}  // namespace osprof::cli
