// Helpers of the Elasticsearch and OTLP driver tests: the loopback protocol servers
// (tests/servers/fake_elasticsearch.py, otlp_receiver.py) as CTest fixtures or as processes a
// test starts, kills and restarts itself; HTTP calls to them through the drivers' own client;
// hand-made event records; and driving a driver or the emitter synchronously.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <simdjson.h>

#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include "common/time_format.hpp"
#include <osprof/driver.hpp>

#include "support/backend.hpp"
#include "support/emit_accounting.hpp"
#include "drivers/http/client.hpp"

extern char** environ;

namespace osprof_test {

namespace asio = boost::asio;
namespace http = osprof::detail::http;
using namespace std::chrono_literals;

/// Runs the coroutine `make()` returns on a fresh io_context and returns its result.
template <typename F>
auto run_sync(F&& make) {
  asio::io_context ioc;
  auto future = asio::co_spawn(ioc, make(), asio::use_future);
  ioc.run();
  return future.get();
}

/// The port a fixture wrote to <build>/servers/<name>/port.
inline std::uint16_t fixture_port(const std::string& name) {
  const std::string path = std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + name + "/port";
  std::ifstream in(path);
  unsigned port = 0;
  if (!(in >> port) || port == 0) throw std::runtime_error("no port in " + path + " (did the fixture run?)");
  return static_cast<std::uint16_t>(port);
}

/// A loopback port nobody listens on right now.
inline std::uint16_t free_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

/// One HTTP request to 127.0.0.1:port (a fresh connection each time).
inline http::response http_call(std::uint16_t port, std::string method, std::string target, std::string body = {}) {
  return run_sync([&]() -> asio::awaitable<http::response> {
    http::client_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.timeout = std::chrono::seconds(30);
    http::client c(co_await asio::this_coro::executor, o);
    http::request req;
    req.method = method;
    req.target = target;
    req.body = body;
    if (!req.body.empty()) req.content_type = "application/json";
    co_return co_await c.send(std::move(req));
  });
}

/// GET/POST returning the parsed JSON body (kept alive by `parser`).
inline simdjson::dom::element http_json(simdjson::dom::parser& parser, std::uint16_t port, std::string method,
                                        std::string target, std::string body = {}) {
  auto r = http_call(port, std::move(method), std::move(target), std::move(body));
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc)) throw std::runtime_error("not JSON: " + r.body.substr(0, 300));
  return doc;
}

/// Injects a fault (see tests/servers/loopback_http.py) into the server at `port`.
inline void inject(std::uint16_t port, const std::string& control_prefix, const std::string& fault_json) {
  auto r = http_call(port, "POST", control_prefix + "/fault", fault_json);
  if (r.status != 200) throw std::runtime_error("fault injection failed: " + r.body);
}

/// A loopback server process owned by a test: started on `port` (a free one by default) and
/// killed at the end; it can be killed (SIGKILL) and restarted on the same port.
class loopback_process {
 public:
  /// `args`: more of the script's options, e.g. {"--es-version", "6.8.23"}.
  explicit loopback_process(std::string script, std::uint16_t port = 0, std::vector<std::string> args = {})
      : script_(std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/servers/" + std::move(script)),
        port_(port == 0 ? free_port() : port),
        args_(std::move(args)) {}
  ~loopback_process() { kill_now(); }
  loopback_process(const loopback_process&) = delete;
  loopback_process& operator=(const loopback_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  void start() {
    std::vector<std::string> args = {"/usr/bin/python3", script_, "--port", std::to_string(port_)};
    args.insert(args.end(), args_.begin(), args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot run python3 " + script_);
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(script_ + " exited at start (port " + std::to_string(port_) + " taken?)");
      }
      try {
        asio::io_context ioc;
        asio::ip::tcp::socket s(ioc);
        s.connect({asio::ip::make_address("127.0.0.1"), port_});
        return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error(script_ + " did not listen within 10 s");
  }

  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::string script_;
  std::uint16_t port_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
};

// ---- events

/// A uuid from a short hex tag, e.g. id(0xa1) = 00000000-0000-0000-0000-0000000000a1.
inline osprof::uuid make_id(std::uint64_t hi, std::uint64_t lo) { return osprof::uuid{hi, lo}; }

/// An event as the worker's formatter makes it, with project/service as given.
inline osprof::event_record make_event(const std::string& point, bool stop, osprof::uuid base, osprof::uuid trace,
                                               osprof::uuid parent, std::int64_t time_us, std::string info,
                                               const std::string& project = "demo", const std::string& service = "api") {
  osprof::event_record e;
  e.name = point + (stop ? "-stop" : "-start");
  e.base_id = base;
  e.trace_id = trace;
  e.parent_id = parent;
  e.time_us = time_us;
  osprof::detail::format_timestamp(time_us, e.timestamp.data());
  e.is_stop = stop;
  e.has_error = stop && info.find("\"etype\"") != std::string::npos;
  e.info = std::move(info);
  e.json = "{\"name\": \"" + e.name + "\", \"base_id\": \"" + base.to_string() + "\", \"trace_id\": \"" +
           trace.to_string() + "\", \"parent_id\": \"" + parent.to_string() + "\", \"timestamp\": \"" +
           std::string(e.timestamp_text()) + "\", \"info\": " + e.info + ", \"project\": \"" + project +
           "\", \"service\": \"" + service + "\"}";
  return e;
}

/// A backend made through the registry, driven synchronously on its own io_context.
using driver_handle = osprof::test::backend;

// ---- emitter

inline osprof::options test_options(std::string connection) {
  osprof::options o;
  o.connection_string = std::move(connection);
  o.project = "demo";
  o.service = "api";
  o.host = "vm";
  o.flush_interval = 20ms;
  o.retry_backoff = 20ms;
  o.retry_backoff_max = 200ms;
  o.write_timeout = 5s;
  o.shutdown_timeout = 5s;
  return o;
}

// OSProfiler's demo shape: wsgi > rpc > db, then driver fails.
inline std::string emit_demo_trace() {
  osprof::init("SECRET_KEY");
  const std::string base = osprof::get()->base_id().to_string();
  {
    osprof::trace wsgi("wsgi", {{"request", {{"path", "/v2.1/servers"}, {"method", "POST"}}}});
    {
      osprof::trace rpc("rpc");
      osprof::trace db("db", {{"db", {{"statement", "SELECT 1"}}}});
    }
    try {
      osprof::trace driver("driver");
      throw std::runtime_error("boom: cannot spawn vm1");
    } catch (const std::exception&) {
    }
  }
  osprof::clean();
  return base;
}

}  // namespace osprof_test
