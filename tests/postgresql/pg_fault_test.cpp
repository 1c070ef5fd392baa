// The PostgreSQL driver with the real emitter against the fixture's PostgreSQL (started once per
// test run), which these tests stop, crash, freeze and restart, each in a new database of its
// own: down at start, crashed mid-stream and restarted, frozen while batches are in flight, a
// lost answer to COMMIT, a table locked by a long transaction, a wrong password, a missing
// database, values too long. After every scenario the counters add up exactly (emitted ==
// written + dropped), the database holds exactly the events counted written, each once, and
// the callers never waited on the server.
#include <gtest/gtest.h>

#include <signal.h>

#include <dirent.h>

#include <atomic>
#include <sstream>

#include "pg_test_util.hpp"
#include "support/lossy_proxy.hpp"

namespace {

using namespace osprof_test::pg;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

osprof::options fault_options(const std::string& url) {
  auto o = test_options(url);
  o.batch_size = 256;
  o.queue_capacity = 100000;
  o.write_timeout = 1s;
  o.shutdown_timeout = 15s;
  return o;
}

// `database` holds exactly `written` events, none twice.
void expect_stored_exactly(const server& pg, const std::string& database, std::uint64_t written) {
  auto db = pg.superuser(database);
  EXPECT_EQ(db.count("SELECT count(*) FROM data"), static_cast<long>(written))
      << "the server holds a different number of events than counted as written";
  EXPECT_EQ(db.count("SELECT count(*) FROM (SELECT trace_id, name FROM data GROUP BY trace_id, name HAVING count(*) > 1) d"), 0)
      << "the server holds duplicate events";
}

// The longest a trace point took on the calling thread while emitting `points` pairs.
std::chrono::nanoseconds slowest_emit(int points) {
  std::chrono::nanoseconds slowest{0};
  osprof::init("SECRET_KEY");
  for (int i = 0; i < points; ++i) {
    const auto t0 = clock_type::now();
    osprof::start("point", {{"i", i}});
    osprof::stop();
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0));
  }
  osprof::clean();
  return slowest;
}

// The PIDs of a server's processes: the postmaster (first line of postmaster.pid) and its children.
std::vector<pid_t> server_pids(const server& pg) {
  std::ifstream in(pg.dir() + "/data/postmaster.pid");
  pid_t postmaster = 0;
  in >> postmaster;
  std::vector<pid_t> pids;
  if (postmaster <= 0) return pids;
  pids.push_back(postmaster);
  DIR* proc = ::opendir("/proc");
  while (dirent* d = ::readdir(proc)) {
    const pid_t pid = std::atoi(d->d_name);
    if (pid <= 0) continue;
    std::ifstream stat(std::string("/proc/") + d->d_name + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == postmaster) pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

// Each test in a new database of the fixture's server; a test that failed half-way leaves the
// server running and thawed for the next.
class PgFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pg_.running()) pg_.start();
    db_ = pg_.new_database();
  }
  void TearDown() override {
    for (pid_t p : server_pids(pg_)) ::kill(p, SIGCONT);
    if (!pg_.running()) pg_.start();
  }
  void expect_stored_exactly(std::uint64_t written) { ::expect_stored_exactly(pg_, db_, written); }

  server pg_;
  std::string db_;
};

