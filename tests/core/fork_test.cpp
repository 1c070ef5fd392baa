// fork(): the child draws different ids from its parent and can run its own emitter.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace
