// `osprof bench` end to end: a short run against null:// and SQLite reports every field and
// accounts for every event; the JSON parses; a sweep prints its table and writes a well-formed
// SVG (parsed with Python's xml.etree); Ctrl-C stops the load and still prints the results;
// usage errors exit 2.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <simdjson.h>

#include "../cli/cli_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using result = osprof::test::command_result;
using osprof::test::expect_usage_errors;
using osprof::test::run_command;

result osprof(const std::string& args) { return run_command(std::string(OSPROF_CLI_PATH) + " " + args); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BenchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("osprof-bench-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

// The accounting every run must satisfy, and the fields the JSON promises.
void expect_well_formed_run(simdjson::dom::element run) {
  const auto events = run["events"];
  const std::uint64_t emitted = events["emitted"].get_uint64().value();
  const std::uint64_t written = events["written"].get_uint64().value();
  const std::uint64_t dropped = events["dropped"].get_uint64().value();
  EXPECT_GT(emitted, 0u);
  EXPECT_EQ(emitted, written + dropped);
  EXPECT_EQ(dropped, events["dropped_queue_full"].get_uint64().value() + events["dropped_backend"].get_uint64().value() +
                         events["dropped_shutdown"].get_uint64().value());
  const auto lat = run["emit_latency_ns"];
  const double p50 = lat["p50"].get_double().value(), p90 = lat["p90"].get_double().value();
  const double p99 = lat["p99"].get_double().value(), p999 = lat["p999"].get_double().value();
  const double max = lat["max"].get_double().value();
  EXPECT_GT(p50, 0.0);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, max);
  EXPECT_GT(lat["samples"].get_uint64().value(), 0u);
  EXPECT_GT(run["throughput"]["offered_events_per_s"].get_double().value(), 0.0);
  const auto mem = run["memory"];
  EXPECT_GT(mem["rss_start_kib"].get_uint64().value(), 0u);
  EXPECT_GE(mem["peak_rss_kib"].get_uint64().value(), mem["rss_start_kib"].get_uint64().value());
  EXPECT_GE(run["backend"]["write_latency_max_us"].get_uint64().value(),
            run["backend"]["write_latency_avg_us"].get_uint64().value());
}

TEST_F(BenchCli, ShortRunIntoMemoryReportsEveryFieldAndAccountsForEveryEvent) {
  const auto json = dir_ / "run.json";
  const auto r = osprof("bench --connection-string null:// --duration 0.5 --rate 20000 --producers 2 "
                        "--batch-size 64 --flush-interval 20 --json " + json.string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* field : {"events        emitted", "throughput    offered", "emit latency  per accepted span", "p50", "p99.9",
                            "backend", "batches, write latency avg", "memory        peak RSS", "batch size 64",
                            "flush interval 20 ms", "2 producer(s)"}) {
    EXPECT_NE(r.out.find(field), std::string::npos) << field << "\n" << r.out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string text = read_file(json);
  ASSERT_FALSE(parser.parse(text).get(doc)) << text;
  expect_well_formed_run(doc);
  EXPECT_EQ(doc["settings"]["producers"].get_uint64().value(), 2u);
  EXPECT_EQ(doc["settings"]["batch_size"].get_uint64().value(), 64u);
  EXPECT_EQ(std::string_view(doc["settings"]["overflow"].get_string().value()), "drop");
  EXPECT_FALSE(doc["interrupted"].get_bool().value());
  EXPECT_TRUE(doc["drained"].get_bool().value());
  // 20,000 events/s for 0.5 s is far below what null:// takes: everything is written.
  EXPECT_EQ(doc["events"]["dropped"].get_uint64().value(), 0u);
  EXPECT_GT(doc["events"]["written"].get_uint64().value(), 5000u);
  EXPECT_LT(doc["events"]["written"].get_uint64().value(), 20000u);
  EXPECT_GT(doc["backend"]["batches_written"].get_uint64().value(), 0u);
  // No drop: every timed span is an accepted one, and the figure stands.
  EXPECT_EQ(doc["dropped_span_latency_ns"]["samples"].get_uint64().value(), 0u);
  EXPECT_TRUE(doc["latency_meaningful"].get_bool().value());
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;
}

TEST_F(BenchCli, DroppedSpansAreTimedApartAndAnOverloadedRunWarns) {
  // A 64-event queue in front of SQLite, offered all one thread can emit: nearly every span drops.
  const auto db = dir_ / "drops.db";
  const auto json = dir_ / "drops.json";
  const auto r = osprof("bench --connection-string sqlite:///" + db.string() +
                        " --duration 0.5 --queue-capacity 64 --drain-timeout 5 --json " + json.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("dropped spans per span with a dropped event"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning"), std::string::npos) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string text = read_file(json);
  ASSERT_FALSE(parser.parse(text).get(doc)) << text;
  EXPECT_GT(doc["dropped_span_latency_ns"]["samples"].get_uint64().value(), 0u);
  EXPECT_GT(doc["dropped_span_latency_ns"]["fraction_of_timed"].get_double().value(), 0.01);
  EXPECT_FALSE(doc["latency_meaningful"].get_bool().value());
  // The accepted spans' own histogram is reported separately (it may hold few samples).
  EXPECT_EQ(std::string_view(doc["emit_latency_ns"]["unit"].get_string().value()), "one accepted span (start + stop)");
}

TEST_F(BenchCli, SqliteRunStoresWhatItReportsAsWritten) {
  const auto db = dir_ / "bench.db";
  const auto json = dir_ / "run.json";
  const auto r = osprof("bench --connection-string sqlite:///" + db.string() +
                        " --duration 0.3 --overflow block --block-timeout 10000 --json " + json.string());
  ASSERT_EQ(r.code, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(read_file(json)).get(doc));
  expect_well_formed_run(doc);
  EXPECT_EQ(std::string_view(doc["settings"]["overflow"].get_string().value()), "block");
  EXPECT_EQ(doc["events"]["dropped"].get_uint64().value(), 0u);
  const std::uint64_t written = doc["events"]["written"].get_uint64().value();

  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(handle, "SELECT count(*) FROM data", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0)), written);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
}

TEST_F(BenchCli, SweepPrintsATableAndWritesWellFormedSvgAndJson) {
  const auto svg = dir_ / "sweep.svg";
  const auto json = dir_ / "sweep.json";
  const auto r = osprof("bench --connection-string null:// --duration 0.2 --rate 50000 "
                        "--sweep batch-size=16,256,1024 --svg " + svg.string() + " --json " + json.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("sweep of batch-size"), std::string::npos) << r.out;
  for (const char* value : {"\n              16 ", "\n             256 ", "\n            1024 "}) {
    EXPECT_NE(r.out.find(value), std::string::npos) << "table row for" << value << "\n" << r.out;
  }

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(read_file(json)).get(doc));
  EXPECT_EQ(std::string_view(doc["sweep"]["setting"].get_string().value()), "batch-size");
  const auto runs = doc["runs"].get_array().value();
  ASSERT_EQ(runs.size(), 3u);
  const std::uint64_t expected[] = {16, 256, 1024};
  std::size_t i = 0;
  for (auto run : runs) {
    expect_well_formed_run(run);
    EXPECT_EQ(run["settings"]["batch_size"].get_uint64().value(), expected[i++]);
  }

  // Parsed by a real XML parser: the root is an SVG, with two series of three points, both
  // axis titles and every swept value as a label.
  const std::string check = R"(import sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + 'svg', root.tag
lines = root.findall(ns + 'polyline')
assert len(lines) == 2, len(lines)
for l in lines:
    assert len(l.get('points').split()) == 3, l.get('points')
texts = [t.text for t in root.iter(ns + 'text')]
for want in ('batch-size', 'throughput (events written/s)', 'p99 emit latency per span (ns)', '16', '256', '1024'):
    assert want in texts, (want, texts)
print('svg ok')
)";
  std::ofstream(dir_ / "check_svg.py") << check;
  const auto parsed = run_command("/usr/bin/python3 " + (dir_ / "check_svg.py").string() + " " + svg.string());
  EXPECT_EQ(parsed.code, 0) << parsed.out;
  EXPECT_NE(parsed.out.find("svg ok"), std::string::npos) << parsed.out;
}

