// The emitter under concurrent producers: exact counts, drop accounting, retries, shutdown.
#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/emitter/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using osprof::test::memory_store;

osprof::options memory_options(const std::string& store) {
  osprof::options o;
  o.connection_string = "memory://" + store;
  o.project = "proj";
  o.service = "svc";
  o.host = "testhost";
  o.retry_backoff = 5ms;
  o.retry_backoff_max = 20ms;
  o.flush_interval = 20ms;
  return o;
}

// Runs `spans` start/stop pairs on each of `threads` threads, each thread in its own trace.
void run_producers(int threads, int spans) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([spans] {
      osprof::init("SECRET_KEY");
      for (int i = 0; i < spans; ++i) {
        osprof::start("work", {{"i", i}});
        osprof::stop();
      }
      osprof::clean();
    });
  }
  for (auto& th : pool) th.join();
}

void expect_balanced(const osprof::stats& s) {
  EXPECT_EQ(s.emitted, s.written + s.dropped())
      << "written " << s.written << " queue_full " << s.dropped_queue_full << " backend " << s.dropped_backend
      << " shutdown " << s.dropped_shutdown;
}

TEST(Emitter, ExactCountsFromManyProducersWithoutOverflow) {
  const auto name = osprof_test::unique_store("exact");
  auto store = memory_store::get(name);
  auto o = memory_options(name);
  o.queue_capacity = 4 * 2 * 20000;  // room for the whole burst: nothing may be dropped
  osprof::emitter em(o);
  run_producers(4, 20000);
  ASSERT_TRUE(em.flush(30s));
  const auto s = em.get_stats();
  EXPECT_EQ(s.emitted, 4u * 2 * 20000);
  EXPECT_EQ(s.written, s.emitted);
  EXPECT_EQ(s.dropped(), 0u);
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(store->size(), s.written);
  expect_balanced(s);
}

TEST(Emitter, OverflowDropsAreCountedExactly) {
  const auto name = osprof_test::unique_store("overflow");
  auto store = memory_store::get(name);
  store->delay_ms = 5;  // a slow backend: the small queue fills up
  auto o = memory_options(name);
  o.queue_capacity = 64;
  o.batch_size = 16;
  osprof::emitter em(o);
  run_producers(3, 5000);
  ASSERT_TRUE(em.flush(60s));
  const auto s = em.get_stats();
  EXPECT_EQ(s.emitted, 3u * 2 * 5000);
  EXPECT_GT(s.dropped_queue_full, 0u);
  EXPECT_EQ(s.dropped_backend, 0u);
  EXPECT_EQ(store->size(), s.written);
  expect_balanced(s);
}

TEST(Emitter, CleanShutdownLosesNothing) {
  const auto name = osprof_test::unique_store("shutdown");
  auto store = memory_store::get(name);
  auto o = memory_options(name);
  o.flush_interval = 10s;  // nothing is written before shutdown unless a batch fills up
  osprof::emitter em(o);
  run_producers(2, 3000);
  EXPECT_TRUE(em.shutdown(30s));
  const auto s = em.get_stats();
  EXPECT_EQ(s.emitted, 2u * 2 * 3000);
  EXPECT_EQ(s.written, s.emitted);
  EXPECT_EQ(store->size(), s.emitted);
  expect_balanced(s);
}

TEST(Emitter, TracePointsAfterShutdownAreNoops) {
  const auto name = osprof_test::unique_store("after");
  auto store = memory_store::get(name);
  osprof::emitter em(memory_options(name));
  osprof::init("k");
  osprof::start("before");
  osprof::stop();
  em.shutdown(10s);
  for (int i = 0; i < 1000; ++i) {
    osprof::start("after");
    osprof::stop();
  }
  osprof::clean();
  const auto s = em.get_stats();
  EXPECT_EQ(s.emitted, 2u);
  EXPECT_EQ(store->size(), 2u);
  expect_balanced(s);
}