TEST_F(PgFault, DownAtStartEverythingHeldIsDeliveredLater) {
  pg_.stop();  // connections are refused until it starts again
  osprof::emitter e{fault_options(pg_.url(db_))};
  emit_points(1000);
  std::this_thread::sleep_for(500ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 2000u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.held, 2000u);
  EXPECT_GT(s.write_failures, 1u) << "the connection is retried";
  EXPECT_NE(s.last_error.find("Connection refused"), std::string::npos) << s.last_error;
  pg_.start();
  ASSERT_TRUE(e.flush(20s)) << e.get_stats().last_error;
  ASSERT_TRUE(e.shutdown(10s));
  s = e.get_stats();
  EXPECT_EQ(s.written, 2000u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  expect_stored_exactly(s.written);
}

// Crashes the server (an immediate shutdown) once `crash_after` events are written, restarts it on the
// same data `down_for` later, while a producer emits 40,000 events.
osprof::stats crashed_mid_stream(server& pg, const std::string& database, std::size_t capacity,
                                 std::chrono::milliseconds down_for, std::uint64_t crash_after) {
  auto o = fault_options(pg.url(database));
  o.queue_capacity = capacity;
  osprof::emitter e{o};
  std::thread producer([] { emit_points(20000, 40, 200, 2ms); });
  const auto deadline = clock_type::now() + 30s;
  while (e.get_stats().written < crash_after && clock_type::now() < deadline) std::this_thread::sleep_for(1ms);
  pg.kill();
  const auto at_kill = e.get_stats();
  // Down for `down_for`, and until a write has met the server down (an idle connection to a
  // dead server is replaced without a failure, so the crash must fall on a write to be tested).
  // If the producer's events were all written before the crash, nothing would meet the
  // server down: then one more point every 100 ms gives the worker a write to attempt.
  const auto killed = clock_type::now();
  auto last_extra = killed;
  std::uint64_t extra_points = 0;
  while ((clock_type::now() - killed < down_for || e.get_stats().write_failures == at_kill.write_failures) &&
         clock_type::now() - killed < 10s) {
    if (clock_type::now() - last_extra >= 100ms && e.get_stats().held == 0) {
      emit_points(1);
      ++extra_points;
      last_extra = clock_type::now();
    }
    std::this_thread::sleep_for(1ms);
  }
  pg.start();
  producer.join();
  EXPECT_TRUE(e.flush(30s)) << e.get_stats().last_error;
  e.shutdown(15s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 40000u + 2 * extra_points);
  EXPECT_LT(at_kill.written, 40000u) << "the crash came too late to test anything";
  EXPECT_GT(s.write_failures, 0u);
  expect_balanced(s);
  expect_stored_exactly(pg, database, s.written);
  return s;
}

TEST_F(PgFault, CrashedMidStreamAndRestartedNoLossNoDuplicates) {
  const auto s = crashed_mid_stream(pg_, db_, 100000, 300ms, 4000);
  EXPECT_EQ(s.dropped(), 0u);
}

TEST_F(PgFault, CrashedMidStreamBeyondTheCapCountsWhatWasDropped) {
  // A small cap: the producer outruns the queue (dropped on the callers' side, counted).
  const auto s = crashed_mid_stream(pg_, db_, 2000, 1500ms, 1000);
  EXPECT_GT(s.dropped_queue_full, 0u);
  EXPECT_EQ(s.dropped_backend + s.dropped_shutdown, 0u);
}

TEST_F(PgFault, AnswerToCommitLostTheRetryFindsTheBatchStored) {
  osprof::test::lossy_proxy proxy(pg_.port());
  const std::string url = "postgresql://osprof:osprof-secret@127.0.0.1:" + std::to_string(proxy.port()) + "/" + db_;
  osprof::emitter e{fault_options(url)};
  emit_demo_trace();
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  proxy.lose_next_answer();
  emit_demo_trace();
  ASSERT_TRUE(e.flush(20s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(proxy.lost(), 1);
  EXPECT_GE(s.write_failures, 1u);
  EXPECT_EQ(s.written, 16u);
  expect_balanced(s);
  expect_stored_exactly(16);
  // The first attempt committed (the proxy let the server finish): the retry found its claim.
  EXPECT_EQ(pg_.superuser(db_).count("SELECT batch FROM osprof_writers"), 2);
}

TEST_F(PgFault, FrozenServerRunsTheStalledBatchLaterStillStoredOnce) {
  osprof::emitter e{fault_options(pg_.url(db_))};
  emit_demo_trace();
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  const auto pids = server_pids(pg_);
  ASSERT_GE(pids.size(), 2u);
  for (pid_t p : pids) ::kill(p, SIGSTOP);
  emit_points(500);  // sent to a server that reads nothing: the writes time out
  std::this_thread::sleep_for(2500ms);
  EXPECT_GT(e.get_stats().write_failures, 0u);
  for (pid_t p : pids) ::kill(p, SIGCONT);
  ASSERT_TRUE(e.flush(30s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, 1008u);
  expect_balanced(s);
  expect_stored_exactly(s.written);
}

TEST_F(PgFault, LockedTableHoldsWritesBackNotTheCallers) {
  osprof::emitter e{fault_options(pg_.url(db_))};
  emit_demo_trace();  // the table exists now
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  const auto before = slowest_emit(2000);
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  std::atomic<bool> locked{false};
  std::thread holder([&] {
    auto db = pg_.superuser(db_);
    db.exec("BEGIN");
    db.exec("LOCK TABLE data IN ACCESS EXCLUSIVE MODE");
    locked = true;
    std::this_thread::sleep_for(3s);
    db.exec("COMMIT");
  });
  while (!locked) std::this_thread::sleep_for(1ms);
  const auto during = slowest_emit(5000);
  std::this_thread::sleep_for(1500ms);
  const auto held = e.get_stats();
  EXPECT_EQ(held.written, 8u + 4000u) << "nothing is written while the table is locked";
  EXPECT_GT(held.write_failures, 0u);
  EXPECT_NE(held.last_error.find("timed out"), std::string::npos) << held.last_error;
  holder.join();
  ASSERT_TRUE(e.flush(30s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, 8u + 4000u + 10000u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  expect_stored_exactly(s.written);
  // A trace point never waits for the server: the slowest call is of the same order with the
  // table locked as without (a scheduler hiccup aside: both bounds are generous).
  EXPECT_LT(during, std::max(before * 20, std::chrono::nanoseconds(20ms)))
      << "before " << before.count() << " ns, during " << during.count() << " ns";
}

TEST_F(PgFault, WrongPasswordDropsAndCountsWithAClearError) {
  osprof::emitter e{fault_options("postgresql://osprof:hunter2-wrong@127.0.0.1:" + std::to_string(pg_.port()) + "/" + db_)};
  emit_points(500);
  ASSERT_TRUE(e.flush(10s));
  const auto started = clock_type::now();
  e.shutdown(10s);
  EXPECT_LT(clock_type::now() - started, 2s) << "no hang at shutdown";
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 1000u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("password authentication failed for user \"osprof\""), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("hunter2"), std::string::npos) << s.last_error;
}

TEST_F(PgFault, MissingDatabaseDropsAndCountsWithAClearError) {
  osprof::emitter e{fault_options(pg_.url("no_such_db"))};
  emit_points(500);
  ASSERT_TRUE(e.flush(10s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.dropped_backend, 1000u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("database \"no_such_db\" does not exist"), std::string::npos) << s.last_error;
}

TEST_F(PgFault, ValuesTooLongAreDroppedOneByOneTheRestStored) {
  osprof::emitter e{fault_options(pg_.url(db_))};
  osprof::init("SECRET_KEY");
  const std::string long_name(300, 'n');
  for (int i = 0; i < 100; ++i) {
    osprof::start(i % 10 == 0 ? std::string_view(long_name) : std::string_view("point"));
    osprof::stop();
  }
  osprof::clean();
  ASSERT_TRUE(e.flush(10s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, 180u);
  EXPECT_EQ(s.dropped_backend, 20u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("the column takes 255"), std::string::npos) << s.last_error;
  expect_stored_exactly(180);
}

}  // namespace
