// Idle cost: an emitter with nothing to send, measured as the process's CPU time (user +
// system, getrusage) and voluntary context switches over a window. Only the worker runs:
// the main thread sleeps. Prints one line; --json writes the same as an object.
//
//   osprof_idle_cpu [--seconds S] [--connection-string CS] [--json FILE]
#include <sys/resource.h>

#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

namespace {

struct usage {
  double cpu_s = 0;
  long voluntary = 0;
};

usage now() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  const auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {sec(r.ru_utime) + sec(r.ru_stime), r.ru_nvcsw};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60;
  std::string cs = "null://";
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (a == "--connection-string") cs = argv[i + 1];
    else if (a == "--json") json_path = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  osprof::register_builtin_drivers();
  osprof::options o;
  o.connection_string = cs;
  osprof::emitter e(o);
  if (!e.get_stats().start_error.empty()) {
    std::fprintf(stderr, "emitter did not start: %s\n", e.get_stats().start_error.c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // past start-up (TSC calibration)
  const usage before = now();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const usage after = now();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = after.cpu_s - before.cpu_s;
  const long switches = after.voluntary - before.voluntary;
  std::printf("idle %s: %.1f s wall, %.4f s CPU = %.4f %% of a core, %ld voluntary context switches (%.1f/s)\n",
              cs.c_str(), wall, cpu, 100.0 * cpu / wall, switches, static_cast<double>(switches) / wall);
  if (!json_path.empty()) {
    std::ofstream(json_path) << "{\"connection_string\": \"" << cs << "\", \"wall_s\": " << wall << ", \"cpu_s\": " << cpu
                             << ", \"core_percent\": " << 100.0 * cpu / wall << ", \"voluntary_switches\": " << switches
                             << "}\n";
  }
  return 0;
}
