// The Redis driver with the real emitter against redis-server processes that each test
// starts, kills, freezes and restarts itself: Redis down at start, killed mid-stream, slow
// (DEBUG SLEEP, CLIENT PAUSE), frozen (SIGSTOP), a lost reply (a proxy that drops it), wrong
// credentials, and Sentinel discovery and failover. After every scenario the counters must
// add up exactly (emitted == written + dropped) and Redis must hold exactly the events
// counted as written, each once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "redis_test_util.hpp"
#include "support/emit_accounting.hpp"

namespace {

using namespace osprof_test;
using namespace std::chrono_literals;

// Redis holds exactly `written` events, each event once.
void expect_stored_exactly(std::uint16_t port, std::uint64_t written, const std::string& password = {}) {
  const auto events = stored_events(port, password);
  std::set<std::string> unique;
  for (const auto& e : events) unique.insert(field(e, "trace_id") + " " + field(e, "name"));
  EXPECT_EQ(events.size(), written) << "Redis holds a different number of events than counted as written";
  EXPECT_EQ(unique.size(), events.size()) << "Redis holds duplicate events";
}

osprof::options fault_options(std::uint16_t port, const std::string& extra = {}) {
  auto o = test_options("redis://127.0.0.1:" + std::to_string(port) + extra);
  o.batch_size = 256;
  o.queue_capacity = 100000;
  o.write_timeout = 2s;
  o.shutdown_timeout = 10s;
  return o;
}

// ---------------------------------------------------------------- down, killed

TEST(RedisFault, DownAtStartEverythingHeldIsDeliveredLater) {
  redis_process redis;  // not started yet: connections are refused
  auto o = fault_options(redis.port());
  osprof::emitter e{o};
  emit_points(1000);
  std::this_thread::sleep_for(400ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 2000u);
  EXPECT_EQ(s.dropped_queue_full, 0u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.held, 2000u);
  EXPECT_GT(s.write_failures, 1u) << "the connection is retried";
  EXPECT_NE(s.last_error.find("Connection refused"), std::string::npos) << s.last_error;
  redis.start();
  ASSERT_TRUE(e.flush(20s));
  ASSERT_TRUE(e.shutdown(10s));
  s = e.get_stats();
  EXPECT_EQ(s.written, 2000u);
  EXPECT_EQ(s.dropped(), 0u);
  expect_balanced(s);
  expect_stored_exactly(redis.port(), s.written);
}

TEST(RedisFault, DownAtStartHoldsUpToTheCapAndCountsTheRest) {
  redis_process redis;
  auto o = fault_options(redis.port());
  o.queue_capacity = 1000;
  osprof::emitter e{o};
  emit_points(2500);  // 5,000 events against a cap of 1,000
  std::this_thread::sleep_for(200ms);
  auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 5000u);
  EXPECT_GE(s.dropped_queue_full, 4000u);
  EXPECT_LE(s.held, 1000u);
  redis.start();
  ASSERT_TRUE(e.flush(20s));
  e.shutdown(10s);
  s = e.get_stats();
  EXPECT_EQ(s.written, s.emitted - s.dropped_queue_full);
  expect_balanced(s);
  expect_stored_exactly(redis.port(), s.written);
}

