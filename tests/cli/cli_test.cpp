// The osprof command line end to end: the SQLite round trip through `trace list`/`trace show`,
// every output format, saved reports, corrupt stored events, the exit codes, --help on every
// command; and osprof-demo-service's command line, serving and calling.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/report.hpp>

#include "cli_test_support.hpp"

namespace {

namespace fs = std::filesystem;

using result = osprof::test::command_result;
using osprof::test::expect_usage_errors;
using osprof::test::run_command;

result run(const std::string& args) { return run_command(std::string(OSPROF_CLI_PATH) + " " + args); }

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

// Python OSProfiler's own command lines, as runbooks write them.

// `--error-trace` is a flag in osprof and takes a value in Python (`--error-trace True`): both
// forms work, and the value is read for its meaning.
TEST_F(Cli, ErrorTraceTakesPythonsValueFormToo) {
  const std::string failed = demo();  // its `driver` point fails
  std::string clean;
  {
    osprof::emitter tracing{osprof::options{.connection_string = cs_, .service = "clean", .strict = true}};
    osprof::init("K");
    clean = osprof::get()->base_id().to_string();
    osprof::start("fine");
    osprof::stop();
    osprof::clean();
  }
  const auto all = run("trace list --json --connection-string " + cs_);
  ASSERT_EQ(all.code, 0) << all.out;
  ASSERT_NE(all.out.find(failed), std::string::npos) << all.out;
  ASSERT_NE(all.out.find(clean), std::string::npos) << all.out;
  const auto errors = run("trace list --error-trace --json --connection-string " + cs_);
  ASSERT_EQ(errors.code, 0) << errors.out;
  EXPECT_NE(errors.out.find(failed), std::string::npos) << errors.out;
  EXPECT_EQ(errors.out.find(clean), std::string::npos) << errors.out;

  for (const char* yes : {"--error-trace True", "--error-trace true", "--error-trace=yes", "--error-trace 1",
                          "--json --error-trace"}) {
    const auto r = run(std::string("trace list --json ") + yes + " --connection-string " + cs_);
    EXPECT_EQ(r.code, 0) << yes << "\n" << r.out;
    EXPECT_EQ(r.out, errors.out) << yes;
  }
  for (const char* no : {"--error-trace False", "--error-trace=false", "--error-trace 0", "--error-trace True --error-trace off"}) {
    const auto r = run(std::string("trace list --json ") + no + " --connection-string " + cs_);
    EXPECT_EQ(r.code, 0) << no << "\n" << r.out;
    EXPECT_EQ(r.out, all.out) << no;
  }
  const auto bad = run("trace list --error-trace maybe --connection-string " + cs_);
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--error-trace"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("must be true or false"), std::string::npos) << bad.out;
}

bool dot_installed() { return run_command("command -v dot").code == 0; }

std::string read_prefix(const fs::path& p, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// `--render-dot FILE` renders the graph to FILE.pdf with Graphviz's dot, as Python does; the
// output chosen on the command line is printed as usual.
TEST_F(Cli, RenderDotWritesFilePdf) {
  if (!dot_installed()) GTEST_SKIP() << "Graphviz's dot is not installed (tools/packages/test.txt has graphviz)";
  const std::string id = demo();
  const fs::path graph = dir_ / "graph";
  const auto dot = run("trace show " + id + " --connection-string " + cs_ + " --dot");
  const fs::path tmp = dir_ / "tmp";
  fs::create_directories(tmp);
  const auto r = run_command("TMPDIR=" + tmp.string() + " " + OSPROF_CLI_PATH + " trace show " + id +
                             " --connection-string " + cs_ + " --dot --render-dot " + graph.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, dot.out);
  EXPECT_TRUE(fs::is_empty(tmp)) << "the temporary DOT file is removed";
  EXPECT_EQ(read_prefix(dir_ / "graph.pdf", 5), "%PDF-");
  EXPECT_FALSE(fs::exists(graph)) << "no DOT file is left where the PDF's name came from";

  const auto json = run("trace show " + id + " --connection-string " + cs_ + " --json --render-dot " + (dir_ / "again").string());
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_EQ(json.out.rfind("{", 0), 0u) << json.out.substr(0, 200);
  EXPECT_EQ(read_prefix(dir_ / "again.pdf", 5), "%PDF-");
}

TEST_F(Cli, RenderDotWithoutGraphvizIsAClearError) {
  const std::string id = demo();
  // No dot on PATH: said before the backend is read, exit 1.
  auto r = run_command("PATH=/nonexistent " + std::string(OSPROF_CLI_PATH) + " trace show " + id +
                       " --connection-string " + cs_ + " --dot --render-dot " + (dir_ / "graph").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("--render-dot needs Graphviz's dot program, which is not on PATH"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("digraph"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "graph.pdf"));

  // A dot that fails: its status is reported and nothing is printed as if it had worked.
  const fs::path bin = dir_ / "bin";
  fs::create_directories(bin);
  {
    std::ofstream fake(bin / "dot");
    fake << "#!/bin/sh\necho \"dot: cannot do that\" >&2\nexit 3\n";
  }
  fs::permissions(bin / "dot", fs::perms::owner_all);
  const fs::path tmp = dir_ / "tmp";
  fs::create_directories(tmp);
  r = run_command("TMPDIR=" + tmp.string() + " PATH=" + bin.string() + ":/usr/bin:/bin " + std::string(OSPROF_CLI_PATH) +
                  " trace show " + id + " --connection-string " + cs_ + " --dot --render-dot " + (dir_ / "graph").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("dot: cannot do that"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dot could not render '" + (dir_ / "graph.pdf").string() + "' (exit status 3)"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("digraph"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(tmp)) << "the temporary DOT file is removed";
}

TEST_F(Cli, LocalLibsIsAcceptedAndChangesNothing) {
  const std::string id = demo();
  const auto html = run("trace show " + id + " --connection-string " + cs_ + " --html");
  const auto local = run("trace show " + id + " --connection-string " + cs_ + " --html --local-libs");
  ASSERT_EQ(local.code, 0) << local.out;
  EXPECT_EQ(local.out, html.out);
}

// sqlite:///relative.db is relative to the working directory and sqlite:////absolute.db is
// absolute, as SQLAlchemy reads them.
TEST_F(Cli, SqlitePathsAreReadAsSqlalchemyReadsThem) {
  const std::string cli = OSPROF_CLI_PATH;
  const std::string in_dir = "cd " + dir_.string() + " && ";
  fs::create_directories(dir_ / "sub");
  auto r = run_command(in_dir + cli + " demo --connection-string sqlite:///relative.db");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "relative.db"));
  r = run_command(in_dir + cli + " demo --connection-string sqlite:///sub/nested.db");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "sub" / "nested.db"));
  // The same files from elsewhere, by absolute path (four slashes).
  for (const fs::path& file : {dir_ / "relative.db", dir_ / "sub" / "nested.db"}) {
    r = run_command("cd / && " + cli + " trace list --json --connection-string sqlite:///" + file.string());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("base_id"), std::string::npos) << r.out;
  }
  EXPECT_EQ(run_command("cd / && " + cli + " trace list --connection-string sqlite:///relative.db").code, 1)
      << "relative to the working directory, where there is none";
}

