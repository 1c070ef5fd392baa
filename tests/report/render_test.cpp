// The report's readers and renderers: the JSON round trip (osprof's and Python-shaped reports),
// the text tree, DOT, the self-contained HTML page and the Chrome/Perfetto trace.
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <osprof/error.hpp>

#include <osprof/report.hpp>
#include "report/report_internal.hpp"
#include "report_test_util.hpp"
#include "reference_events.hpp"

namespace osprof::test {
namespace {

using namespace osprof::detail;

report reference() { return build_report(reference_base_id, reference_events_redis_order()); }

// A trace with several services, hosts, a failure with a multi-line message, start-only and
// stop-only points and text that must be escaped in every output format.
std::vector<std::string> mixed_events() {
  return {
      event("wsgi-start", "w", base_id, t0,
            R"({"request": {"path": "/v2/\"quoted\"/\\back\\slash/and/a/very/long/path/indeed", "query": "", "method": "PUT", "scheme": "http"}, "host": "vm"})"),
      event("rpc-start", "c", "w", t0 + 250, R"j({"function": {"name": "nova.compute.manager.ComputeManager.build", "args": "()", "kwargs": "{}"}, "host": "cn1"})j",
            "compute", "nova"),
      event("rpc-stop", "c", "w", t0 + 1250, R"({"etype": "nova.exception.BuildFailed", "message": "line one\nline two \u001b[2J", "host": "cn1"})",
            "compute", "nova"),
      event("<script>alert(1)</script>-start", "s", "w", t0 + 1500,
            R"({"note": "</script><script>alert(2)</script><!-- x -->", "host": "vm"})", "api", "demo"),
      event("open-start", "o", "w", t0 + 1700),
      event("late-stop", "l", "w", t0 + 1800),
      event("wsgi-stop", "w", base_id, t0 + 2000),
      event("other-start", "x", base_id, t0 + 2100, R"({"host": "db1"})", "scheduler", ""),
      event("other-stop", "x", base_id, t0 + 2200, R"({"host": "db1"})", "scheduler", ""),
  };
}

TEST(JsonRoundTrip, ReferenceReportIsByteIdenticalAndKeepsMicroseconds) {
  const report r = reference();
  const std::string json = render_json(r);
  const report back = parse_report_json(json);
  EXPECT_EQ(render_json(back), json);
  EXPECT_EQ(render_json(back, 0), render_json(r, 0));
  EXPECT_EQ(back.base_id, reference_base_id);
  EXPECT_EQ(back.event_count, 10u);
  EXPECT_EQ(back.started_us, r.started_us);
  EXPECT_EQ(back.finished_us, r.finished_us);
  EXPECT_EQ(back.last_trace_started_us, r.last_trace_started_us);
  const report_node* db = find_node(back.children, db_id);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->started_us, find_node(r.children, db_id)->started_us);
  EXPECT_EQ(db->finished_us, find_node(r.children, db_id)->finished_us);
  EXPECT_EQ(find_node(back.children, driver_id)->exception, "RuntimeError");
  // The text tree of the read report equals the one of the built report.
  EXPECT_EQ(render_tree(back), render_tree(r));
}

TEST(JsonRoundTrip, MixedReport) {
  const report r = build_report(base_id, mixed_events());
  ASSERT_TRUE(r.problems.empty()) << r.problems.front();
  const std::string json = render_json(r);
  const report back = parse_report_json(json);
  EXPECT_EQ(render_json(back), json);
  EXPECT_EQ(render_dot(back), render_dot(r));
  EXPECT_EQ(render_chrome(back), render_chrome(r));
}

TEST(JsonRoundTrip, EmptyReport) {
  const std::string json = render_json(build_report(base_id, {}));
  const report back = parse_report_json(json);
  EXPECT_TRUE(back.children.empty());
  EXPECT_EQ(render_json(back), json);
}

