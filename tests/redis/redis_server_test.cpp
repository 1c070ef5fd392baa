// The Redis driver against a real redis-server started by a CTest fixture
// (tests/servers/redis.sh start-single): the stored layout byte for byte, reading back
// (lists, legacy keys, 20,000 events), options, and configuration errors reported clearly
// (wrong database, a port where the server is not Redis).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <osprof/error.hpp>

#include "redis_test_util.hpp"

namespace {

using namespace osprof_test;

std::string redis_url(int db) { return "redis://127.0.0.1:" + std::to_string(fixture_port("redis-single")) + "/" + std::to_string(db); }

std::vector<resp_value> in_db(int db, std::vector<std::vector<std::string>> commands) {
  commands.insert(commands.begin(), {"SELECT", std::to_string(db)});
  auto r = redis_pipeline(fixture_port("redis-single"), commands);
  r.erase(r.begin());
  return r;
}

void flush_db(int db) { ASSERT_TRUE(in_db(db, {{"FLUSHDB"}})[0].is_ok()); }

// ---------------------------------------------------------------- layout and round trip

TEST(RedisServer, WritesOsprofilersLayout) {
  const int db = 1;
  flush_db(db);
  std::string base;
  osprof::stats s;
  {
    osprof::emitter e{test_options(redis_url(db))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(std::chrono::seconds(10)));
    s = e.get_stats();
  }
  EXPECT_EQ(s.emitted, 8u);
  EXPECT_EQ(s.written, 8u);
  EXPECT_EQ(s.dropped(), 0u);

  const std::string key = "osprofiler_opt:" + base;
  auto r = in_db(db, {{"TYPE", key}, {"LRANGE", key, "0", "-1"}, {"GET", "osprofiler_error:" + base}, {"KEYS", "*"}});
  EXPECT_EQ(r[0].text, "list");
  ASSERT_EQ(r[1].elements.size(), 8u);
  // Newest first, as OSProfiler's one LPUSH per event leaves it.
  std::vector<std::string> names;
  for (auto it = r[1].elements.rbegin(); it != r[1].elements.rend(); ++it) names.push_back(field(it->text, "name"));
  EXPECT_EQ(names, (std::vector<std::string>{"wsgi-start", "rpc-start", "db-start", "db-stop", "rpc-stop", "driver-start",
                                             "driver-stop", "wsgi-stop"}));
  const std::string& first = r[1].elements.back().text;
  EXPECT_TRUE(first.starts_with("{\"name\": \"wsgi-start\", \"base_id\": \"" + base + "\", \"trace_id\": \"")) << first;
  EXPECT_NE(first.find("\"project\": \"demo\", \"service\": \"api\"}"), std::string::npos) << first;
  // The error flag holds the latest error event's time.
  const std::string driver_stop = r[1].elements[1].text;
  EXPECT_EQ(r[2].text, "{\"base_id\": \"" + base + "\", \"timestamp\": \"" + field(driver_stop, "timestamp") + "\"}");
  // Nothing else but the writer's sequence key.
  std::set<std::string> keys;
  for (const auto& k : r[3].elements) keys.insert(k.text.starts_with("osprof_writer:") ? "osprof_writer:*" : k.text);
  EXPECT_EQ(keys, (std::set<std::string>{key, "osprofiler_error:" + base, "osprof_writer:*"}));

  reader rd(redis_url(db));
  auto events = rd.trace(base);
  ASSERT_EQ(events.size(), 8u);
  std::multiset<std::string> stored, read(events.begin(), events.end());
  for (const auto& v : r[1].elements) stored.insert(v.text);
  EXPECT_EQ(read, stored);
  auto list = rd.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].base_id, base);
  EXPECT_EQ(list[0].timestamp, field(first, "timestamp"));  // the start, not LINDEX 1
  auto errors = rd.errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].base_id, base);
  EXPECT_EQ(errors[0].timestamp, field(first, "timestamp"));
  EXPECT_TRUE(rd.trace("00000000-0000-0000-0000-000000000000").empty());
}

std::string python_event(const std::string& base, const std::string& name, const std::string& ts,
                         const std::string& trace_id = "5c27d481-b3b2-469a-80a6-1d53b2094860") {
  return "{\"name\": \"" + name + "\", \"base_id\": \"" + base + "\", \"trace_id\": \"" + trace_id +
         "\", \"parent_id\": \"" + base + "\", \"timestamp\": \"" + ts +
         "\", \"info\": {\"host\": \"vm\"}, \"project\": \"demo\", \"service\": \"api\"}";
}

