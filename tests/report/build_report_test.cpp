// build_report() and render_json(): the reference trace of osprofiler.md §4, the two
// deliberate fixes, start-only/stop-only points, multi-service and multi-root traces, cycles,
// duplicates, and independence from the order the backend returns events in.
#include <algorithm>
#include <random>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <osprof/report.hpp>
#include "report_test_util.hpp"
#include "reference_events.hpp"

namespace osprof::test {
namespace {


std::int64_t ref_us(const char* micro) {
  return *detail::parse_timestamp(std::string("2026-11-25T15:26:21.") + micro);
}

// ms offset of a node as the JSON shows it.
struct shown_times {
  std::int64_t started, finished;
};

shown_times ms_of(const report& r, const report_node& n) {
  const std::int64_t origin = *r.started_us;
  const std::int64_t s = n.started_us ? *n.started_us : *n.finished_us;
  const std::int64_t f = n.finished_us ? *n.finished_us : *n.started_us;
  return {(s - origin) / 1000, (f - origin) / 1000};
}

TEST(ReferenceReport, TreeNamesParentsExceptionsAsPython) {
  const auto events = reference_events_redis_order();
  const report r = build_report(reference_base_id, events);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  EXPECT_EQ(r.event_count, 10u);
  EXPECT_EQ(r.base_id, reference_base_id);
  EXPECT_EQ(r.started_us, ref_us("360902"));
  EXPECT_EQ(r.finished_us, ref_us("362371"));
  EXPECT_EQ(r.last_trace_started_us, ref_us("362160"));  // ctx-start, the latest start

  ASSERT_EQ(r.children.size(), 1u);
  const report_node& wsgi = r.children[0];
  EXPECT_EQ(wsgi.name, "wsgi");
  EXPECT_EQ(wsgi.trace_id, wsgi_id);
  EXPECT_EQ(wsgi.parent_id, reference_base_id);
  EXPECT_EQ(wsgi.project, "demo");
  EXPECT_EQ(wsgi.service, "api");
  EXPECT_EQ(wsgi.host, "vm");
  EXPECT_EQ(wsgi.exception, "None");

  // Siblings by start time: driver (…361939) before ctx (…362160). Python printed ctx first
  // because both started in millisecond 1 and Redis returned ctx's events first.
  ASSERT_EQ(wsgi.children.size(), 3u);
  const report_node& rpc = wsgi.children[0];
  const report_node& driver = wsgi.children[1];
  const report_node& ctx = wsgi.children[2];
  EXPECT_EQ(rpc.name, "rpc");
  EXPECT_EQ(rpc.trace_id, rpc_id);
  EXPECT_EQ(driver.name, "driver");
  EXPECT_EQ(driver.trace_id, driver_id);
  EXPECT_EQ(ctx.name, "ctx");
  EXPECT_EQ(ctx.trace_id, ctx_id);
  for (const report_node* n : {&rpc, &driver, &ctx}) EXPECT_EQ(n->parent_id, wsgi_id);
  ASSERT_EQ(rpc.children.size(), 1u);
  const report_node& db = rpc.children[0];
  EXPECT_EQ(db.name, "db");
  EXPECT_EQ(db.parent_id, rpc_id);
  EXPECT_TRUE(db.children.empty());
  EXPECT_TRUE(driver.children.empty());
  EXPECT_TRUE(ctx.children.empty());

  EXPECT_EQ(rpc.exception, "None");
  EXPECT_EQ(db.exception, "None");
  EXPECT_EQ(driver.exception, "RuntimeError");
  EXPECT_EQ(ctx.exception, "ValueError");

  // Millisecond offsets exactly as in the report of §4.3.
  auto expect_ms = [&](const report_node& n, std::int64_t s, std::int64_t f) {
    const auto t = ms_of(r, n);
    EXPECT_EQ(t.started, s) << n.name;
    EXPECT_EQ(t.finished, f) << n.name;
  };
  expect_ms(wsgi, 0, 1);
  expect_ms(rpc, 0, 0);
  expect_ms(db, 0, 0);
  expect_ms(ctx, 1, 1);
  expect_ms(driver, 1, 1);
  EXPECT_EQ(db.started_us, ref_us("361613"));
  EXPECT_EQ(db.finished_us, ref_us("361690"));

  // Stats: same values as §4.3; order of first appearance in time (Python's follows storage).
  ASSERT_EQ(r.stats.size(), 5u);
  const std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> want = {
      {"wsgi", 1, 1}, {"rpc", 1, 0}, {"db", 1, 0}, {"driver", 1, 0}, {"ctx", 1, 0}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.stats[i].name, std::get<0>(want[i]));
    EXPECT_EQ(r.stats[i].count, std::get<1>(want[i]));
    EXPECT_EQ(r.stats[i].duration_ms, std::get<2>(want[i]));
  }
}

TEST(ReferenceReport, RawPayloadsAreTheStoredEventsInTimeOrder) {
  const auto chrono = reference_events_chronological();
  const report r = build_report(reference_base_id, reference_events_redis_order());
  const report_node* db = find_node(r.children, db_id);
  ASSERT_NE(db, nullptr);
  ASSERT_EQ(db->raw_payloads.size(), 2u);
  EXPECT_EQ(db->raw_payloads[0].first, "db-start");
  EXPECT_EQ(db->raw_payloads[0].second, chrono[2]);  // verbatim
  EXPECT_EQ(db->raw_payloads[1].first, "db-stop");
  EXPECT_EQ(db->raw_payloads[1].second, chrono[3]);
  const report_node* wsgi = find_node(r.children, wsgi_id);
  ASSERT_NE(wsgi, nullptr);
  EXPECT_EQ(wsgi->raw_payloads.at(0).second, chrono[0]);
  EXPECT_EQ(wsgi->raw_payloads.at(1).second, chrono[9]);
}

TEST(ReferenceReport, JsonHasTheShapeOfTraceShowJson) {
  const report r = build_report(reference_base_id, reference_events_redis_order());
  const std::string json = render_json(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS);

  // Root keys and order.
  EXPECT_EQ(json.rfind("{\n  \"info\": {\n    \"name\": \"total\",\n    \"started\": 0,\n    \"finished\": 1,\n"
                       "    \"last_trace_started\": 1\n  },\n  \"children\": [\n    {\n      \"info\": {\n"
                       "        \"name\": \"wsgi\",\n        \"project\": \"demo\",\n        \"service\": \"api\",\n"
                       "        \"host\": \"vm\",\n        \"meta.raw_payload.wsgi-start\": {\n",
                       0),
            0u)
      << json.substr(0, 400);
  EXPECT_TRUE(json.ends_with("\n  \"stats\": {\n    \"wsgi\": {\n      \"count\": 1,\n      \"duration\": 1\n    },\n"
                             "    \"rpc\": {\n      \"count\": 1,\n      \"duration\": 0\n    },\n"
                             "    \"db\": {\n      \"count\": 1,\n      \"duration\": 0\n    },\n"
                             "    \"driver\": {\n      \"count\": 1,\n      \"duration\": 0\n    },\n"
                             "    \"ctx\": {\n      \"count\": 1,\n      \"duration\": 0\n    }\n  }\n}"))
      << json.substr(json.size() - 400);

  // The driver node: info keys in processing order, raw payloads re-indented, §4.3 values.
  simdjson::dom::element driver = doc["children"].at(0)["children"].at(1);
  EXPECT_EQ(std::string_view(driver["trace_id"]), driver_id);
  std::vector<std::string> keys;
  for (auto field : simdjson::dom::object(driver["info"])) keys.emplace_back(field.key);
  const std::vector<std::string> want_keys = {"name",    "project", "service", "host", "meta.raw_payload.driver-start",
                                              "started", "meta.raw_payload.driver-stop", "finished", "exception"};
  EXPECT_EQ(keys, want_keys);
  EXPECT_EQ(int64_t(driver["info"]["started"]), 1);
  EXPECT_EQ(int64_t(driver["info"]["finished"]), 1);
  EXPECT_EQ(std::string_view(driver["info"]["exception"]), "RuntimeError");
  EXPECT_EQ(std::string_view(driver["info"]["meta.raw_payload.driver-stop"]["info"]["message"]),
            "boom: cannot spawn vm1");
  EXPECT_EQ(std::string_view(driver["info"]["meta.raw_payload.driver-start"]["info"]["function"]["name"]),
            "__main__.Driver.spawn");
  // Nested payload lines carry the indentation of their depth (a child's info keys at 12).
  EXPECT_NE(json.find("            \"meta.raw_payload.driver-stop\": {\n"
                      "              \"name\": \"driver-stop\",\n"
                      "              \"base_id\": \"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\",\n"
                      "              \"trace_id\": \"5c27d481-b3b2-469a-80a6-1d53b2094860\",\n"
                      "              \"parent_id\": \"8463ddf9-8007-4b25-9670-b169b05cc6d0\",\n"
                      "              \"timestamp\": \"2026-11-25T15:26:21.362054\",\n"
                      "              \"info\": {\n"
                      "                \"etype\": \"RuntimeError\",\n"
                      "                \"message\": \"boom: cannot spawn vm1\",\n"
                      "                \"host\": \"vm\"\n"
                      "              },\n"
                      "              \"project\": \"demo\",\n"
                      "              \"service\": \"api\"\n"
                      "            },\n"
                      "            \"finished\": 1,\n"
                      "            \"exception\": \"RuntimeError\"\n"
                      "          },\n"
                      "          \"trace_id\": \"5c27d481-b3b2-469a-80a6-1d53b2094860\",\n"
                      "          \"parent_id\": \"8463ddf9-8007-4b25-9670-b169b05cc6d0\",\n"
                      "          \"children\": []\n"
                      "        }"),
            std::string::npos);
}

TEST(RenderJson, ExactTextOfASmallTrace) {
  const std::string s = event("op-start", "t1", base_id, t0);
  const std::string e = event("op-stop", "t1", base_id, t0 + 1500);
  const std::vector<std::string> events = {e, s};
  const std::string ts_start = detail::format_timestamp(t0), ts_stop = detail::format_timestamp(t0 + 1500);
  auto payload = [&](const std::string& name, const std::string& ts) {
    return std::string("{\n          \"name\": \"") + name + "\",\n          \"base_id\": \"" + base_id +
           "\",\n          \"trace_id\": \"t1\",\n          \"parent_id\": \"" + base_id +
           "\",\n          \"timestamp\": \"" + ts +
           "\",\n          \"info\": {\n            \"host\": \"vm\"\n          },\n"
           "          \"project\": \"demo\",\n          \"service\": \"api\"\n        }";
  };
  const std::string want = std::string("{\n  \"info\": {\n    \"name\": \"total\",\n    \"started\": 0,\n") +
                           "    \"finished\": 1,\n    \"last_trace_started\": 0\n  },\n  \"children\": [\n    {\n" +
                           "      \"info\": {\n        \"name\": \"op\",\n        \"project\": \"demo\",\n" +
                           "        \"service\": \"api\",\n        \"host\": \"vm\",\n" +
                           "        \"meta.raw_payload.op-start\": " + payload("op-start", ts_start) + ",\n" +
                           "        \"started\": 0,\n" + "        \"meta.raw_payload.op-stop\": " +
                           payload("op-stop", ts_stop) + ",\n" + "        \"finished\": 1,\n" +
                           "        \"exception\": \"None\"\n      },\n      \"trace_id\": \"t1\",\n" +
                           "      \"parent_id\": \"" + base_id + "\",\n      \"children\": []\n    }\n  ],\n" +
                           "  \"stats\": {\n    \"op\": {\n      \"count\": 1,\n      \"duration\": 1\n    }\n  }\n}";
  EXPECT_EQ(render_json(build_report(base_id, events)), want);
}

TEST(RenderJson, OneLineWhenIndentIsZero) {
  const std::vector<std::string> events = {event("op-start", "t1", base_id, t0), event("op-stop", "t1", base_id, t0 + 10)};
  const std::string json = render_json(build_report(base_id, events), 0);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_TRUE(json.starts_with(R"({"info": {"name": "total","started": 0,"finished": 0,"last_trace_started": 0},"children": [{"info": {"name": "op",)"))
      << json;
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(json).error(), simdjson::SUCCESS);
}