// A report as Python prints it for Redis (stop payload before start payload, stats in storage
// order, ctx before driver at equal milliseconds).
// With `relative_to_wsgi`, the offsets are §4.3's (relative to wsgi-start, which this excerpt
// does not contain); otherwise they are relative to driver-start, the earliest event here.
std::string python_shaped_report(bool relative_to_wsgi) {
  const int ms = relative_to_wsgi ? 1 : 0;
  const auto ev = reference_events_chronological();
  auto indent_payload = [](const std::string& e) {
    // Re-indent a one-line stored event (objects of strings) as json.dumps(indent=2) does at
    // the depth of a node's info value.
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(e);
    std::string out;
    std::function<void(simdjson::dom::element, int)> write = [&](simdjson::dom::element v, int level) {
      if (!v.is_object()) {
        out += "\"" + std::string(std::string_view(v)) + "\"";
        return;
      }
      out += "{";
      bool first = true;
      for (auto f : simdjson::dom::object(v)) {
        out += first ? "\n" : ",\n";
        first = false;
        out += std::string(2 * (level + 1), ' ') + "\"" + std::string(f.key) + "\": ";
        write(f.value, level + 1);
      }
      out += "\n" + std::string(2 * level, ' ') + "}";
    };
    write(doc, 4);
    return out;
  };
  auto node = [&](const std::string& name, const std::string& id, const std::string& parent, const std::string& stop,
                  const std::string& start, int s, int f, const std::string& exc) {
    return "    {\n      \"info\": {\n        \"name\": \"" + name +
           "\",\n        \"project\": \"demo\",\n        \"service\": \"api\",\n        \"host\": \"vm\",\n"
           "        \"meta.raw_payload." + name + "-stop\": " + indent_payload(stop) + ",\n        \"finished\": " +
           std::to_string(f) + ",\n        \"exception\": \"" + exc + "\",\n        \"meta.raw_payload." + name +
           "-start\": " + indent_payload(start) + ",\n        \"started\": " + std::to_string(s) +
           "\n      },\n      \"trace_id\": \"" + id + "\",\n      \"parent_id\": \"" + parent +
           "\",\n      \"children\": []\n    }";
  };
  return "{\n  \"info\": {\n    \"name\": \"total\",\n    \"started\": 0,\n    \"finished\": " +
         std::to_string(ms) + ",\n    \"last_trace_started\": " + std::to_string(ms) + "\n  },\n  \"children\": [\n" +
         node("ctx", ctx_id, wsgi_id, ev[8], ev[7], ms, ms, "ValueError") + ",\n" +
         node("driver", driver_id, wsgi_id, ev[6], ev[5], ms, ms, "RuntimeError") +
         "\n  ],\n  \"stats\": {\n    \"ctx\": {\n      \"count\": 1,\n      \"duration\": 0\n    },\n"
         "    \"driver\": {\n      \"count\": 1,\n      \"duration\": 0\n    }\n  }\n}";
}

TEST(JsonRoundTrip, PythonShapedReportKeepsItsOrderAndBytes) {
  const std::string json = python_shaped_report(false);
  const report back = parse_report_json(json);
  ASSERT_EQ(back.children.size(), 2u);
  EXPECT_EQ(back.children[0].name, "ctx");  // file order kept
  EXPECT_EQ(back.children[0].raw_payloads.at(0).first, "ctx-stop");
  EXPECT_EQ(back.stats.at(0).name, "ctx");  // file order kept
  EXPECT_EQ(back.base_id, reference_base_id);
  // The timestamps agree with the milliseconds: microsecond times are used.
  EXPECT_EQ(back.started_us, *parse_timestamp("2026-11-25T15:26:21.361939"));
  EXPECT_EQ(back.children[0].started_us, *parse_timestamp("2026-11-25T15:26:21.362160"));
  EXPECT_EQ(back.children[0].finished_us, *parse_timestamp("2026-11-25T15:26:21.362290"));
  EXPECT_EQ(back.last_trace_started_us, *parse_timestamp("2026-11-25T15:26:21.362160"));
  EXPECT_EQ(render_json(back), json);
}

TEST(JsonRoundTrip, InconsistentTimesFallBackToTheFilesMilliseconds) {
  // The offsets are relative to an event that is not in the file: the timestamps cannot
  // reproduce them, so the file's milliseconds are kept as they are (origin 0).
  const std::string json = python_shaped_report(true);
  const report back = parse_report_json(json);
  EXPECT_EQ(back.started_us, 0);
  EXPECT_EQ(back.finished_us, 1000);
  EXPECT_EQ(back.children[0].started_us, 1000);
  EXPECT_EQ(back.children[0].finished_us, 1000);
  EXPECT_EQ(render_json(back), json);
  EXPECT_NE(render_tree(back).find("ctx  api (demo)  0.000 ms  +1.00 ms"), std::string::npos) << render_tree(back);
}

