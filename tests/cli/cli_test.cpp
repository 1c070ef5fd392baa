// The osprof command line end to end: the SQLite round trip through `trace list`/`trace show`,
// every output format, saved reports, corrupt stored events, and the exit codes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <simdjson.h>

namespace {

namespace fs = std::filesystem;

struct result {
  int code;
  std::string out;  // stdout and stderr, interleaved
};

result run(const std::string& args) {
  const std::string command = std::string(OSPROF_CLI_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("osprof-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "traces.db").string();
    cs_ = "sqlite:///" + db_;  // db_ is absolute: sqlite:////tmp/...
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the demo into this test's database; returns the trace id it printed.
  std::string demo() {
    const auto r = run("demo --connection-string " + cs_);
    EXPECT_EQ(r.code, 0) << r.out;
    const auto at = r.out.find("trace show ");
    EXPECT_NE(at, std::string::npos) << r.out;
    return r.out.substr(at + 11, 36);
  }

  fs::path dir_;
  std::string db_;
  std::string cs_;
};

TEST_F(Cli, DemoThenListAndShowRoundTrip) {
  const std::string id = demo();
  const auto list = run("trace list --connection-string " + cs_);
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;

  const auto tree = run("trace show " + id + " --connection-string " + cs_ + " --tree");
  EXPECT_EQ(tree.code, 0) << tree.out;
  for (const char* point : {"wsgi", "rpc", "scheduler", "db", "image", "driver"}) {
    EXPECT_NE(tree.out.find(point), std::string::npos) << point << "\n" << tree.out;
  }
  EXPECT_NE(tree.out.find("std::runtime_error"), std::string::npos) << tree.out;

  const auto json = run("trace show " + id + " --connection-string " + cs_ + " --json");
  ASSERT_EQ(json.code, 0) << json.out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json.out).get(doc)) << json.out.substr(0, 400);
  EXPECT_EQ(std::string_view(doc["info"]["name"].get_string().value()), "total");
  const auto root = doc["children"].at(0);
  EXPECT_EQ(std::string_view(root["info"]["name"].get_string().value()), "wsgi");
  EXPECT_EQ(root["children"].get_array().size(), 3u);  // rpc, image, driver
  EXPECT_EQ(doc["stats"]["db"]["count"].get_int64().value(), 1);

  const auto errors = run("trace list --error-trace --connection-string " + cs_);
  EXPECT_EQ(errors.code, 0);
  EXPECT_NE(errors.out.find(id), std::string::npos) << errors.out;
}

TEST_F(Cli, EveryOutputFormatAndSavedReports) {
  const std::string id = demo();
  const std::string saved = (dir_ / "report.json").string();
  ASSERT_EQ(run("trace show " + id + " --connection-string " + cs_ + " --json --out " + saved).code, 0);
  ASSERT_TRUE(fs::exists(saved));
  // A saved report is shown without a backend, the same as from the backend.
  const auto from_file = run("trace show " + saved + " --tree");
  const auto from_db = run("trace show " + id + " --connection-string " + cs_ + " --tree");
  EXPECT_EQ(from_file.code, 0);
  EXPECT_EQ(from_file.out, from_db.out);
  EXPECT_NE(run("trace show " + id + " --connection-string " + cs_ + " --dot").out.find("digraph"), std::string::npos);
  EXPECT_NE(run("trace show " + id + " --connection-string " + cs_ + " --html").out.find("<html"), std::string::npos);
  EXPECT_NE(run("trace show " + id + " --connection-string " + cs_ + " --chrome").out.find("traceEvents"),
            std::string::npos);
  // Not a terminal and no format: JSON, what scripts parse.
  EXPECT_EQ(run("trace show " + id + " --connection-string " + cs_).out.rfind("{", 0), 0u);
}

TEST_F(Cli, UnknownTraceExitsOneWithAClearMessage) {
  demo();
  const auto r = run("trace show 00000000-0000-0000-0000-000000000000 --connection-string " + cs_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("trace 00000000-0000-0000-0000-000000000000 not found"), std::string::npos) << r.out;
}

TEST_F(Cli, CorruptStoredEventIsReportedAndSkipped) {
  const std::string id = demo();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE data SET data = '{\"info\": broken' WHERE name = 'db-stop'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto r = run("trace show " + id + " --connection-string " + cs_ + " --tree");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("skipped a corrupt event"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("driver"), std::string::npos) << r.out;  // the rest is still shown
}

TEST_F(Cli, BadInputGetsClearErrorsAndExitCodes) {
  // Usage errors: 2.
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("frobnicate").code, 2);
  EXPECT_EQ(run("trace show").code, 2);
  EXPECT_EQ(run("trace show x --json --dot").code, 2);
  EXPECT_EQ(run("trace list --bogus").code, 2);
  // Bad connection strings and backends: 1, with the reason, never the password.
  auto r = run("trace list --connection-string 'nosuch://u:hunter2@h'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("unknown backend 'nosuch'"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
  r = run("trace list --connection-string sqlite:///" + (dir_ / "missing.db").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  r = run("trace list --connection-string null://");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("write-only"), std::string::npos) << r.out;
  r = run("trace show not-a-trace-or-file");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("neither a trace id"), std::string::npos) << r.out;
  std::ofstream(dir_ / "junk.json") << "{\"hello\": 1}";
  r = run("trace show " + (dir_ / "junk.json").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("not an OSProfiler report"), std::string::npos) << r.out;
  EXPECT_EQ(run("--version").code, 0);
  EXPECT_NE(run("drivers").out.find("sqlite://"), std::string::npos);
}

TEST_F(Cli, ConnectionStringFromTheEnvironment) {
  const std::string id = demo();
  // OSPROFILER_CONNECTION_STRING (OSProfiler's variable) is honoured when no option is given.
  FILE* pipe = popen(("OSPROFILER_CONNECTION_STRING=" + cs_ + " " + OSPROF_CLI_PATH + " trace show " + id + " --tree 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  EXPECT_EQ(WEXITSTATUS(pclose(pipe)), 0) << out;
  EXPECT_NE(out.find("wsgi"), std::string::npos) << out;
}

}  // namespace