TEST_F(BenchCli, CtrlCStopsTheLoadAndStillPrintsTheResults) {
  const auto out = dir_ / "out.txt";
  const auto json = dir_ / "run.json";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cli = OSPROF_CLI_PATH;
    std::freopen(out.c_str(), "w", stdout);
    dup2(fileno(stdout), STDERR_FILENO);
    const std::string json_path = json.string();
    execl(cli.c_str(), cli.c_str(), "bench", "--connection-string", "null://", "--duration", "60",
          "--rate", "20000", "--json", json_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first progress line, so the load is running when the signal arrives.
  const auto started = std::chrono::steady_clock::now();
  while (read_file(out).find("osprof bench: load") == std::string::npos &&
         std::chrono::steady_clock::now() - started < 20s) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  pid_t done = 0;
  const auto signalled = std::chrono::steady_clock::now();
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() - signalled < 20s) {
    std::this_thread::sleep_for(50ms);
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "osprof bench did not stop within 20 s of SIGINT\n" << read_file(out);
  }
  ASSERT_TRUE(WIFEXITED(status)) << read_file(out);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const std::string text = read_file(out);
  EXPECT_NE(text.find("interrupted: results so far"), std::string::npos) << text;
  EXPECT_NE(text.find("emit latency  per accepted span"), std::string::npos) << text;

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(read_file(json)).get(doc)) << text;
  expect_well_formed_run(doc);
  EXPECT_TRUE(doc["interrupted"].get_bool().value());
  EXPECT_LT(doc["load_s"].get_double().value(), 30.0);
}