TEST(ParseReportJson, RejectsWhatIsNotAReport) {
  auto expect_error = [](const std::string& text, const std::string& part) {
    try {
      (void)parse_report_json(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const osprof::error& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.starts_with("not an OSProfiler report: ")) << what;
      EXPECT_NE(what.find(part), std::string::npos) << what;
    }
  };
  expect_error("", "not valid JSON");
  expect_error("{\"info\": ", "not valid JSON");
  expect_error("[1, 2]", "top level is not a JSON object");
  expect_error("{\"name\": \"x-start\", \"trace_id\": \"t\"}", "no \"info\" object");
  expect_error("{\"info\": {\"name\": \"wsgi\"}, \"children\": []}", "\"name\" is not \"total\"");
  expect_error("{\"info\": {\"name\": \"total\"}}", "no \"children\" array");
  expect_error("{\"info\": {\"name\": \"total\"}, \"children\": [1]}", "children[0]: a point is not a JSON object");
  expect_error("{\"info\": {\"name\": \"total\"}, \"children\": [{\"info\": {\"name\": \"a\", \"project\": \"p\", "
               "\"service\": \"s\", \"host\": \"h\", \"started\": 0, \"finished\": 0}, \"parent_id\": \"b\", \"children\": []}]}",
               "children[0]: missing \"trace_id\"");
  expect_error("{\"info\": {\"name\": \"total\"}, \"children\": [{\"info\": {\"name\": \"a\", \"project\": \"p\", "
               "\"service\": \"s\", \"host\": \"h\", \"started\": \"0\", \"finished\": 0}, \"trace_id\": \"t\", "
               "\"parent_id\": \"b\", \"children\": []}]}",
               "children[0].info: \"started\" is not an integer");
  expect_error("{\"info\": {\"name\": \"total\"}, \"children\": [], \"stats\": []}", "stats: not an object");
}

TEST(RenderTree, ReferenceTrace) {
  const std::string tree = render_tree(reference());
  EXPECT_EQ(tree,
            "trace aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee  total 1.47 ms  5 points  2 failed\n"
            "wsgi  api (demo)  1.47 ms  +0.000 ms\n"
            "├─ rpc  api (demo)  0.205 ms  +0.638 ms\n"
            "│  └─ db  api (demo)  0.077 ms  +0.711 ms\n"
            "├─ driver  api (demo)  0.115 ms  +1.04 ms  ERROR RuntimeError: boom: cannot spawn vm1\n"
            "└─ ctx  api (demo)  0.130 ms  +1.26 ms  ERROR ValueError: bad value\n");
  EXPECT_EQ(tree.find('\x1b'), std::string::npos);
}

TEST(RenderTree, ColorMarksErrorsRed) {
  const std::string tree = render_tree(reference(), true);
  EXPECT_NE(tree.find("\x1b[31mERROR RuntimeError: boom: cannot spawn vm1\x1b[0m"), std::string::npos) << tree;
  EXPECT_NE(tree.find("\x1b[1m\x1b[31mdriver\x1b[0m"), std::string::npos) << tree;
  EXPECT_NE(tree.find("\x1b[1mrpc\x1b[0m"), std::string::npos) << tree;
}

TEST(RenderTree, EscapesControlCharactersAndShowsProblems) {
  auto events = mixed_events();
  events.push_back("not json");
  const std::string tree = render_tree(build_report(base_id, events));
  EXPECT_EQ(tree.find('\x1b'), std::string::npos);
  EXPECT_NE(tree.find("ERROR nova.exception.BuildFailed: line one\\nline two \\x1b[2J"), std::string::npos) << tree;
  EXPECT_NE(tree.find("rpc  compute (nova)  1.00 ms  +0.250 ms"), std::string::npos) << tree;
  EXPECT_NE(tree.find("other  scheduler  0.100 ms"), std::string::npos) << tree;  // no project
  EXPECT_NE(tree.find("1 event skipped or repaired"), std::string::npos) << tree;
  EXPECT_EQ(count_substr(tree, "\n"), 1u + 6u);
}

