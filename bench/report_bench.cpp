// The report on a 20,000-event trace: one root and 9,999 traced calls, as in the Python
// measurement of osprofiler.md §5 (`osprofiler trace show --json`: 1.57 s, 203 MB max RSS,
// 15.5 MB of JSON). Events are ~300-byte OSProfiler notifications with function info, in
// Redis order (newest first). BM_trace_show_json is what `trace show --json` does between
// reading the events and writing the output.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/time_format.hpp"
#include <osprof/render.hpp>
#include <osprof/report.hpp>

namespace {

using namespace osprof::detail;
using namespace osprof;

std::string uuid4(std::mt19937_64& rng) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(36, '-');
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    s[i] = hex[rng() & 0xF];
  }
  s[14] = '4';
  return s;
}

struct trace_data {
  std::string base_id;
  std::vector<std::string> events;
};

const trace_data& twenty_thousand_events() {
  static const trace_data data = [] {
    trace_data d;
    std::mt19937_64 rng(42);
    d.base_id = uuid4(rng);
    const std::int64_t t0 = 1'795'000'000'000'000;
    auto ev = [&](const std::string& name, const std::string& id, const std::string& parent, std::int64_t us,
                  const std::string& info) {
      return "{\"name\": \"" + name + "\", \"base_id\": \"" + d.base_id + "\", \"trace_id\": \"" + id +
             "\", \"parent_id\": \"" + parent + "\", \"timestamp\": \"" + format_timestamp(us) + "\", \"info\": " + info +
             ", \"project\": \"demo\", \"service\": \"api\"}";
    };
    const std::string root = uuid4(rng);
    std::vector<std::string> chrono;
    chrono.reserve(20'000);
    chrono.push_back(ev("root-start", root, d.base_id, t0, R"({"host": "vm"})"));
    std::int64_t t = t0 + 20;
    for (int i = 1; i < 10'000; ++i) {
      const std::string id = uuid4(rng);
      chrono.push_back(ev("point-start", id, root, t,
                          "{\"function\": {\"name\": \"__main__.f\", \"args\": \"(" + std::to_string(i) +
                              ",)\", \"kwargs\": \"{}\"}, \"host\": \"vm\"}"));
      chrono.push_back(ev("point-stop", id, root, t + 40 + static_cast<std::int64_t>(rng() % 60), R"({"host": "vm"})"));
      t += 120;
    }
    chrono.push_back(ev("root-stop", root, d.base_id, t + 10, R"({"host": "vm"})"));
    d.events.assign(chrono.rbegin(), chrono.rend());  // LRANGE of an LPUSH list
    return d;
  }();
  return data;
}

std::int64_t input_bytes(const trace_data& d) {
  std::int64_t n = 0;
  for (const auto& e : d.events) n += static_cast<std::int64_t>(e.size());
  return n;
}

void BM_build_report(benchmark::State& state) {
  const auto& d = twenty_thousand_events();
  for (auto _ : state) {
    report r = build_report(d.base_id, d.events);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d.events.size()));
  state.SetBytesProcessed(state.iterations() * input_bytes(d));
}

void BM_trace_show_json(benchmark::State& state) {
  const auto& d = twenty_thousand_events();
  std::size_t out = 0;
  for (auto _ : state) {
    const std::string json = render_json(build_report(d.base_id, d.events));
    out = json.size();
    benchmark::DoNotOptimize(json.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d.events.size()));
  state.counters["json_MB"] = static_cast<double>(out) / 1e6;
}

template <std::string (*Render)(const report&)>
void BM_render(benchmark::State& state) {
  const auto& d = twenty_thousand_events();
  const report r = build_report(d.base_id, d.events);
  std::size_t out = 0;
  for (auto _ : state) {
    const std::string text = Render(r);
    out = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["out_MB"] = static_cast<double>(out) / 1e6;
}

std::string json2(const report& r) { return render_json(r, 2); }

// As `trace show --json` writes it: in pieces, each handed on (here only counted). A point with
// thousands of calls is rendered on two threads this way (json_render.hpp): wall time.
void BM_render_json_pieces(benchmark::State& state) {
  const auto& d = twenty_thousand_events();
  const report r = build_report(d.base_id, d.events);
  std::size_t out = 0;
  for (auto _ : state) {
    out = 0;
    render_json(r, 2, [&out](std::string_view piece) { out += piece.size(); });
    benchmark::DoNotOptimize(out);
  }
  state.counters["out_MB"] = static_cast<double>(out) / 1e6;
}
std::string tree_plain(const report& r) { return render_tree(r, false); }

void BM_parse_report_json(benchmark::State& state) {
  const auto& d = twenty_thousand_events();
  const std::string json = render_json(build_report(d.base_id, d.events));
  for (auto _ : state) {
    report r = parse_report_json(json);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(json.size()));
}

BENCHMARK(BM_build_report)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_trace_show_json)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_render<json2>)->Name("BM_render_json")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_render_json_pieces)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_render<tree_plain>)->Name("BM_render_tree")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_render<render_dot>)->Name("BM_render_dot")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_render<render_html>)->Name("BM_render_html")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_render<render_chrome>)->Name("BM_render_chrome")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parse_report_json)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