// Kills Redis (SIGKILL) once `kill_after` events are written, restarts it `down_for` later on
// the same data, while a producer emits 40,000 events. appendfsync always: what Redis
// acknowledged survives the kill, so Redis must end up with exactly what was counted written.
osprof::stats killed_mid_stream(std::size_t capacity, std::chrono::milliseconds down_for) {
  redis_process redis({"--appendonly", "yes", "--appendfsync", "always"});
  redis.start();
  auto o = fault_options(redis.port());
  o.queue_capacity = capacity;
  osprof::emitter e{o};
  std::thread producer([] { emit_points(20000, 40, 200, 2ms); });  // 40,000 events over ~0.2 s+
  while (e.get_stats().written < 4000) std::this_thread::sleep_for(1ms);
  redis.kill_now();
  const auto at_kill = e.get_stats();
  std::this_thread::sleep_for(down_for);
  redis.start();
  producer.join();
  EXPECT_TRUE(e.flush(30s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 40000u);
  EXPECT_LT(at_kill.written, 40000u) << "the kill came too late to test anything";
  EXPECT_GT(s.write_failures, 0u);
  expect_balanced(s);
  expect_stored_exactly(redis.port(), s.written);
  return s;
}

TEST(RedisFault, KilledMidStreamAndRestartedNoLossNoDuplicates) {
  const auto s = killed_mid_stream(100000, 300ms);
  EXPECT_EQ(s.dropped(), 0u);
}

TEST(RedisFault, KilledMidStreamBeyondTheCapCountsWhatWasDropped) {
  // A small cap and a longer outage: the producer outruns the queue, the excess is dropped
  // on the callers' side and counted; everything else arrives once.
  const auto s = killed_mid_stream(2000, 1s);
  EXPECT_GT(s.dropped_queue_full, 0u);
  EXPECT_EQ(s.dropped_backend + s.dropped_shutdown, 0u);
}

// ---------------------------------------------------------------- a reply lost after EXEC ran

// A loopback TCP proxy that can drop the next reply from the server: the request reaches
// Redis and runs, the client sees the connection close instead of the answer.
class flaky_proxy {
 public:
  explicit flaky_proxy(std::uint16_t upstream) : upstream_(upstream) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~flaky_proxy() {
    stop_ = true;
    thread_.join();
    for (auto& [c, s] : pairs_) {
      ::close(c);
      ::close(s);
    }
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  void drop_next_reply() { drop_ = true; }
  int dropped() const { return dropped_; }

 private:
  void run() {
    while (!stop_) {
      std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
      for (auto& [c, s] : pairs_) {
        fds.push_back({c, POLLIN, 0});
        fds.push_back({s, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) accept_one();
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int from = fds[i].fd;
        auto it = std::find_if(pairs_.begin(), pairs_.end(), [&](auto& p) { return p.first == from || p.second == from; });
        if (it == pairs_.end()) continue;
        const bool from_server = it->second == from;
        char buf[65536];
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0 || (from_server && drop_.exchange(false))) {
          if (n > 0) ++dropped_;
          ::close(it->first);
          ::close(it->second);
          pairs_.erase(it);
          break;  // fds refer to closed sockets now
        }
        const int to = from_server ? it->first : it->second;
        for (ssize_t done = 0; done < n;) {
          const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
          if (w <= 0) break;
          done += w;
        }
      }
    }
  }
  void accept_one() {
    const int c = ::accept(listener_, nullptr, nullptr);
    if (c < 0) return;
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(upstream_);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(c);
      ::close(s);
      return;
    }
    pairs_.emplace_back(c, s);
  }

  std::uint16_t upstream_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> drop_{false};
  std::atomic<int> dropped_{0};
  std::vector<std::pair<int, int>> pairs_;
  std::thread thread_;
};

// Writes one trace, then a second one whose reply the proxy drops; returns the stats.
osprof::stats write_through_lost_reply(redis_process& redis, const std::string& options) {
  flaky_proxy proxy(redis.port());
  auto o = fault_options(proxy.port(), options);
  osprof::emitter e{o};
  emit_demo_trace();
  EXPECT_TRUE(e.flush(10s));
  proxy.drop_next_reply();
  emit_demo_trace();
  EXPECT_TRUE(e.flush(10s));
  e.shutdown(10s);
  EXPECT_EQ(proxy.dropped(), 1);
  return e.get_stats();
}

TEST(RedisFault, AReplyLostAfterExecRanIsNotWrittenAgain) {
  redis_process redis;
  redis.start();
  const auto s = write_through_lost_reply(redis, "");
  EXPECT_EQ(s.emitted, 16u);
  EXPECT_EQ(s.written, 16u);
  EXPECT_EQ(s.write_failures, 1u);
  expect_balanced(s);
  expect_stored_exactly(redis.port(), 16);
}

TEST(RedisFault, WithoutDedupALostReplyDuplicates) {
  // The counter-test: the same scenario with dedup=false stores the second trace twice,
  // which shows the test above can fail.
  redis_process redis;
  redis.start();
  const auto s = write_through_lost_reply(redis, "?dedup=false");
  EXPECT_EQ(s.written, 16u);
  EXPECT_EQ(stored_events(redis.port()).size(), 24u);
}

// ---------------------------------------------------------------- slow, frozen

// While `stall` blocks the server, callers emit; then everything is delivered once.
void slow_server_case(const std::vector<std::string>& stall, std::size_t capacity) {
  redis_process redis;
  redis.start();
  auto o = fault_options(redis.port());
  o.write_timeout = 300ms;  // shorter than the stall: writes are cancelled and retried
  o.queue_capacity = capacity;
  osprof::emitter e{o};
  emit_demo_trace();
  ASSERT_TRUE(e.flush(10s));
  std::thread staller([&] { redis_command(redis.port(), stall); });
  std::this_thread::sleep_for(100ms);
  emit_points(1000, 50, 100, 50ms);  // 2,000 events over ~0.5 s while the server stalls
  staller.join();
  ASSERT_TRUE(e.flush(20s));
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 2008u);
  EXPECT_GT(s.write_failures, 0u) << "a write should have timed out during the stall";
  expect_balanced(s);
  expect_stored_exactly(redis.port(), s.written);
  if (capacity >= 2008) {
    EXPECT_EQ(s.dropped(), 0u);
  } else {
    EXPECT_GT(s.dropped_queue_full, 0u);
  }
}