TEST(RenderJson, EmptyTraceLikePythonsEmptyParse) {
  const report r = build_report(base_id, {});
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(render_json(r),
            "{\n  \"info\": {\n    \"name\": \"total\",\n    \"started\": 0,\n    \"finished\": null,\n"
            "    \"last_trace_started\": null\n  },\n  \"children\": [],\n  \"stats\": {}\n}");
}

TEST(RenderJson, PayloadValuesAsPythonWritesThem) {
  // Non-ASCII (ensure_ascii escapes, surrogate pairs), control characters, floats in repr form,
  // big and negative integers, empty containers, a repeated key (Python keeps the last value at
  // the first key's place).
  const std::string info =
      R"({"s": "h\u00e9llo \u2603 \ud83d\ude00 \"q\" \\ / \u0001\u007f", "f": [1.0, 0.1, 1e-05, 0.0001, 1e16, 1e15, 123456789.125, -2.5e-300, -0.0, 1E2],)"
      R"( "i": [0, -7, 9223372036854775807, 18446744073709551615], "e": {}, "a": [], "n": null, "b": [true, false],)"
      R"( "d": 1, "d": 2, "host": "vm"})";
  const std::vector<std::string> events = {event("op-start", "t1", base_id, t0, info)};
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty()) << r.problems.front();
  const std::string json = render_json(r, 0);
  EXPECT_NE(json.find(R"("s": "h\u00e9llo \u2603 \ud83d\ude00 \"q\" \\ / \u0001\u007f")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("f": [1.0,0.1,1e-05,0.0001,1e+16,1000000000000000.0,123456789.125,-2.5e-300,-0.0,100.0])"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("i": [0,-7,9223372036854775807,18446744073709551615])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("e": {},"a": [],"n": null,"b": [true,false],"d": 2,"host": "vm"})"), std::string::npos) << json;
}

