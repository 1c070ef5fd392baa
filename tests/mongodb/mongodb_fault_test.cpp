// The MongoDB driver with the real emitter against loopback MongoDB processes that each test
// starts, kills, freezes (SIGSTOP: connections are accepted, nothing answers) and restarts, or
// makes fail through the server's osprofFault command: down at start, killed mid-stream, a
// frozen server, wrong credentials, a document over 16 MiB, answers lost after the insert,
// per-document errors, write concern errors, retryable and fatal command errors, slow answers.
// Nothing may crash or hang, callers must not wait, the counters must add up exactly
// (emitted == written + dropped) and the server must hold exactly the events counted written.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "mongo_test_util.hpp"
#include "support/emit_accounting.hpp"

namespace {

using namespace osprof_test;
using namespace std::chrono_literals;

osprof::options fault_options(const std::string& url) {
  auto o = test_options(url);
  o.batch_size = 256;
  o.queue_capacity = 200000;
  o.write_timeout = 2s;
  o.shutdown_timeout = 10s;
  return o;
}

std::string balance(const osprof::stats& s) {
  return "emitted " + std::to_string(s.emitted) + ", written " + std::to_string(s.written) + ", dropped " +
         std::to_string(s.dropped_queue_full) + " queue full + " + std::to_string(s.dropped_backend) + " backend + " +
         std::to_string(s.dropped_shutdown) + " shutdown; last error: " + s.last_error;
}

std::int64_t stored(std::uint16_t port) { return mongo_admin(port).count("osprofiler", "profiler"); }

osprof::stats run(const osprof::options& o, int points, const std::function<void()>& meanwhile = {}) {
  osprof::emitter e{o};
  emit_points(points);
  if (meanwhile) meanwhile();
  EXPECT_TRUE(e.flush(60s)) << balance(e.get_stats());
  e.shutdown(10s);
  return e.get_stats();
}

TEST(MongodbFault, DownAtStartEverythingHeldIsDeliveredLater) {
  fake_mongodb server;
  osprof::emitter e{fault_options(server.url())};
  emit_points(500);
  std::this_thread::sleep_for(300ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.held, 1000u);
  EXPECT_GT(s.write_failures, 0u);
  EXPECT_NE(s.last_error.find("connection refused"), std::string::npos) << s.last_error;
  server.start();
  ASSERT_TRUE(e.flush(30s)) << balance(e.get_stats());
  e.shutdown(10s);
  s = e.get_stats();
  EXPECT_EQ(s.written, 1000u) << balance(s);
  expect_balanced(s);
  EXPECT_EQ(stored(server.port()), 1000);
}

TEST(MongodbFault, KilledMidStreamAndRestarted) {
  fake_mongodb server;
  server.start();
  osprof::emitter e{fault_options(server.url())};
  std::thread producer([] { emit_points(5000, 40, 100, 2ms); });
  while (e.get_stats().written < 1000) std::this_thread::sleep_for(1ms);
  server.kill_now();  // the restarted server starts empty: it holds what came after
  const auto at_kill = e.get_stats().written;
  std::this_thread::sleep_for(300ms);
  server.start();
  producer.join();
  ASSERT_TRUE(e.flush(60s)) << balance(e.get_stats());
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 10000u);
  EXPECT_EQ(s.dropped(), 0u) << balance(s);
  expect_balanced(s);
  EXPECT_LT(at_kill, 10000u);
  const auto after = stored(server.port());
  EXPECT_GE(after, static_cast<std::int64_t>(s.written - at_kill)) << "what was counted after the kill is there";
  EXPECT_LE(after, static_cast<std::int64_t>(s.written));
}

