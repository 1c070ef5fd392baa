// The OTLP driver without a collector: joining starts and stops into spans (same batch,
// across batches, stops without starts, the unfinished timeout and cap, draining at close),
// the JSON encoding and mapping of a span, a collector's answers, and the options from the
// connection string and the OTEL_EXPORTER_OTLP_* variables.
#include <gtest/gtest.h>

#include <map>

#include <simdjson.h>

#include <osprof/error.hpp>

#include "drivers/otlp/otlp_encoder.hpp"
#include "common/text.hpp"
#include "drivers/otlp/otlp_options.hpp"
#include "drivers/otlp/otlp_spans.hpp"
#include "loopback_util.hpp"

namespace {

using namespace osprof::detail::otlp;
using osprof::connection_string;
using osprof::event_record;
using osprof_test::make_event;
using osprof_test::make_id;

const osprof::uuid base = make_id(0xaaaaaaaabbbbccccULL, 0xddddeeeeeeeeeeeeULL);
constexpr std::int64_t t0 = 1764000000000000;

event_record start(std::uint64_t id, std::int64_t at, osprof::uuid parent = base, const std::string& point = "p",
                   const std::string& info = "{\"host\": \"vm\"}") {
  return make_event(point, false, base, make_id(0, id), parent, at, info);
}
event_record stop(std::uint64_t id, std::int64_t at, osprof::uuid parent = base, const std::string& point = "p",
                  const std::string& info = "{\"host\": \"vm\"}") {
  return make_event(point, true, base, make_id(0, id), parent, at, info);
}

TEST(OtlpJoin, StartAndStopInOneBatch) {
  span_joiner j({});
  const std::vector<event_record> batch{start(1, t0), start(2, t0 + 5, make_id(0, 1)), stop(2, t0 + 7, make_id(0, 1)),
                                        stop(1, t0 + 10)};
  const auto spans = j.join(batch, t0 + 20);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].trace_id, make_id(0, 2));
  EXPECT_EQ(spans[0].parent_id, make_id(0, 1));
  EXPECT_EQ(spans[0].start_us, t0 + 5);
  EXPECT_EQ(spans[0].end_us, t0 + 7);
  EXPECT_EQ(spans[1].trace_id, make_id(0, 1));
  EXPECT_EQ(spans[1].point, "p");
  EXPECT_EQ(spans[1].start_info, "{\"host\": \"vm\"}");
  for (const auto& s : spans) {
    EXPECT_EQ(s.events_in_batch, 2u);
    EXPECT_EQ(s.events_before, 0u);
    EXPECT_FALSE(s.unfinished);
    EXPECT_FALSE(s.missing_start);
  }
  EXPECT_EQ(j.pending(), 0u);
}

TEST(OtlpJoin, StartHeldUntilItsStopInALaterBatch) {
  span_joiner j({});
  const std::vector<event_record> first{start(1, t0), start(2, t0 + 1, make_id(0, 1))};
  EXPECT_TRUE(j.join(first, t0 + 2).empty());
  EXPECT_EQ(j.pending(), 2u);
  const std::vector<event_record> second{stop(2, t0 + 3, make_id(0, 1))};
  const auto spans = j.join(second, t0 + 4);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start_us, t0 + 1);
  EXPECT_EQ(spans[0].events_in_batch, 1u);
  EXPECT_EQ(spans[0].events_before, 1u);
  EXPECT_EQ(j.pending(), 1u);
}

TEST(OtlpJoin, StopBeforeItsStartInOneBatchStillJoins) {
  span_joiner j({});
  const std::vector<event_record> batch{stop(1, t0 + 10), start(1, t0)};
  const auto spans = j.join(batch, t0 + 20);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_FALSE(spans[0].missing_start);
  EXPECT_EQ(spans[0].start_us, t0);
}

TEST(OtlpJoin, StopWithoutStartIsAZeroLengthSpan) {
  span_joiner j({});
  const std::vector<event_record> batch{stop(9, t0 + 10)};
  const auto spans = j.join(batch, t0 + 20);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(spans[0].missing_start);
  EXPECT_EQ(spans[0].start_us, t0 + 10);
  EXPECT_EQ(spans[0].end_us, t0 + 10);
  EXPECT_TRUE(spans[0].start_info.empty());
  EXPECT_EQ(spans[0].events_in_batch, 1u);
}

