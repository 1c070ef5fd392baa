// The report against its references: Debian's python3-osprofiler builds the report (and the
// DOT graph) from the same stored events, and osprof's output must be byte-identical; a report
// Python printed must read back and print identically; the HTML page must work in a DOM
// (Debian's node-jsdom). Needs python3-osprofiler, python3-graphviz, nodejs and node-jsdom
// (tools/packages/test.txt).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

#include <osprof/report.hpp>
#include <osprof/uuid.hpp>
#include "report_test_util.hpp"
#include "reference_events.hpp"

namespace osprof::test {
namespace {

namespace fs = std::filesystem;
using namespace osprof::detail;

const fs::path source_dir = fs::path(OSPROF_TEST_SOURCE_DIR) / "tests" / "report";

fs::path temp_file(const std::string& name) {
  const fs::path dir = fs::path(OSPROF_TEST_BINARY_DIR) / "tests" / "report_interop";
  fs::create_directories(dir);
  return dir / (std::to_string(::getpid()) + "-" + name);
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Runs a command; returns its stdout, fails the test on a non-zero exit.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << out;
  return out;
}

std::string python_report(const std::string& format, const std::vector<std::string>& events) {
  std::string lines;
  for (const auto& e : events) lines += e + "\n";
  const fs::path path = temp_file(format + "-events.jsonl");
  write_file(path, lines);
  const std::string out = run("/usr/bin/python3 " + (source_dir / "python_report.py").string() + " " + format + " " +
                              path.string());
  fs::remove(path);
  return out;
}

// A trace that exercises the JSON writer and the tree rules, in chronological order with no
// two events at the same microsecond (Python processes events in storage order; osprof in
// time order, so the two agree on chronological storage). Point names have no '-' (Python
// would cut them there) and sibling starts may share a millisecond (chronological storage
// makes Python's stable millisecond sort agree with osprof's microsecond sort).
std::vector<std::string> rich_events() {
  const std::string odd =
      R"j({"text": "caf\u00e9 \u2603 \ud83d\ude00 \"q\" \\ / \n\t\u0001\u007f", "floats": [0.1, 1e-05, 0.0001, 1e16, 1e15, 2.5, -0.0, 1E2, 123456789.125],)j"
      R"j( "ints": [0, -7, 9223372036854775807, 18446744073709551615], "empty": {}, "none": [], "null": null, "flags": [true, false],)j"
      R"j( "dup": 1, "nested": {"a": [{"b": []}, [[]]]}, "dup": 2, "host": "vm"})j";
  return {
      event("wsgi-start", "w1", base_id, t0, R"j({"request": {"path": "/v2.1/servers/0123456789abcdef0123456789", "query": "a=1", "method": "POST", "scheme": "http"}, "host": "vm"})j"),
      event("rpc-start", "r1", "w1", t0 + 120, R"j({"function": {"name": "nova.conductor.api.ComputeTaskAPI.build_instances", "args": "(1,)", "kwargs": "{}"}, "host": "vm"})j"),
      event("db-start", "d1", "r1", t0 + 130, R"j({"db": {"statement": "SELECT 1", "params": {}}, "host": "cn1"})j", "conductor", "nova"),
      event("db-stop", "d1", "r1", t0 + 900, R"j({"db": {"result": "[(1,)]"}, "host": "cn1"})j", "conductor", "nova"),
      event("odd-start", "o1", "r1", t0 + 905, odd),
      event("rpc-stop", "r1", "w1", t0 + 2100),
      event("driver-start", "v1", "w1", t0 + 2101, R"j({"function": {"name": "nova.virt.libvirt.driver.LibvirtDriver.spawn", "args": "()", "kwargs": "{}"}, "host": "cn1"})j", "compute", "nova"),
      event("lonely-stop", "s1", "w1", t0 + 2150, R"j({"etype": "KeyError", "message": "'x'", "host": "cn1"})j", "compute", "nova"),
      event("driver-stop", "v1", "w1", t0 + 3400, R"j({"etype": "nova.exception.BuildAbortException", "message": "build aborted: \u00fcnicode", "host": "cn1"})j", "compute", "nova"),
      event("wsgi-stop", "w1", base_id, t0 + 5001),
      event("periodic-start", "p1", "elsewhere", t0 + 5002, R"j({"host": "sched"})j", "scheduler", ""),
      event("periodic-stop", "p1", "elsewhere", t0 + 7999, R"j({"host": "sched"})j", "scheduler", ""),
  };
}

TEST(PythonOsprofiler, ReferenceJsonIsByteIdentical) {
  const auto events = reference_events_chronological();
  EXPECT_EQ(render_json(build_report(reference_base_id, events)), python_report("json", events));
}

TEST(PythonOsprofiler, RichTraceJsonIsByteIdentical) {
  const auto events = rich_events();
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty()) << r.problems.front();
  const std::string ours = render_json(r);
  const std::string theirs = python_report("json", events);
  EXPECT_EQ(ours, theirs);
  if (ours != theirs) {  // point at the first difference
    std::size_t i = 0;
    while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
    ADD_FAILURE() << "first difference at byte " << i << "\nosprof: " << ours.substr(i > 80 ? i - 80 : 0, 200)
                  << "\npython: " << theirs.substr(i > 80 ? i - 80 : 0, 200);
  }
}

