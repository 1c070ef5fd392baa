// osprof: read traces back from any backend, run the demo, list drivers, benchmark a backend.
#include <cstdio>
#include <string>
#include <vector>

#include <osprof/error.hpp>
#include <osprof/version.hpp>

#include "cli.hpp"
#include <osprof/driver.hpp>
#include <osprof/drivers.hpp>

namespace {

constexpr const char* usage = R"(usage: osprof <command> [options]

commands:
  trace show <trace-id | report.json> [--connection-string CS]
             [--json | --tree | --html | --dot | --chrome] [--out FILE] [--timeout S]
      Show one trace as OSProfiler's report: an indented tree (default on a terminal),
      OSProfiler's JSON (default otherwise), a self-contained HTML page, Graphviz DOT, or
      Chrome/Perfetto trace events.
  trace list [--connection-string CS] [--error-trace] [--json] [--timeout S]
      One row per trace, newest first; --error-trace lists traces that contain an error.
  demo [--connection-string CS] [--project P] [--service S]
      Trace a small instrumented request into the backend, then list and show it.
  drivers
      The backends osprof knows and their connection strings.
  bench [--connection-string CS] [--producers N] [--duration S] [--rate EVENTS_PER_S]
        [--queue-capacity N] [--queue-max-bytes N] [--batch-size N] [--flush-interval MS] [--overflow drop|block]
        [--block-timeout MS] [--write-timeout MS] [--drain-timeout S] [--json FILE]
        [--sweep SETTING=V1,V2,... [--svg FILE]]
      Drive synthetic spans through the emitter into the backend; report emit latency,
      throughput, drops by reason, write latency per batch and peak memory. --sweep repeats
      the run for each value of batch-size, queue-capacity, flush-interval or producers and
      draws throughput and p99 emit latency against it (default osprof-sweep.svg).
      Ctrl-C stops the load and prints the results so far (exit 130).

The connection string defaults to $OSPROF_CONNECTION_STRING, then
$OSPROFILER_CONNECTION_STRING, then sqlite:///osprof.db (a file in this directory).
Exit codes: 0 success, 1 failure (not found, backend error), 2 usage error.
)";

}  // namespace

namespace osprof::cli {

int drivers(const std::vector<std::string>& raw) {
  const arguments args(raw, {});
  if (!args.positional().empty()) throw usage_error{"drivers takes no arguments"};
  for (const auto& d : registered_drivers()) {
    std::printf("%-16s %s\n", (d.scheme + "://").c_str(), d.summary.c_str());
  }
  return 0;
}

}  // namespace osprof::cli

int main(int argc, char** argv) {
  osprof::register_builtin_drivers();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(usage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "-v") {
    std::printf("osprof %s\n", OSPROF_VERSION_STRING);
    return 0;
  }
  try {
    const std::string command = args[0];
    if (command == "trace") {
      if (args.size() < 2) throw osprof::cli::usage_error{"trace needs a subcommand: show or list"};
      const std::vector<std::string> rest(args.begin() + 2, args.end());
      if (args[1] == "show") return osprof::cli::trace_show(rest);
      if (args[1] == "list") return osprof::cli::trace_list(rest);
      throw osprof::cli::usage_error{"unknown trace subcommand '" + args[1] + "' (show or list)"};
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "demo") return osprof::cli::demo(rest);
    if (command == "drivers") return osprof::cli::drivers(rest);
    if (command == "bench") return osprof::cli::bench(rest);
    throw osprof::cli::usage_error{"unknown command '" + command + "'"};
  } catch (const osprof::cli::usage_error& e) {
    std::fprintf(stderr, "osprof: %s\n\n%s", e.message.c_str(), usage);
    return 2;
  } catch (const osprof::error& e) {
    std::fprintf(stderr, "osprof: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osprof: unexpected error: %s\n", e.what());
    return 1;
  }
}
