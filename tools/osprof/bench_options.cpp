#include "bench_options.hpp"

#include <chrono>
#include <cstdint>

namespace osprof::cli {

namespace {

using ms = std::chrono::milliseconds;

constexpr const char* load = "Load";
constexpr const char* emitter = "Emitter (as in osprof::options)";

template <class T>
struct setting {
  const char* group;
  const char* name;
  const char* value_name;
  const char* description;
  T min, max;
  void (*set)(run_settings&, T);
};

constexpr setting<long long> integer_settings[] = {
    {load, "--producers", "N", "threads emitting spans (default 1)", 1, 256,
     [](run_settings& s, long long v) { s.producers = static_cast<int>(v); }},
    {emitter, "--queue-capacity", "N", "most events held (default $OSPROF_QUEUE_CAPACITY, else 65536)", 1, 1 << 28,
     [](run_settings& s, long long v) { s.emitter.queue_capacity = static_cast<std::size_t>(v); }},
    {emitter, "--queue-max-bytes", "N", "most bytes held (default $OSPROF_QUEUE_MAX_BYTES, else 64 MiB)", 4096,
     std::int64_t{1} << 40, [](run_settings& s, long long v) { s.emitter.queue_max_bytes = static_cast<std::size_t>(v); }},
    {emitter, "--batch-size", "N", "events per backend write (default $OSPROF_BATCH_SIZE, else 512)", 1, 1 << 24,
     [](run_settings& s, long long v) { s.emitter.batch_size = static_cast<std::size_t>(v); }},
    {emitter, "--flush-interval", "MS", "longest wait of a partial batch (default $OSPROF_FLUSH_INTERVAL_MS, else 200)", 1,
     3'600'000, [](run_settings& s, long long v) { s.emitter.flush_interval = ms(v); }},
    {emitter, "--block-timeout", "MS", "with --overflow block, the longest wait (default $OSPROF_BLOCK_TIMEOUT_MS, else 10)", 0,
     3'600'000, [](run_settings& s, long long v) { s.emitter.block_timeout = ms(v); }},
    {emitter, "--write-timeout", "MS", "longest backend write (default $OSPROF_WRITE_TIMEOUT_MS, else 10000)", 1, 3'600'000,
     [](run_settings& s, long long v) { s.emitter.write_timeout = ms(v); }},
};

constexpr setting<double> number_settings[] = {
    {load, "--duration", "S", "seconds of load (default 10)", 0.01, 86400, [](run_settings& s, double v) { s.duration_s = v; }},
    {load, "--rate", "EVENTS_PER_S", "events per second over all producers (default 0: as fast as taken)", 0, 1e10,
     [](run_settings& s, double v) { s.rate = v; }},
    {load, "--drain-timeout", "S", "seconds to deliver what is held once the load ends (default 30)", 0, 86400,
     [](run_settings& s, double v) { s.drain_timeout_s = v; }},
};

// The option appends its change when given; the change runs once emitter options exist.
template <class T>
CLI::Option* add_setting(CLI::App& command, std::vector<settings_change>& changes, const char* name,
                         const char* description, void (*set)(run_settings&, T)) {
  return command.add_option_function<T>(
      name, [&changes, set](const T& v) { changes.push_back([set, v](run_settings& s) { set(s, v); }); },
      description);
}

}  // namespace

void add_run_options(CLI::App& command, std::vector<settings_change>& changes) {
  for (const auto& o : number_settings) {
    add_setting(command, changes, o.name, o.description, o.set)->check(number_in(o.min, o.max))
        ->option_text(o.value_name)
        ->group(o.group);
  }
  for (const auto& o : integer_settings) {
    add_setting(command, changes, o.name, o.description, o.set)->check(integer_in(o.min, o.max))
        ->option_text(o.value_name)
        ->group(o.group);
  }
  const auto overflow = [](run_settings& s, std::string v) {
    s.emitter.overflow = v == "block" ? osprof::overflow_policy::block : osprof::overflow_policy::drop;
  };
  add_setting<std::string>(command, changes, "--overflow",
                           "on a full queue: drop the event, or wait up to --block-timeout "
                           "(default $OSPROF_OVERFLOW, else drop)",
                           overflow)
      ->check(CLI::IsMember({"drop", "block"}))
      ->option_text("drop|block")
      ->group(emitter);
}

void apply_run_option(run_settings& s, const std::string& name, const std::string& value) {
  std::vector<settings_change> changes;
  CLI::App one;
  add_run_options(one, changes);
  std::vector<std::string> args{"--" + name + "=" + value};
  try {
    one.parse(args);
  } catch (const CLI::ParseError& e) {
    throw usage_error{e.what()};
  }
  for (const auto& change : changes) change(s);
}

}  // namespace osprof::cli