// Trace ids as oslo's is_uuid_like() takes them (Python's CLI: any of these is an id), read in
// the canonical form the backends store; and ids that are not uuids at all (Python stores any
// string given to profiler.init()), read as stored.
TEST_F(Cli, TraceIdsInPythonsSpellings) {
  const std::string id = demo();
  const auto canonical = run("trace show " + id + " --json --connection-string " + cs_);
  ASSERT_EQ(canonical.code, 0) << canonical.out;
  std::string upper = id, bare;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (char c : id) {
    if (c != '-') bare += c;
  }
  for (const std::string& spelling : {upper, bare, "{" + id + "}", "urn:uuid:" + id}) {
    const auto r = run("trace show '" + spelling + "' --json --connection-string " + cs_);
    EXPECT_EQ(r.code, 0) << spelling << "\n" << r.out;
    EXPECT_EQ(r.out, canonical.out) << spelling;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE data SET base_id = 'run-42' WHERE base_id = '" + id + "'").c_str(), nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto custom = run("trace show run-42 --tree --no-color --connection-string " + cs_);
  EXPECT_EQ(custom.code, 0) << custom.out;
  EXPECT_NE(custom.out.find("trace run-42"), std::string::npos) << custom.out;
  EXPECT_NE(custom.out.find("driver"), std::string::npos) << custom.out;
  EXPECT_NE(run("trace list --connection-string " + cs_).out.find("run-42"), std::string::npos);
}

// The JSON of a trace far larger than one piece of output (written as it is rendered) is the
// whole report, the same through a pipe and into --out, and ends with one newline.
TEST_F(Cli, LargeTraceJsonIsWrittenWhole) {
  std::string id;
  {
    osprof::emitter tracing{osprof::options{.connection_string = cs_, .service = "big", .strict = true}};
    osprof::init("K");
    id = osprof::get()->base_id().to_string();
    osprof::start("root");
    for (int i = 0; i < 2000; ++i) {
      osprof::start("point");
      osprof::stop();
    }
    osprof::stop();
    osprof::clean();
  }
  const std::string expected = osprof::render_json(osprof::read_report(cs_, id)) + "\n";
  ASSERT_GT(expected.size(), std::size_t{1} << 20);
  const auto piped = run_command(std::string(OSPROF_CLI_PATH) + " trace show " + id + " --json --connection-string " + cs_ +
                                 " | cat");
  EXPECT_EQ(piped.code, 0);
  EXPECT_TRUE(piped.out == expected) << piped.out.size() << " bytes, expected " << expected.size();
  const fs::path saved = dir_ / "big.json";
  ASSERT_EQ(run("trace show " + id + " --json --connection-string " + cs_ + " --out " + saved.string()).code, 0);
  std::ifstream in(saved, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(text == expected) << text.size() << " bytes, expected " << expected.size();
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
  r = run("trace show not-a-trace-or-file --connection-string sqlite:///" + (dir_ / "missing.db").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("'not-a-trace-or-file' is not a readable report file, and reading it as a trace id failed: "),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  const std::string demo_id = demo();
  r = run("trace show not-a-trace-or-file --connection-string " + cs_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("'not-a-trace-or-file' is neither a readable report file nor a trace id in " + cs_),
            std::string::npos) << r.out;
  r = run("trace show \"$(printf 'bad\\001id')\"");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("is neither a trace id nor a readable report file"), std::string::npos) << r.out;
  // Output that cannot be written (a full disk) is an error, not a report that passes for written.
  for (const std::string& command : {"trace list --connection-string " + cs_, "trace show " + demo_id + " --html --connection-string " + cs_,
                                     "trace show " + demo_id + " --json --connection-string " + cs_}) {
    r = run_command("{ " + std::string(OSPROF_CLI_PATH) + " " + command + " >/dev/full; }");
    EXPECT_EQ(r.code, 1) << command;
    EXPECT_NE(r.out.find("cannot write the standard output: No space left on device"), std::string::npos) << r.out;
  }
  // A directory, a FIFO nobody writes to, a device: refused at once, never read or waited on.
  r = run("trace show " + dir_.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("readable report file (a directory)"), std::string::npos) << r.out;
  const fs::path fifo = dir_ / "report.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  r = run("trace show " + fifo.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("readable report file (not a regular file)"), std::string::npos) << r.out;
  r = run("trace show /dev/zero");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("(not a regular file)"), std::string::npos) << r.out;
  // A report file over 256 MiB (sparse, so the test costs no disk) is refused by its size.
  const fs::path huge = dir_ / "huge.json";
  std::ofstream(huge).put('{');
  fs::resize_file(huge, (std::uintmax_t{256} << 20) + 1);
  r = run("trace show " + huge.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("268435457 bytes, more than the 256 MiB"), std::string::npos) << r.out;
  std::ofstream(dir_ / "junk.json") << "{\"hello\": 1}";
  r = run("trace show " + (dir_ / "junk.json").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("not an OSProfiler report"), std::string::npos) << r.out;
  EXPECT_EQ(run("--version").code, 0);
  EXPECT_NE(run("drivers").out.find("sqlite://"), std::string::npos);
}

// The drivers with large client libraries are modules, loaded when a connection string names
// them (tools/osprof/driver_modules.cpp); the rest of the command works without them.
std::vector<std::string> loadable_drivers() {
  std::vector<std::string> names;
  std::istringstream in(OSPROF_LOADABLE_DRIVERS);
  for (std::string name; in >> name;) names.push_back(name);
  return names;
}

TEST_F(Cli, DriverModulesAreListedAndLoadedWhenNamed) {
  const auto listed = run("drivers");
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find("sqlite://"), std::string::npos) << listed.out;
  for (const auto& d : loadable_drivers()) {
    EXPECT_NE(listed.out.find("\n" + d + "://"), std::string::npos) << d << "\n" << listed.out;
    // Named, its module is loaded and its factory runs: a bad option is the driver's own error.
    const auto r = run("trace list --connection-string '" + d + "://u:p@127.0.0.1:1/db?no_such_option=1'");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("no_such_option"), std::string::npos) << d << "\n" << r.out;
  }
  // An unknown scheme's error lists the modules' schemes too.
  const auto unknown = run("trace list --connection-string nosuch://h");
  EXPECT_EQ(unknown.code, 1);
  for (const auto& d : loadable_drivers()) EXPECT_NE(unknown.out.find(d), std::string::npos) << unknown.out;
}