TEST(OtlpJoin, UnfinishedAfterTheTimeout) {
  span_joiner j({std::chrono::milliseconds(1000), 100});
  const std::vector<event_record> first{start(1, t0), start(2, t0 + 600000)};
  EXPECT_TRUE(j.join(first, t0 + 999000).empty()) << "not yet: 999 ms";
  const std::vector<event_record> none;
  auto spans = j.join(none, t0 + 1000001);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].trace_id, make_id(0, 1));
  EXPECT_TRUE(spans[0].unfinished);
  EXPECT_EQ(spans[0].end_us, spans[0].start_us);
  EXPECT_EQ(spans[0].events_before, 1u);
  EXPECT_EQ(spans[0].events_in_batch, 0u);
  EXPECT_EQ(j.pending(), 1u);
  // Its stop arriving later is a span of its own, marked.
  const std::vector<event_record> late{stop(1, t0 + 2000000)};
  spans = j.join(late, t0 + 2000001);
  ASSERT_EQ(spans.size(), 2u);  // and start 2 timed out meanwhile
  EXPECT_TRUE(spans[0].missing_start);
  EXPECT_TRUE(spans[1].unfinished);
  EXPECT_EQ(spans[1].trace_id, make_id(0, 2));
}

TEST(OtlpJoin, OldestReleasedBeyondTheCap) {
  span_joiner j({std::chrono::milliseconds(60000), 2});
  const std::vector<event_record> batch{start(1, t0), start(2, t0 + 1), start(3, t0 + 2)};
  const auto spans = j.join(batch, t0 + 3);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].trace_id, make_id(0, 1));
  EXPECT_TRUE(spans[0].unfinished);
  EXPECT_EQ(spans[0].events_in_batch, 1u);
  EXPECT_EQ(j.pending(), 2u);
}

TEST(OtlpJoin, DrainReleasesEveryHeldStartOldestFirst) {
  span_joiner j({});
  std::vector<event_record> batch;
  for (std::uint64_t i = 1; i <= 5; ++i) batch.push_back(start(i, t0 + static_cast<std::int64_t>(i)));
  batch.push_back(stop(3, t0 + 9));
  EXPECT_EQ(j.join(batch, t0 + 10).size(), 1u);
  const auto spans = j.drain();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].trace_id, make_id(0, 1));
  EXPECT_EQ(spans[3].trace_id, make_id(0, 5));
  for (const auto& s : spans) {
    EXPECT_TRUE(s.unfinished);
    EXPECT_EQ(s.events_before, 1u);
  }
  EXPECT_EQ(j.pending(), 0u);
  EXPECT_TRUE(j.drain().empty());
}

TEST(OtlpJoin, ManySpansBehindOneHeldStartKeepMemoryBounded) {
  span_joiner j({});
  const std::vector<event_record> held{start(1, t0)};
  j.join(held, t0);
  for (std::uint64_t round = 0; round < 200; ++round) {
    std::vector<event_record> batch;
    for (std::uint64_t i = 0; i < 100; ++i) {
      const std::uint64_t id = 1000 + round * 100 + i;
      batch.push_back(start(id, t0 + 1));
      batch.push_back(stop(id, t0 + 2));
    }
    ASSERT_EQ(j.join(batch, t0 + 3).size(), 100u);
  }
  EXPECT_EQ(j.pending(), 1u);
  const auto rest = j.drain();
  ASSERT_EQ(rest.size(), 1u) << "entries of joined spans are not released twice";
  EXPECT_EQ(rest[0].trace_id, make_id(0, 1));
}

// ---------------------------------------------------------------- encoding

simdjson::dom::element attribute(simdjson::simdjson_result<simdjson::dom::element> result, std::string_view key) {
  simdjson::dom::element attrs = result.value();
  for (auto kv : attrs.get_array()) {
    if (std::string_view(kv["key"].get_string().value()) == key) return kv["value"];
  }
  ADD_FAILURE() << "no attribute " << key;
  return {};
}

