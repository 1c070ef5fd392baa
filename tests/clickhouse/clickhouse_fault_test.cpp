// The ClickHouse driver with the real emitter against clickhouse-server processes each test
// starts, kills, freezes and restarts (tests/servers/clickhouse.sh in a private directory), and
// against a scripted HTTP server for answers the server gives only by accident (503, 429, 500
// with a retryable code): down at start, killed mid-stream, frozen, wrong password, users
// without DDL rights or readonly. After every scenario the counters add up exactly (emitted == written + dropped) and
// ClickHouse holds every event counted as written (an INSERT whose answer was lost and that was
// sent again may hold some twice; reading shows them once).
#include <gtest/gtest.h>

#include "../http_drivers/server_test_util.hpp"

namespace {

using namespace osprof_test;

std::string url_of(std::uint16_t port, const std::string& userinfo = {}) {
  return "clickhouse://" + userinfo + "127.0.0.1:" + std::to_string(port) + "/faults";
}

osprof::options fault_options(std::uint16_t port, const std::string& userinfo = {}) {
  auto o = test_options(url_of(port, userinfo));
  o.batch_size = 1024;
  o.write_timeout = 3s;
  o.shutdown_timeout = 10s;
  return o;
}

struct stored_counts {
  std::uint64_t rows = 0;
  std::uint64_t distinct = 0;
};

stored_counts stored(std::uint16_t port) {
  const auto r = shell("curl -s 'http://127.0.0.1:" + std::to_string(port) +
                       "/' --data-binary 'SELECT count(), uniqExact(trace_id, name) FROM faults.osprofiler_events FORMAT TSV'");
  stored_counts c;
  if (std::sscanf(r.out.c_str(), "%lu\t%lu", &c.rows, &c.distinct) != 2) ADD_FAILURE() << "no counts: " << r.out;
  return c;
}

TEST(ClickHouseFault, DownAtStartEverythingHeldIsDeliveredLater) {
  script_server ch("clickhouse");
  ch.choose_ports();
  osprof::emitter e{fault_options(ch.port())};
  emit_points(1000);
  std::this_thread::sleep_for(300ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.held, 2000u);
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_NE(s.last_error.find("refused"), std::string::npos) << s.last_error;
  ch.start();
  ASSERT_TRUE(e.flush(20s)) << e.get_stats().last_error;
  e.shutdown(10s);
  s = e.get_stats();
  EXPECT_EQ(s.written, 2000u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  const auto c = stored(ch.port());
  EXPECT_EQ(c.rows, 2000u);
  EXPECT_EQ(c.distinct, 2000u);
}

TEST(ClickHouseFault, KilledMidStreamAndRestartedNoLoss) {
  script_server ch("clickhouse");
  ch.start();
  osprof::emitter e{fault_options(ch.port())};
  std::thread producer([] { emit_points(15000, 40, 150, 2ms); });  // 30,000 events over ~0.2 s+
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (e.get_stats().written < 3000 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  ASSERT_GE(e.get_stats().written, 3000u) << e.get_stats().last_error;
  ch.kill();
  const auto at_kill = e.get_stats();
  std::this_thread::sleep_for(300ms);
  ch.start();
  producer.join();
  ASSERT_TRUE(e.flush(30s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 30000u);
  EXPECT_LT(at_kill.written, 30000u) << "the kill came too late to test anything";
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  const auto c = stored(ch.port());
  EXPECT_EQ(c.distinct, s.written) << "every event counted written is stored";
  EXPECT_GE(c.rows, c.distinct);
}

TEST(ClickHouseFault, AFrozenServerIsRetriedThenNeverHangsShutdown) {
  script_server ch("clickhouse");
  ch.start();
  auto o = fault_options(ch.port());
  o.write_timeout = 300ms;
  osprof::emitter e{o};
  emit_points(10);
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  ch.pause();
  emit_points(200);
  std::this_thread::sleep_for(1s);
  EXPECT_NE(e.get_stats().last_error.find("timed out"), std::string::npos) << e.get_stats().last_error;
  ch.resume();
  ASSERT_TRUE(e.flush(20s)) << e.get_stats().last_error;
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 420u);
  EXPECT_GT(s.write_failures, 0u);

  ch.pause();
  emit_points(100);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.shutdown(1s));
  const auto took = std::chrono::steady_clock::now() - before;
  ch.resume();
  s = e.get_stats();
  EXPECT_EQ(s.written, 420u);
  EXPECT_EQ(s.dropped_shutdown, 200u);
  expect_balanced(s);
  EXPECT_LT(took, 15s) << "shutdown must end near its deadline";
  // What was counted written is stored. The INSERT cut short by the shutdown deadline had
  // reached the frozen server, which may run it once it thaws: those events were counted
  // dropped and may be stored anyway (drivers/clickhouse/README.md).
  const auto c = stored(ch.port());
  EXPECT_GE(c.distinct, 420u);
  EXPECT_LE(c.distinct, 620u);
}

TEST(ClickHouseFault, CredentialsAndPermissionsAreClearErrors) {
  script_server ch("clickhouse");
  ch.start();
  osprof::set_log_handler(capture_log);
  auto run = [&](const std::string& userinfo) {
    osprof::emitter e{fault_options(ch.port(), userinfo)};
    emit_points(5);
    e.flush(10s);
    e.shutdown(10s);
    return e.get_stats();
  };
  auto s = run("writer:wrong-secret@");
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 10u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("authentication failed (HTTP 401)"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("Wrong password for user writer"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("wrong-secret"), std::string::npos) << s.last_error;
  EXPECT_FALSE(logged("wrong-secret"));

  // A user without DDL rights may not create the missing table: refused for good, not retried.
  s = run("inserter:secret@");
  EXPECT_EQ(s.dropped_backend, 10u);
  EXPECT_EQ(s.write_failures, 1u);
  EXPECT_NE(s.last_error.find("table faults.osprofiler_events does not exist and cannot be created"), std::string::npos)
      << s.last_error;
  EXPECT_NE(s.last_error.find("DDL queries are prohibited"), std::string::npos) << s.last_error;

  s = run("writer:secret@");
  EXPECT_EQ(s.written, 10u) << s.last_error;
  s = run("inserter:secret@");  // the table exists now
  EXPECT_EQ(s.written, 10u) << s.last_error;
  // A readonly user may not write at all (code 164): refused for good, counted.
  s = run("reader:secret@");
  EXPECT_EQ(s.dropped_backend, 10u);
  EXPECT_EQ(s.write_failures, 1u);
  EXPECT_NE(s.last_error.find("Code: 164"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("readonly mode"), std::string::npos) << s.last_error;
  osprof::set_log_handler(nullptr);

  backend reader(url_of(ch.port(), "reader:secret@"));
  EXPECT_EQ(reader.list().size(), 2u) << "a readonly user reads";
  backend wrong(url_of(ch.port(), "writer:wrong-secret@"));
  try {
    wrong.list();
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("authentication failed"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-secret"), std::string::npos) << e.what();
  }
}

TEST(ClickHouseFault, ServerErrorsAreRetriedHonouringRetryAfterAndRefusalsCounted) {
  const scripted_http_server::answer exists{200, "1\n"};  // EXISTS TABLE
  scripted_http_server server({exists,
                               {503, "Service Unavailable"},
                               {429, "slow down", "Retry-After: 1\r\n"},
                               {500, "Code: 252, e.displayText() = DB::Exception: Too many parts (300). Merges are processing "
                                     "significantly slower than inserts., e.what() = DB::Exception\n"},
                               {200, ""}});
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
  EXPECT_EQ(server.targets()[0], "POST / HTTP/1.1");
  EXPECT_EQ(server.targets()[1],
            "POST /?insert_distributed_sync=1&query=INSERT%20INTO%20%60faults%60.%60osprofiler_events%60%20FORMAT%20JSONEachRow "
            "HTTP/1.1");

  // A 500 whose code says the data is bad is refused for good: dropped and counted, once.
  scripted_http_server refusing({exists, {500, "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected { before: x"
                                       ", e.what() = DB::Exception\n"}});
  osprof::emitter e2{fault_options(refusing.port())};
  emit_points(5);
  e2.flush(10s);
  e2.shutdown(10s);
  s = e2.get_stats();
  EXPECT_EQ(s.dropped_backend, 10u);
  EXPECT_EQ(refusing.requests(), 2);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("Cannot parse input"), std::string::npos) << s.last_error;
}

}  // namespace