// The emitter's settings keep their environment defaults (as osprof::options reads them); an
// option overrides them, and an option given twice takes its last value.
TEST_F(BenchCli, SettingsComeFromTheEnvironmentUnlessGiven) {
  const auto json = dir_ / "run.json";
  const std::string cli = std::string("OSPROF_BATCH_SIZE=96 OSPROF_FLUSH_INTERVAL_MS=30 OSPROF_OVERFLOW=block ") +
                          OSPROF_CLI_PATH + " bench --connection-string null:// --duration 0.1 --json " +
                          json.string();
  auto r = run_command(cli);
  ASSERT_EQ(r.code, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string text = read_file(json);
  ASSERT_FALSE(parser.parse(text).get(doc)) << text;
  EXPECT_EQ(doc["settings"]["batch_size"].get_uint64().value(), 96u);
  EXPECT_EQ(doc["settings"]["flush_interval_ms"].get_uint64().value(), 30u);
  EXPECT_EQ(std::string_view(doc["settings"]["overflow"].get_string().value()), "block");

  r = run_command(cli + " --batch-size 8 --batch-size 64 --overflow drop");
  ASSERT_EQ(r.code, 0) << r.out;
  text = read_file(json);
  ASSERT_FALSE(parser.parse(text).get(doc)) << text;
  EXPECT_EQ(doc["settings"]["batch_size"].get_uint64().value(), 64u);
  EXPECT_EQ(doc["settings"]["flush_interval_ms"].get_uint64().value(), 30u);
  EXPECT_EQ(std::string_view(doc["settings"]["overflow"].get_string().value()), "drop");
}

TEST_F(BenchCli, UsageErrorsExit2AndNameTheProblem) {
  expect_usage_errors(OSPROF_CLI_PATH,
                      {
                          {"bench --overflow sometimes", "--overflow"},
                          {"bench --producers 0", "--producers"},
                          {"bench --duration soon", "--duration"},
                          {"bench --sweep colour=1,2", "cannot sweep 'colour'"},
                          {"bench --sweep batch-size=1,,2", "empty value"},
                          {"bench --sweep batch-size=64,abc", "--batch-size"},
                          {"bench --svg x.svg", "--svg needs --sweep"},
                          {"bench extra", "no positional"},
                          {"bench --bogus", "unknown option '--bogus'"},
                          {"bench --batch-size 0", "--batch-size"},
                          {"bench --queue-max-bytes 100", "--queue-max-bytes"},
                          {"bench --rate -5", "--rate"},
                          {"bench --flush-interval", "--flush-interval"},
                          {"bench --sweep producers=2,300", "--producers"},
                          {"bench --sweep batch-size", "SETTING=V1,V2"},
                      },
                      "osprof bench --help");
  const auto unknown = osprof("bench --connection-string nosuch:// --duration 0.1");
  EXPECT_EQ(unknown.code, 1) << unknown.out;
  EXPECT_NE(unknown.out.find("nosuch"), std::string::npos) << unknown.out;
}

TEST_F(BenchCli, AnOutputThatCannotBeWrittenFailsBeforeTheLoad) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = osprof("bench --connection-string null:// --duration 30 --json /nonexistent/dir/out.json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("cannot write '/nonexistent/dir/out.json'"), std::string::npos) << r.out;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << "the 30 s load ran first";
}

TEST_F(BenchCli, ARunThatWroteNothingIsAFailure) {
  // A store that refuses every write (an embedded one, so that every build has it): the driver
  // makes its tables, then a trigger aborts each insert. The run measures nothing but drops.
  const auto db = dir_ / "refusing.db";
  const std::string cs = "--connection-string sqlite:///" + db.string();
  ASSERT_EQ(osprof("bench " + cs + " --duration 0.1").code, 0);
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, "CREATE TRIGGER refuse BEFORE INSERT ON data BEGIN SELECT RAISE(ABORT, 'refused'); END",
                              nullptr, nullptr, &error);
  const std::string why = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(handle);
  ASSERT_EQ(rc, SQLITE_OK) << why;

  const auto r = osprof("bench " + cs + " --duration 0.2 --write-timeout 200 --drain-timeout 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("nothing was written"), std::string::npos) << r.out;
}

}  // namespace
