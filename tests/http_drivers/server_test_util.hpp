// Helpers of the InfluxDB and ClickHouse server tests: servers run by tests/servers/*.sh in a
// private directory (started, killed, frozen and restarted by the test), the osprof CLI, direct
// queries with curl, a scripted HTTP server for answers a real server will not give on demand,
// and writing the same events into a reference backend.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <osprof/emitter.hpp>
#include <osprof/error.hpp>
#include <osprof/profiler.hpp>

#include <osprof/driver.hpp>

#include "support/backend.hpp"
#include "support/emit_accounting.hpp"
#include "records.hpp"

namespace osprof_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

template <typename F>
auto run_sync(F&& make) {
  asio::io_context ioc;
  auto future = asio::co_spawn(ioc, make(), asio::use_future);
  ioc.run();
  return future.get();
}

struct command_result {
  int code = -1;
  std::string out;  ///< stdout (stderr too when asked)
};

/// Runs a shell command and returns its exit code and output.
inline command_result shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  command_result r;
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string single_quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// The osprof CLI with `args`; stderr is kept apart unless `with_stderr`.
inline command_result cli(const std::string& args, bool with_stderr = false) {
  return shell(std::string(OSPROF_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

/// A loopback port nobody listens on right now.
inline std::uint16_t free_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

inline std::uint16_t read_port(const std::string& file) {
  std::ifstream in(file);
  unsigned port = 0;
  if (!(in >> port) || port == 0) throw std::runtime_error("no port in " + file + " (did the fixture run?)");
  return static_cast<std::uint16_t>(port);
}

/// The port a CTest fixture's server wrote to <build>/servers/<name>/port.
inline std::uint16_t fixture_port(const std::string& name) {
  return read_port(std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + name + "/port");
}

/// A server that the test owns, run by tests/servers/<kind>.sh in a private directory.
class script_server {
 public:
  /// `kind` is "influxdb" or "clickhouse"; `settings` are passed to the script's start.
  explicit script_server(std::string kind, std::vector<std::string> settings = {})
      : kind_(std::move(kind)), settings_(std::move(settings)) {
    static std::atomic<int> counter{0};
    dir_ = std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + kind_ + "-private-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~script_server() {
    resume();
    run("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  script_server(const script_server&) = delete;
  script_server& operator=(const script_server&) = delete;

  /// Chooses the ports now without starting: connections are refused until start().
  void choose_ports() {
    std::ofstream(dir_ + "/port") << free_port() << "\n";
    std::ofstream(dir_ + (kind_ == "influxdb" ? "/rpc-port" : "/tcp-port")) << free_port() << "\n";
  }
  /// Starts (or restarts, same port and data) and waits until it answers /ping.
  void start() {
    const auto r = run("start");
    if (r.code != 0) throw std::runtime_error(kind_ + " did not start: " + r.out);
  }
  void stop() { run("stop"); }
  /// SIGKILL: a crash.
  void kill() { run("kill"); }
  /// SIGSTOP / SIGCONT: connections are accepted by the kernel, nothing answers.
  void pause() { signal(SIGSTOP); }
  void resume() { signal(SIGCONT); }
  std::uint16_t port() const { return read_port(dir_ + "/port"); }
  const std::string& dir() const { return dir_; }

 private:
  command_result run(const std::string& what) {
    std::string command = "bash " + std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/servers/" + kind_ + ".sh " + what + " " + dir_;
    if (what == "start") {
      for (const auto& s : settings_) command += " " + single_quoted(s);
    }
    return shell(command + " 2>&1");
  }
  void signal(int sig) {
    std::ifstream in(dir_ + "/pid");
    pid_t pid = 0;
    if (in >> pid && pid > 0) ::kill(pid, sig);
  }

  std::string kind_;
  std::vector<std::string> settings_;
  std::string dir_;
};

/// A loopback HTTP/1.1 server that answers each request with the next scripted answer (the
/// last one repeats), keeping connections alive; for statuses a real server gives only by
/// accident (503, 429 with Retry-After, 500).
class scripted_http_server {
 public:
  struct answer {
    answer(unsigned s = 204, std::string b = {}, std::string headers = {})
        : status(s), body(std::move(b)), extra_headers(std::move(headers)) {}
    unsigned status;
    std::string body;
    std::string extra_headers;  ///< "Name: value\r\n" lines
  };
  explicit scripted_http_server(std::vector<answer> answers)
      : answers_(std::move(answers)), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_http_server() {
    stop_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    for (auto& t : connections_) t.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_; }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  void serve() {
    for (;;) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stop_) return;
      connections_.emplace_back([this, socket] { converse(*socket); });
    }
  }
  void converse(asio::ip::tcp::socket& s) {
    asio::streambuf buf;
    boost::system::error_code ec;
    while (!stop_) {
      const std::size_t header_end = asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) return;
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(header_end));
      buf.consume(header_end);
      std::size_t length = 0;
      for (const char* name : {"Content-Length: ", "content-length: "}) {
        if (auto at = head.find(name); at != std::string::npos) length = std::stoul(head.substr(at + 16));
      }
      if (buf.size() < length) asio::read(s, buf, asio::transfer_exactly(length - buf.size()), ec);
      if (ec) return;
      buf.consume(length);
      answer a;
      {
        std::lock_guard lock(mutex_);
        targets_.push_back(head.substr(0, head.find("\r\n")));
        const std::size_t n = static_cast<std::size_t>(requests_++);
        a = answers_[std::min(n, answers_.size() - 1)];
      }
      const std::string response = "HTTP/1.1 " + std::to_string(a.status) + " Scripted\r\nContent-Type: text/plain\r\n" +
                                    a.extra_headers + "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n" + a.body;
      asio::write(s, asio::buffer(response), ec);
      if (ec) return;
    }
  }

  std::vector<answer> answers_;
  asio::io_context ioc_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  std::thread thread_;
  std::vector<std::thread> connections_;
};

// ---- emitter and driver helpers

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
  o.queue_capacity = 100000;
  return o;
}

