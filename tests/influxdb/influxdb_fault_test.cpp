// The InfluxDB driver with the real emitter against influxd processes each test starts, kills,
// freezes and restarts (tests/servers/influxdb.sh in a private directory), and against a
// scripted HTTP server for answers influxd gives only by accident (503, 429, 500): down at
// start, killed mid-stream, frozen, the tag-value limit (a real partial write), wrong
// credentials. After every scenario the counters add up exactly (emitted == written + dropped)
// and InfluxDB holds exactly the events counted as written.
#include <gtest/gtest.h>

#include "../http_drivers/server_test_util.hpp"

namespace {

using namespace osprof_test;

std::string url_of(std::uint16_t port, const std::string& options = {}) {
  return "influxdb://127.0.0.1:" + std::to_string(port) + "/faults" + options;
}

osprof::options fault_options(std::uint16_t port, const std::string& extra = {}) {
  auto o = test_options(url_of(port, extra));
  o.batch_size = 256;
  o.write_timeout = 2s;
  o.shutdown_timeout = 10s;
  return o;
}

// Points stored in the measurement.
std::uint64_t stored_points(std::uint16_t port) {
  const auto r = shell("curl -s -XPOST 'http://127.0.0.1:" + std::to_string(port) +
                       "/query?db=faults&epoch=ns' --data-urlencode 'q=SELECT count(\"event\") FROM \"osprofiler_events\"'");
  const std::string needle = "\"values\":[[0,";
  const auto at = r.out.find(needle);
  if (at == std::string::npos) return 0;
  return std::stoull(r.out.substr(at + needle.size()));
}

TEST(InfluxFault, DownAtStartEverythingHeldIsDeliveredLater) {
  script_server influx("influxdb");
  influx.choose_ports();
  osprof::emitter e{fault_options(influx.port())};
  emit_points(1000);
  std::this_thread::sleep_for(300ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.held, 2000u);
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_NE(s.last_error.find("refused"), std::string::npos) << s.last_error;
  influx.start();
  ASSERT_TRUE(e.flush(20s)) << e.get_stats().last_error;
  e.shutdown(10s);
  s = e.get_stats();
  EXPECT_EQ(s.written, 2000u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  EXPECT_EQ(stored_points(influx.port()), 2000u);
}

TEST(InfluxFault, DownBeyondTheCapDropsByPolicyAndCounts) {
  script_server influx("influxdb");
  influx.choose_ports();
  auto o = fault_options(influx.port());
  o.queue_capacity = 1000;
  osprof::emitter e{o};
  emit_points(2500);
  influx.start();
  ASSERT_TRUE(e.flush(20s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 5000u);
  EXPECT_GE(s.dropped_queue_full, 4000u);
  EXPECT_EQ(s.written, s.emitted - s.dropped_queue_full);
  expect_balanced(s);
  EXPECT_EQ(stored_points(influx.port()), s.written);
}

TEST(InfluxFault, KilledMidStreamAndRestartedNoLoss) {
  script_server influx("influxdb");
  influx.start();
  osprof::emitter e{fault_options(influx.port())};
  std::thread producer([] { emit_points(15000, 40, 150, 2ms); });  // 30,000 events over ~0.2 s+
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (e.get_stats().written < 3000 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  ASSERT_GE(e.get_stats().written, 3000u) << e.get_stats().last_error;
  influx.kill();
  const auto at_kill = e.get_stats();
  std::this_thread::sleep_for(300ms);
  influx.start();
  producer.join();
  ASSERT_TRUE(e.flush(30s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 30000u);
  EXPECT_LT(at_kill.written, 30000u) << "the kill came too late to test anything";
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  // Acknowledged writes are in the WAL (fsync per write); a body sent again after a lost
  // answer overwrote its own points (same series, same times): exactly what was counted.
  EXPECT_EQ(stored_points(influx.port()), s.written);
}

TEST(InfluxFault, AFrozenServerIsRetriedThenNeverHangsShutdown) {
  script_server influx("influxdb");
  influx.start();
  auto o = fault_options(influx.port());
  o.write_timeout = 300ms;
  osprof::emitter e{o};
  emit_points(10);
  ASSERT_TRUE(e.flush(10s));
  influx.pause();  // SIGSTOP: connections are accepted by the kernel, nothing answers
  emit_points(200);
  std::this_thread::sleep_for(1s);
  EXPECT_NE(e.get_stats().last_error.find("timed out"), std::string::npos) << e.get_stats().last_error;
  influx.resume();  // slow, not dead: everything arrives
  ASSERT_TRUE(e.flush(20s)) << e.get_stats().last_error;
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 420u);
  EXPECT_GT(s.write_failures, 0u);

  influx.pause();
  emit_points(100);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.shutdown(1s));
  const auto took = std::chrono::steady_clock::now() - before;
  influx.resume();
  s = e.get_stats();
  EXPECT_EQ(s.written, 420u);
  EXPECT_EQ(s.dropped_shutdown, 200u);
  expect_balanced(s);
  EXPECT_LT(took, 15s) << "shutdown must end near its deadline";
}

TEST(InfluxFault, TagValueLimitIsAPartialWriteCountedPerEvent) {
  // max-values-per-tag = 3 and 3 traces stored: a batch with one more point of a stored trace
  // and two new traces stores the first and drops the others' events ("partial write:
  // max-values-per-tag limit exceeded ... dropped=4").
  script_server influx("influxdb", {"data.max-values-per-tag = 3"});
  influx.start();
  osprof::set_log_handler(capture_log);
  osprof::stats s;
  {
    auto o = fault_options(influx.port());
    o.flush_interval = 500ms;  // one batch per flush
    osprof::emitter e{o};
    std::vector<osprof::uuid> stored;
    for (int i = 0; i < 3; ++i) {
      osprof::init("SECRET_KEY");
      stored.push_back(osprof::get()->base_id());
      { osprof::trace t("first"); }
      osprof::clean();
    }
    ASSERT_TRUE(e.flush(10s));
    ASSERT_EQ(e.get_stats().written, 6u) << e.get_stats().last_error;
    osprof::init("SECRET_KEY", stored[1]);
    { osprof::trace t("more"); }
    osprof::clean();
    emit_points(2, 1);  // two new traces
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(10s);
    s = e.get_stats();
  }
  osprof::set_log_handler(nullptr);
  EXPECT_EQ(s.emitted, 12u);
  EXPECT_EQ(s.written, 8u);
  EXPECT_EQ(s.dropped_backend, 4u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("max-values-per-tag limit exceeded"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("raise or disable max-values-per-tag"), std::string::npos) << s.last_error;
  EXPECT_TRUE(logged("rejected 4 of 6 events"));
  EXPECT_EQ(stored_points(influx.port()), 8u);
}

TEST(InfluxFault, WrongCredentialsAreAClearErrorWithoutThePassword) {
  script_server influx("influxdb", {"http.auth-enabled = true"});
  influx.start();
  const std::string where = "http://127.0.0.1:" + std::to_string(influx.port());
  // The first user may be created without credentials.
  ASSERT_EQ(shell("curl -sf -XPOST '" + where + "/query' --data-urlencode \"q=CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES\"").code, 0);
  auto run = [&](const std::string& userinfo) {
    auto o = fault_options(influx.port());
    o.connection_string = "influxdb://" + userinfo + "127.0.0.1:" + std::to_string(influx.port()) + "/faults";
    osprof::emitter e{o};
    emit_points(5);
    e.flush(10s);
    e.shutdown(10s);
    return e.get_stats();
  };
  auto s = run("admin:wrong-secret@");
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 10u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("authentication failed (HTTP 401)"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("wrong-secret"), std::string::npos) << s.last_error;

  s = run("");
  EXPECT_EQ(s.dropped_backend, 10u);
  EXPECT_NE(s.last_error.find("authentication failed"), std::string::npos) << s.last_error;

  s = run("admin:right@");
  EXPECT_EQ(s.written, 10u) << s.last_error;
  backend reader("influxdb://admin:wrong-secret@127.0.0.1:" + std::to_string(influx.port()) + "/faults");
  try {
    reader.list();
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("authentication failed"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-secret"), std::string::npos) << e.what();
  }
  backend good("influxdb://admin:right@127.0.0.1:" + std::to_string(influx.port()) + "/faults");
  EXPECT_EQ(good.list().size(), 1u);
}

TEST(InfluxFault, ServerErrorsAreRetriedHonouringRetryAfterAndRefusalsCounted) {
  const scripted_http_server::answer created{200, "{\"results\":[{\"statement_id\":0}]}"};  // CREATE DATABASE
  scripted_http_server server({created,
                               {503, "{\"error\":\"overloaded\"}"},
                               {429, "{\"error\":\"slow down\"}", "Retry-After: 1\r\n"},
                               {500, "{\"error\":\"timeout\"}"},
                               {204, ""}});
  // Retry-After is honoured up to retry_backoff_max: the server's 1 s must fit.
  auto o = fault_options(server.port());
  o.retry_backoff_max = 2s;
  osprof::emitter e{o};
  emit_points(5);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(e.flush(20s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms) << "Retry-After: 1 was honoured";
  e.shutdown(10s);
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 10u);
  EXPECT_EQ(s.write_failures, 3u);
  expect_balanced(s);
  ASSERT_EQ(server.targets().size(), 5u);
  EXPECT_EQ(server.targets()[0], "POST /query HTTP/1.1");
  EXPECT_EQ(server.targets()[1], "POST /write?db=faults&precision=ns HTTP/1.1");

  // A body that does not parse is refused for good: dropped and counted, not retried.
  scripted_http_server refusing({created, {400, "{\"error\":\"unable to parse 'x': invalid field format\"}"}});
  osprof::emitter e2{fault_options(refusing.port())};
  emit_points(5);
  e2.flush(10s);
  e2.shutdown(10s);
  s = e2.get_stats();
  EXPECT_EQ(s.dropped_backend, 10u);
  EXPECT_EQ(refusing.requests(), 2);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("unable to parse"), std::string::npos) << s.last_error;
}

}  // namespace
