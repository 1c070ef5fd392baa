// The emitter under concurrent producers: exact counts, drop accounting, retries, shutdown;
// and its options: validation, the environment's values, what the emitter does with problems.
#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/env_guard.hpp"
#include "tests/emitter/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using osprof::test::memory_store;
using osprof_test::env_guard;

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

// Resident memory of this process, in bytes.
std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OSPROF_SANITIZED 1
#else
#define OSPROF_SANITIZED 0
#endif

TEST(Emitter, MemoryStaysNearTheByteCapWhileTheBackendIsDown) {
  if (OSPROF_SANITIZED) GTEST_SKIP() << "a sanitizer's allocator keeps freed memory: resident size says nothing here";
  // Large payloads against a backend that fails: everything held counts against the cap,
  // the formatted records waiting for a retry included (they once took four times the cap).
  for (const std::size_t payload : {std::size_t{2048}, std::size_t{8192}}) {
    SCOPED_TRACE("payload " + std::to_string(payload));
    const auto name = osprof_test::unique_store("rss");
    auto store = memory_store::get(name);
    store->fault_mode = memory_store::fault::retryable;
    auto o = memory_options(name);
    constexpr std::size_t cap = std::size_t{32} << 20;
    o.queue_max_bytes = cap;
    const std::size_t before = resident_bytes();
    osprof::emitter em(o);
    const std::string data(payload, 'x');
    std::size_t peak = 0;
    osprof::init("SECRET_KEY");
    for (int round = 0; round < 10; ++round) {
      for (int i = 0; i < 20000; ++i) {
        osprof::start("big", {{"data", data}});
        osprof::stop();
      }
      std::this_thread::sleep_for(20ms);  // the worker takes what the cap lets it take
      peak = std::max(peak, resident_bytes());
    }
    osprof::clean();
    const auto held = em.get_stats();
    EXPECT_GT(held.dropped_queue_full, 0u);
    EXPECT_GT(held.truncated_events, 0u);  // payloads beyond the cap lose their info, counted
    // The cap, one batch being formatted, and the allocator's slack.
    EXPECT_LT(peak - before, cap + cap / 2) << "resident " << (peak - before) / 1024 << " KiB over a cap of "
                                            << cap / 1024 << " KiB";
    // What was held is all written once the backend is back.
    store->fault_mode = memory_store::fault::none;
    ASSERT_TRUE(em.flush(60s));
    const auto s = em.get_stats();
    EXPECT_EQ(s.written, store->size());
    EXPECT_EQ(s.dropped_backend + s.dropped_shutdown, 0u);
    expect_balanced(s);
  }
}

void flush_on_signal(int) { osprof::request_flush(); }