TEST_F(Cli, AMissingDriverModuleIsAClearErrorAndTheRestWorks) {
  const std::string empty = "OSPROF_DRIVER_DIR=" + dir_.string() + " ";
  const std::string id = demo();
  // Without the modules, the linked drivers still work.
  const auto show = run_command(empty + OSPROF_CLI_PATH + " trace show " + id + " --connection-string " + cs_ + " --json");
  EXPECT_EQ(show.code, 0) << show.out;
  const auto listed = run_command(empty + OSPROF_CLI_PATH + " drivers");
  EXPECT_NE(listed.out.find("sqlite://"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.code, loadable_drivers().empty() ? 0 : 1) << listed.out;
  for (const auto& d : loadable_drivers()) {
    const std::string module = (dir_ / ("osprof-" + d + ".so")).string();
    EXPECT_NE(listed.out.find("cannot load " + module), std::string::npos) << listed.out;
    const auto r = run_command(empty + OSPROF_CLI_PATH + " trace list --connection-string '" + d +
                               "://u:hunter2@127.0.0.1:1/db'");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("cannot load " + module), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OSPROF_DRIVER_DIR"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
  }
  if (loadable_drivers().empty()) return;
  // Something else under a module's name: not a shared object, or one without osprof's entry points.
  const std::string d = loadable_drivers().front();
  const auto module = dir_ / ("osprof-" + d + ".so");
  const std::string list = empty + OSPROF_CLI_PATH + " trace list --connection-string '" + d + "://u:p@127.0.0.1:1/db'";
  { std::ofstream(module) << "not a shared object"; }
  auto r = run_command(list);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("cannot load " + module.string()), std::string::npos) << r.out;
  fs::copy_file("/lib/x86_64-linux-gnu/libz.so.1", module, fs::copy_options::overwrite_existing);
  r = run_command(list);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(module.string() + " is not an osprof driver module"), std::string::npos) << r.out;
}

