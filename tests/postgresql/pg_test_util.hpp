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
#include "support/sql_server_events.hpp"

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

// The settings, traces and events shared with the other SQL server's tests.
using sql::emit_demo_trace;
using sql::make_event;
using sql::make_trace;
using sql::test_options;

}  // namespace osprof_test::pg
