// The worker-side cost of the Elasticsearch and OTLP drivers without a server: encoding a
// batch as a _bulk body, and joining a batch into spans plus encoding it as OTLP JSON. The
// loopback servers of the tests are Python and far slower than a real cluster, so this is what
// bounds the drivers' own throughput.
#include <benchmark/benchmark.h>

#include <vector>

#include "common/time_format.hpp"
#include <osprof/connection_string.hpp>
#include "drivers/elasticsearch/es_options.hpp"
#include "drivers/elasticsearch/es_protocol.hpp"
#include "drivers/otlp/otlp_encoder.hpp"
#include "drivers/otlp/otlp_spans.hpp"

namespace {

using osprof::event_record;

// 256 points (512 events) of one trace, with OSProfiler-sized info.
std::vector<event_record> make_batch(std::uint64_t round) {
  std::vector<event_record> batch;
  const osprof::uuid base{0x1234567812344000ULL + round, 0x8000000000000001ULL};
  const std::int64_t t = 1764590400000000 + static_cast<std::int64_t>(round) * 1000;
  for (std::uint64_t i = 0; i < 256; ++i) {
    for (const bool stop : {false, true}) {
      event_record e;
      e.name = stop ? "db-stop" : "db-start";
      e.base_id = base;
      e.trace_id = osprof::uuid{0xabcdef0012344000ULL + round, 0x8000000000000000ULL + i};
      e.parent_id = base;
      e.time_us = t + static_cast<std::int64_t>(i) * 2 + (stop ? 1 : 0);
      osprof::detail::format_timestamp(e.time_us, e.timestamp.data());
      e.is_stop = stop;
      e.info = stop ? R"({"host": "vm"})"
                    : R"({"db": {"statement": "SELECT * FROM instances WHERE id = %s", "params": {"id": 42}}, "host": "vm"})";
      e.json = "{\"name\": \"" + e.name + "\", \"base_id\": \"" + base.to_string() + "\", \"trace_id\": \"" +
               e.trace_id.to_string() + "\", \"parent_id\": \"" + base.to_string() + "\", \"timestamp\": \"" +
               std::string(e.timestamp_text()) + "\", \"info\": " + e.info + ", \"project\": \"nova\", \"service\": \"api\"}";
      batch.push_back(std::move(e));
    }
  }
  return batch;
}

void es_bulk_encode(benchmark::State& state) {
  using namespace osprof::detail::elasticsearch;
  const auto options = es_options::from(osprof::connection_string::parse("elasticsearch://h"), std::chrono::seconds(10));
  const auto batch = make_batch(0);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto actions = plan_actions(batch, true);
    const std::string body = encode_bulk(batch, actions, options, {});
    bytes += body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(es_bulk_encode);

void otlp_join_and_encode(benchmark::State& state) {
  using namespace osprof::detail::otlp;
  span_joiner joiner({});
  span_encoder encoder({service_name("", "nova", "api"), "vm"});
  std::vector<std::vector<event_record>> batches;
  for (std::uint64_t r = 0; r < 64; ++r) batches.push_back(make_batch(r));
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& batch = batches[i++ % batches.size()];
    const auto spans = joiner.join(batch, batch.back().time_us);
    const std::string body = encoder.encode(spans);
    bytes += body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 512));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(otlp_join_and_encode);

}  // namespace

BENCHMARK_MAIN();