TEST(Emitter, RetryableFailuresAreRetriedUntilTheBackendRecovers) {
  const auto name = osprof_test::unique_store("retry");
  auto store = memory_store::get(name);
  store->fault_mode = memory_store::fault::retryable;
  osprof::emitter em(memory_options(name));
  run_producers(2, 500);
  // Let several attempts fail, then heal the backend.
  for (int i = 0; i < 500 && em.get_stats().write_failures < 3; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(em.get_stats().write_failures, 3u);
  EXPECT_FALSE(em.get_stats().last_error.empty());
  store->fault_mode = memory_store::fault::none;
  ASSERT_TRUE(em.flush(30s));
  const auto s = em.get_stats();
  EXPECT_EQ(s.written, 2u * 2 * 500);
  EXPECT_EQ(s.dropped(), 0u);
  EXPECT_GE(s.retries, 3u);
  EXPECT_EQ(store->size(), s.written);
  expect_balanced(s);
}

TEST(Emitter, PermanentFailuresAreDroppedAndCounted) {
  const auto name = osprof_test::unique_store("fatal");
  auto store = memory_store::get(name);
  store->fault_mode = memory_store::fault::fatal;
  osprof::emitter em(memory_options(name));
  run_producers(1, 1000);
  ASSERT_TRUE(em.flush(30s));
  const auto s = em.get_stats();
  EXPECT_EQ(s.dropped_backend, 2000u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_NE(s.last_error.find("simulated permanent rejection"), std::string::npos);
  expect_balanced(s);
}

TEST(Emitter, EventsRejectedOneByOneAreCountedPerEvent) {
  const auto name = osprof_test::unique_store("reject");
  auto store = memory_store::get(name);
  store->reject_every = 4;
  auto o = memory_options(name);
  o.batch_size = 100;
  osprof::emitter em(o);
  run_producers(1, 1000);
  ASSERT_TRUE(em.flush(30s));
  const auto s = em.get_stats();
  EXPECT_GT(s.dropped_backend, 0u);
  EXPECT_EQ(store->size(), s.written);
  EXPECT_EQ(s.written + s.dropped_backend, 2000u);
  expect_balanced(s);
}

TEST(Emitter, ShutdownDeadlineBoundsADeadBackend) {
  const auto name = osprof_test::unique_store("dead");
  auto store = memory_store::get(name);
  store->fault_mode = memory_store::fault::retryable;
  auto o = memory_options(name);
  o.retry_backoff = 50ms;
  osprof::emitter em(o);
  run_producers(1, 200);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(em.shutdown(300ms));
  // Bounded: the deadline plus a grace period, not the backend's mercy (generous for CI noise).
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  const auto s = em.get_stats();
  EXPECT_EQ(s.dropped_shutdown, 400u);
  EXPECT_EQ(s.written, 0u);
  expect_balanced(s);
}

TEST(Emitter, SlowWritesAreCancelledAtTheWriteTimeout) {
  const auto name = osprof_test::unique_store("slow");
  auto store = memory_store::get(name);
  store->delay_ms = 5000;
  auto o = memory_options(name);
  o.write_timeout = 50ms;
  osprof::emitter em(o);
  run_producers(1, 10);
  for (int i = 0; i < 500 && em.get_stats().write_failures < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(em.get_stats().write_failures, 2u);
  EXPECT_NE(em.get_stats().last_error.find("timed out"), std::string::npos);
  store->delay_ms = 0;
  ASSERT_TRUE(em.flush(30s));
  EXPECT_EQ(em.get_stats().written, 20u);
  expect_balanced(em.get_stats());
}

TEST(Emitter, BlockPolicyWaitsInsteadOfDropping) {
  const auto name = osprof_test::unique_store("block");
  auto store = memory_store::get(name);
  store->delay_ms = 2;
  auto o = memory_options(name);
  o.queue_capacity = 32;
  o.batch_size = 8;
  o.overflow = osprof::overflow_policy::block;
  o.block_timeout = 10s;
  osprof::emitter em(o);
  run_producers(2, 500);
  ASSERT_TRUE(em.flush(60s));
  const auto s = em.get_stats();
  EXPECT_EQ(s.dropped(), 0u);
  EXPECT_EQ(s.written, 2000u);
  expect_balanced(s);
}

TEST(Emitter, OnlyOneEmitterRunsAtATime) {
  const auto name = osprof_test::unique_store("one");
  osprof::emitter first(memory_options(name));
  try {
    osprof::emitter second(memory_options(name));
    FAIL() << "a second emitter started";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos);
  }
  first.shutdown(5s);
  osprof::emitter third(memory_options(name));  // fine once the first is down
}

TEST(Emitter, BadConnectionStringIsAClearError) {
  auto o = memory_options("x");
  o.connection_string = "redis:/nohost";
  try {
    osprof::emitter em(o);
    FAIL() << "started";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid connection string"), std::string::npos) << e.what();
  }
  o.connection_string = "bogus://h";
  EXPECT_THROW(osprof::emitter{o}, osprof::error);
  // A failed start leaves no emitter running.
  o.connection_string = "memory://" + osprof_test::unique_store("after-bad");
  osprof::emitter ok(o);
}

TEST(Emitter, DisabledEmitterRecordsNothing) {
  const auto name = osprof_test::unique_store("disabled");
  auto store = memory_store::get(name);
  auto o = memory_options(name);
  o.enabled = false;
  osprof::emitter em(o);
  run_producers(1, 100);
  EXPECT_TRUE(em.flush(1s));
  EXPECT_EQ(em.get_stats().emitted, 0u);
  EXPECT_EQ(store->size(), 0u);
}

}  // namespace