TEST(Fixes, PointNameDropsOnlyTheFinalSuffix) {
  const std::vector<std::string> events = {
      event("my-point-start", "t1", base_id, t0),        event("my-point-stop", "t1", base_id, t0 + 2000),
      event("a-b-c-start", "t2", "t1", t0 + 100),        event("a-b-c-stop", "t2", "t1", t0 + 200),
      event("nosuffix", "t3", "t1", t0 + 300),
  };
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty());
  ASSERT_EQ(r.children.size(), 1u);
  EXPECT_EQ(r.children[0].name, "my-point");  // Python: "my"
  ASSERT_EQ(r.children[0].children.size(), 2u);
  EXPECT_EQ(r.children[0].children[0].name, "a-b-c");  // Python: "a"
  EXPECT_EQ(r.children[0].children[1].name, "nosuffix");
  EXPECT_TRUE(r.children[0].children[1].started_us.has_value());  // not "stop": a start, as in Python
  ASSERT_EQ(r.stats.size(), 3u);
  EXPECT_EQ(r.stats[0].name, "my-point");
  EXPECT_EQ(r.stats[1].name, "a-b-c");
  const std::string json = render_json(r);
  EXPECT_NE(json.find("\"meta.raw_payload.my-point-start\""), std::string::npos);
  EXPECT_NE(json.find("\"my-point\": {"), std::string::npos);
}

