// Sustained throughput into a backend with zero drops: producer threads emit start/stop
// pairs as fast as they can, the queue blocks them when full (overflow_policy::block), and
// the time runs until the emitter has written everything. Prints events/s and the emitter's
// counters; the run fails (exit 1) if anything was dropped.
//
//   osprof_redis_throughput --connection-string CS [--events N] [--threads T]
//                           [--batch-size B] [--points-per-trace K] [--json FILE]
//
// bench/redis_bench.sh runs it next to redis-benchmark against the same server.
#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct settings {
  std::string connection_string;
  long events = 2'000'000;
  int threads = 1;
  std::size_t batch_size = 512;
  int points_per_trace = 100;
  std::string json_path;
};

void produce(long pairs, int per_trace) {
  for (long i = 0; i < pairs; ++i) {
    if (i % per_trace == 0) {
      osprof::clean();
      osprof::init("SECRET_KEY");
    }
    OSPROF_START("db", {{"db", {{"statement", "SELECT * FROM instances WHERE id = %s"}, {"params", i}}}});
    OSPROF_STOP();
  }
  osprof::clean();
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
      s.connection_string = next();
    } else if (arg == "--events") {
      s.events = std::stol(next());
    } else if (arg == "--threads") {
      s.threads = std::stoi(next());
    } else if (arg == "--batch-size") {
      s.batch_size = std::stoul(next());
    } else if (arg == "--points-per-trace") {
      s.points_per_trace = std::stoi(next());
    } else if (arg == "--json") {
      s.json_path = next();
    } else {
      std::fprintf(stderr,
                   "usage: %s --connection-string CS [--events N] [--threads T] [--batch-size B] "
                   "[--points-per-trace K] [--json FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  if (s.connection_string.empty()) s.connection_string = "null://";

  osprof::options o;
  o.connection_string = s.connection_string;
  o.service = "bench";
  o.strict = true;  // measure the backend asked for, or fail
  o.batch_size = s.batch_size;
  o.queue_capacity = 1 << 18;
  o.overflow = osprof::overflow_policy::block;  // zero drops: producers wait for room
  o.block_timeout = 10s;
  o.shutdown_timeout = 60s;
  osprof::emitter em(o);

  const long pairs_per_thread = s.events / 2 / s.threads;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> producers;
  for (int t = 0; t < s.threads; ++t) producers.emplace_back(produce, pairs_per_thread, s.points_per_trace);
  for (auto& p : producers) p.join();
  const auto t_emitted = std::chrono::steady_clock::now();
  const bool flushed = em.flush(300s);
  const auto t1 = std::chrono::steady_clock::now();
  const auto st = em.get_stats();

  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  const double emit_seconds = std::chrono::duration<double>(t_emitted - t0).count();
  const double rate = static_cast<double>(st.written) / seconds;
  std::printf("%s: %llu events written in %.3f s = %.0f events/s (batch %zu, %d producer thread(s), %d points per trace)\n",
              s.connection_string.c_str(), static_cast<unsigned long long>(st.written), seconds, rate, s.batch_size,
              s.threads, s.points_per_trace);
  std::printf("  producers done after %.3f s; %llu batches (avg %.0f events), write latency avg %llu us, p99 <= %llu us, "
              "max %llu us; %llu dropped, %llu failed writes\n",
              emit_seconds, static_cast<unsigned long long>(st.batches_written),
              st.batches_written ? static_cast<double>(st.written) / static_cast<double>(st.batches_written) : 0.0,
              static_cast<unsigned long long>(st.write_latency_avg_us),
              static_cast<unsigned long long>(st.write_latency_p99_us),
              static_cast<unsigned long long>(st.write_latency_max_us), static_cast<unsigned long long>(st.dropped()),
              static_cast<unsigned long long>(st.write_failures));
  if (!s.json_path.empty()) {
    std::ofstream out(s.json_path);
    out << "{\"connection_string\": \"" << s.connection_string << "\", \"events\": " << st.written
        << ", \"seconds\": " << seconds << ", \"events_per_second\": " << rate << ", \"batch_size\": " << s.batch_size
        << ", \"threads\": " << s.threads << ", \"dropped\": " << st.dropped() << "}\n";
  }
  if (!flushed || st.dropped() != 0 || st.written != st.emitted) {
    std::fprintf(stderr, "not a zero-drop run: emitted %llu, written %llu, dropped %llu (%s)\n",
                 static_cast<unsigned long long>(st.emitted), static_cast<unsigned long long>(st.written),
                 static_cast<unsigned long long>(st.dropped()), st.last_error.c_str());
    return 1;
  }
  return 0;
}