TEST(RenderTree, EmptyAndDeep) {
  EXPECT_EQ(render_tree(build_report(base_id, {})),
            std::string("trace ") + base_id + "  total 0.000 ms  0 points\n(no trace points)\n");
  // A chain deeper than the indentation limit: lines stop growing, the depth is printed.
  std::vector<std::string> events;
  for (int i = 0; i < 120; ++i) {  // deeper than the indentation, within the report's depth limit
    events.push_back(event("n-start", "p" + std::to_string(i), i ? "p" + std::to_string(i - 1) : base_id, t0 + i));
  }
  const std::string tree = render_tree(build_report(base_id, events));
  EXPECT_NE(tree.find("[depth 119] n  api (demo)"), std::string::npos);
  std::size_t longest = 0;
  for (std::size_t pos = 0, next; pos < tree.size(); pos = next + 1) {
    next = tree.find('\n', pos);
    longest = std::max(longest, next - pos);
  }
  EXPECT_LT(longest, 250u);
}

TEST(RenderDot, ReferenceTraceAsOsprofilerDot) {
  // §4.4's graph, with driver before ctx (start-time order).
  EXPECT_EQ(render_dot(reference()),
            "digraph {\n"
            "\t0 [label=\"total - 1 ms\"]\n"
            "\t1 [label=\"api:wsgi - 1 ms\\nPOST /v2.1/servers..\"]\n"
            "\t2 [label=\"api:rpc - 0 ms\\nrpc_call\"]\n"
            "\t3 [label=\"api:db - 0 ms\"]\n"
            "\t2 -> 3\n"
            "\t1 -> 2\n"
            "\t4 [label=\"api:driver - 0 ms\\nspawn\"]\n"
            "\t1 -> 4\n"
            "\t5 [label=\"api:ctx - 0 ms\"]\n"
            "\t1 -> 5\n"
            "\t0 -> 1\n"
            "}\n");
}