TEST(RedisServer, ListsStartTimesNewestFirstAndReadsLegacyKeys) {
  const int db = 2;
  flush_db(db);
  const std::string a = "aaaaaaaa-0000-0000-0000-000000000001";
  const std::string b = "bbbbbbbb-0000-0000-0000-000000000002";
  const std::string c = "cccccccc-0000-0000-0000-000000000003";
  const std::string legacy = "dddddddd-0000-0000-0000-000000000004";
  in_db(db, {
                // Python pushes each event as it happens: the oldest is at the tail.
                {"LPUSH", "osprofiler_opt:" + a, python_event(a, "w-start", "2026-01-01T10:00:00.000001"),
                 python_event(a, "w-stop", "2026-01-01T10:00:05.000000")},
                {"LPUSH", "osprofiler_opt:" + b, python_event(b, "w-start", "2026-01-01T12:00:00.000000"),
                 python_event(b, "x-start", "2026-01-01T12:00:00.100000"), python_event(b, "x-stop", "2026-01-01T12:00:00.200000"),
                 python_event(b, "w-stop", "2026-01-01T12:00:01.000000")},
                // A callee's batch stored before its caller's: the start is not the tail.
                {"LPUSH", "osprofiler_opt:" + c, python_event(c, "callee-start", "2026-01-01T11:00:00.500000"),
                 python_event(c, "callee-stop", "2026-01-01T11:00:00.600000"),
                 python_event(c, "caller-start", "2026-01-01T11:00:00.400000"),
                 python_event(c, "caller-stop", "2026-01-01T11:00:00.700000")},
                {"SET", "osprofiler:" + legacy + "_t1_2026-01-01T09:00:00.000002",
                 python_event(legacy, "old-start", "2026-01-01T09:00:00.000002")},
                {"SET", "osprofiler:" + legacy + "_t1_2026-01-01T09:00:00.000009",
                 python_event(legacy, "old-stop", "2026-01-01T09:00:00.000009")},
                {"SET", "osprofiler_error:" + a, "{\"base_id\": \"" + a + "\", \"timestamp\": \"2026-01-01T10:00:05.000000\"}"},
                {"SET", "osprofiler_error:" + c, "{\"base_id\": \"" + c + "\", \"timestamp\": \"2026-01-01T11:00:00.700000\"}"},
            });
  reader rd(redis_url(db));
  const auto list = rd.list();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].base_id, b);
  EXPECT_EQ(list[0].timestamp, "2026-01-01T12:00:00.000000");
  EXPECT_EQ(list[1].base_id, c);
  EXPECT_EQ(list[1].timestamp, "2026-01-01T11:00:00.400000");
  EXPECT_EQ(list[2].base_id, a);
  EXPECT_EQ(list[2].timestamp, "2026-01-01T10:00:00.000001");
  EXPECT_EQ(list[3].base_id, legacy);
  EXPECT_EQ(list[3].timestamp, "2026-01-01T09:00:00.000002");

  const auto errors = rd.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].base_id, c);
  EXPECT_EQ(errors[0].timestamp, "2026-01-01T11:00:00.400000");
  EXPECT_EQ(errors[1].base_id, a);
  EXPECT_EQ(errors[1].timestamp, "2026-01-01T10:00:00.000001");

  EXPECT_EQ(rd.trace(legacy).size(), 2u);
  EXPECT_EQ(rd.trace(b).size(), 4u);
  // Glob characters in an id match nothing but themselves.
  EXPECT_TRUE(rd.trace("*").empty());
  EXPECT_TRUE(rd.trace("dddddddd?0000-0000-0000-000000000004").empty());
}