/// OSProfiler's demo trace (wsgi > rpc > db, driver fails) plus points whose names and info
/// need escaping in every format, and a burst of one point name within a few microseconds.
/// Returns the trace's base id; 8 + 2 * 6 + 2 * `burst` events.
inline std::string emit_test_trace(int burst = 100) {
  osprof::init("SECRET_KEY");
  const std::string base = osprof::get()->base_id().to_string();
  {
    osprof::trace wsgi("wsgi", {{"request", {{"path", "/v2.1/servers"}, {"method", "POST"}}}});
    {
      osprof::trace rpc("rpc");
      osprof::trace db("db", {{"db", {{"statement", "SELECT * FROM t WHERE a = 'x' AND b = \"y\""}, {"params", {{"id", 42}}}}}});
    }
    try {
      osprof::trace driver("driver");
      throw std::runtime_error("boom: cannot spawn vm1");
    } catch (const std::exception&) {
    }
    { osprof::trace t("GET /v2.1/servers, id=7", {{"path", "C:\\temp\\new"}}); }
    { osprof::trace t("quotes \"and\" 'apostrophes'", {{"text", "line1\nline2\ttab \\ back"}}); }
    { osprof::trace t("unicode", {{"text", "caf\u00e9 \u65e5\u672c \U0001F600"}, {"ctrl", "\x01\x1f"}}); }
    { osprof::trace t("slash/and=equals", {{"n", -1.5}, {"big", std::int64_t{9007199254740993}}, {"yes", true}, {"none", nullptr}}); }
    { osprof::trace t("trailing\\", {{"empty", ""}}); }
    { osprof::trace t("point-with-dashes-start"); }
    for (int i = 0; i < burst; ++i) {
      osprof::start("tight", {{"i", i}});
      osprof::stop();
    }
  }
  osprof::clean();
  return base;
}

using osprof::test::backend;

/// Writes `events` (stored JSON read back from a backend) into a fresh SQLite file, OSProfiler's
/// SQL layout through osprof's SQLite driver: the reference the reports are compared with.
inline std::string sqlite_copy(const std::vector<std::string>& events, const std::string& name) {
  const std::string path = std::string(OSPROF_TEST_BINARY_DIR) + "/servers/" + name + "-" + std::to_string(::getpid()) + ".db";
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  const std::string url = "sqlite:///" + path;  // absolute path: sqlite:////...
  backend sqlite(url);
  std::vector<event_record> records;
  for (const auto& e : events) records.push_back(record_from_json(e));
  const auto r = sqlite.write(records);
  if (r.status != osprof::write_status::ok) throw std::runtime_error("sqlite write failed: " + r.error);
  sqlite.close();
  return url;
}

}  // namespace osprof_test