// Nanoseconds per span (start + stop) on the calling thread.
std::vector<std::int64_t> span_costs(int spans) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(spans));
  osprof::init("SECRET_KEY");
  for (int i = 0; i < spans; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    osprof::start("point", {{"i", i}});
    osprof::stop();
    out.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }
  osprof::clean();
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MongodbFault, FrozenServerDoesNotHoldUpCallersAndGetsEverythingOnce) {
  fake_mongodb server;
  server.start();
  auto o = fault_options(server.url());
  o.write_timeout = 1s;
  osprof::emitter e{o};
  const auto healthy = span_costs(5000);
  ASSERT_TRUE(e.flush(30s));
  server.pause();
  const auto frozen = span_costs(5000);
  const auto during = osprof_test::stats_after_first_failure(e);  // writes time out, are cancelled, retried
  EXPECT_GT(during.write_failures, 0u) << balance(during);
  EXPECT_GT(during.held, 0u);
  server.resume();
  ASSERT_TRUE(e.flush(60s)) << balance(e.get_stats());
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, 20000u) << balance(s);
  expect_balanced(s);
  EXPECT_EQ(stored(server.port()), 20000) << "sent again after the freeze: stored once";
  // The caller's cost does not depend on the backend: no trace point waited for MongoDB.
  const auto p50 = [](const std::vector<std::int64_t>& v) { return v[v.size() / 2]; };
  std::printf("span cost p50/max: healthy %lld/%lld ns, frozen %lld/%lld ns\n", static_cast<long long>(p50(healthy)),
              static_cast<long long>(healthy.back()), static_cast<long long>(p50(frozen)), static_cast<long long>(frozen.back()));
  EXPECT_LT(frozen.back(), 200'000'000) << "a trace point waited for the frozen server";
  EXPECT_LT(p50(frozen), 2 * p50(healthy) + 500);
}

TEST(MongodbFault, ShutdownWithAFrozenServerEndsAtItsDeadline) {
  fake_mongodb server;
  server.start();
  auto o = fault_options(server.url());
  o.write_timeout = 5s;
  auto e = std::make_unique<osprof::emitter>(o);
  emit_points(100);
  ASSERT_TRUE(e->flush(30s));
  server.pause();
  emit_points(1000);
  std::this_thread::sleep_for(200ms);  // a write is now blocked in libmongoc
  const auto started = std::chrono::steady_clock::now();
  e->shutdown(1s);
  const auto took = std::chrono::steady_clock::now() - started;
  const auto s = e->get_stats();
  e.reset();  // the writer goes too: its thread is left to finish on its own
  EXPECT_LT(took, 3s) << "libmongoc's blocked call did not hold up the shutdown";
  EXPECT_GT(s.dropped_shutdown, 0u) << balance(s);
  expect_balanced(s);
  server.resume();
}

TEST(MongodbFault, WrongCredentialsAreRefusedWithoutThePassword) {
  fake_mongodb server({"--user", "osprof:right-password"});
  server.start();
  log_lines.clear();
  const auto previous = osprof::set_log_handler(&capture_log);
  const auto s = run(fault_options(server.url("/?authSource=admin").insert(10, "osprof:Wr0ng-Pa55word@")), 100);
  osprof::set_log_handler(previous);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 200u) << balance(s);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("authentication failed"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("osprof:***@"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("Wr0ng-Pa55word"), std::string::npos) << s.last_error;
  for (const auto& line : log_lines) EXPECT_EQ(line.find("Wr0ng-Pa55word"), std::string::npos) << line;
  EXPECT_TRUE(logged("authentication failed"));

  // Without credentials: every command is refused (13 Unauthorized).
  const auto anonymous = run(fault_options(server.url()), 50);
  EXPECT_EQ(anonymous.dropped_backend, 100u) << balance(anonymous);
  EXPECT_NE(anonymous.last_error.find("requires authentication"), std::string::npos) << anonymous.last_error;
  EXPECT_EQ(mongo_admin("mongodb://osprof:right-password@127.0.0.1:" + std::to_string(server.port()) + "/?authSource=admin")
                .count("osprofiler", "profiler"),
            0);
}

