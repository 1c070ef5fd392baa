// SQLite files that Python OSProfiler's SQL driver writes are read by osprof, and the files
// osprof writes are read by Python's driver (Debian's python3-osprofiler on python3-sqlalchemy,
// through tests/sqlite/python_sql_peer.py): the same trace tree, times, errors and lists
// either way. Python's `osprofiler` command cannot open a sqlite:// string at all (its
// get_driver() maps only mysql and postgresql to that driver), so the peer constructs the
// driver directly, as the README shows.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using osprof::test::run_command;

const std::string peer = "/usr/bin/python3 " + std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/sqlite/python_sql_peer.py";
const std::string cli = OSPROF_CLI_PATH;

class SqlitePython : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("osprof-sqlite-interop-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    url_ = "sqlite:///" + (dir_ / "traces.db").string();  // absolute: sqlite:////tmp/...
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs a command that must succeed; returns its output.
  std::string ok(const std::string& command) {
    const auto r = run_command(command);
    EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
    return r.out;
  }
  // osprof's report of `id`, normalized by the peer as it normalizes its own.
  std::string osprof_report(const std::string& id) {
    const fs::path json = dir_ / "osprof-report.json";
    ok(cli + " trace show " + id + " --json --connection-string " + url_ + " --out " + json.string());
    return ok(peer + " normalize " + json.string());
  }

  fs::path dir_;
  std::string url_;
};

TEST_F(SqlitePython, OsprofReadsWhatPythonsSqlDriverWrote) {
  std::string id = ok(peer + " write " + url_);
  ASSERT_EQ(id.size(), 37u) << id;
  id.pop_back();
  const std::string theirs = ok(peer + " report " + url_ + " " + id);
  ASSERT_NE(theirs.find("\"driver\""), std::string::npos) << theirs;
  EXPECT_EQ(osprof_report(id), theirs);

  const std::string tree = ok(cli + " trace show " + id + " --tree --no-color --connection-string " + url_);
  EXPECT_NE(tree.find("wsgi  pyapi (pyproj)"), std::string::npos) << tree;
  EXPECT_NE(tree.find("ERROR RuntimeError: no valid host was found"), std::string::npos) << tree;
  EXPECT_NE(ok(cli + " trace list --json --connection-string " + url_).find(id), std::string::npos);
  EXPECT_NE(ok(cli + " trace list --error-trace --json --connection-string " + url_).find(id), std::string::npos);
}

// Python's profiler.init() takes any string as the base id; osprof reads such a trace as stored.
TEST_F(SqlitePython, OsprofReadsATraceWhoseIdIsNotAUuid) {
  EXPECT_EQ(ok(peer + " write " + url_ + " run-42"), "run-42\n");
  const std::string theirs = ok(peer + " report " + url_ + " run-42");
  ASSERT_NE(theirs.find("\"driver\""), std::string::npos) << theirs;
  EXPECT_EQ(osprof_report("run-42"), theirs);
  EXPECT_NE(ok(cli + " trace list --json --connection-string " + url_).find("\"run-42\""), std::string::npos);
}

TEST_F(SqlitePython, PythonsSqlDriverReadsWhatOsprofWrote) {
  const std::string demo = ok(cli + " demo --connection-string " + url_);
  const auto at = demo.find("trace show ");
  ASSERT_NE(at, std::string::npos) << demo;
  const std::string id = demo.substr(at + 11, 36);
  const std::string theirs = ok(peer + " report " + url_ + " " + id);
  ASSERT_NE(theirs.find("\"driver\""), std::string::npos) << theirs;
  EXPECT_NE(theirs.find("\"std::runtime_error\""), std::string::npos) << theirs;
  EXPECT_EQ(osprof_report(id), theirs);
  EXPECT_EQ(ok(peer + " list " + url_), id + "\n");
}

// A file written with only the reading indexes (?indexes=reading) is still Python's to read
// and to write into (its driver adds no index to a table that exists).
TEST_F(SqlitePython, PythonsSqlDriverReadsAndWritesAFileWithOnlyTheReadingIndexes) {
  const std::string demo = ok(cli + " demo --connection-string '" + url_ + "?indexes=reading'");
  const auto at = demo.find("trace show ");
  ASSERT_NE(at, std::string::npos) << demo;
  const std::string id = demo.substr(at + 11, 36);
  const std::string count_indexes =
      "/usr/bin/python3 -c \"import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
      "'SELECT count(*) FROM sqlite_master WHERE type = \\'index\\'').fetchone()[0])\" " +
      (dir_ / "traces.db").string();
  EXPECT_EQ(ok(count_indexes), "2\n");
  const std::string theirs = ok(peer + " report " + url_ + " " + id);
  ASSERT_NE(theirs.find("\"driver\""), std::string::npos) << theirs;
  EXPECT_NE(theirs.find("\"std::runtime_error\""), std::string::npos) << theirs;
  EXPECT_EQ(osprof_report(id), theirs);
  EXPECT_EQ(ok(peer + " list " + url_), id + "\n");

  std::string python_id = ok(peer + " write " + url_);
  ASSERT_EQ(python_id.size(), 37u) << python_id;
  python_id.pop_back();
  EXPECT_EQ(osprof_report(python_id), ok(peer + " report " + url_ + " " + python_id));
  EXPECT_EQ(ok(count_indexes), "2\n");
}

// What the README says of Python's command line: it cannot open a sqlite:// string.
TEST_F(SqlitePython, PythonsCommandLineCannotOpenSqlite) {
  ok(peer + " write " + url_);
  const auto r = run_command("/usr/bin/osprofiler trace list --connection-string " + url_);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Driver not found for connection string"), std::string::npos) << r.out;
}

}  // namespace