TEST(PythonOsprofiler, DotIsByteIdentical) {
  const auto reference = reference_events_chronological();
  EXPECT_EQ(render_dot(build_report(reference_base_id, reference)), python_report("dot", reference));
  const auto rich = rich_events();
  EXPECT_EQ(render_dot(build_report(base_id, rich)), python_report("dot", rich));
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The PDF's creation time is the one thing two renderings of one graph differ in.
std::string without_creation_date(std::string pdf) {
  const auto at = pdf.find("/CreationDate (");
  if (at != std::string::npos) pdf.erase(at, pdf.find(')', at) + 1 - at);
  return pdf;
}

// `--render-dot FILE` as Python's CLI does it: FILE.pdf, rendered by Graphviz from the same
// graph, and no FILE left behind (Python's graphviz writes the DOT text there and deletes it).
TEST(PythonOsprofiler, RenderDotMakesThePdfPythonMakes) {
  const auto events = rich_events();
  const fs::path saved = temp_file("render-report.json");
  write_file(saved, render_json(build_report(base_id, events)));
  const fs::path python_pdf = temp_file("python"), osprof_pdf = temp_file("osprof");
  std::string lines;
  for (const auto& e : events) lines += e + "\n";
  const fs::path events_file = temp_file("pdf-events.jsonl");
  write_file(events_file, lines);
  run("/usr/bin/python3 " + (source_dir / "python_report.py").string() + " pdf " + events_file.string() + " " +
      python_pdf.string());
  const std::string printed = run(std::string(OSPROF_CLI_PATH) + " trace show " + saved.string() + " --dot --render-dot " +
                                  osprof_pdf.string());
  EXPECT_EQ(printed, python_report("dot", events));
  for (const fs::path& p : {python_pdf, osprof_pdf}) EXPECT_FALSE(fs::exists(p)) << p;
  const std::string theirs = read_all(python_pdf.string() + ".pdf"), ours = read_all(osprof_pdf.string() + ".pdf");
  ASSERT_TRUE(theirs.starts_with("%PDF-")) << theirs.substr(0, 40);
  ASSERT_TRUE(ours.starts_with("%PDF-")) << ours.substr(0, 40);
  EXPECT_EQ(without_creation_date(ours), without_creation_date(theirs));
  for (const fs::path& p : {saved, events_file}) fs::remove(p);
  fs::remove(python_pdf.string() + ".pdf");
  fs::remove(osprof_pdf.string() + ".pdf");
}

// What `osprofiler trace show` takes for a trace id (oslo's uuidutils.is_uuid_like) is what
// osprof's uuid::parse_like() takes, over generated spellings and mangled ones.
TEST(PythonOsprofiler, UuidLikeIdsAreTheOnesOsloAccepts) {
  std::mt19937 rng(20261206);
  const auto below = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  const std::string pieces[] = {"-", "{", "}", "urn:", "uuid:", " ", "_", "0x", "g", "A", "\t", "urn:uuid:"};
  std::vector<std::string> cases;
  for (int i = 0; i < 3000; ++i) {
    std::string s = osprof::uuid::random().to_string();
    if (below(2) == 0) s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
    for (unsigned edits = below(4); edits > 0; --edits) {
      const std::size_t at = below(static_cast<unsigned>(s.size() + 1));
      switch (below(5)) {
        case 0: s.insert(at, pieces[below(std::size(pieces))]); break;
        case 1: if (at < s.size()) s.erase(at, 1); break;
        case 2: if (at < s.size()) s[at] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[at]))); break;
        case 3: s = "{" + s + "}"; break;
        default: s = (below(2) == 0 ? "urn:uuid:" : "uuid:") + s; break;
      }
    }
    cases.push_back(s);
  }
  std::string lines;
  for (const auto& c : cases) lines += c + "\n";
  const fs::path input = temp_file("uuid-like.txt");
  write_file(input, lines);
  const std::string verdicts =
      run("/usr/bin/python3 -c 'import sys\nfrom oslo_utils import uuidutils\n"
          "for line in open(sys.argv[1], encoding=\"utf-8\"):\n    print(int(uuidutils.is_uuid_like(line[:-1])))' " +
          input.string());
  fs::remove(input);
  ASSERT_EQ(verdicts.size(), 2 * cases.size());
  int accepted = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const bool python = verdicts[2 * i] == '1';
    accepted += python;
    EXPECT_EQ(osprof::uuid::parse_like(cases[i]).has_value(), python) << "'" << cases[i] << "'";
  }
  EXPECT_GT(accepted, 300) << "the cases must exercise both verdicts";
  EXPECT_LT(accepted, 2700) << "the cases must exercise both verdicts";
}