TEST(Fixes, SiblingsOrderedByMicrosecondsWithinOneMillisecond) {
  // Three siblings that start in the same millisecond, returned newest first (as Redis does).
  // Python sorts by the truncated millisecond (a tie) and keeps storage order: c, b, a.
  std::vector<std::string> events = {
      event("root-start", "r", base_id, t0),       event("a-start", "a", "r", t0 + 100), event("a-stop", "a", "r", t0 + 150),
      event("b-start", "b", "r", t0 + 400),        event("b-stop", "b", "r", t0 + 450),  event("c-start", "c", "r", t0 + 700),
      event("c-stop", "c", "r", t0 + 750),         event("root-stop", "r", base_id, t0 + 900),
  };
  std::reverse(events.begin(), events.end());
  const report r = build_report(base_id, events);
  ASSERT_EQ(r.children.size(), 1u);
  const auto& kids = r.children[0].children;
  ASSERT_EQ(kids.size(), 3u);
  EXPECT_EQ(kids[0].name, "a");
  EXPECT_EQ(kids[1].name, "b");
  EXPECT_EQ(kids[2].name, "c");
}

TEST(BuildReport, IndependentOfStorageOrder) {
  auto events = reference_events_chronological();
  const std::string want = render_json(build_report(reference_base_id, events));
  EXPECT_EQ(render_json(build_report(reference_base_id, reference_events_redis_order())), want);
  std::mt19937 rng(12345);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(events.begin(), events.end(), rng);
    EXPECT_EQ(render_json(build_report(reference_base_id, events)), want) << "round " << round;
  }
}

