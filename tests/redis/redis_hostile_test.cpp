// A peer that passes the handshake and then answers with replies meant to exhaust the client
// (tests/servers/hostile_redis.py): a 2^31-element array, and an array whose elements never
// end. `osprof trace list` fails with a clear error, soon, in bounded memory. And a peer that
// stops answering in the middle of a trace: `osprof trace show` times out.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

struct peer {
  explicit peer(const std::string& mode) {
    const std::string command = "/usr/bin/python3 " + std::string(OSPROF_TEST_SOURCE_DIR) +
                                "/tests/servers/hostile_redis.py --mode " + mode + " & echo $!";
    pipe_ = popen(command.c_str(), "r");
    char line[64];
    if (std::fgets(line, sizeof line, pipe_) != nullptr) pid = std::stoi(line);
    if (std::fgets(line, sizeof line, pipe_) != nullptr) port = std::stoi(line);
  }
  ~peer() {
    if (pid > 0) kill(pid, SIGKILL);
    if (pipe_ != nullptr) pclose(pipe_);
  }
  FILE* pipe_ = nullptr;
  int pid = -1;
  int port = 0;
};

struct outcome {
  int code = -1;
  std::string out;
  long max_rss_kib = 0;
  double seconds = 0;
};

outcome run_cli(const std::string& arguments) {
  const auto start = std::chrono::steady_clock::now();
  const std::string command =
      "/usr/bin/time -f 'max-rss-kib %M' " + std::string(OSPROF_CLI_PATH) + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  outcome r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (const auto at = r.out.find("max-rss-kib "); at != std::string::npos) r.max_rss_kib = std::stol(r.out.substr(at + 12));
  return r;
}

outcome trace_list(int port) {
  return run_cli("trace list --timeout 5 --connection-string redis://127.0.0.1:" + std::to_string(port));
}

TEST(RedisHostilePeer, AHugeArrayIsRefusedAtOnce) {
  peer p("huge-array");
  ASSERT_GT(p.port, 0);
  const auto r = trace_list(p.port);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("does not speak the Redis protocol"), std::string::npos) << r.out;
  EXPECT_LT(r.seconds, 3.0) << r.out;
  EXPECT_LT(r.max_rss_kib, 200 * 1024) << r.out;
}

TEST(RedisHostilePeer, AnEndlessReplyStopsAtTheLimit) {
  peer p("endless");
  ASSERT_GT(p.port, 0);
  const auto r = trace_list(p.port);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_LT(r.seconds, 7.0) << "--timeout 5 bounds the whole read" << r.out;
  EXPECT_LT(r.max_rss_kib, 700 * 1024) << r.out;
}

// A trace's pages are asked for a few at a time on one connection: a server that stops
// answering after the first page fails the read with a timeout, not a hang.
TEST(RedisHostilePeer, AServerSilentInTheMiddleOfATraceTimesOut) {
  peer p("stall-mid-trace");
  ASSERT_GT(p.port, 0);
  const auto r = run_cli("trace show aaaaaaaa-0000-0000-0000-000000000001 --json --timeout 2 --connection-string redis://127.0.0.1:" +
                         std::to_string(p.port));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no answer from redis://127.0.0.1:" + std::to_string(p.port) + " within 2000 ms"), std::string::npos)
      << r.out;
  EXPECT_LT(r.seconds, 6.0) << r.out;
}

}  // namespace