bool has_attribute(simdjson::simdjson_result<simdjson::dom::element> result, std::string_view key) {
  simdjson::dom::element attrs = result.value();
  for (auto kv : attrs.get_array()) {
    if (std::string_view(kv["key"].get_string().value()) == key) return true;
  }
  return false;
}

TEST(OtlpEncode, MapsASpanAsOsprofilersOtlpDriver) {
  span_joiner j({});
  const auto parent = make_id(0x1234, 0x00000000000000ffULL);
  const std::vector<event_record> batch{
      start(0x0102030405060708ULL, t0 + 1, parent, "wsgi",
            R"({"request": {"path": "/v2.1/servers", "method": "POST", "query": ""}, "n": -42, "big": 18446744073709551615, "ratio": 0.5, "ok": true, "none": null, "list": [1, "a", {"k": 2}, null], "host": "vm"})"),
      stop(0x0102030405060708ULL, t0 + 1001, parent, "wsgi", R"({"status": 201, "host": "vm2"})")};
  const auto spans = j.join(batch, t0 + 2000);
  span_encoder enc({service_name("", "nova", "api"), "vm"});
  const std::string body = enc.encode(spans);
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  auto rs = doc["resourceSpans"].at(0);
  auto res = rs["resource"]["attributes"];
  EXPECT_EQ(std::string_view(attribute(res, "service.name")["stringValue"].get_string().value()), "nova-api");
  EXPECT_FALSE(has_attribute(res, "service.namespace")) << "Python's resource holds service.name only";
  EXPECT_EQ(std::string_view(attribute(res, "host.name")["stringValue"].get_string().value()), "vm");
  EXPECT_EQ(std::string_view(rs["scopeSpans"].at(0)["scope"]["name"].get_string().value()), "osprof");
  auto span = rs["scopeSpans"].at(0)["spans"].at(0);
  EXPECT_EQ(std::string_view(span["traceId"].get_string().value()), "aaaaaaaabbbbccccddddeeeeeeeeeeee");
  EXPECT_EQ(std::string_view(span["spanId"].get_string().value()), "0102030405060708");
  EXPECT_EQ(std::string_view(span["parentSpanId"].get_string().value()), "00000000000000ff");
  EXPECT_EQ(std::string_view(span["name"].get_string().value()), "WSGI_POST_/v2.1/servers");
  EXPECT_EQ(span["kind"].get_int64().value(), 2) << "an integer enum: SERVER";
  EXPECT_EQ(std::string_view(span["startTimeUnixNano"].get_string().value()), "1764000000000001000");
  EXPECT_EQ(std::string_view(span["endTimeUnixNano"].get_string().value()), "1764000000001001000");
  auto attrs = span["attributes"];
  EXPECT_EQ(std::string_view(attribute(attrs, "request.path")["stringValue"].get_string().value()), "/v2.1/servers");
  EXPECT_EQ(std::string_view(attribute(attrs, "n")["intValue"].get_string().value()), "-42");
  EXPECT_DOUBLE_EQ(attribute(attrs, "big")["doubleValue"].get_double().value(), 18446744073709551615.0);
  EXPECT_DOUBLE_EQ(attribute(attrs, "ratio")["doubleValue"].get_double().value(), 0.5);
  EXPECT_TRUE(attribute(attrs, "ok")["boolValue"].get_bool().value());
  EXPECT_FALSE(has_attribute(attrs, "none")) << "null has no OTLP value";
  auto list = attribute(attrs, "list")["arrayValue"]["values"];
  ASSERT_EQ(list.get_array().size(), 4u);
  EXPECT_EQ(std::string_view(list.at(0)["intValue"].get_string().value()), "1");
  EXPECT_EQ(std::string_view(list.at(1)["stringValue"].get_string().value()), "a");
  EXPECT_EQ(std::string_view(list.at(2)["kvlistValue"]["values"].at(0)["key"].get_string().value()), "k");
  EXPECT_EQ(list.at(3).get_object().size(), 0u);
  EXPECT_EQ(std::string_view(attribute(attrs, "status")["intValue"].get_string().value()), "201") << "stop info too";
  EXPECT_EQ(std::string_view(attribute(attrs, "host")["stringValue"].get_string().value()), "vm2") << "one key, the stop's";
  EXPECT_EQ(std::string_view(attribute(attrs, "osprofiler.trace_id")["stringValue"].get_string().value()),
            "00000000-0000-0000-0102-030405060708");
  EXPECT_TRUE(span["status"].error()) << "no status without an error (UNSET)";
  EXPECT_TRUE(span["events"].error());
  EXPECT_FALSE(has_attribute(attrs, "osprof.unfinished"));
}