TEST_F(Cli, ConnectionStringFromTheEnvironment) {
  const std::string id = demo();
  // OSPROFILER_CONNECTION_STRING (OSProfiler's variable) is honoured when no option is given.
  auto r = run_command("OSPROFILER_CONNECTION_STRING=" + cs_ + " " + OSPROF_CLI_PATH + " trace show " + id + " --tree");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("wsgi"), std::string::npos) << r.out;
  // OSPROF_CONNECTION_STRING comes first, the option before both.
  const std::string wrong = "sqlite:///" + (dir_ / "missing.db").string();
  r = run_command("OSPROF_CONNECTION_STRING=" + cs_ + " OSPROFILER_CONNECTION_STRING=" + wrong + " " +
                  OSPROF_CLI_PATH + " trace list");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
  r = run_command("OSPROF_CONNECTION_STRING=" + wrong + " OSPROFILER_CONNECTION_STRING=" + wrong + " " +
                  OSPROF_CLI_PATH + " trace list --connection-string " + cs_);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
  // An empty variable counts as unset; with neither, the default is ./osprof.db.
  r = run_command("cd " + dir_.string() + " && OSPROF_CONNECTION_STRING= OSPROFILER_CONNECTION_STRING= " +
                  OSPROF_CLI_PATH + " trace list");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("database file 'osprof.db' does not exist"), std::string::npos) << r.out;
}

