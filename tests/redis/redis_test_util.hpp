// Helpers of the Redis server tests: run a coroutine to completion, send commands with the
// driver's own connection, read the ports the CTest fixtures (tests/servers/redis.sh) chose,
// and run redis-server processes that a test starts, kills and restarts itself.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include <osprof/driver.hpp>

#include "support/backend.hpp"
#include "drivers/redis/connection.hpp"
#include "drivers/redis/redis_options.hpp"
#include "drivers/redis/resp.hpp"

extern char** environ;

namespace osprof_test {

namespace asio = boost::asio;
using osprof::detail::redis::resp_value;

/// Runs the coroutine `make()` returns on a fresh io_context and returns its result.
template <typename F>
auto run_sync(F&& make) {
  asio::io_context ioc;
  auto future = asio::co_spawn(ioc, make(), asio::use_future);
  ioc.run();
  return future.get();
}

/// Sends commands in one pipeline to 127.0.0.1:port and returns their replies.
inline std::vector<resp_value> redis_pipeline(std::uint16_t port, const std::vector<std::vector<std::string>>& commands,
                                              const std::string& password = {}) {
  return run_sync([&]() -> asio::awaitable<std::vector<resp_value>> {
    osprof::detail::redis::connect_settings s;
    s.where = {"127.0.0.1", port};
    s.timeout = std::chrono::seconds(10);
    s.password = password;
    s.has_password = !password.empty();
    osprof::detail::redis::connection conn(co_await asio::this_coro::executor, s);
    std::string bytes;
    osprof::detail::redis::command_writer w(bytes);
    for (const auto& c : commands) {
      w.begin(c.size());
      for (const auto& a : c) w.arg(a);
    }
    co_return co_await conn.request(bytes, commands.size());
  });
}

inline resp_value redis_command(std::uint16_t port, const std::vector<std::string>& command, const std::string& password = {}) {
  return redis_pipeline(port, {command}, password).front();
}

/// The port a fixture wrote to <build>/servers/<name>/port.
inline std::uint16_t fixture_port(const std::string& name, const std::string& file = "port") {
  const std::string path = std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + name + "/" + file;
  std::ifstream in(path);
  unsigned port = 0;
  if (!(in >> port) || port == 0) throw std::runtime_error("no port in " + path + " (did the fixture run?)");
  return static_cast<std::uint16_t>(port);
}

inline std::vector<std::uint16_t> fixture_ports(const std::string& name) {
  const std::string path = std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + name + "/ports";
  std::ifstream in(path);
  std::vector<std::uint16_t> ports;
  unsigned p = 0;
  while (in >> p) ports.push_back(static_cast<std::uint16_t>(p));
  if (ports.empty()) throw std::runtime_error("no ports in " + path + " (did the fixture run?)");
  return ports;
}

inline std::string fixture_dir(const std::string& name) { return std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + name; }

/// A loopback port nobody listens on right now.
inline std::uint16_t free_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

/// A redis-server process owned by the test: started in the foreground (its PID is ours to
/// signal), data in a private temp dir, killed and removed at the end. With `sentinel_conf`
/// it runs as Redis Sentinel with that configuration (plus its port).
class redis_process {
 public:
  explicit redis_process(std::vector<std::string> extra_args = {}, std::uint16_t port = 0, std::string sentinel_conf = {})
      : port_(port == 0 ? free_port() : port), extra_(std::move(extra_args)), sentinel_conf_(std::move(sentinel_conf)) {
    char tmpl[] = "/tmp/osprof-redis-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~redis_process() {
    kill_now();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  redis_process(const redis_process&) = delete;
  redis_process& operator=(const redis_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  const std::string& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }

  /// Starts redis-server and waits until it answers PING (or throws with its log).
  void start(const std::string& password = {}) {
    std::vector<std::string> args;
    if (!sentinel_conf_.empty()) {
      // Sentinel rewrites its configuration file, so it gets a fresh one each start.
      std::ofstream(dir_ + "/sentinel.conf") << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_ << "\nlogfile "
                                             << dir_ << "/redis.log\n" << sentinel_conf_;
      args = {REDIS_SERVER_PATH, dir_ + "/sentinel.conf", "--sentinel"};
    } else {
      args = {REDIS_SERVER_PATH, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_, "--save", "",
              "--logfile", dir_ + "/redis.log", "--enable-debug-command", "local"};
      bool has_appendonly = false;
      for (const auto& a : extra_) has_appendonly = has_appendonly || a == "--appendonly";
      if (!has_appendonly) args.insert(args.end(), {"--appendonly", "no"});
    }
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      throw std::runtime_error(std::string("cannot run ") + REDIS_SERVER_PATH);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start: " + log());
      }
      try {
        const auto r = redis_command(port_, {"PING"}, password);
        if (r.text == "PONG" || r.error_code() == "NOAUTH" || r.error_code() == "LOADING") {
          if (r.error_code() != "LOADING") return;
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("redis-server did not answer PING within 10 s: " + log());
  }

  /// SIGKILL: no shutdown, no save; what the server acknowledged is in its AOF (if enabled).
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// Sends SIGSTOP / SIGCONT: a server that accepts connections but never answers.
  void pause() const { ::kill(pid_, SIGSTOP); }
  void resume() const { ::kill(pid_, SIGCONT); }

  std::string log() const {
    std::ifstream in(dir_ + "/redis.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
  }

 private:
  std::uint16_t port_;
  std::vector<std::string> extra_;
  std::string sentinel_conf_;
  std::string dir_;
  pid_t pid_ = -1;
};

// ---- emitter and driver helpers

/// Collects osprof's log lines (osprof::set_log_handler(capture_log)).
inline std::mutex log_mutex;
inline std::vector<std::string> log_lines;
inline void capture_log(std::string_view line) {
  std::lock_guard lock(log_mutex);
  log_lines.emplace_back(line);
}
inline bool logged(std::string_view needle) {
  std::lock_guard lock(log_mutex);
  return std::any_of(log_lines.begin(), log_lines.end(), [&](const auto& l) { return l.find(needle) != std::string::npos; });
}

/// Emitter settings for tests: quick batches and retries, events from project demo, service api.
inline osprof::options test_options(std::string connection) {
  osprof::options o;
  o.connection_string = std::move(connection);
  o.project = "demo";
  o.service = "api";
  o.host = "vm";
  o.flush_interval = std::chrono::milliseconds(20);
  o.retry_backoff = std::chrono::milliseconds(20);
  o.retry_backoff_max = std::chrono::milliseconds(200);
  o.write_timeout = std::chrono::seconds(5);
  o.shutdown_timeout = std::chrono::seconds(5);
  return o;
}

// A small trace as OSProfiler's demo (osprofiler.md §4.1): wsgi > rpc > db, driver fails.
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

/// A backend for reading, with synchronous calls.
using reader = osprof::test::backend;

/// Every event stored in the Redis at `port` (all osprofiler_opt:* lists).
inline std::vector<std::string> stored_events(std::uint16_t port, const std::string& password = {}) {
  std::vector<std::string> out;
  const auto keys = redis_command(port, {"KEYS", "osprofiler_opt:*"}, password);
  std::vector<std::vector<std::string>> ranges;
  for (const auto& k : keys.elements) ranges.push_back({"LRANGE", k.text, "0", "-1"});
  if (ranges.empty()) return out;
  for (auto& list : redis_pipeline(port, ranges, password)) {
    for (auto& e : list.elements) out.push_back(std::move(e.text));
  }
  return out;
}

/// A string field of one of osprof's JSON events (fixed formatting).
inline std::string field(const std::string& json, const std::string& name) {
  const auto at = json.find("\"" + name + "\": \"");
  if (at == std::string::npos) return {};
  const auto from = at + name.size() + 5;
  return json.substr(from, json.find('"', from) - from);
}

}  // namespace osprof_test