TEST(RedisFault, DebugSleepIsAbsorbedByTheQueue) { slow_server_case({"DEBUG", "SLEEP", "1.5"}, 100000); }

TEST(RedisFault, DebugSleepBeyondTheCapDropsByPolicyCounted) { slow_server_case({"DEBUG", "SLEEP", "1.5"}, 500); }

TEST(RedisFault, ClientPauseIsAbsorbedByTheQueue) { slow_server_case({"CLIENT", "PAUSE", "1500", "WRITE"}, 100000); }

TEST(RedisFault, AFrozenServerNeverHangsShutdown) {
  redis_process redis;
  redis.start();
  auto o = fault_options(redis.port());
  o.write_timeout = 200ms;
  osprof::emitter e{o};
  emit_demo_trace();
  ASSERT_TRUE(e.flush(10s));
  redis.pause();  // SIGSTOP: connections are accepted by the kernel, nothing answers
  emit_points(100);
  EXPECT_FALSE(e.flush(1s));
  const std::string why = e.get_stats().last_error;
  EXPECT_NE(why.find("timed out"), std::string::npos) << why;
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.shutdown(1s));
  const auto took = std::chrono::steady_clock::now() - before;
  redis.resume();
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, 8u);
  EXPECT_EQ(s.dropped_shutdown, 200u);
  expect_balanced(s);
  EXPECT_LT(took, 30s) << "shutdown must end near its deadline";
}

// ---------------------------------------------------------------- credentials