// Whether `out` has a help line for `name` (an option, possibly after its short form, or a
// command) with a description on the same line: "  --timeout S    seconds to wait ...".
bool described(const std::string& out, const std::string& name) {
  const std::regex line("(^|\n) +(-[a-z],)?" + name + "( [^ \n]+)? {2,}[^ \n]");
  return std::regex_search(out, line);
}

struct command_help {
  std::string command;
  std::vector<std::string> entries;  // options and subcommands its help must describe
};

const command_help osprof_commands[] = {
    {"", {"--help", "--version", "trace", "demo", "drivers", "bench", "serve"}},
    {"trace", {"--help", "show", "list"}},
    {"trace show",
     {"--help", "--connection-string", "--json", "--tree", "--html", "--dot", "--chrome", "--out", "--color",
      "--no-color", "--timeout"}},
    {"trace list", {"--help", "--connection-string", "--error-trace", "--json", "--timeout"}},
    {"demo", {"--help", "--connection-string", "--project", "--service"}},
    {"drivers", {"--help"}},
    {"serve", {"--help", "--connection-string", "--listen", "--token", "--basic-auth", "--timeout", "--readers"}},
    {"bench",
     {"--help", "--connection-string", "--producers", "--duration", "--rate", "--queue-capacity", "--queue-max-bytes",
      "--batch-size", "--flush-interval", "--overflow", "--block-timeout", "--write-timeout", "--drain-timeout",
      "--json", "--sweep", "--svg"}},
};

TEST(CliHelp, EveryCommandDescribesEachOfItsOptionsAndExitsZero) {
  for (const auto& c : osprof_commands) {
    const std::string usage = "Usage: osprof" + (c.command.empty() ? "" : " " + c.command);
    for (const char* flag : {"--help", "-h"}) {
      const auto r = run(c.command + " " + flag);
      EXPECT_EQ(r.code, 0) << c.command << " " << flag << "\n" << r.out;
      EXPECT_NE(r.out.find(usage), std::string::npos) << c.command << " " << flag << "\n" << r.out;
      for (const auto& entry : c.entries) {
        EXPECT_TRUE(described(r.out, entry)) << c.command << " " << flag << ": no line for " << entry << "\n" << r.out;
      }
    }
  }
  // `osprof help COMMAND` is `osprof COMMAND --help`.
  const auto r = run("help trace show");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Usage: osprof trace show"), std::string::npos) << r.out;
  // Without a command: the help on stderr, and a usage error.
  EXPECT_EQ(run("").code, 2);
  EXPECT_NE(run("").out.find("Usage: osprof"), std::string::npos);
  EXPECT_EQ(run("--version").out.rfind("osprof ", 0), 0u);
}

TEST(CliHelp, UnknownOptionsExit2NamingTheOptionWithAHint) {
  for (const char* command : {"", "trace", "trace show 00000000-0000-0000-0000-000000000000", "trace list", "demo",
                              "drivers", "bench", "serve"}) {
    std::string path = command;
    path = path.substr(0, path.find(" 0"));
    const auto r = run(std::string(command) + " --bogus");
    EXPECT_EQ(r.code, 2) << command << "\n" << r.out;
    EXPECT_NE(r.out.find("unknown option '--bogus'"), std::string::npos) << command << "\n" << r.out;
    const std::string hint = "Run 'osprof" + (path.empty() ? "" : " " + path) + " --help'";
    EXPECT_NE(r.out.find(hint), std::string::npos) << command << "\n" << r.out;
  }
}