TEST(OtlpEncode, RootErrorUnfinishedKindsAndNames) {
  span_joiner j({});
  const std::vector<event_record> batch{
      start(1, t0, base, "db", R"({"db": {"statement": "select * from t", "params": {}}})"),
      stop(1, t0 + 5, base, "db", R"({"etype": "std::runtime_error", "message": "boom \"x\"", "host": "vm"})"),
      start(2, t0, base, "http", R"({"requests": {"method": "GET", "hostname": "nova", "path": "/"}})"),
      stop(2, t0 + 1, base, "http", "{}"),
      start(3, t0, base, "compute"),
      stop(4, t0 + 3, base, "image-api")};
  auto spans = j.join(batch, t0 + 10);
  auto unfinished = j.drain();
  spans.insert(spans.end(), unfinished.begin(), unfinished.end());
  span_encoder enc({"api", "vm"});
  const std::string body = enc.encode(spans);
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  EXPECT_FALSE(has_attribute(doc["resourceSpans"].at(0)["resource"]["attributes"], "service.namespace"));
  std::map<std::string, simdjson::dom::element> by_name;
  for (auto s : doc["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"]) {
    by_name[std::string(s["name"].get_string().value())] = s;
    EXPECT_TRUE(s["parentSpanId"].error()) << "parent == base_id: a root span";
  }
  ASSERT_EQ(by_name.size(), 4u) << body;
  auto db = by_name.at("SQL_SELECT");
  EXPECT_EQ(db["kind"].get_int64().value(), 3);
  EXPECT_EQ(db["status"]["code"].get_int64().value(), 2);
  EXPECT_EQ(std::string_view(db["status"]["message"].get_string().value()), "std::runtime_error: boom \"x\"");
  auto log = db["events"].at(0);
  EXPECT_EQ(std::string_view(log["name"].get_string().value()), "log");
  EXPECT_EQ(std::string_view(attribute(log["attributes"], "error.kind")["stringValue"].get_string().value()),
            "std::runtime_error");
  auto ev = db["events"].at(1);
  EXPECT_EQ(std::string_view(ev["name"].get_string().value()), "exception");
  EXPECT_EQ(std::string_view(ev["timeUnixNano"].get_string().value()), "1764000000000005000");
  EXPECT_EQ(std::string_view(attribute(ev["attributes"], "exception.type")["stringValue"].get_string().value()),
            "std::runtime_error");
  EXPECT_EQ(std::string_view(attribute(ev["attributes"], "exception.message")["stringValue"].get_string().value()),
            "boom \"x\"");
  EXPECT_TRUE(attribute(db["attributes"], "error")["boolValue"].get_bool().value());
  EXPECT_FALSE(has_attribute(db["attributes"], "etype"));
  EXPECT_EQ(by_name.at("REQUESTS_GET_nova")["kind"].get_int64().value(), 3);
  auto compute = by_name.at("compute");
  EXPECT_EQ(compute["kind"].get_int64().value(), 1);
  EXPECT_TRUE(attribute(compute["attributes"], "osprof.unfinished")["boolValue"].get_bool().value());
  EXPECT_EQ(std::string_view(compute["startTimeUnixNano"].get_string().value()),
            std::string_view(compute["endTimeUnixNano"].get_string().value()));
  auto orphan = by_name.at("image-api");
  EXPECT_EQ(orphan["kind"].get_int64().value(), 3) << "'api' in the name: CLIENT, as OSProfiler";
  EXPECT_TRUE(attribute(orphan["attributes"], "osprof.missing_start")["boolValue"].get_bool().value());
  EXPECT_EQ(kind_of("wsgi"), span_kind::server);
  EXPECT_EQ(kind_of("rpc"), span_kind::internal);
}

