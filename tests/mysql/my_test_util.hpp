// What the MariaDB driver's tests share: the fixture's server (tests/servers/mysql.sh), which the
// fault tests also stop, crash and restart, a blocking Connector/C connection to check what was
// stored, a new database per test, and events made by hand.
#pragma once

#include <gtest/gtest.h>
#include <mysql.h>
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

namespace osprof_test::my {

inline std::string fixture_dir() { return std::string(OSPROF_TEST_BINARY_DIR) + "/servers/mysql"; }

inline std::uint16_t read_port(const std::string& dir) {
  std::ifstream in(dir + "/port");
  unsigned port = 0;
  if (!(in >> port) || port == 0) throw std::runtime_error("no port in " + dir + "/port (did the fixture run?)");
  return static_cast<std::uint16_t>(port);
}

/// A blocking Connector/C connection for the tests' own checks and changes (root, on the socket).
class admin {
 public:
  admin(const std::string& socket, const std::string& database) : conn_(mysql_init(nullptr)) {
    if (mysql_real_connect(conn_, "localhost", "root", nullptr, database.empty() ? nullptr : database.c_str(), 0,
                           socket.c_str(), CLIENT_MULTI_STATEMENTS) == nullptr) {
      const std::string why = mysql_error(conn_);
      mysql_close(conn_);
      throw std::runtime_error("cannot connect to " + socket + ": " + why);
    }
  }
  ~admin() { mysql_close(conn_); }
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  /// The rows of `sql`'s last result (NULL as "<null>"); throws with the server's message.
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
      throw std::runtime_error(sql + ": " + mysql_error(conn_));
    }
    std::vector<std::vector<std::string>> rows;
    for (;;) {
      MYSQL_RES* r = mysql_store_result(conn_);
      if (r != nullptr) {
        rows.clear();
        const unsigned columns = mysql_num_fields(r);
        while (MYSQL_ROW row = mysql_fetch_row(r)) {
          rows.emplace_back();
          for (unsigned c = 0; c < columns; ++c) rows.back().push_back(row[c] != nullptr ? row[c] : "<null>");
        }
        mysql_free_result(r);
      }
      const int next = mysql_next_result(conn_);
      if (next > 0) throw std::runtime_error(sql + ": " + mysql_error(conn_));
      if (next < 0) break;
    }
    return rows;
  }
  void exec(const std::string& sql) { query(sql); }
  std::string scalar(const std::string& sql) {
    const auto rows = query(sql);
    return rows.empty() || rows.front().empty() ? std::string() : rows.front().front();
  }
  long count(const std::string& sql) { return std::stol(scalar(sql)); }

 private:
  MYSQL* conn_;
};

/// The fixture's server (tests/servers/mysql.sh, started once per test run). The fault tests
/// stop, crash, freeze and restart it (they hold the `mysql` resource lock, so no other test
/// uses it meanwhile); a restart keeps its data and port.
class server {
 public:
  server() : dir_(fixture_dir()) {}

  std::uint16_t port() const { return read_port(dir_); }
  const std::string& dir() const { return dir_; }
  void start() { script("start"); }
  void kill() { script("kill"); }  // SIGKILL: a crash, recovered at the next start
  void stop() { script("stop"); }
  /// Whether the server answers on its socket.
  bool running() const {
    try {
      root();
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }

  /// root over the unix socket.
  admin root(const std::string& database = {}) const { return admin(dir_ + "/sock", database); }
  /// A new empty database (utf8mb4).
  std::string new_database() const {
    static int counter = 0;
    const std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
                             osprof::uuid::random().to_string().substr(0, 8);
    root().exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
    return name;
  }
  /// osprof's connection string for `database`, as user osprof over TCP.
  std::string url(const std::string& database, const std::string& query = {}) const {
    return "mysql+pymysql://osprof:osprof-secret@127.0.0.1:" + std::to_string(port()) + "/" + database + query;
  }

 private:
  void script(const std::string& command) const {
    const std::string cmd =
        "bash " + std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/servers/mysql.sh " + command + " " + dir_ + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mysql.sh " + command + " " + dir_ + " failed");
  }

  std::string dir_;
};

// The settings, traces and events shared with the other SQL server's tests.
using sql::emit_demo_trace;
using sql::make_event;
using sql::make_trace;
using sql::test_options;

}  // namespace osprof_test::my