TEST(BuildReport, StartOnlyAndStopOnlyPoints) {
  const std::vector<std::string> events = {
      event("root-start", "r", base_id, t0),
      event("open-start", "s", "r", t0 + 2500),  // never stopped
      event("late-stop", "x", "r", t0 + 4200, R"({"etype": "IOError", "message": "gone", "host": "vm"})"),  // start lost
      event("root-stop", "r", base_id, t0 + 5000),
  };
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty());
  ASSERT_EQ(r.children.size(), 1u);
  const auto& kids = r.children[0].children;
  ASSERT_EQ(kids.size(), 2u);
  const report_node& open = kids[0];
  EXPECT_EQ(open.name, "open");
  EXPECT_EQ(open.started_us, t0 + 2500);
  EXPECT_FALSE(open.finished_us.has_value());
  EXPECT_FALSE(open.exception.has_value());
  const report_node& late = kids[1];
  EXPECT_EQ(late.name, "late");
  EXPECT_FALSE(late.started_us.has_value());
  EXPECT_EQ(late.finished_us, t0 + 4200);
  EXPECT_EQ(late.exception, "IOError");

  simdjson::dom::parser parser;
  const std::string json = render_json(r);
  simdjson::dom::element doc = parser.parse(json);
  simdjson::dom::element o = doc["children"].at(0)["children"].at(0)["info"];
  EXPECT_EQ(int64_t(o["started"]), 2);
  EXPECT_EQ(int64_t(o["finished"]), 2);  // finished = started
  EXPECT_EQ(o["exception"].error(), simdjson::NO_SUCH_FIELD);
  std::vector<std::string> keys;
  for (auto f : simdjson::dom::object(o)) keys.emplace_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "project", "service", "host", "meta.raw_payload.open-start", "started",
                                            "finished"}));
  simdjson::dom::element l = doc["children"].at(0)["children"].at(1)["info"];
  EXPECT_EQ(int64_t(l["started"]), 4);  // started = finished
  EXPECT_EQ(int64_t(l["finished"]), 4);
  keys.clear();
  for (auto f : simdjson::dom::object(l)) keys.emplace_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "project", "service", "host", "meta.raw_payload.late-stop", "finished",
                                            "exception", "started"}));
  // Stats: both count with duration 0.
  ASSERT_EQ(r.stats.size(), 3u);
  EXPECT_EQ(r.stats[1].name, "open");
  EXPECT_EQ(r.stats[1].duration_ms, 0);
  EXPECT_EQ(r.stats[2].name, "late");
  EXPECT_EQ(r.stats[2].duration_ms, 0);
}