TEST(RedisFault, WrongPasswordIsAClearErrorWithoutThePassword) {
  redis_process redis({"--requirepass", "right-secret"});
  redis.start("right-secret");
  osprof::set_log_handler(capture_log);
  auto run = [&](const std::string& url) {
    auto o = fault_options(redis.port());
    o.connection_string = url;
    osprof::emitter e{o};
    emit_demo_trace();
    e.flush(10s);
    e.shutdown(10s);
    return e.get_stats();
  };
  const std::string base = "redis://";
  const std::string where = "127.0.0.1:" + std::to_string(redis.port());

  auto s = run(base + ":wrong-secret@" + where);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 8u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("authentication failed"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("WRONGPASS"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("wrong-secret"), std::string::npos) << s.last_error;
  EXPECT_TRUE(logged("authentication failed"));
  EXPECT_FALSE(logged("wrong-secret"));

  s = run(base + where);
  EXPECT_EQ(s.dropped_backend, 8u);
  EXPECT_NE(s.last_error.find("requires a password"), std::string::npos) << s.last_error;

  s = run(base + "alice:right-secret@" + where);  // no such ACL user
  EXPECT_EQ(s.dropped_backend, 8u);
  EXPECT_NE(s.last_error.find("WRONGPASS"), std::string::npos) << s.last_error;

  s = run(base + ":right-secret@" + where);
  EXPECT_EQ(s.written, 8u) << s.last_error;
  expect_stored_exactly(redis.port(), 8, "right-secret");
  osprof::set_log_handler(nullptr);
}

// ---------------------------------------------------------------- Sentinel

std::string sentinel_master_port(std::uint16_t sentinel) {
  const auto r = redis_command(sentinel, {"SENTINEL", "get-master-addr-by-name", "mymaster"});
  return r.is_array() && r.elements.size() == 2 ? r.elements[1].text : std::string();
}

template <typename F>
bool eventually(F&& condition, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(RedisFault, SentinelFindsTheMasterAndFollowsAFailover) {
  redis_process master;
  master.start();
  redis_process replica({"--replicaof", "127.0.0.1", std::to_string(master.port())});
  replica.start();
  redis_process sentinel({}, 0,
                         "sentinel monitor mymaster 127.0.0.1 " + std::to_string(master.port()) +
                             " 1\nsentinel down-after-milliseconds mymaster 1000\n"
                             "sentinel failover-timeout mymaster 4000\n");
  sentinel.start();
  // Sentinel can promote the replica once its link to it is up and the replica's own link to
  // the master is ok (flags exactly "slave", master-link-status "ok").
  auto replica_ready = [&] {
    const auto r = redis_command(sentinel.port(), {"SENTINEL", "replicas", "mymaster"});
    if (!r.is_array() || r.elements.empty()) return false;
    std::map<std::string, std::string> fields;
    const auto& kv = r.elements[0].elements;
    for (std::size_t i = 0; i + 1 < kv.size(); i += 2) fields[kv[i].text] = kv[i + 1].text;
    return fields["flags"] == "slave" && fields["master-link-status"] == "ok";
  };
  ASSERT_TRUE(eventually(replica_ready, 30s)) << "Sentinel never saw the replica ready: " << sentinel.log();
  const std::string url = "redissentinel://127.0.0.1:" + std::to_string(sentinel.port()) + "?service_name=mymaster";
  auto o = fault_options(sentinel.port());
  o.connection_string = url;
  o.write_timeout = 1s;
  osprof::emitter e{o};
  const std::string first = emit_demo_trace();
  ASSERT_TRUE(e.flush(10s));
  EXPECT_EQ(redis_command(master.port(), {"LLEN", "osprofiler_opt:" + first}).integer, 8);

  // Make sure the replica has everything, then promote it.
  ASSERT_TRUE(eventually([&] { return redis_command(replica.port(), {"LLEN", "osprofiler_opt:" + first}).integer == 8; }, 10s));
  // NOGOODSLAVE while Sentinel's view of the replica is still being refreshed: ask again.
  ASSERT_TRUE(eventually([&] { return redis_command(sentinel.port(), {"SENTINEL", "FAILOVER", "mymaster"}).is_ok(); }, 30s))
      << sentinel.log();
  ASSERT_TRUE(eventually([&] { return sentinel_master_port(sentinel.port()) == std::to_string(replica.port()); }, 30s))
      << sentinel.log();
  // Until Sentinel has turned the old master into a replica it still takes writes, which its
  // resync then discards (Redis's own failover window); wait for both roles to flip.
  auto role_of = [](std::uint16_t port) {
    const auto role = redis_command(port, {"ROLE"});
    return role.is_array() && !role.elements.empty() ? role.elements[0].text : std::string();
  };
  ASSERT_TRUE(eventually([&] { return role_of(replica.port()) == "master" && role_of(master.port()) == "slave"; }, 30s))
      << sentinel.log();

  const std::string second = emit_demo_trace();
  ASSERT_TRUE(e.flush(30s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, 16u);
  EXPECT_EQ(s.written, 16u);
  expect_balanced(s);
  EXPECT_EQ(redis_command(replica.port(), {"LLEN", "osprofiler_opt:" + second}).integer, 8)
      << "the second trace went to the new master";

  reader rd(url);
  EXPECT_EQ(rd.trace(second).size(), 8u);
  EXPECT_EQ(rd.list().size(), 2u);
}

TEST(RedisFault, SentinelWithAnUnknownServiceNameIsAClearError) {
  redis_process master;
  master.start();
  redis_process sentinel({}, 0, "sentinel monitor mymaster 127.0.0.1 " + std::to_string(master.port()) + " 1\n");
  sentinel.start();
  auto o = fault_options(sentinel.port());
  o.connection_string = "redissentinel://127.0.0.1:" + std::to_string(sentinel.port()) + "?service_name=nope";
  osprof::emitter e{o};
  emit_demo_trace();
  e.flush(10s);
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.dropped_backend, 8u);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("no master named 'nope'"), std::string::npos) << s.last_error;
}

}  // namespace
