// The Elasticsearch driver with the real emitter against loopback Elasticsearch processes that
// each test starts, kills and restarts itself, or makes fail through its fault endpoint: down
// at start, killed mid-stream, 429 with Retry-After, 503, 400, bulk items refused with 429 or
// 400, slow answers, dropped connections. Nothing may crash or hang, the counters must add up
// (emitted == written + dropped), and the server must hold exactly the events counted written.
#include <gtest/gtest.h>

#include "loopback_util.hpp"

namespace {

using namespace osprof_test;

osprof::options fault_options(std::uint16_t port, const std::string& extra = {}) {
  auto o = test_options("elasticsearch://127.0.0.1:" + std::to_string(port) + "?index=f-events&error_index=f-errors" + extra);
  o.batch_size = 256;
  o.queue_capacity = 100000;
  o.write_timeout = 2s;
  o.shutdown_timeout = 10s;
  return o;
}

std::int64_t stored(std::uint16_t port) {
  simdjson::dom::parser parser;
  auto stats = http_json(parser, port, "GET", "/_osprof/stats");
  std::int64_t n = 0;
  if (stats["indices"]["f-events"].get_int64().get(n)) return 0;
  return n;
}

void fault(std::uint16_t port, const std::string& json) { inject(port, "/_osprof", json); }

osprof::stats run(const osprof::options& o, int points, const std::function<void()>& meanwhile = {}) {
  osprof::emitter e{o};
  emit_points(points);
  if (meanwhile) meanwhile();
  EXPECT_TRUE(e.flush(30s));
  e.shutdown(10s);
  return e.get_stats();
}

TEST(EsFault, DownAtStartEverythingHeldIsDeliveredLater) {
  loopback_process es("fake_elasticsearch.py");
  osprof::emitter e{fault_options(es.port())};
  emit_points(500);
  std::this_thread::sleep_for(300ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.held, 1000u);
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_NE(s.last_error.find("refused"), std::string::npos) << s.last_error;
  es.start();
  ASSERT_TRUE(e.flush(20s));
  e.shutdown(10s);
  s = e.get_stats();
  EXPECT_EQ(s.written, 1000u) << balance_text(s);
  expect_balanced(s);
  EXPECT_EQ(stored(es.port()), 1000);
}

TEST(EsFault, KilledMidStreamAndRestarted) {
  loopback_process es("fake_elasticsearch.py");
  es.start();
  auto o = fault_options(es.port());
  osprof::emitter e{o};
  std::thread producer([] { emit_points(5000, 40, 100, 2ms); });
  while (e.get_stats().written < 1000) std::this_thread::sleep_for(1ms);
  es.kill_now();  // the restarted server starts empty: only the counters can be compared
  const auto at_kill = e.get_stats().written;
  std::this_thread::sleep_for(300ms);
  es.start();
  producer.join();
  EXPECT_TRUE(e.flush(30s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 10000u);
  EXPECT_EQ(s.dropped(), 0u) << balance_text(s);
  expect_balanced(s);
  EXPECT_LT(at_kill, 10000u);
  // What the new server holds is what was written after the restart (or resent to it).
  EXPECT_GE(stored(es.port()), static_cast<std::int64_t>(s.written - at_kill));
}

TEST(EsFault, TooManyRequestsAndUnavailableAreRetried) {
  loopback_process es("fake_elasticsearch.py");
  es.start();
  fault(es.port(), R"([{"kind":"status","status":429,"retry_after":1,"count":2},{"kind":"status","status":503,"count":2}])");
  const auto started = std::chrono::steady_clock::now();
  // Retry-After is honoured up to retry_backoff_max: the server's 1 s must fit.
  auto o = fault_options(es.port());
  o.retry_backoff_max = 2s;
  const auto s = run(o, 300);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms) << "Retry-After: 1 was honoured";
  EXPECT_EQ(s.written, 600u) << balance_text(s);
  EXPECT_GE(s.retries, 4u);
  expect_balanced(s);
  EXPECT_EQ(stored(es.port()), 600);
}

TEST(EsFault, BadRequestIsDroppedAndCounted) {
  loopback_process es("fake_elasticsearch.py");
  es.start();
  fault(es.port(), R"({"kind":"status","status":400,"count":1,"path":"_bulk"})");
  const auto s = run(fault_options(es.port()), 300);
  EXPECT_GT(s.dropped_backend, 0u) << balance_text(s);
  EXPECT_EQ(s.written + s.dropped_backend, 600u);
  expect_balanced(s);
  EXPECT_EQ(stored(es.port()), static_cast<std::int64_t>(s.written));
}

TEST(EsFault, ItemsRefusedWith429AreResentUntilStored) {
  loopback_process es("fake_elasticsearch.py");
  es.start();
  // Every second item of the next three bulk requests: es_rejected_execution_exception.
  fault(es.port(), R"({"kind":"item_status","status":429,"every":2,"count":3})");
  const auto s = run(fault_options(es.port()), 500);
  EXPECT_EQ(s.written, 1000u) << balance_text(s);
  EXPECT_EQ(s.dropped(), 0u);
  EXPECT_GE(s.retries, 1u);
  expect_balanced(s);
  EXPECT_EQ(stored(es.port()), 1000) << "resent items replace, never duplicate";
}

TEST(EsFault, ItemsRefusedWith400AreCountedPerEvent) {
  loopback_process es("fake_elasticsearch.py");
  es.start();
  fault(es.port(), R"({"kind":"item_status","status":400,"every":4,"count":1})");
  const auto s = run(fault_options(es.port()), 500);
  EXPECT_GT(s.dropped_backend, 0u);
  EXPECT_LT(s.dropped_backend, 200u) << "only the refused items, not their batch";
  EXPECT_EQ(s.written + s.dropped_backend, 1000u) << balance_text(s);
  expect_balanced(s);
  EXPECT_EQ(stored(es.port()), static_cast<std::int64_t>(s.written));
  EXPECT_NE(s.last_error.find("mapper_parsing_exception"), std::string::npos) << s.last_error;
}

TEST(EsFault, SlowAnswersAndDroppedConnections) {
  loopback_process es("fake_elasticsearch.py");
  es.start();
  // A slow answer within the write timeout, one beyond it (cancelled, resent), two dropped
  // connections: everything arrives once.
  fault(es.port(), R"([{"kind":"slow","delay_ms":300,"count":1},{"kind":"slow","delay_ms":3000,"count":1},)"
                   R"({"kind":"drop","count":2}])");
  const auto s = run(fault_options(es.port()), 400);
  EXPECT_EQ(s.written, 800u) << balance_text(s);
  // The timed-out write is a failure; a dropped connection is one too, unless it happened on
  // a kept-alive connection, which the HTTP client resends on by itself once.
  EXPECT_GE(s.write_failures, 1u);
  expect_balanced(s);
  // The timed-out request was stored by the server after all; the resend replaced it.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(stored(es.port()), 800);
}

}  // namespace