TEST(BuildReport, OnlyStopEventsHaveNoLastTraceStarted) {
  const std::vector<std::string> events = {event("a-stop", "a", base_id, t0 + 3000), event("b-stop", "b", base_id, t0)};
  const report r = build_report(base_id, events);
  EXPECT_FALSE(r.last_trace_started_us.has_value());
  const std::string json = render_json(r);
  EXPECT_NE(json.find("\"finished\": 3,\n    \"last_trace_started\": null"), std::string::npos) << json;
  ASSERT_EQ(r.children.size(), 2u);
  EXPECT_EQ(r.children[0].name, "b");  // roots by (effective) start time
}

TEST(BuildReport, MultiServiceMultiRoot) {
  // api (host vm) calls compute (host cn1) over RPC: compute's point has api's point as parent.
  // A second request's root arrives later; a third point's parent was never stored.
  const std::vector<std::string> events = {
      event("wsgi-start", "w1", base_id, t0, R"({"request": {"path": "/a", "query": "", "method": "GET", "scheme": "http"}, "host": "vm"})"),
      event("rpc-start", "c1", "w1", t0 + 300, R"({"host": "cn1"})", "compute", "nova"),
      event("rpc-stop", "c1", "w1", t0 + 2300, R"({"host": "cn1"})", "compute", "nova"),
      event("wsgi-stop", "w1", base_id, t0 + 2600),
      event("wsgi-start", "w2", base_id, t0 + 5000),
      event("wsgi-stop", "w2", base_id, t0 + 6000),
      event("orphan-start", "o1", "lost-parent", t0 + 1000, R"({"host": "cn2"})", "scheduler", "nova"),
      event("orphan-stop", "o1", "lost-parent", t0 + 1200, R"({"host": "cn2"})", "scheduler", "nova"),
  };
  const report r = build_report(base_id, events);
  ASSERT_TRUE(r.problems.empty());
  ASSERT_EQ(r.children.size(), 3u);
  EXPECT_EQ(r.children[0].trace_id, "w1");
  EXPECT_EQ(r.children[1].trace_id, "o1");
  EXPECT_EQ(r.children[1].parent_id, "lost-parent");
  EXPECT_EQ(r.children[1].service, "scheduler");
  EXPECT_EQ(r.children[1].host, "cn2");
  EXPECT_EQ(r.children[2].trace_id, "w2");
  ASSERT_EQ(r.children[0].children.size(), 1u);
  const report_node& c1 = r.children[0].children[0];
  EXPECT_EQ(c1.service, "compute");
  EXPECT_EQ(c1.project, "nova");
  EXPECT_EQ(c1.host, "cn1");
  ASSERT_EQ(r.stats.size(), 3u);
  EXPECT_EQ(r.stats[0].name, "wsgi");
  EXPECT_EQ(r.stats[0].count, 2);
  EXPECT_EQ(r.stats[0].duration_ms, 2 + 1);  // (2-0) + (6-5)
  EXPECT_EQ(r.stats[1].name, "rpc");
  EXPECT_EQ(r.stats[1].duration_ms, 2 - 0);
  EXPECT_EQ(r.stats[2].name, "orphan");
}