TEST(Emitter, ASignalHandlerMayRequestAFlush) {
  const auto name = osprof_test::unique_store("signal");
  auto store = memory_store::get(name);
  auto o = memory_options(name);
  o.flush_interval = 1h;  // a partial batch would otherwise wait an hour
  osprof::emitter em(o);
  run_producers(1, 10);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(store->size(), 0u);
  struct sigaction action {};
  action.sa_handler = &flush_on_signal;
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  ASSERT_EQ(raise(SIGUSR1), 0);
  sigaction(SIGUSR1, &previous, nullptr);
  // (the store holds the events a moment before the worker counts them written)
  for (int i = 0; i < 500 && (store->size() < 20 || em.get_stats().written < 20); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(store->size(), 20u);
  EXPECT_EQ(em.get_stats().written, 20u);
}

// The idle backoff: an emitter with nothing to send wakes ~10 times a second (not 1,000),
// and events that come after a long idle spell still reach the backend within
// 1.5 x flush_interval without any flush.
TEST(Emitter, AnIdleWorkerBacksOffAndStillDeliversOnTime) {
  const auto name = osprof_test::unique_store("idle");
  auto store = memory_store::get(name);
  auto o = memory_options(name);
  o.flush_interval = 200ms;  // idle sleeps grow to min(100 ms, flush_interval / 2)
  osprof::emitter em(o);
  std::this_thread::sleep_for(300ms);  // past the first, short sleeps
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(1s);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  // 1 ms polling made ~1,000 switches here; the backoff ~10 (the test's own sleep is one).
  EXPECT_LT(after.ru_nvcsw - before.ru_nvcsw, 100) << "the idle worker still wakes often";
  const auto sent = std::chrono::steady_clock::now();
  run_producers(1, 10);
  while (store->size() < 20 && std::chrono::steady_clock::now() - sent < 5s) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(store->size(), 20u);
  // 300 ms allowed, plus slack for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 1500ms);
  // The store holds the events before the worker counts them written: wait for the accounts.
  ASSERT_TRUE(em.flush(5s));
  expect_balanced(em.get_stats());
}

// A writer that reads only the columns (writer::needs()) gets records without JSON; its
// accounts are the same.
TEST(Emitter, AWriterThatNeedsNoJsonGetsNone) {
  const auto name = osprof_test::unique_store("needs");
  auto store = memory_store::get(name);
  store->columns_only = true;
  osprof::emitter em(memory_options(name));
  run_producers(2, 50);
  ASSERT_TRUE(em.flush(30s));
  const auto events = store->events();
  ASSERT_EQ(events.size(), 200u);
  for (const std::string& json : events) EXPECT_TRUE(json.empty());
  EXPECT_EQ(em.get_stats().written, 200u);
  expect_balanced(em.get_stats());
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
  o.retry_backoff_max = 100ms;
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

TEST(Emitter, ADeadBackendLeavesEventsInTheQueueNotInFormattedBatches) {
  // While a batch waits behind the one being written, the worker takes nothing more: what a
  // failing backend holds stays in the queue's fixed slots (memory per held event is bounded by
  // the slot, not by the formatted record).
  const auto name = osprof_test::unique_store("held-back");
  auto store = memory_store::get(name);
  store->fault_mode = memory_store::fault::retryable;
  auto o = memory_options(name);
  o.batch_size = 16;
  o.queue_capacity = 4096;
  osprof::emitter em(o);
  run_producers(1, 1000);
  // Long enough for many retries and for the worker to have drained everything if it would.
  for (int i = 0; i < 500 && em.get_stats().retries < 5; ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(100ms);
  auto s = em.get_stats();
  EXPECT_EQ(s.held, 2000u);
  // The batch being written, one sealed behind it, and the one being filled (plus a bulk
  // dequeue's overshoot of at most 256 records, two events each when they are spans).
  EXPECT_GE(s.queue_depth, 2000u - 3 * 16 - 2 * 256) << "the worker kept taking events while its writes failed";
  store->fault_mode = memory_store::fault::none;
  ASSERT_TRUE(em.flush(30s));
  s = em.get_stats();
  EXPECT_EQ(s.written, 2000u);
  EXPECT_EQ(s.queue_depth, 0u);
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
  auto store = memory_store::get(name);
  osprof::emitter first(memory_options(name));
  auto strict = memory_options(name);
  strict.strict = true;
  try {
    osprof::emitter second(strict);
    FAIL() << "a second emitter started";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos);
  }
  {
    // Not strict: the second one does not start, says why, and leaves the first alone.
    osprof::emitter second(memory_options(name));
    EXPECT_NE(second.get_stats().start_error.find("already running"), std::string::npos);
    run_producers(1, 10);
    EXPECT_EQ(second.get_stats().emitted, 0u) << "the first emitter's events are not the second's";
    EXPECT_TRUE(second.flush(1s));
  }
  ASSERT_TRUE(first.flush(10s));
  EXPECT_EQ(first.get_stats().written, 20u);
  EXPECT_EQ(store->size(), 20u);
  first.shutdown(5s);
  osprof::emitter third(memory_options(name));  // fine once the first is down
  EXPECT_EQ(third.get_stats().start_error, "");
}

// A log handler that keeps the messages, for the tests that check what the emitter logs.
std::vector<std::string>& logged_lines() {
  static std::vector<std::string> lines;
  return lines;
}
struct log_capture {
  log_capture() {
    logged_lines().clear();
    osprof::set_log_handler([](std::string_view m) { logged_lines().emplace_back(m); });
  }
  ~log_capture() { osprof::set_log_handler(nullptr); }
};

TEST(Emitter, BadConnectionStringIsAClearErrorWhenStrict) {
  auto o = memory_options("x");
  o.strict = true;
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

// The default: what would stop the emitter from starting is logged once, trace points stay
// no-ops, stats say why, and the service goes on.
TEST(Emitter, BadConnectionStringDoesNotStopTheService) {
  for (const char* cs : {"redis:/nohost", "bogus://u:hunter2@h", "sqlite://host/x.db", "memory://x?no_such_option=1"}) {
    SCOPED_TRACE(cs);
    log_capture log;
    auto o = memory_options("x");
    o.connection_string = cs;
    std::optional<osprof::emitter> em;
    ASSERT_NO_THROW(em.emplace(o));
    ASSERT_EQ(logged_lines().size(), 1u);
    const std::string& line = logged_lines()[0];
    EXPECT_TRUE(line.starts_with("not tracing: ")) << line;
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    const std::string why = em->get_stats().start_error;
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(line, "not tracing: " + why);
    run_producers(1, 10);  // no-ops
    EXPECT_TRUE(em->flush(1s));
    EXPECT_EQ(em->get_stats().emitted, 0u);
    EXPECT_TRUE(em->shutdown(1s));
    EXPECT_EQ(logged_lines().size(), 1u) << "one error, not one per trace point or call";
  }
  // Nothing is left running: a good emitter starts afterwards.
  const auto name = osprof_test::unique_store("after-refused");
  auto store = memory_store::get(name);
  osprof::emitter ok(memory_options(name));
  EXPECT_EQ(ok.get_stats().start_error, "");
  run_producers(1, 3);
  ASSERT_TRUE(ok.flush(10s));
  EXPECT_EQ(store->size(), 6u);
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

// ---------------------------------------------------------------------------------------
// Options

// Every variable behind an options field, unset so that a test sees only what it sets.
void clear_option_variables(env_guard& env) {
  for (const char* name :
       {"OSPROF_QUEUE_CAPACITY", "OSPROF_QUEUE_MAX_BYTES", "OSPROF_BATCH_SIZE", "OSPROF_FLUSH_INTERVAL_MS",
        "OSPROF_POLL_INTERVAL_US", "OSPROF_OVERFLOW", "OSPROF_BLOCK_TIMEOUT_MS", "OSPROF_WRITE_TIMEOUT_MS",
        "OSPROF_RETRY_BACKOFF_MS", "OSPROF_RETRY_BACKOFF_MAX_MS", "OSPROF_SHUTDOWN_TIMEOUT_MS",
        "OSPROF_MAX_EVENT_BYTES", "OSPROF_FILTER_ERROR_TRACE", "OSPROF_HOLD_STARTS", "OSPROF_CLOCK", "OSPROF_ENABLED", "OTEL_SDK_DISABLED",
        "OSPROF_STRICT"}) {
    env.set(name, nullptr);
  }
}

std::vector<std::string> fields_of(const std::vector<osprof::option_problem>& problems) {
  std::vector<std::string> fields;
  for (const auto& p : problems) fields.push_back(p.field);
  return fields;
}

TEST(Options, DefaultsAreValid) {
  env_guard env;
  clear_option_variables(env);
  const osprof::options o;
  EXPECT_TRUE(o.environment_problems.empty());
  EXPECT_TRUE(o.validate().empty());
  EXPECT_EQ(o.overflow, osprof::overflow_policy::drop);
}

TEST(Options, InvalidEnvironmentValuesAreRecordedAndTheDefaultsKept) {
  env_guard env;
  clear_option_variables(env);
  env.set("OSPROF_BATCH_SIZE", "lots");
  env.set("OSPROF_OVERFLOW", "drop_newest");  // the enumerator's old name is not a value
  env.set("OSPROF_ENABLED", "maybe");
  env.set("OTEL_SDK_DISABLED", "perhaps");    // read too, though OSPROF_ENABLED came first
  env.set("OSPROF_CLOCK", "");                // empty means unset: not a problem
  env.set("OSPROF_WRITE_TIMEOUT_MS", " 250 ");
  const osprof::options o;
  EXPECT_EQ(o.batch_size, 512u);
  EXPECT_EQ(o.overflow, osprof::overflow_policy::drop);
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.clock, osprof::clock_source::automatic);
  EXPECT_EQ(o.write_timeout, 250ms);

  ASSERT_EQ(fields_of(o.environment_problems),
            (std::vector<std::string>{"batch_size", "overflow", "enabled", "enabled"}));
  const osprof::option_problem& batch = o.environment_problems[0];
  EXPECT_EQ(batch.variable, "OSPROF_BATCH_SIZE");
  EXPECT_EQ(batch.value, "lots");
  EXPECT_EQ(batch.allowed, "an integer from 1 to 4294967295");
  EXPECT_EQ(batch.message(), R"(OSPROF_BATCH_SIZE="lots" (options.batch_size): expected an integer from 1 to 4294967295)");
  EXPECT_EQ(o.environment_problems[1].message(),
            R"(OSPROF_OVERFLOW="drop_newest" (options.overflow): expected drop or block)");
  EXPECT_EQ(o.environment_problems[2].variable, "OSPROF_ENABLED");
  EXPECT_EQ(o.environment_problems[3].variable, "OTEL_SDK_DISABLED");
  EXPECT_EQ(fields_of(o.validate()), fields_of(o.environment_problems));
}

TEST(Options, AFieldSetInCodeDoesNotReadItsVariable) {
  env_guard env;
  clear_option_variables(env);
  env.set("OSPROF_BATCH_SIZE", "lots");
  const osprof::options o{.batch_size = 64};
  EXPECT_TRUE(o.environment_problems.empty());
  EXPECT_TRUE(o.validate().empty());
}

// Each numeric variable's bounds, inclusive, and the first value outside each.
TEST(Options, EnvironmentValuesOutsideTheFieldsRangeAreProblems) {
  struct bounds {
    const char* variable;
    const char* field;
    const char* below;
    const char* min;
    const char* max;
    const char* above;
  };
  const bounds table[] = {
      {"OSPROF_QUEUE_CAPACITY", "queue_capacity", "0", "1", "4294967295", "4294967296"},
      {"OSPROF_QUEUE_MAX_BYTES", "queue_max_bytes", "4095", "4096", "1099511627776", "1099511627777"},
      {"OSPROF_BATCH_SIZE", "batch_size", "0", "1", "4294967295", "4294967296"},
      {"OSPROF_FLUSH_INTERVAL_MS", "flush_interval", "-1", "0", "2147483647", "2147483648"},
      {"OSPROF_POLL_INTERVAL_US", "poll_interval", "0", "1", "2147483647", "2147483648"},
      {"OSPROF_BLOCK_TIMEOUT_MS", "block_timeout", "-1", "0", "2147483647", "2147483648"},
      {"OSPROF_WRITE_TIMEOUT_MS", "write_timeout", "0", "1", "2147483647", "2147483648"},
      {"OSPROF_RETRY_BACKOFF_MS", "retry_backoff", "0", "1", "2147483647", "2147483648"},
      {"OSPROF_RETRY_BACKOFF_MAX_MS", "retry_backoff_max", "0", "1", "2147483647", "2147483648"},
      {"OSPROF_SHUTDOWN_TIMEOUT_MS", "shutdown_timeout", "-1", "0", "2147483647", "2147483648"},
      {"OSPROF_MAX_EVENT_BYTES", "max_event_bytes", "255", "256", "4294967295", "4294967296"},
  };
  for (const bounds& b : table) {
    SCOPED_TRACE(b.variable);
    env_guard env;
    clear_option_variables(env);
    for (const char* good : {b.min, b.max}) {
      env.set(b.variable, good);
      EXPECT_TRUE(osprof::options{}.environment_problems.empty()) << good;
    }
    for (const char* bad : {b.below, b.above, "12abc"}) {
      env.set(b.variable, bad);
      const osprof::options o;
      ASSERT_EQ(o.environment_problems.size(), 1u) << bad;
      EXPECT_EQ(o.environment_problems[0].field, b.field);
      EXPECT_EQ(o.environment_problems[0].variable, b.variable);
      EXPECT_EQ(o.environment_problems[0].value, bad);
    }
  }
}

TEST(Options, ValuesSetInCodeAreCheckedAgainstTheSameRanges) {
  env_guard env;
  clear_option_variables(env);
  osprof::options o;
  o.batch_size = 0;
  o.queue_max_bytes = 100;
  o.poll_interval = 0us;
  o.overflow = static_cast<osprof::overflow_policy>(7);
  o.write_timeout = -5ms;
  o.retry_backoff = 200ms;
  o.retry_backoff_max = 100ms;
  o.shutdown_timeout = std::chrono::hours(24 * 30);
  o.clock = static_cast<osprof::clock_source>(9);
  const auto problems = o.validate();
  ASSERT_EQ(fields_of(problems),
            (std::vector<std::string>{"queue_max_bytes", "batch_size", "poll_interval", "overflow", "write_timeout",
                                      "retry_backoff_max", "shutdown_timeout", "clock"}));
  for (const auto& p : problems) EXPECT_EQ(p.variable, "") << p.field;
  EXPECT_EQ(problems[1].message(), "options.batch_size = 0: expected an integer from 1 to 4294967295");
  EXPECT_EQ(problems[2].message(), "options.poll_interval = 0 us: expected a whole number of microseconds from 1 to 2147483647");
  EXPECT_EQ(problems[3].message(), "options.overflow = 7: expected drop or block");
  EXPECT_EQ(problems[4].message(), "options.write_timeout = -5 ms: expected a whole number of milliseconds from 1 to 2147483647");
  EXPECT_EQ(problems[5].message(), "options.retry_backoff_max = 100 ms: expected at least retry_backoff (200 ms)");
  EXPECT_EQ(problems[6].value, "2592000000 ms");
}

TEST(Options, EachFieldsSmallestValueIsValid) {
  env_guard env;
  clear_option_variables(env);
  const osprof::options o{.queue_capacity = 1,
                          .queue_max_bytes = 4096,
                          .batch_size = 1,
                          .flush_interval = 0ms,
                          .poll_interval = 1us,
                          .block_timeout = 0ms,
                          .write_timeout = 1ms,
                          .retry_backoff = 1ms,
                          .retry_backoff_max = 1ms,
                          .shutdown_timeout = 0ms,
                          .max_event_bytes = 256};
  EXPECT_TRUE(o.validate().empty());
}

// With strict, the emitter refuses invalid options: one osprof::error naming every problem,
// wherever it came from, before it opens the backend; no emitter is left running.
TEST(Emitter, InvalidOptionsAreRefusedWithEveryProblem) {
  const auto name = osprof_test::unique_store("invalid");
  auto store = memory_store::get(name);
  env_guard env;
  clear_option_variables(env);
  env.set("OSPROF_CLOCK", "sundial");
  auto o = memory_options(name);
  o.strict = true;
  o.batch_size = 0;
  o.write_timeout = 0ms;
  try {
    osprof::emitter em(o);
    FAIL() << "started";
  } catch (const osprof::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("invalid osprof::options"), std::string::npos) << what;
    EXPECT_NE(what.find(R"(OSPROF_CLOCK="sundial" (options.clock): expected auto, tsc or realtime)"), std::string::npos) << what;
    EXPECT_NE(what.find("options.batch_size = 0: expected an integer from 1"), std::string::npos) << what;
    EXPECT_NE(what.find("options.write_timeout = 0 ms: expected"), std::string::npos) << what;
  }
  o.enabled = false;  // a disabled emitter checks its options too
  EXPECT_THROW(osprof::emitter{o}, osprof::error);

  env.set("OSPROF_CLOCK", nullptr);
  osprof::emitter ok(memory_options(name));
  osprof::init("SECRET_KEY");
  osprof::start("after");
  osprof::stop();
  osprof::clean();
  ASSERT_TRUE(ok.flush(10s));
  EXPECT_EQ(store->size(), 2u);
}

TEST(Emitter, InvalidEnvironmentDoesNotStopTheService) {
  env_guard env;
  clear_option_variables(env);
  env.set("OSPROF_BATCH_SIZE", "lots");
  env.set("OSPROF_CONNECTION_STRING", "nosuch://h");
  log_capture log;
  osprof::emitter em;  // everything from the environment, as a service does
  const std::string why = em.get_stats().start_error;
  EXPECT_NE(why.find(R"(OSPROF_BATCH_SIZE="lots")"), std::string::npos) << why;
  ASSERT_EQ(logged_lines().size(), 1u);
  EXPECT_EQ(logged_lines()[0], "not tracing: " + why);

  env.set("OSPROF_STRICT", "true");
  EXPECT_THROW(osprof::emitter{}, osprof::error);
  env.set("OSPROF_BATCH_SIZE", nullptr);
  try {
    osprof::emitter strict_from_env;
    ADD_FAILURE() << "started with an unknown backend";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("nosuch"), std::string::npos) << e.what();
  }
  env.set("OSPROF_STRICT", "sure");  // itself invalid: not strict, and a problem like the others
  const osprof::options o;
  EXPECT_FALSE(o.strict);
  ASSERT_EQ(fields_of(o.environment_problems), std::vector<std::string>{"strict"});
  osprof::emitter lenient(o);
  EXPECT_NE(lenient.get_stats().start_error.find(R"(OSPROF_STRICT="sure" (options.strict))"), std::string::npos)
      << lenient.get_stats().start_error;
}

}  // namespace