TEST(PythonOsprofiler, RedisOrderReportIsTheOneOfSection43) {
  // Python on the events as Redis returns them: ctx listed before driver, stats in storage
  // order, offsets as printed in osprofiler.md §4.3.
  const std::string json = python_report("json", reference_events_redis_order());
  const report r = parse_report_json(json);
  ASSERT_EQ(r.children.size(), 1u);
  const auto& kids = r.children[0].children;
  ASSERT_EQ(kids.size(), 3u);
  EXPECT_EQ(kids[0].name, "rpc");
  EXPECT_EQ(kids[1].name, "ctx");
  EXPECT_EQ(kids[2].name, "driver");
  std::vector<std::string> stats;
  for (const auto& s : r.stats) stats.push_back(s.name);
  EXPECT_EQ(stats, (std::vector<std::string>{"wsgi", "ctx", "driver", "rpc", "db"}));
  EXPECT_NE(json.find("\"info\": {\n    \"name\": \"total\",\n    \"started\": 0,\n    \"finished\": 1,\n"
                      "    \"last_trace_started\": 1\n  }"),
            std::string::npos);
  // A report Python printed reads back and prints byte for byte.
  EXPECT_EQ(render_json(r), json);
  // And osprof's own report of the same events differs only by the two documented fixes'
  // ordering (driver before ctx) and the processing order of keys: same tree otherwise.
  const report ours = build_report(reference_base_id, reference_events_redis_order());
  EXPECT_EQ(ours.children[0].children[1].name, "driver");
  EXPECT_EQ(ours.children[0].children[2].name, "ctx");
}

TEST(PythonOsprofiler, RichPythonReportRoundTrips) {
  auto events = rich_events();
  std::reverse(events.begin(), events.end());  // newest first, as Redis returns them
  const std::string json = python_report("json", events);
  EXPECT_EQ(render_json(parse_report_json(json)), json);
}

TEST(PythonOsprofiler, ValuesBeyondJsonAreReadAsPythonReadsThem) {
  // Python's json module writes NaN, Infinity and integers of any size, and reads 1e400 as
  // Infinity: such an event is a point like any other, and prints as Python prints it.
  const std::vector<std::string> events = {
      event("wsgi-start", "w", base_id, t0,
            R"({"host": "vm", "ratio": NaN, "limit": Infinity, "floor": -Infinity, "huge": 1e400,)"
            R"( "ids": [18446744073709551616, -9223372036854775809, 340282366920938463463374607431768211456],)"
            R"( "text": "NaN 1e400 99999999999999999999", "ok": 18446744073709551615})"),
      event("wsgi-stop", "w", base_id, t0 + 2000, R"({"host": "vm", "nested": {"v": [NaN]}})"),
  };
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty()) << r.problems.front();
  ASSERT_EQ(r.children.size(), 1u);
  const std::string ours = render_json(r);
  EXPECT_EQ(ours, python_report("json", events));
  EXPECT_NE(ours.find("340282366920938463463374607431768211456"), std::string::npos);
  EXPECT_NE(ours.find("\"huge\": Infinity"), std::string::npos) << ours;
  EXPECT_NE(ours.find("\"text\": \"NaN 1e400 99999999999999999999\""), std::string::npos) << ours;
  // Python's own report of such a trace reads back and prints byte for byte.
  EXPECT_EQ(render_json(parse_report_json(ours)), ours);
}

TEST(HtmlPage, WorksInADom) {
  const auto events = rich_events();
  const report r = build_report(base_id, events);
  const fs::path page = temp_file("report.html");
  const fs::path want = temp_file("expect.json");
  write_file(page, render_html(r));
  // wsgi's children in start order: rpc, driver, lonely (stop only); driver failed.
  write_file(want, std::string(R"j({"base_id": ")j") + base_id + R"j(", "points": 7, "roots": ["wsgi", "periodic"],)j"
                   R"j( "first_root_children": ["rpc", "driver", "lonely"], "error_child_index": 1, "error_child_name": "driver",)j"
                   R"j( "error_child_payloads": 2, "details_contains": ["nova.exception.BuildAbortException", "LibvirtDriver.spawn",)j"
                   R"j( "build aborted: \u00fcnicode", "compute", "cn1", "v1"],)j"
                   R"j( "filter": "conductor", "filtered": ["wsgi", "rpc", "db"]})j");
  const std::string out = run("NODE_PATH=/usr/share/nodejs node " + (source_dir / "html_check.js").string() + " " +
                              page.string() + " " + want.string() + " 2>&1");
  EXPECT_NE(out.find("html ok"), std::string::npos) << out;
  fs::remove(page);
  fs::remove(want);
}

}  // namespace
}  // namespace osprof::test
