// The worker-side cost of the MongoDB driver without a server: encoding a batch's events as
// BSON documents, reading documents back as JSON, and handing a job to the driver's own
// thread and getting its result back (what the choice of libmongoc on a thread costs per
// batch). The loopback server of the tests is Python and far slower than a real mongod, so
// this is what bounds the driver's own throughput.
#include <benchmark/benchmark.h>

#include <functional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "common/time_format.hpp"
#include "drivers/mongodb/blocking_lane.hpp"
#include "drivers/mongodb/bson_codec.hpp"

namespace {

using osprof::event_record;

// 256 points (512 events) of one trace, with OSProfiler-sized info (as http_drivers_bench.cpp).
std::vector<event_record> make_batch() {
  std::vector<event_record> batch;
  const osprof::uuid base{0x1234567812344000ULL, 0x8000000000000001ULL};
  const std::int64_t t = 1764590400000000;
  for (std::uint64_t i = 0; i < 256; ++i) {
    for (const bool stop : {false, true}) {
      event_record e;
      e.name = stop ? "db-stop" : "db-start";
      e.base_id = base;
      e.trace_id = osprof::uuid{0xabcdef0012344000ULL, 0x8000000000000000ULL + i};
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

void mongodb_bson_encode(benchmark::State& state) {
  osprof::detail::mongodb::event_encoder encoder("nova", "api");
  const auto batch = make_batch();
  std::vector<std::uint8_t> data;
  std::string error;
  std::size_t bytes = 0;
  for (auto _ : state) {
    data.clear();
    for (const auto& e : batch) encoder.append(e, data, error);
    bytes += data.size();
    benchmark::DoNotOptimize(data.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(mongodb_bson_encode);

void mongodb_document_json(benchmark::State& state) {
  osprof::detail::mongodb::event_encoder encoder("nova", "api");
  const auto batch = make_batch();
  std::vector<std::uint8_t> data;
  std::vector<std::size_t> offsets;
  std::string error;
  for (const auto& e : batch) {
    offsets.push_back(data.size());
    encoder.append(e, data, error);
  }
  struct static_doc {
    bson_t doc;
  };
  std::vector<static_doc> docs(offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const std::size_t end = i + 1 < offsets.size() ? offsets[i + 1] : data.size();
    bson_init_static(&docs[i].doc, data.data() + offsets[i], end - offsets[i]);
  }
  for (auto _ : state) {
    for (const auto& d : docs) {
      std::string json = osprof::detail::mongodb::document_json(&d.doc);
      benchmark::DoNotOptimize(json.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * docs.size()));
}
BENCHMARK(mongodb_document_json);

// One job to the lane and its result back on the io_context: per batch, not per event.
void mongodb_lane_round_trip(benchmark::State& state) {
  osprof::detail::mongodb::blocking_lane lane;
  boost::asio::io_context ioc;
  for (auto _ : state) {
    int result = 0;
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
          std::function<int()> job = [] { return 1; };
          result = (co_await lane.call(std::move(job))).value_or(0);
        },
        boost::asio::detached);
    ioc.restart();
    ioc.run();
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(mongodb_lane_round_trip);

}  // namespace

BENCHMARK_MAIN();