TEST(MongodbFault, ADocumentOver16MiBIsRefusedAloneAndCounted) {
  fake_mongodb server;
  server.start();
  auto o = fault_options(server.url());
  o.max_event_bytes = 24u << 20;
  o.queue_max_bytes = 256u << 20;
  osprof::emitter e{o};
  const std::string big(17u << 20, 'x');
  osprof::init("SECRET_KEY");
  for (int i = 0; i < 20; ++i) {
    osprof::start("point", {{"i", i}});
    osprof::stop();
  }
  osprof::start("huge", {{"blob", big}});
  osprof::stop();
  osprof::clean();
  ASSERT_TRUE(e.flush(60s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 42u);
  EXPECT_EQ(s.dropped_backend, 1u) << "only the huge start event: " << balance(s);
  EXPECT_EQ(s.written, 41u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("over MongoDB's 16 MiB limit"), std::string::npos) << s.last_error;
  EXPECT_EQ(stored(server.port()), 41);
}

TEST(MongodbFault, AnswersLostAfterTheInsertStoreNothingTwice) {
  fake_mongodb server;
  server.start();
  // The server stores the batch and closes the connection without answering, twice: the
  // driver cannot know, sends the batch again, and its duplicates of its own ids count as
  // stored.
  mongo_admin(server.port()).fault(R"([{"kind": "hangup", "when": "after", "count": 2}])");
  const auto s = run(fault_options(server.url()), 300);
  EXPECT_EQ(s.written, 600u) << balance(s);
  EXPECT_EQ(s.dropped(), 0u);
  EXPECT_GE(s.retries, 2u);
  expect_balanced(s);
  EXPECT_EQ(stored(server.port()), 600);
}

TEST(MongodbFault, PerDocumentErrorsAreCountedPerEvent) {
  fake_mongodb server;
  server.start();
  mongo_admin(server.port()).fault(
      R"([{"kind": "write_errors", "every": 4, "code": 121, "codeName": "DocumentValidationFailure", "errmsg": "Document failed validation"}])");
  const auto s = run(fault_options(server.url()), 500);
  EXPECT_GT(s.dropped_backend, 0u);
  EXPECT_LE(s.dropped_backend, 64u) << "only the refused documents of one insert, not their batch";
  EXPECT_EQ(s.written + s.dropped_backend, 1000u) << balance(s);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("Document failed validation"), std::string::npos) << s.last_error;
  EXPECT_EQ(stored(server.port()), static_cast<std::int64_t>(s.written));
}

TEST(MongodbFault, RetryablePerDocumentErrorsAreSentAgain) {
  fake_mongodb server;
  server.start();
  mongo_admin(server.port()).fault(
      R"([{"kind": "write_errors", "every": 2, "code": 11602, "errmsg": "operation was interrupted", "count": 3}])");
  const auto s = run(fault_options(server.url()), 500);
  EXPECT_EQ(s.written, 1000u) << balance(s);
  EXPECT_GE(s.retries, 1u);
  expect_balanced(s);
  EXPECT_EQ(stored(server.port()), 1000);
}

TEST(MongodbFault, WriteConcernErrorsAreRetriedWithoutDuplicates) {
  fake_mongodb server;
  server.start();
  mongo_admin(server.port()).fault(R"([{"kind": "write_concern_error", "count": 2}])");
  const auto s = run(fault_options(server.url("/?w=majority&wtimeoutMS=100")), 300);
  EXPECT_EQ(s.written, 600u) << balance(s);
  EXPECT_GE(s.retries, 2u);
  EXPECT_NE(s.last_error.find("waiting for replication timed out"), std::string::npos) << s.last_error;
  expect_balanced(s);
  EXPECT_EQ(stored(server.port()), 600);
}

TEST(MongodbFault, RetryableCommandErrorsAreRetriedFatalOnesDropTheirBatch) {
  fake_mongodb server;
  server.start();
  mongo_admin(server.port()).fault(
      R"([{"kind": "error", "code": 91, "codeName": "ShutdownInProgress", "errmsg": "The server is in quiesce mode and will shut down", "count": 2}])");
  auto s = run(fault_options(server.url()), 300);
  EXPECT_EQ(s.written, 600u) << balance(s);
  EXPECT_GE(s.retries, 2u);
  expect_balanced(s);

  mongo_admin(server.port()).fault(
      R"([{"kind": "error", "code": 13, "codeName": "Unauthorized", "errmsg": "not authorized on osprofiler to execute command { insert: \"profiler\" }", "count": 1}])");
  s = run(fault_options(server.url()), 300);
  EXPECT_GT(s.dropped_backend, 0u) << balance(s);
  EXPECT_LE(s.dropped_backend, 256u) << "one batch";
  EXPECT_EQ(s.written + s.dropped_backend, 600u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("not authorized"), std::string::npos) << s.last_error;
  EXPECT_EQ(stored(server.port()), static_cast<std::int64_t>(600 + s.written));
}

TEST(MongodbFault, AnAnswerLaterThanTheWriteTimeoutIsCancelledAndSentAgain) {
  fake_mongodb server;
  server.start();
  mongo_admin(server.port()).fault(R"([{"kind": "delay", "ms": 3000, "count": 1}])");
  auto o = fault_options(server.url());
  o.write_timeout = 1s;
  const auto s = run(o, 400);
  EXPECT_EQ(s.written, 800u) << balance(s);
  EXPECT_GE(s.write_failures, 1u);
  expect_balanced(s);
  std::this_thread::sleep_for(2500ms);  // the delayed insert runs late; its documents are already there
  EXPECT_EQ(stored(server.port()), 800);
}

}  // namespace
