// The PostgreSQL driver's fault cases (tests/support/sql_fault_cases.hpp) against the fixture's
// PostgreSQL, with what differs from MariaDB: a postmaster and its children, a table locked by a
// long transaction, its messages.
#include <gtest/gtest.h>

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pg_test_util.hpp"
#include "support/sql_fault_cases.hpp"

namespace {

struct postgresql {
  using server = osprof_test::pg::server;
  static constexpr std::string_view scheme = "postgresql";
  static osprof_test::pg::admin admin(const server& pg, const std::string& database) { return pg.superuser(database); }
  // The PIDs of a server's processes: the postmaster (first line of postmaster.pid) and its children.
  static std::vector<pid_t> server_pids(const server& pg) {
    std::ifstream in(pg.dir() + "/data/postmaster.pid");
    pid_t postmaster = 0;
    in >> postmaster;
    std::vector<pid_t> pids;
    if (postmaster <= 0) return pids;
    pids.push_back(postmaster);
    DIR* proc = ::opendir("/proc");
    while (dirent* d = ::readdir(proc)) {
      const pid_t pid = std::atoi(d->d_name);
      if (pid <= 0) continue;
      std::ifstream stat(std::string("/proc/") + d->d_name + "/stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state;
      pid_t parent = 0;
      rest >> state >> parent;
      if (parent == postmaster) pids.push_back(pid);
    }
    ::closedir(proc);
    return pids;
  }
  static constexpr std::size_t server_processes = 2;
  static void lock_data(osprof_test::pg::admin& db) {
    db.exec("BEGIN");
    db.exec("LOCK TABLE data IN ACCESS EXCLUSIVE MODE");
  }
  static void unlock_data(osprof_test::pg::admin& db) { db.exec("COMMIT"); }
  static bool lock_error(const std::string& e) { return e.find("timed out") != std::string::npos; }
  static constexpr std::string_view refused_error = "";
  static constexpr std::string_view wrong_password_error = "password authentication failed for user \"osprof\"";
  static constexpr std::string_view missing_database_error = "database \"no_such_db\" does not exist";
};

}  // namespace

namespace osprof_test::sql_fault {
INSTANTIATE_TYPED_TEST_SUITE_P(PgFault, SqlFault, postgresql);
}  // namespace osprof_test::sql_fault