TEST(OtlpEncode, CollectorAnswers) {
  EXPECT_EQ(parse_export_response("").rejected_spans, 0u);
  EXPECT_EQ(parse_export_response("{}").rejected_spans, 0u);
  EXPECT_EQ(parse_export_response(R"({"partialSuccess":{}})").rejected_spans, 0u);
  const auto r = parse_export_response(R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"too big"}})");
  EXPECT_EQ(r.rejected_spans, 3u);
  EXPECT_EQ(r.error_message, "too big");
  EXPECT_EQ(parse_export_response(R"({"partialSuccess":{"rejectedSpans":7}})").rejected_spans, 7u);
  EXPECT_EQ(parse_export_response("not json").rejected_spans, 0u);
}

// ---------------------------------------------------------------- options and environment

struct fake_env {
  std::map<std::string, std::string> vars;
  env_reader reader() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() || it->second.empty() ? nullptr : it->second.c_str();
    };
  }
};

otlp_options parse(const std::string& text, const fake_env& env = {}) {
  return otlp_options::from(connection_string::parse(text), std::chrono::milliseconds(10000), env.reader());
}

std::vector<std::string> log_lines;
void capture(std::string_view line) { log_lines.emplace_back(line); }

TEST(OtlpOptions, ConnectionStringAsOsprofiler) {
  const auto o = parse("otlp://collector:4318");
  EXPECT_EQ(o.endpoint.client.host, "collector");
  EXPECT_EQ(o.endpoint.client.port, 4318);
  EXPECT_FALSE(o.endpoint.client.tls);
  EXPECT_EQ(o.target, "/v1/traces");
  EXPECT_EQ(o.url, "http://collector:4318/v1/traces");
  EXPECT_EQ(parse("otlp://collector").endpoint.client.port, 4318);
  EXPECT_EQ(parse("otlp://collector/otel/").target, "/otel/v1/traces");
  EXPECT_TRUE(parse("otlp+https://collector").endpoint.client.tls);
  EXPECT_EQ(o.unfinished_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(o.max_pending, 100000u);
  EXPECT_FALSE(o.endpoint.gzip);
  const auto opts = parse("otlp://c?unfinished_timeout_ms=250&max_pending=10&compression=gzip&timeout_ms=1234"
                          "&headers=x-token%3Da%2Cx-b%3Dc%2525d");
  EXPECT_EQ(opts.unfinished_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(opts.max_pending, 10u);
  EXPECT_TRUE(opts.endpoint.gzip);
  EXPECT_EQ(opts.endpoint.client.timeout, std::chrono::milliseconds(1234));
  ASSERT_EQ(opts.endpoint.client.headers.size(), 2u);
  EXPECT_EQ(opts.endpoint.client.headers[0], (std::pair<std::string, std::string>{"x-token", "a"}));
  EXPECT_EQ(opts.endpoint.client.headers[1], (std::pair<std::string, std::string>{"x-b", "c%d"}));
}

// What Python OSProfiler's OTLP driver (osprofiler/drivers/otlp.py, 4.0.0 and later) makes of
// a service and an error, from its source: Debian has neither that version nor the
// OpenTelemetry SDK it needs, so the rules are checked here as the source writes them.
//   _get_service_name: "{}-{}-{}".format(prefix, project, service) with the prefix, else
//                      "{}-{}".format(project, service); Resource(attributes={"service.name": ...})
//   notify (stop with etype): span.set_attribute("error", True);
//                             span.add_event("log", {"error.kind": etype, "message": message})
TEST(OtlpEncode, ServiceNameAndErrorsAsPythonsOtlpDriver) {
  EXPECT_EQ(service_name("", "nova", "api"), "nova-api");
  EXPECT_EQ(service_name("region1", "nova", "api"), "region1-nova-api");
  EXPECT_EQ(service_name("", "", "api"), "api") << "no project: no leading dash (Python would write None-api)";
  EXPECT_EQ(service_name("region1", "", "api"), "region1-api");

  span_joiner j({});
  const std::vector<event_record> batch{
      start(1, t0, base, "rpc", R"({"function": {"name": "f"}})"),
      stop(1, t0 + 5, base, "rpc", R"({"etype": "RuntimeError", "message": "no valid host", "host": "vm"})"),
      start(2, t0, base, "odd"),
      stop(2, t0 + 5, base, "odd", R"({"etype": "unknown", "message": null, "host": "vm"})")};
  const std::string body = span_encoder({service_name("region1", "nova", "conductor"), "vm"}).encode(j.join(batch, t0 + 10));
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  auto res = doc["resourceSpans"].at(0)["resource"]["attributes"];
  EXPECT_EQ(std::string_view(attribute(res, "service.name")["stringValue"].get_string().value()), "region1-nova-conductor");
  std::map<std::string, simdjson::dom::element> by_name;
  for (auto s : doc["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"]) by_name[std::string(s["name"].get_string().value())] = s;
  auto rpc = by_name.at("rpc");
  EXPECT_TRUE(attribute(rpc["attributes"], "error")["boolValue"].get_bool().value());
  auto log = rpc["events"].at(0);
  EXPECT_EQ(std::string_view(log["name"].get_string().value()), "log");
  ASSERT_EQ(log["attributes"].get_array().size(), 2u);
  EXPECT_EQ(std::string_view(attribute(log["attributes"], "error.kind")["stringValue"].get_string().value()), "RuntimeError");
  EXPECT_EQ(std::string_view(attribute(log["attributes"], "message")["stringValue"].get_string().value()), "no valid host");
  // The OpenTelemetry convention alongside: an exception event and an error status.
  EXPECT_EQ(std::string_view(rpc["events"].at(1)["name"].get_string().value()), "exception");
  EXPECT_EQ(rpc["status"]["code"].get_int64().value(), 2);
  // A message that is not a string: the SDK drops a None attribute, so the event has none.
  auto odd_log = by_name.at("odd")["events"].at(0);
  EXPECT_EQ(odd_log["attributes"].get_array().size(), 1u);
  EXPECT_FALSE(has_attribute(odd_log["attributes"], "message"));
}

// Python's create_span_tags (at the start; the first of db, request, requests, function that
// info has) and the stop's result/status_code, under Python's names, next to osprof's own.
//   db:       db.statement, db.params = json.dumps(params)
//   request:  http.path, http.query, http.method, http.scheme
//   requests: the same, and http.hostname, http.port
//   function: args, kwargs (when present), name
//   stop:     result = info[db|function]["result"]; status_code = info["requests"]["status_code"]
TEST(OtlpEncode, PythonsAttributeNamesAlongside) {
  span_joiner j({});
  const std::vector<event_record> batch{
      start(1, t0, base, "db", R"({"db": {"statement": "SELECT 1", "params": {"id": 7, "s": "x"}}, "host": "vm"})"),
      stop(1, t0 + 1, base, "db", R"({"db": {"result": "1 row"}, "host": "vm"})"),
      start(2, t0, base, "wsgi", R"({"request": {"path": "/v2/servers", "query": "limit=1", "method": "GET", "scheme": "http"}})"),
      stop(2, t0 + 1, base, "wsgi", R"({"request": {"status_code": 200}})"),
      start(3, t0, base, "http", R"({"requests": {"method": "POST", "query": "", "path": "/v3/auth", "hostname": "keystone", "port": 5000, "scheme": "http"}})"),
      stop(3, t0 + 1, base, "http", R"({"requests": {"status_code": 201}})"),
      start(4, t0, base, "rpc", R"j({"function": {"name": "nova.compute.build", "args": "(1,)", "kwargs": "{}"}})j"),
      stop(4, t0 + 1, base, "rpc", R"({"function": {"result": "ok"}})"),
      start(5, t0, base, "plain", R"({"db": {}, "function": {"name": "f"}})"),
      stop(5, t0 + 1, base, "plain", "{}")};
  const std::string body = span_encoder({"api", "vm"}).encode(j.join(batch, t0 + 10));
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  std::map<std::string, simdjson::dom::element> by_id;
  for (auto s : doc["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"]) by_id[std::string(s["spanId"].get_string().value())] = s;
  auto text = [&](const char* span, std::string_view key) {
    return std::string(attribute(by_id.at(span)["attributes"], key)["stringValue"].get_string().value());
  };
  auto integer = [&](const char* span, std::string_view key) {
    return std::string(attribute(by_id.at(span)["attributes"], key)["intValue"].get_string().value());
  };
  EXPECT_EQ(text("0000000000000001", "db.statement"), "SELECT 1");
  EXPECT_EQ(text("0000000000000001", "db.params"), R"({"id":7,"s":"x"})");
  EXPECT_EQ(integer("0000000000000001", "db.params.id"), "7") << "osprof's own keys stay";
  EXPECT_EQ(text("0000000000000001", "result"), "1 row");
  EXPECT_EQ(text("0000000000000002", "http.path"), "/v2/servers");
  EXPECT_EQ(text("0000000000000002", "http.query"), "limit=1");
  EXPECT_EQ(text("0000000000000002", "http.method"), "GET");
  EXPECT_EQ(text("0000000000000002", "http.scheme"), "http");
  EXPECT_FALSE(has_attribute(by_id.at("0000000000000002")["attributes"], "status_code")) << "Python records none for wsgi";
  EXPECT_EQ(text("0000000000000003", "http.hostname"), "keystone");
  EXPECT_EQ(integer("0000000000000003", "http.port"), "5000");
  EXPECT_EQ(text("0000000000000003", "http.method"), "POST");
  EXPECT_EQ(integer("0000000000000003", "status_code"), "201");
  EXPECT_EQ(text("0000000000000004", "name"), "nova.compute.build");
  EXPECT_EQ(text("0000000000000004", "args"), "(1,)");
  EXPECT_EQ(text("0000000000000004", "kwargs"), "{}");
  EXPECT_EQ(text("0000000000000004", "result"), "ok");
  // An empty db is falsy in Python, so function is the one taken.
  EXPECT_FALSE(has_attribute(by_id.at("0000000000000005")["attributes"], "db.params"));
  EXPECT_EQ(text("0000000000000005", "name"), "f");
}

TEST(OtlpOptions, ServiceNamePrefixFromTheConnectionStringOrTheEnvironment) {
  EXPECT_EQ(parse("otlp://c").service_name_prefix, "");
  EXPECT_EQ(parse("otlp://c?service_name_prefix=region1").service_name_prefix, "region1");
  fake_env env;
  env.vars["OSPROF_OTLP_SERVICE_NAME_PREFIX"] = " region2 ";
  EXPECT_EQ(parse("otlp://c", env).service_name_prefix, "region2");
  EXPECT_EQ(parse("otlp://c?service_name_prefix=region1", env).service_name_prefix, "region1") << "the string wins";
}

TEST(OtlpOptions, BadOptionsAreErrors) {
  EXPECT_THROW(parse("otlp://c?bogus=1"), osprof::error);
  EXPECT_THROW(parse("otlp://c?compression=zstd"), osprof::error);
  EXPECT_THROW(parse("otlp://c?max_pending=0"), osprof::error);
  EXPECT_THROW(parse("otlp://c?unfinished_timeout_ms=0"), osprof::error);
  EXPECT_THROW(parse("otlp://c?headers=novalue"), osprof::error);
}

TEST(OtlpOptions, EndpointFromTheEnvironment) {
  fake_env env;
  EXPECT_EQ(parse("otlp://", env).url, "http://localhost:4318/v1/traces");
  EXPECT_EQ(parse("otlp://", env).endpoint.client.host, "localhost");

  env.vars["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://gen.example:4000/";
  auto o = parse("otlp://", env);
  EXPECT_EQ(o.endpoint.client.host, "gen.example");
  EXPECT_EQ(o.endpoint.client.port, 4000);
  EXPECT_EQ(o.target, "/v1/traces") << "appended to the generic endpoint, one slash";
  env.vars["OTEL_EXPORTER_OTLP_ENDPOINT"] = "https://gen.example/base";
  o = parse("otlp://", env);
  EXPECT_TRUE(o.endpoint.client.tls);
  EXPECT_EQ(o.endpoint.client.port, 443);
  EXPECT_EQ(o.target, "/base/v1/traces");

  env.vars["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://traces.example:5000/custom/path";
  o = parse("otlp://", env);
  EXPECT_EQ(o.endpoint.client.host, "traces.example");
  EXPECT_EQ(o.endpoint.client.port, 5000);
  EXPECT_EQ(o.target, "/custom/path") << "the per-signal endpoint is used as is";
  EXPECT_EQ(o.url, "http://traces.example:5000/custom/path");

  // The connection string's host wins over the environment.
  o = parse("otlp://explicit:4318", env);
  EXPECT_EQ(o.endpoint.client.host, "explicit");
  EXPECT_EQ(o.target, "/v1/traces");

  // An unusable URL is reported and ignored.
  log_lines.clear();
  auto previous = osprof::set_log_handler(capture);
  env.vars["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "ftp://x";
  o = parse("otlp://", env);
  osprof::set_log_handler(previous);
  EXPECT_EQ(o.endpoint.client.host, "gen.example") << "falls back to the generic endpoint";
  ASSERT_FALSE(log_lines.empty());
  EXPECT_NE(log_lines[0].find("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), std::string::npos) << log_lines[0];
}

TEST(OtlpOptions, HeadersTimeoutCompressionFromTheEnvironment) {
  fake_env env;
  env.vars["OTEL_EXPORTER_OTLP_HEADERS"] = "generic=1";
  env.vars["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = " api-key = secret%20value ,x-tenant=a%3Db,,broken";
  env.vars["OTEL_EXPORTER_OTLP_TIMEOUT"] = "3000";
  env.vars["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] = "2500";
  env.vars["OTEL_EXPORTER_OTLP_COMPRESSION"] = "none";
  env.vars["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"] = "GZIP";
  env.vars["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc";
  log_lines.clear();
  auto previous = osprof::set_log_handler(capture);
  auto o = parse("otlp://c", env);
  osprof::set_log_handler(previous);
  ASSERT_EQ(o.endpoint.client.headers.size(), 2u) << "the TRACES_ variable wins; 'broken' is skipped";
  EXPECT_EQ(o.endpoint.client.headers[0], (std::pair<std::string, std::string>{"api-key", "secret value"}));
  EXPECT_EQ(o.endpoint.client.headers[1], (std::pair<std::string, std::string>{"x-tenant", "a=b"}));
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(o.endpoint.gzip);
  bool broken = false, protocol = false;
  for (const auto& l : log_lines) {
    broken = broken || l.find("broken") != std::string::npos;
    protocol = protocol || (l.find("OTEL_EXPORTER_OTLP_PROTOCOL") != std::string::npos && l.find("http/json") != std::string::npos);
  }
  EXPECT_TRUE(broken);
  EXPECT_TRUE(protocol);

  // The connection string wins; 0 means no limit; invalid values keep the default.
  o = parse("otlp://c?compression=none&timeout_ms=900&headers=api-key%3Dother", env);
  EXPECT_FALSE(o.endpoint.gzip);
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::milliseconds(900));
  EXPECT_EQ(o.endpoint.client.headers[0], (std::pair<std::string, std::string>{"x-tenant", "a=b"}));
  EXPECT_EQ(o.endpoint.client.headers[1], (std::pair<std::string, std::string>{"api-key", "other"}));
  env.vars["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] = "0";
  EXPECT_GE(parse("otlp://c", env).endpoint.client.timeout, std::chrono::milliseconds(std::chrono::hours(24)));
  env.vars["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] = "-5";
  env.vars["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"] = "brotli";
  previous = osprof::set_log_handler(capture);
  o = parse("otlp://c", env);
  osprof::set_log_handler(previous);
  EXPECT_EQ(o.endpoint.client.timeout, std::chrono::milliseconds(10000));
  EXPECT_FALSE(o.endpoint.gzip) << "an invalid value is ignored";
  env.vars["OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"] = "/etc/ssl/ca.pem";
  EXPECT_EQ(parse("otlp://c", env).endpoint.client.ca_file, "/etc/ssl/ca.pem");
}

TEST(OtlpOptions, PercentDecoding) {
  EXPECT_EQ(osprof::detail::percent_decode("a%20b%2C%3d"), "a b,=");
  EXPECT_FALSE(osprof::detail::percent_decode("a%2").has_value());
  EXPECT_FALSE(osprof::detail::percent_decode("a%zz").has_value());
}

}  // namespace
