// What the PostgreSQL driver's tests share: the fixture's server (tests/servers/postgresql.sh),
// which the fault tests also stop, crash and restart, a blocking libpq connection to check what
// was stored, a new database per test, and events made by hand.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <osprof/driver.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/uuid.hpp>

#include "support/backend.hpp"

namespace osprof_test::pg {

inline std::string fixture_dir() { return std::string(OSPROF_TEST_BINARY_DIR) + "/servers/postgresql"; }

inline std::uint16_t read_port(const std::string& dir) {
  std::ifstream in(dir + "/port");
  unsigned port = 0;
  if (!(in >> port) || port == 0) throw std::runtime_error("no port in " + dir + "/port (did the fixture run?)");
  return static_cast<std::uint16_t>(port);
}

/// A blocking libpq connection for the tests' own checks and changes.
class admin {
 public:
  explicit admin(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("cannot connect (" + conninfo + "): " + why);
    }
  }
  ~admin() { PQfinish(conn_); }
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  /// The rows of `sql` (NULL as "<null>"); throws with the server's message on an error.
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const std::string why = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(sql + ": " + why);
    }
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      rows.emplace_back();
      for (int c = 0; c < PQnfields(r); ++c) rows.back().push_back(PQgetisnull(r, i, c) ? "<null>" : PQgetvalue(r, i, c));
    }
    PQclear(r);
    return rows;
  }
  void exec(const std::string& sql) { query(sql); }
  std::string scalar(const std::string& sql) {
    const auto rows = query(sql);
    return rows.empty() || rows.front().empty() ? std::string() : rows.front().front();
  }
  long count(const std::string& sql) { return std::stol(scalar(sql)); }

 private:
  PGconn* conn_;
};

/// The fixture's server (tests/servers/postgresql.sh, started once per test run). The fault
/// tests stop, crash, freeze and restart it (they hold the `postgresql` resource lock, so no
/// other test uses it meanwhile); a restart keeps its data and port.
class server {
 public:
  server() : dir_(fixture_dir()) {}

  std::uint16_t port() const { return read_port(dir_); }
  const std::string& dir() const { return dir_; }
  void start() { script("start"); }
  void kill() { script("kill"); }  // an immediate shutdown: a crash, recovered at the next start
  void stop() { script("stop"); }
  /// Whether the server answers on its socket.
  bool running() const {
    const std::string conninfo = "host=" + dir_ + " port=" + std::to_string(port()) + " user=postgres dbname=postgres";
    return PQping(conninfo.c_str()) == PQPING_OK;
  }

  /// The superuser over the unix socket (trusted there).
  admin superuser(const std::string& database = "postgres") const {
    return admin("host=" + dir_ + " port=" + std::to_string(port()) + " user=postgres dbname=" + database);
  }
  /// A new empty database owned by osprof.
  std::string new_database() const {
    static int counter = 0;
    const std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
                             osprof::uuid::random().to_string().substr(0, 8);
    superuser().exec("CREATE DATABASE " + name + " OWNER osprof");
    return name;
  }
  /// osprof's connection string for `database`, as role osprof over TCP.
  std::string url(const std::string& database, const std::string& query = {}) const {
    return "postgresql://osprof:osprof-secret@127.0.0.1:" + std::to_string(port()) + "/" + database + query;
  }

 private:
  void script(const std::string& command) const {
    const std::string cmd =
        "bash " + std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/servers/postgresql.sh " + command + " " + dir_ + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("postgresql.sh " + command + " " + dir_ + " failed");
  }

  std::string dir_;
};

/// Emitter settings for the tests: quick batches and retries, project demo, service api, host vm.
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
  o.shutdown_timeout = std::chrono::seconds(10);
  return o;
}

/// OSProfiler's demo trace (osprofiler.md §4.1): wsgi > rpc > db, then driver fails.
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

/// Emits `points` start/stop pairs (2 events each) in traces of `per_trace` points.
inline void emit_points(int points, int per_trace = 50, int every = 0, std::chrono::microseconds pause = {}) {
  for (int i = 0; i < points; ++i) {
    if (i % per_trace == 0) {
      osprof::clean();
      osprof::init("SECRET_KEY");
    }
    osprof::start("point", {{"i", i}});
    osprof::stop();
    if (every != 0 && i % every == every - 1) std::this_thread::sleep_for(pause);
  }
  osprof::clean();
}

/// An event made by hand, for a writer driven directly.
inline osprof::event_record make_event(const osprof::uuid& base, const osprof::uuid& trace, const osprof::uuid& parent,
                                       std::string name, std::string info, int micros) {
  osprof::event_record e;
  e.is_stop = name.ends_with("-stop");
  e.name = std::move(name);
  e.base_id = base;
  e.trace_id = trace;
  e.parent_id = parent;
  e.time_us = 1764000000000000 + micros;
  char ts[32];
  std::snprintf(ts, sizeof ts, "2025-11-24T16:00:00.%06d", micros % 1000000);
  std::copy(ts, ts + 26, e.timestamp.begin());
  e.has_error = info.find("\"etype\"") != std::string::npos;
  e.info = std::move(info);
  e.json = "{}";  // the SQL drivers store the columns and info, not this
  return e;
}

/// `n` start/stop pairs of one trace (2n events); `failing` of them stop with an error.
inline std::vector<osprof::event_record> make_trace(const osprof::uuid& base, int n, int failing = 0) {
  std::vector<osprof::event_record> out;
  for (int i = 0; i < n; ++i) {
    const osprof::uuid point = osprof::uuid::random();
    out.push_back(make_event(base, point, base, "point-start", "{\"i\": " + std::to_string(i) + ", \"host\": \"vm\"}", 2 * i));
    out.push_back(make_event(base, point, base, "point-stop",
                             i < failing ? "{\"etype\": \"RuntimeError\", \"message\": \"boom\", \"host\": \"vm\"}"
                                         : "{\"host\": \"vm\"}",
                             2 * i + 1));
  }
  return out;
}

inline void expect_balanced(const osprof::stats& s) {
  EXPECT_EQ(s.emitted, s.written + s.dropped())
      << "emitted " << s.emitted << ", written " << s.written << ", dropped " << s.dropped_queue_full << " queue full + "
      << s.dropped_backend << " backend + " << s.dropped_shutdown << " shutdown";
  EXPECT_EQ(s.held, 0u);
}

}  // namespace osprof_test::pg