TEST(BuildReport, MillisecondTruncationAsPython) {
  // Each endpoint is truncated separately: 999 µs -> 0 ms and 1001 µs -> 1 ms give a 1 ms
  // duration for a 2 µs point; a 998 µs point inside one millisecond gives 0.
  const std::vector<std::string> events = {
      event("origin-start", "o", base_id, t0),          event("origin-stop", "o", base_id, t0 + 5000),
      event("tiny-start", "a", "o", t0 + 999),          event("tiny-stop", "a", "o", t0 + 1001),
      event("long-start", "b", "o", t0 + 2001),         event("long-stop", "b", "o", t0 + 2999),
  };
  const report r = build_report(base_id, events);
  ASSERT_EQ(r.stats.size(), 3u);
  EXPECT_EQ(r.stats[1].name, "tiny");
  EXPECT_EQ(r.stats[1].duration_ms, 1);
  EXPECT_EQ(r.stats[2].name, "long");
  EXPECT_EQ(r.stats[2].duration_ms, 0);
}

TEST(BuildReport, ParentCyclesBecomeRootsAndAreReported) {
  const std::vector<std::string> events = {
      event("root-start", "r", base_id, t0),       event("root-stop", "r", base_id, t0 + 900),
      event("self-start", "s", "s", t0 + 100),     event("self-stop", "s", "s", t0 + 200),
      event("x-start", "x", "y", t0 + 300),        event("y-start", "y", "x", t0 + 400),
      event("z-start", "z", "y", t0 + 500),  // hangs below the x <-> y cycle
  };
  const report r = build_report(base_id, events);
  EXPECT_EQ(count_nodes(r.children), 5u);  // nothing lost
  ASSERT_EQ(r.problems.size(), 2u);
  for (const auto& p : r.problems) {
    EXPECT_TRUE(p.starts_with(std::string("trace ") + base_id + ": point ")) << p;
    EXPECT_NE(p.find("parent_id cycle"), std::string::npos) << p;
  }
  ASSERT_EQ(r.children.size(), 3u);
  EXPECT_EQ(r.children[0].trace_id, "r");
  EXPECT_EQ(r.children[1].trace_id, "s");
  EXPECT_EQ(r.children[2].trace_id, "x");
  ASSERT_EQ(r.children[2].children.size(), 1u);
  EXPECT_EQ(r.children[2].children[0].trace_id, "y");
  ASSERT_EQ(r.children[2].children[0].children.size(), 1u);
  EXPECT_EQ(r.children[2].children[0].children[0].trace_id, "z");
  // The report still renders (Python would fail with "Circular reference detected").
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(render_json(r)).error(), simdjson::SUCCESS);
}

TEST(BuildReport, DuplicateEventKeepsTheLaterOneAndIsReported) {
  const std::string first = event("op-start", "t", base_id, t0);
  const std::string again = event("op-start", "t", base_id, t0 + 700, R"({"retry": 1, "host": "vm"})");
  const std::vector<std::string> events = {again, event("op-stop", "t", base_id, t0 + 3000), first};
  const report r = build_report(base_id, events);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("event 2: duplicate event \"op-start\" of point t, replaced by event 0"), std::string::npos)
      << r.problems[0];
  ASSERT_EQ(r.children.size(), 1u);
  const report_node& n = r.children[0];
  EXPECT_EQ(n.started_us, t0 + 700);
  ASSERT_EQ(n.raw_payloads.size(), 2u);
  EXPECT_EQ(n.raw_payloads[0].first, "op-start");
  EXPECT_EQ(n.raw_payloads[0].second, again);
  EXPECT_EQ(n.raw_payloads[1].first, "op-stop");
}

TEST(BuildReport, NullProjectAndServiceAreAccepted) {
  // Python's drivers store None when a service sets no project.
  std::string e = event("op-start", "t", base_id, t0);
  e.replace(e.find("\"demo\""), 6, "null");
  const report r = build_report(base_id, std::vector<std::string>{e});
  ASSERT_TRUE(r.problems.empty()) << r.problems.front();
  ASSERT_EQ(r.children.size(), 1u);
  EXPECT_EQ(r.children[0].project, "");
}