TEST(RenderDot, EscapesLabels) {
  const std::string dot = render_dot(build_report(base_id, mixed_events()));
  // path[:30] of /v2/"quoted"/\back\slash/... with quotes and backslashes escaped.
  EXPECT_NE(dot.find("\t1 [label=\"api:wsgi - 2 ms\\nPUT /v2/\\\"quoted\\\"/\\\\back\\\\slash/and/a..\"]\n"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("[label=\"compute:rpc - 1 ms\\nbuild\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("[label=\"api:<script>alert(1)</script> - 0 ms\"]"), std::string::npos) << dot;
  // Every line is a node, an edge or the braces.
  EXPECT_EQ(count_substr(dot, " [label=\""), 1u + 6u);
  EXPECT_EQ(count_substr(dot, " -> "), 6u);
}

TEST(RenderHtml, SelfContainedAndSafe) {
  const report r = build_report(base_id, mixed_events());
  const std::string html = render_html(r);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  // Nothing is fetched: no URL, no external script, style sheet or image.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("//cdn"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  // The trace's "</script>" and "<!--" cannot end the data elements early: the only
  // "</script>" are the four script elements' own.
  EXPECT_EQ(count_substr(html, "</script>"), 4u);
  EXPECT_EQ(count_substr(html, "<script"), 4u);
  EXPECT_EQ(html.find("<!--"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script\\u003e\\u003cscript\\u003ealert(2)"), std::string::npos);
  // The embedded report is the report JSON (escaped) and parses back.
  const std::string open = "<script type=\"application/json\" id=\"osprof-report\">";
  const std::size_t from = html.find(open) + open.size();
  const std::string embedded = html.substr(from, html.find("</script>", from) - from);
  const report back = parse_report_json(embedded);
  EXPECT_EQ(render_json(back), render_json(r));
  // UI parts the page promises.
  for (const char* part : {"id=\"filter\"", "el(\"details\"", "id=\"details\"", "el(\"span\", \"bar\")", "JSON.stringify(info[k], null, 2)",
                           "meta.raw_payload.", "textContent", "osprof-timing", "osprof-problems"}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(html.find("innerHTML"), std::string::npos);  // trace text never becomes markup
}

TEST(RenderHtml, TimingMatchesThePointsInPreorder) {
  const std::string html = render_html(reference());
  EXPECT_NE(html.find(R"({"base_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","total_us":1469,"last_started_us":1258,"points":[[0,1469],[638,205],[711,77],[1037,115],[1258,130]]})"),
            std::string::npos);
  EXPECT_NE(html.find("<title>osprof trace aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</title>"), std::string::npos);
}

TEST(RenderChrome, ParsesAndPairsEveryPoint) {
  const report r = build_report(base_id, mixed_events());
  const std::string trace = render_chrome(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(trace).get(doc), simdjson::SUCCESS) << trace;
  simdjson::dom::array events;
  ASSERT_EQ(doc["traceEvents"].get_array().get(events), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["displayTimeUnit"]), "ms");
  EXPECT_EQ(std::string_view(doc["otherData"]["base_id"]), base_id);

  std::map<std::string, std::int64_t> begins, ends;
  std::map<std::int64_t, std::string> process_names;
  std::map<std::string, std::int64_t> pid_of_point;
  for (simdjson::dom::element e : events) {
    const std::string_view ph = e["ph"];
    if (ph == "M") {
      if (std::string_view(e["name"]) == "process_name") {
        process_names[int64_t(e["pid"])] = std::string(std::string_view(e["args"]["name"]));
      }
      continue;
    }
    ASSERT_TRUE(ph == "b" || ph == "e") << ph;
    EXPECT_EQ(std::string_view(e["cat"]), "osprof");
    const std::string id{std::string_view(e["id"])};
    auto& side = ph == "b" ? begins : ends;
    EXPECT_EQ(side.count(id), 0u) << "duplicate " << ph << " for " << id;
    side[id] = int64_t(e["ts"]);
    if (ph == "b") {
      EXPECT_EQ(std::string_view(e["args"]["trace_id"]), id);
      EXPECT_EQ(e["args"]["parent_id"].is_string(), true);
      pid_of_point[id] = int64_t(e["pid"]);
    } else {
      EXPECT_TRUE(e["args"]["exception"].is_string());
    }
  }
  EXPECT_EQ(begins.size(), 6u);
  ASSERT_EQ(ends.size(), begins.size());
  for (const auto& [id, ts] : begins) {
    ASSERT_EQ(ends.count(id), 1u) << id;
    EXPECT_LE(ts, ends[id]) << id;
  }
  EXPECT_EQ(begins["c"], t0 + 250);
  EXPECT_EQ(ends["c"], t0 + 1250);
  EXPECT_EQ(begins["o"], ends["o"]);  // start only: zero length
  EXPECT_EQ(begins["l"], ends["l"]);  // stop only
  // One process per service@host, named.
  const std::set<std::string> want_names = {"api@vm", "compute@cn1", "scheduler@db1"};
  std::set<std::string> names;
  for (const auto& [pid, name] : process_names) names.insert(name);
  EXPECT_EQ(names, want_names);
  EXPECT_EQ(process_names[pid_of_point["c"]], "compute@cn1");
  EXPECT_EQ(process_names[pid_of_point["w"]], "api@vm");
  // Info of the events travels in args.
  EXPECT_NE(trace.find(R"("exception":"nova.exception.BuildFailed","info":{"etype": "nova.exception.BuildFailed")"),
            std::string::npos);
}

TEST(Renderers, TwentyThousandEventTrace) {
  // 1 root + 9,999 children, as in the Python measurement of osprofiler.md §5.
  std::vector<std::string> events;
  events.reserve(20'000);
  const std::string info = R"j({"function": {"name": "bench.work", "args": "(1,)", "kwargs": "{}"}, "host": "vm"})j";
  events.push_back(event("root-start", "root", base_id, t0, info));
  for (int i = 1; i < 10'000; ++i) {
    const std::string id = "point-" + std::to_string(i);
    events.push_back(event("point-start", id, "root", t0 + 10 * i, info));
    events.push_back(event("point-stop", id, "root", t0 + 10 * i + 7, R"({"host": "vm"})"));
  }
  events.push_back(event("root-stop", "root", base_id, t0 + 100'000));
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty());
  EXPECT_EQ(r.event_count, 20'000u);
  ASSERT_EQ(r.children.size(), 1u);
  EXPECT_EQ(r.children[0].children.size(), 9'999u);
  const std::string json = render_json(r);
  EXPECT_EQ(render_json(parse_report_json(json)), json);
  EXPECT_EQ(count_substr(render_tree(r), "\n"), 10'001u);
  EXPECT_EQ(count_substr(render_dot(r), " -> "), 10'000u);
  EXPECT_EQ(count_substr(render_chrome(r), "\"ph\":\"b\""), 10'000u);
  EXPECT_EQ(count_substr(render_html(r), "</script>"), 4u);
}

// The JSON handed over in pieces is the same text as in one string, with every kind of
// payload (escapes, floats, Python literals, repeated keys) on the way.
TEST(RenderJson, PiecesJoinedAreTheWholeText) {
  std::vector<std::string> events = mixed_events();
  events.push_back(event("odd-start", "odd", base_id, t0 + 2300,
                         R"({"host": "vm", "f": 1.50, "n": NaN, "big": 123456789012345678901234, "k": 1, "k": 2})"));
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "p" + std::to_string(i);
    events.push_back(event("point-start", id, "w", t0 + 100 + i));
    events.push_back(event("point-stop", id, "w", t0 + 101 + i, R"({"host": "vm", "n": [1, -2, true, null, {}]})"));
  }
  const report r = build_report(base_id, events);
  for (const int indent : {2, 0}) {
    const std::string whole = render_json(r, indent);
    std::string joined;
    std::size_t pieces = 0;
    render_json(r, indent, [&](std::string_view piece) {
      joined.append(piece);
      ++pieces;
    });
    EXPECT_EQ(joined, whole);
    EXPECT_GT(pieces, 5u) << "indent " << indent;
  }
}

// Events moved into the report give the report that copied ones give.
TEST(BuildReport, MovedEventsGiveTheSameReport) {
  std::vector<std::string> events = mixed_events();
  events.push_back(events[1]);  // a duplicate event: one payload of the two
  const std::string copied = render_json(build_report(base_id, events));
  std::vector<std::string> moved = events;
  const report r = report_impl::build_report_taking(base_id, std::move(moved));
  EXPECT_EQ(render_json(r), copied);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("duplicate event"), std::string::npos) << r.problems[0];
}

// The JSON written from the analysed events (what `trace show --json` prints) is the JSON of
// the report they give, whatever the events are: escaped and plain, an exception, a
// duplicate, corrupt ones, another trace's, a parent_id cycle, a point with one endpoint.
TEST(AnalysedTrace, WritesTheJsonOfTheReportItGives) {
  std::vector<std::string> events = mixed_events();
  events.push_back(events[2]);                   // a duplicate stop, with its etype
  events.push_back("{\"name\": \"broken\"");     // not JSON
  events.push_back(R"({"name": "x-start"})");   // no trace_id
  events.push_back(event("stray-start", "z", "w", t0 + 10, R"({"host": "vm"})", "api", "demo",
                         "00000000-0000-0000-0000-000000000000"));  // another trace's
  events.push_back(event("loop-start", "a", "b", t0 + 20));
  events.push_back(event("loop-start", "b", "a", t0 + 30));
  events.push_back(event("esc\\u00e9-stop", "e", "w", t0 + 40, R"({"host": "v\u00e9", "etype": {"k": [1]}})"));
  for (int i = 0; i < 500; ++i) {
    const std::string id = "p" + std::to_string(i);
    events.push_back(event("point-start", id, "w", t0 + 100 + i));
    events.push_back(event("point-stop", id, "w", t0 + 101 + i, R"({"host": "vm", "n": [1, -2, true, null, {}]})"));
  }
  const report expected = build_report(base_id, events);
  ASSERT_GE(expected.problems.size(), 5u);
  const std::string expected_json = render_json(expected);

  std::vector<std::string> taken = events;
  report_impl::analysed_trace trace(base_id, std::move(taken));
  EXPECT_EQ(trace.head().problems, expected.problems);
  EXPECT_EQ(trace.head().event_count, expected.event_count);
  EXPECT_TRUE(trace.head().children.empty());
  std::string joined;
  trace.render_json(2, [&](std::string_view piece) { joined.append(piece); });
  EXPECT_EQ(joined, expected_json);
  EXPECT_EQ(render_json(trace.take_report()), expected_json);
}

// A point's stored-event key is written in one piece when the event name needs no escaping,
// and through key() otherwise: the same bytes as key() of the whole key, either way (Python
// escapes the key as any other string, ensure_ascii). next_line() is a comma and newline().
TEST(PyJsonWriter, RawPayloadKeyIsTheKeyOfTheWholeName) {
  using report_impl::py_json_writer;
  for (const std::string_view name : {"db-start", "esc\xc3\xa9-stop", "q\"uote-stop", "tab\t-start", ""}) {
    std::string direct, assembled;
    py_json_writer(direct, 2).raw_payload_key(name);
    py_json_writer(assembled, 2).key("meta.raw_payload." + std::string(name));
    EXPECT_EQ(direct, assembled) << name;
  }
  std::string out;
  py_json_writer(out, 2).raw_payload_key("esc\xc3\xa9-stop");
  EXPECT_EQ(out, "\"meta.raw_payload.esc\\u00e9-stop\": ");
  for (const int level : {0, 1, 3, 24, 40}) {
    std::string joined, apart;
    py_json_writer(joined, 2).next_line(level);
    py_json_writer w(apart, 2);
    apart += ',';
    w.newline(level);
    EXPECT_EQ(joined, apart) << level;
  }
  std::string one_line;
  py_json_writer(one_line, 0).next_line(5);
  EXPECT_EQ(one_line, ",");
}

// Stored JSON copied straight from its text is written as the parsed value is; what the copy
// does not handle exactly is declined, with nothing written. A text known to be plain is
// re-indented without the checks, to the same bytes.
TEST(PyJsonWriter, PlainValueWritesWhatValueWrites) {
  using report_impl::py_json_writer;
  const auto by_dom = [](std::string_view text, int indent) {
    std::string out;
    report_impl::json_reader reader;
    simdjson::dom::element doc;
    EXPECT_FALSE(reader.parse(text).get(doc)) << text;
    py_json_writer(out, indent).value(doc, 3);
    return out;
  };
  const std::string plain[] = {
      R"({"name": "a-start", "info": {"host": "vm", "list": [1, -22, 0, "x y", true, false, null, {}, []]}, "n": 123456789012345678})",
      R"( [ {"a" : {"b": {"c": []}}} , "s" ] )",
      R"("text")",
      "-7",
      R"({"same": 1, "nested": {"same": 2}})",
      R"({"k,}": "v:{[]} ,", "e": { }, "f": [ ], "g": [ "x" ,true , null], "h": [[ ], { "i" : "]" }]})",
      "\t{\n\"a\"\r:\n1 ,\"b\":[\tfalse\n] }\n",
      "true",
  };
  for (const std::string& text : plain) {
    for (const int indent : {2, 0, 4}) {
      std::string out = "before";
      ASSERT_TRUE(py_json_writer(out, indent).plain_value(text, 3)) << text;
      EXPECT_EQ(out, "before" + by_dom(text, indent)) << text;
      std::string checked = "before";
      py_json_writer(checked, indent).checked_plain_value(text, 3);
      EXPECT_EQ(checked, out) << text;
    }
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  const std::string declined[] = {
      R"({"a": "quote \" inside"})", R"({"a": "caf\u00e9"})", R"({"a": "\/"})", "{\"a\": \"caf\xc3\xa9\"}", R"({"a": 1.5})", R"({"a": 1e5})",
      R"({"a": -0})", R"({"a": 1234567890123456789})", R"({"a": 1, "a": 2})", R"({"a": NaN})", R"({"a": 01})",
      R"({"a": 1} x)", R"({"a": 1,})", R"({"a": tru})", "{\"a\": \"tab\there\"}", R"({"a")", "", deep,
  };
  for (const std::string& text : declined) {
    std::string out = "before";
    EXPECT_FALSE(py_json_writer(out, 2).plain_value(text, 3)) << text;
    EXPECT_EQ(out, "before") << text;
  }
}

}  // namespace
}  // namespace osprof::test
