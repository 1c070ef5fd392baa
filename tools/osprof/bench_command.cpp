// `osprof bench`: drives a synthetic workload through the real emitter into a backend, and
// reports what an operator tunes against: emit latency on the producing threads, throughput,
// drops by reason, write latency per batch and peak memory (bench_run, bench_report).
// `--sweep SETTING=V1,V2,...` repeats the run for each value and draws throughput and p99
// emit latency against the setting (bench_sweep, bench_chart).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "bench_report.hpp"
#include "bench_run.hpp"
#include "bench_sweep.hpp"
#include "cli.hpp"
#include <osprof/connection_string.hpp>

namespace osprof::cli {

namespace {

struct bench_settings {
  std::optional<std::string> connection_string;
  std::vector<settings_change> changes;
  std::optional<std::string> json, sweep, svg;
};

run_settings base_settings(const bench_settings& b) {
  run_settings s;
  s.connection_string = connection_string(b.connection_string);
  s.emitter.service = "osprof-bench";
  s.emitter.project = "osprof-bench";
  s.emitter.shutdown_timeout = std::chrono::seconds(1);
  for (const auto& change : b.changes) change(s);
  return s;
}

int bench(const bench_settings& b) {
  const run_settings base = base_settings(b);
  std::optional<sweep_spec> sweep;
  if (b.sweep) {
    sweep = parse_sweep(*b.sweep, base);
  } else if (b.svg) {
    throw usage_error{"--svg needs --sweep"};
  }
  // Fail on a bad connection string or an output that cannot be written before any load starts.
  connection_string::parse(base.connection_string);
  if (b.json) check_writable(*b.json);
  if (sweep) check_writable(b.svg.value_or("osprof-sweep.svg"));

  interrupt_handler on_ctrl_c;
  std::string json;
  std::vector<run_result> runs;
  if (!sweep) {
    runs.push_back(run_once(base));
    print_run(runs.back());
    json = run_json(runs.back());
  } else {
    runs = run_sweep(base, *sweep, b.svg.value_or("osprof-sweep.svg"));
    json = sweep_json(*sweep, runs);
  }
  std::fflush(stdout);
  if (b.json) write_file(*b.json, json + "\n");
  if (interrupted()) return 130;
  // A run that emitted but stored nothing measured no backend: not a success.
  for (const run_result& r : runs) {
    if (r.st.emitted != 0 && r.st.written == 0) {
      std::fprintf(stderr, "osprof: nothing was written to %s%s%s\n", redact_connection_string(r.settings.connection_string).c_str(),
                   r.st.last_error.empty() ? "" : ": ", r.st.last_error.c_str());
      return 1;
    }
  }
  return 0;
}

void add_text_option(CLI::App& command, const char* name, std::optional<std::string>& into, const char* value_name,
                     const char* description) {
  command.add_option_function<std::string>(name, [&into](const std::string& v) { into = v; }, description)
      ->option_text(value_name)
      ->group("Output");
}

}  // namespace

void add_bench_command(CLI::App& app, command_action& action) {
  auto settings = std::make_shared<bench_settings>();
  CLI::App* command = app.add_subcommand(
      "bench", "Drive synthetic spans through the emitter into a backend; report emit latency, throughput, drops, "
               "write latency and peak memory");
  command->footer("Ctrl-C stops the load and still prints the results so far (exit 130).");
  add_connection_string_option(*command, settings->connection_string);
  add_run_options(*command, settings->changes);
  add_text_option(*command, "--json", settings->json, "FILE", "also write the results as JSON to FILE");
  add_text_option(*command, "--sweep", settings->sweep, "SETTING=V1,V2,...",
                  "one run per value of batch-size, queue-capacity, flush-interval or producers");
  add_text_option(*command, "--svg", settings->svg, "FILE",
                  "with --sweep, the chart of throughput and p99 latency (default osprof-sweep.svg)");
  command->callback([settings, &action] { action = [settings] { return bench(*settings); }; });
}

}  // namespace osprof::cli