TEST(CliHelp, BadValuesAndMissingArgumentsExit2WithTheReason) {
  expect_usage_errors(OSPROF_CLI_PATH,
                      {
                          {"trace", "trace needs a command: show or list"},
                          {"trace frobnicate", "unknown command 'frobnicate'"},
                          {"frobnicate", "unknown command 'frobnicate'"},
                          {"trace show", "trace-id|report.json is required"},
                          {"trace show a b", "unexpected argument 'b'"},
                          {"trace show a --json --tree", "--json excludes --tree"},
                          {"trace show a --timeout 0", "--timeout: must be an integer from 1 to 86400, not '0'"},
                          {"trace list --timeout soon", "--timeout: must be an integer from 1 to 86400, not 'soon'"},
                          {"trace list --connection-string", "--connection-string"},
                          {"trace list extra", "trace list takes no positional arguments"},
                          {"drivers extra", "drivers takes no positional arguments"},
                          {"demo --project", "--project"},
                          {"serve --listen nowhere", "--listen 'nowhere': expected HOST:PORT"},
                          {"serve --readers 0", "--readers: must be an integer from 1 to 64, not '0'"},
                      },
                      "--help' for its options");
}

TEST_F(Cli, AnOptionGivenTwiceTakesTheLastValue) {
  const std::string id = demo();
  const auto r = run("trace list --connection-string nosuch:// --connection-string " + cs_);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
}

#ifdef OSPROF_DEMO_SERVICE_PATH

result service(const std::string& args) { return run_command(std::string(OSPROF_DEMO_SERVICE_PATH) + " " + args); }

TEST(DemoServiceCli, HelpDescribesEveryOptionAndExitsZero) {
  for (const char* flag : {"--help", "-h"}) {
    const auto r = service(flag);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("Usage: osprof-demo-service"), std::string::npos) << r.out;
    for (const char* option : {"--help", "--listen", "--connection-string", "--hmac-keys", "--project", "--service",
                               "--downstream", "--threads", "--call"}) {
      EXPECT_TRUE(described(r.out, option)) << "no line for " << option << "\n" << r.out;
    }
    EXPECT_NE(r.out.find("GET /fail"), std::string::npos) << r.out;
  }
}

TEST(DemoServiceCli, UsageErrorsExit2NamingTheOption) {
  expect_usage_errors(OSPROF_DEMO_SERVICE_PATH,
                      {
                          {"--bogus", "--bogus"},
                          {"extra", "extra"},
                          {"--threads 0", "--threads"},
                          {"--threads 257", "--threads"},
                          {"--listen nonsense", "--listen"},
                          {"--listen 127.0.0.1:99999", "--listen"},
                          {"--hmac-keys ,", "--hmac-keys: needs at least one key"},
                          {"--downstream ftp://example.org/", "--downstream"},
                          {"--call", "--call"},
                      },
                      "osprof-demo-service --help");
}

TEST(DemoServiceCli, AFailedCallExits1) {
  const auto r = service("--call http://127.0.0.1:1/ --connection-string null://");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("call failed"), std::string::npos) << r.out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// osprof-demo-service running in the background on a free port; stopped with SIGTERM (it
