// fork(): the child draws different ids from its parent and can run its own emitter.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/memory_store.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Fork, ChildReseedsIdsAndStartsItsOwnEmitter) {
  osprof::options o;
  o.connection_string = "memory://fork-parent";
  osprof::emitter parent(o);
  osprof::init("k");
  osprof::start("before-fork");
  osprof::stop();
  // An idle worker at fork() time: a thread that holds an allocator lock when another thread
  // forks leaves that lock held in the child for good.
  ASSERT_TRUE(parent.flush(10s));

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: report the next id, then trace into a fresh emitter. Exit code 0 means success.
    const auto id = osprof::uuid::random();
    if (write(pipe_fds[1], &id, sizeof id) != sizeof id) _exit(10);
    {
      osprof::options child_options;
      child_options.connection_string = "memory://fork-child";
      try {
        parent.shutdown(1s);  // the parent's worker does not exist here: must not hang
      } catch (...) {
        _exit(11);
      }
      osprof::emitter child(child_options);
      osprof::start("in-child");
      osprof::stop();
      if (!child.flush(10s)) _exit(12);
      const auto s = child.get_stats();
      if (s.written != 2 || s.emitted != 2) _exit(13);
      if (osprof::test::memory_store::get("fork-child")->size() != 2) _exit(14);
    }
    _exit(0);
  }
  const auto mine = osprof::uuid::random();
  osprof::uuid theirs;
  ASSERT_EQ(read(pipe_fds[0], &theirs, sizeof theirs), static_cast<ssize_t>(sizeof theirs));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(mine, theirs) << "parent and child drew the same id after fork";

  // The parent goes on as before.
  osprof::start("after-fork");
  osprof::stop();
  ASSERT_TRUE(parent.flush(10s));
  EXPECT_EQ(parent.get_stats().written, 4u);
  osprof::clean();
}

// A point open across fork() whose start the parent holds (options::hold_starts): the parent
// stores the start; a child that stops the point stores only its stop, as with OSProfiler.
TEST(Fork, APointOpenAcrossForkStoresOneStart) {
  osprof::options o;
  o.connection_string = "memory://fork-open-parent";
  o.hold_starts = true;
  osprof::emitter parent(o);
  osprof::init("k");
  osprof::start("request");  // a profiler's first start is sent at once; the next is held
  osprof::start("spawn-workers");
  ASSERT_TRUE(parent.flush(10s));
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    {
      osprof::options child_options;
      child_options.connection_string = "memory://fork-open-child";
      osprof::emitter child(child_options);
      osprof::stop();
      if (!child.flush(10s)) code = 12;
      const auto events = osprof::test::memory_store::get("fork-open-child")->events();
      if (code == 0 && events.size() != 1) code = 13;
      if (code == 0 && events[0].find("\"spawn-workers-stop\"") == std::string::npos) code = 14;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  osprof::stop();
  ASSERT_TRUE(parent.flush(10s));
  const auto events = osprof::test::memory_store::get("fork-open-parent")->events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_NE(events[1].find("\"spawn-workers-start\""), std::string::npos) << events[1];
  EXPECT_NE(events[2].find("\"spawn-workers-stop\""), std::string::npos) << events[2];
  osprof::clean();
}

// A busy parent (another thread emitting, the worker writing) forks; the child, without
// shutting the parent's emitter down, starts its own and writes through it.
TEST(Fork, ChildOfABusyParentStartsItsOwnEmitter) {
  osprof::options o;
  o.connection_string = "memory://fork-busy-parent";
  osprof::emitter parent(o);
  std::atomic<bool> stop{false};
  std::thread load([&] {
    osprof::init("k");
    while (!stop) {
      osprof::start("busy");
      osprof::stop();
    }
    osprof::clean();
  });
  std::this_thread::sleep_for(50ms);
  for (int round = 0; round < 5; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      {
        osprof::options child_options;
        child_options.connection_string = "memory://fork-busy-child";
        osprof::emitter child(child_options);  // no "another emitter is already running"
        osprof::init("k");
        osprof::start("in-child");
        osprof::stop();
        if (!child.flush(10s)) code = 12;
        else if (child.get_stats().written != 2) code = 13;
      }
      _exit(code);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "round " << round;
  }
  stop = true;
  load.join();
  ASSERT_TRUE(parent.flush(10s));
  const auto s = parent.get_stats();
  EXPECT_EQ(s.emitted, s.written + s.dropped()) << "the parent's accounts survive its forks";
}

// The counters of an emitter that was shut down stay its own while a later one runs.
TEST(Lifecycle, StatsOfAShutDownEmitterStayItsOwn) {
  osprof::options o;
  o.connection_string = "memory://stats-first";
  osprof::emitter first(o);
  osprof::init("k");
  osprof::start("first");
  osprof::stop();
  ASSERT_TRUE(first.shutdown(10s));
  const auto frozen = first.get_stats();
  EXPECT_EQ(frozen.written, 2u);
  o.connection_string = "memory://stats-second";
  osprof::emitter second(o);
  for (int i = 0; i < 10; ++i) {
    osprof::start("second");
    osprof::stop();
  }
  ASSERT_TRUE(second.flush(10s));
  EXPECT_EQ(second.get_stats().written, 20u);
  const auto later = first.get_stats();
  EXPECT_EQ(later.emitted, frozen.emitted);
  EXPECT_EQ(later.written, frozen.written);
  osprof::clean();
}

// exit() with events still held: they are delivered (within shutdown_timeout) and the log
// says so; nothing is lost silently.
TEST(Lifecycle, ExitDeliversWhatIsHeldAndSaysSo) {
  const std::string dir = std::filesystem::temp_directory_path() / ("osprof-exit-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/exit.db";
  const std::string log = dir + "/log";
  constexpr int spans = 5000;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::FILE* out = std::freopen(log.c_str(), "w", stderr);
    (void)out;
    osprof::options o;
    o.connection_string = "sqlite:///" + db;
    o.flush_interval = 5s;  // nothing goes out on its own before exit()
    // Never destroyed: as an emitter left in a static. Volatile, so that the optimiser keeps the
    // pointer and LeakSanitizer sees the emitter reachable, as it is in such a program.
    static osprof::emitter* volatile tracing = new osprof::emitter(o);
    (void)tracing;
    osprof::init("k");
    for (int i = 0; i < spans; ++i) {
      osprof::start("before-exit");
      osprof::stop();
    }
    std::exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(handle, "SELECT count(*) FROM data", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 2 * spans);
  sqlite3_finalize(count);
  sqlite3_close(handle);
  std::ifstream in(log);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(text.find("the process is exiting with"), std::string::npos) << text;
  std::filesystem::remove_all(dir);
}

}  // namespace