TEST(RedisServer, ReadsTwentyThousandEventsOfOneTrace) {
  // 20,500 events: 21 pages of 1,000, asked for four at a time in a window, the last page
  // short. Every event comes back once, in the list's order.
  const int db = 3;
  flush_db(db);
  const std::string base = "eeeeeeee-0000-0000-0000-000000000005";
  constexpr int total = 20500;
  std::vector<std::vector<std::string>> pushes;
  for (int from = 0; from < total; from += 1000) {
    std::vector<std::string> cmd = {"LPUSH", "osprofiler_opt:" + base};
    for (int n = from; n < std::min(total, from + 1000); ++n) {
      cmd.push_back(python_event(base, n % 2 ? "p-stop" : "p-start", "2026-01-01T10:00:00.000000", std::to_string(n)));
    }
    pushes.push_back(std::move(cmd));
  }
  in_db(db, pushes);
  reader rd(redis_url(db));
  const auto events = rd.trace(base);
  ASSERT_EQ(events.size(), static_cast<std::size_t>(total));
  // Newest first: the last pushed comes first.
  for (int i = 0; i < total; ++i) ASSERT_EQ(field(events[i], "trace_id"), std::to_string(total - 1 - i)) << i;
}

TEST(RedisServer, OptionsTtlAndDedupOff) {
  const int db = 4;
  flush_db(db);
  std::string base;
  {
    osprof::emitter e{test_options(redis_url(db) + "?ttl=100&dedup=false")};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(std::chrono::seconds(10)));
    EXPECT_EQ(e.get_stats().written, 8u);
  }
  auto r = in_db(db, {{"TTL", "osprofiler_opt:" + base}, {"TTL", "osprofiler_error:" + base}, {"KEYS", "osprof_writer:*"},
                      {"LLEN", "osprofiler_opt:" + base}});
  EXPECT_GT(r[0].integer, 0);
  EXPECT_LE(r[0].integer, 100);
  EXPECT_GT(r[1].integer, 0);
  EXPECT_TRUE(r[2].elements.empty()) << "no sequence key without dedup";
  EXPECT_EQ(r[3].integer, 8);

  flush_db(db);
  {
    osprof::emitter e{test_options(redis_url(db))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(std::chrono::seconds(10)));
  }
  r = in_db(db, {{"TTL", "osprofiler_opt:" + base}, {"KEYS", "osprof_writer:*"}});
  EXPECT_EQ(r[0].integer, -1) << "kept forever by default, as OSProfiler";
  ASSERT_EQ(r[1].elements.size(), 1u);
  const auto ttl = in_db(db, {{"TTL", r[1].elements[0].text}})[0].integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 86400);
}

// ---------------------------------------------------------------- configuration errors

TEST(RedisServer, WrongDatabaseIndexIsAClearError) {
  osprof::set_log_handler(capture_log);
  osprof::stats s;
  {
    osprof::emitter e{test_options(redis_url(99))};
    emit_demo_trace();
    e.flush(std::chrono::seconds(10));
    s = e.get_stats();
  }
  EXPECT_EQ(s.emitted, 8u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 8u);
  EXPECT_NE(s.last_error.find("cannot select database 99"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("DB index is out of range"), std::string::npos) << s.last_error;
  EXPECT_TRUE(logged("cannot select database 99"));
  osprof::set_log_handler(nullptr);

  reader rd(redis_url(99));
  try {
    rd.list();
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("DB index is out of range"), std::string::npos) << e.what();
  }
}

// A loopback service that answers like an HTTP server: what a wrong port often reaches.
class not_redis_server {
 public:
  not_redis_server() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      for (;;) {
        boost::asio::ip::tcp::socket s(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_) return;
        ++connections_;
        char buf[512];
        s.read_some(boost::asio::buffer(buf), ec);
        boost::asio::write(s, boost::asio::buffer(std::string_view("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")), ec);
      }
    });
  }
  ~not_redis_server() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(RedisServer, APortThatIsNotRedisIsAClearError) {
  not_redis_server http;
  const std::string url = "redis://127.0.0.1:" + std::to_string(http.port());
  osprof::stats s;
  {
    osprof::emitter e{test_options(url)};
    emit_demo_trace();
    e.flush(std::chrono::seconds(10));
    s = e.get_stats();
  }
  EXPECT_EQ(s.emitted, 8u);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, 8u);
  EXPECT_EQ(s.emitted, s.written + s.dropped());
  EXPECT_NE(s.last_error.find("does not speak the Redis protocol"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("HTTP/1.1 400 Bad Request"), std::string::npos) << s.last_error;
  EXPECT_GE(http.connections(), 1);

  reader rd(url);
  try {
    rd.trace("aaaaaaaa-0000-0000-0000-000000000001");
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("does not speak the Redis protocol"), std::string::npos) << e.what();
  }
}

}  // namespace
