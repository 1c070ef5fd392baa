// The MariaDB driver's fault cases (tests/support/sql_fault_cases.hpp) against the fixture's
// MariaDB, with what differs from PostgreSQL: one server process, LOCK TABLES, its messages.
#include <gtest/gtest.h>

#include <fstream>

#include "my_test_util.hpp"
#include "support/sql_fault_cases.hpp"

namespace {

struct mariadb {
  using server = osprof_test::my::server;
  static constexpr std::string_view scheme = "mysql+pymysql";
  static osprof_test::my::admin admin(const server& my, const std::string& database) { return my.root(database); }
  // The server's process (mariadbd is one process; its PID is in <dir>/pid).
  static std::vector<pid_t> server_pids(const server& my) {
    std::ifstream in(my.dir() + "/pid");
    pid_t pid = 0;
    in >> pid;
    return pid > 0 ? std::vector<pid_t>{pid} : std::vector<pid_t>{};
  }
  static constexpr std::size_t server_processes = 1;
  static void lock_data(osprof_test::my::admin& db) { db.exec("LOCK TABLES data WRITE"); }
  static void unlock_data(osprof_test::my::admin& db) { db.exec("UNLOCK TABLES"); }
  // The server's lock_wait_timeout (half the write's time, at least 1 s) or the write's own.
  static bool lock_error(const std::string& e) {
    return e.find("Lock wait timeout exceeded") != std::string::npos || e.find("timed out") != std::string::npos;
  }
  static constexpr std::string_view refused_error = "error 2002";
  static constexpr std::string_view wrong_password_error = "Access denied for user 'osprof'";
  static constexpr std::string_view missing_database_error = "Unknown database 'no_such_db'";
};

}  // namespace

namespace osprof_test::sql_fault {
INSTANTIATE_TYPED_TEST_SUITE_P(MyFault, SqlFault, mariadb);
}  // namespace osprof_test::sql_fault