// flushes its traces, prints its stats line, and exits).
class background_service {
 public:
  // `environment`: VAR=value words put before the command.
  background_service(const fs::path& dir, const std::string& args, const std::string& environment = "")
      : log_(dir / "service.log") {
    const fs::path pid_file = dir / "service.pid";
    const auto started = run_command(environment + " " + OSPROF_DEMO_SERVICE_PATH + " --listen 127.0.0.1:0 " + args +
                                     " >" + log_.string() + " 2>&1 </dev/null & echo $! >" + pid_file.string());
    EXPECT_EQ(started.code, 0) << started.out;
    pid_ = std::stoi(read_text(pid_file));
    const std::string listening = "listening on http://127.0.0.1:";
    wait_for(listening);
    const std::string text = read_text(log_);
    const auto at = text.find(listening);
    if (at != std::string::npos) port_ = std::stoi(text.substr(at + listening.size()));
  }
  ~background_service() {
    if (pid_ > 0) kill(pid_, SIGKILL);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string log() const { return read_text(log_); }
  // SIGTERM, then the log once the service printed its stats.
  std::string stop() {
    kill(pid_, SIGTERM);
    wait_for("events written");
    pid_ = 0;
    return log();
  }

 private:
  void wait_for(const std::string& text) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (read_text(log_).find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  fs::path log_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// The trace id that `--call` printed.
std::string called_trace(const result& call) {
  const auto at = call.out.find("Trace ID: ");
  return at == std::string::npos ? std::string() : call.out.substr(at + 10, 36);
}

// A service started with --listen/--connection-string/--project/--service/--hmac-keys, called
// with --call signed with one of its keys: both sides' points land in the one trace, under the
// names the options gave.
TEST_F(Cli, DemoServiceServesAndCallsAsItsOptionsSay) {
  background_service backend(dir_, "--connection-string " + cs_ + " --project cli-test --service backend --threads 1 "
                                   "--hmac-keys K1,K2");
  ASSERT_NE(backend.port(), 0) << "the service did not start\n" << backend.log();
  const auto call = service("--call " + backend.url() + " --connection-string " + cs_ +
                            " --project cli-test --service client --hmac-keys K2");
  const std::string log = backend.stop();
  ASSERT_EQ(call.code, 0) << call.out;
  EXPECT_NE(call.out.find("HTTP 200"), std::string::npos) << call.out;
  const std::string id = called_trace(call);
  ASSERT_EQ(id.size(), 36u) << call.out;
  EXPECT_NE(log.find("GET / -> 200 trace " + id), std::string::npos) << log;
  ASSERT_NE(log.find("events written"), std::string::npos) << log;
  const auto tree = run("trace show " + id + " --connection-string " + cs_ + " --tree --no-color");
  EXPECT_EQ(tree.code, 0) << tree.out;
  for (const char* point : {"client  client (cli-test)", "wsgi  backend (cli-test)", "db  backend (cli-test)"}) {
    EXPECT_NE(tree.out.find(point), std::string::npos) << point << "\n" << tree.out;
  }
}

// Without --hmac-keys the service ignores trace headers, even signed with OSProfiler's default
// key (which is what --call signs with by default): the caller's trace has only its own points.
TEST_F(Cli, DemoServiceWithoutKeysIgnoresTraceHeaders) {
  background_service backend(dir_, "--connection-string " + cs_ + " --service backend --threads 1");
  ASSERT_NE(backend.port(), 0) << "the service did not start\n" << backend.log();
  const auto call = service("--call " + backend.url() + " --connection-string " + cs_ + " --service client");
  const std::string log = backend.stop();
  ASSERT_EQ(call.code, 0) << call.out;
  EXPECT_NE(call.out.find("HTTP 200"), std::string::npos) << call.out;
  const std::string id = called_trace(call);
  ASSERT_EQ(id.size(), 36u) << call.out;
  EXPECT_NE(log.find("GET / -> 200\n"), std::string::npos) << "served untraced\n" << log;
  EXPECT_NE(log.find("0 events written, 0 dropped, 0 rejected trace headers"), std::string::npos) << log;
  EXPECT_EQ(log.find("SECRET_KEY"), std::string::npos) << "nothing trusted, nothing to warn about\n" << log;
  const auto tree = run("trace show " + id + " --connection-string " + cs_ + " --tree --no-color");
  EXPECT_EQ(tree.code, 0) << tree.out;
  EXPECT_NE(tree.out.find("client  client"), std::string::npos) << tree.out;
  EXPECT_EQ(tree.out.find("backend"), std::string::npos) << tree.out;

  // OSPROF_TRACE_INCOMING=true is the operator's switch; with the default key it warns at start.
  background_service enabled(dir_, "--connection-string " + cs_ + " --service enabled --threads 1",
                             "OSPROF_TRACE_INCOMING=true OSPROF_HMAC_KEYS=");
  ASSERT_NE(enabled.port(), 0) << "the service did not start\n" << enabled.log();
  EXPECT_NE(enabled.log().find("well-known default key SECRET_KEY"), std::string::npos) << enabled.log();
  const auto traced = service("--call " + enabled.url() + " --connection-string " + cs_ + " --service client");
  const std::string enabled_log = enabled.stop();
  ASSERT_EQ(traced.code, 0) << traced.out;
  EXPECT_NE(enabled_log.find("GET / -> 200 trace " + called_trace(traced)), std::string::npos) << enabled_log;
}

#endif  // OSPROF_DEMO_SERVICE_PATH

}  // namespace