TEST(BuildReport, DeepChainWithoutRecursion) {
  // 10,000 nested points (20,000 events): building, rendering and destroying must not
  // overflow the stack.
  std::vector<std::string> events;
  constexpr int depth = 10'000;
  events.reserve(2 * depth);
  for (int i = 0; i < depth; ++i) {
    const std::string id = "p" + std::to_string(i);
    const std::string parent = i == 0 ? std::string(base_id) : "p" + std::to_string(i - 1);
    events.push_back(event("n-start", id, parent, t0 + i));
    events.push_back(event("n-stop", id, parent, t0 + 2 * depth - i));
  }
  {
    const report r = build_report(base_id, events);
    EXPECT_EQ(count_nodes(r.children), static_cast<std::size_t>(depth));
    const std::string json = render_json(r, 0);
    const report back = parse_report_json(json);
    EXPECT_EQ(render_json(back, 0), json);
    EXPECT_FALSE(render_tree(r).empty());
    EXPECT_FALSE(render_dot(r).empty());
    EXPECT_FALSE(render_chrome(r).empty());
  }
}

// A record keeps a field's place in a 16-bit offset when the event is plain JSON of at most
// 64 KiB; larger events, and events read through the DOM, keep theirs apart. Each field must
// read the same whichever way its event is kept: fields past 64 KiB, before and after a large
// value, with the DOM's decoded strings beside them, and in a trace large enough to be read on
// two threads.
TEST(BuildReport, FieldsOfLargeAndUncommonEventsReadAsTheirText) {
  const std::string pad(70'000, 'p');
  std::vector<std::string> events = {event("root-start", "r", base_id, t0), event("root-stop", "r", base_id, t0 + 90'000)};
  // Project and service follow a large info (past 64 KiB), and the host is after the pad.
  const std::string big_info = R"({"pad": ")" + pad + R"(", "host": "far-host"})";
  events.push_back(event("late-start", "late", "r", t0 + 1000, big_info, "late-service", "late-project"));
  events.push_back(event("late-stop", "late", "r", t0 + 2000, big_info, "late-service", "late-project"));
  // Every field past 64 KiB: an unknown member first.
  std::string first_pad = event("first-start", "first", "r", t0 + 3000, R"({"host": "first-host"})", "first-service");
  first_pad.insert(1, R"("pad": ")" + pad + R"(", )");
  events.push_back(first_pad);
  // Read through the DOM (an escaped project), beside a plain stop.
  events.push_back(event("dom-start", "dom", "r", t0 + 4000, R"({"host": "dom-host"})", "dom-service", R"(dom-\u00e9)"));
  events.push_back(event("dom-stop", "dom", "r", t0 + 5000, R"({"host": "dom-host"})", "dom-service", "dom-plain"));
  // Enough small points for two threads to read the events.
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "small" + std::to_string(i);
    events.push_back(event("small-start", id, "r", t0 + 10'000 + 2 * i, R"({"host": "small-host"})"));
    events.push_back(event("small-stop", id, "r", t0 + 10'001 + 2 * i, R"({"host": "small-host"})"));
  }
  const report r = build_report(base_id, events);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  struct expected {
    const char* id;
    const char* name;
    const char* project;
    const char* service;
    const char* host;
    std::size_t payloads;
  };
  for (const expected& e : {expected{"late", "late", "late-project", "late-service", "far-host", 2},
                            expected{"first", "first", "demo", "first-service", "first-host", 1},
                            expected{"dom", "dom", "dom-\u00e9", "dom-service", "dom-host", 2},
                            expected{"small2999", "small", "demo", "api", "small-host", 2}}) {
    SCOPED_TRACE(e.id);
    const report_node* n = find_node(r.children, e.id);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->name, e.name);
    EXPECT_EQ(n->project, e.project);
    EXPECT_EQ(n->service, e.service);
    EXPECT_EQ(n->host, e.host);
    EXPECT_EQ(n->parent_id, "r");
    EXPECT_EQ(n->raw_payloads.size(), e.payloads);
  }
  EXPECT_EQ(count_nodes(r.children), 3u + 3000u + 1u);
}

}  // namespace
}  // namespace osprof::test
