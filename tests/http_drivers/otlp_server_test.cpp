// The OTLP driver against the loopback OTLP/HTTP receiver of the CTest fixture
// (tests/servers/otlp_receiver.py; no collector can be installed here), which checks every body
// against the OTLP JSON rules and keeps the spans it accepts: the exact mapping of hand-made
// events, a trace from the emitter, unfinished spans, headers and gzip from the environment,
// and `trace show` saying that OTLP is write-only. The tests share one receiver, so they take
// a lock and clear its spans first.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "loopback_util.hpp"

namespace {

using namespace osprof_test;

std::uint16_t otlp_port() { return fixture_port("otlp-receiver"); }
std::string otlp_url(const std::string& extra = {}) {
  return "otlp://127.0.0.1:" + std::to_string(otlp_port()) + (extra.empty() ? "" : "?" + extra);
}

class OtlpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(http_call(otlp_port(), "DELETE", "/debug/spans").status, 200u);
    ASSERT_EQ(http_call(otlp_port(), "DELETE", "/debug/faults").status, 200u);
    rejections_before_ = stats()["rejections"].get_array().size();
  }
  void TearDown() override {
    // Whatever a test sent, the receiver found nothing to object to.
    auto r = stats()["rejections"];
    EXPECT_EQ(r.get_array().size(), rejections_before_) << simdjson::minify(r);
  }
  simdjson::dom::element stats() { return http_json(parser_, otlp_port(), "GET", "/debug/stats"); }
  simdjson::dom::array spans() { return http_json(spans_parser_, otlp_port(), "GET", "/debug/spans")["spans"].get_array(); }

  simdjson::dom::parser parser_;
  simdjson::dom::parser spans_parser_;
  std::size_t rejections_before_ = 0;
};

std::string str(simdjson::dom::element e) { return std::string(e.get_string().value()); }

TEST_F(OtlpServer, HandMadeEventsArriveAsTheExpectedSpans) {
  const auto base = make_id(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  const auto wsgi = make_id(0x1111111111111111ULL, 0x2222222222222222ULL);
  const auto db = make_id(0x3333333333333333ULL, 0x4444444444444444ULL);
  const std::int64_t t = 1764590400000000;
  const std::vector<osprof::event_record> batch{
      make_event("wsgi", false, base, wsgi, base, t, R"({"request": {"path": "/v2.1/servers", "method": "GET", "query": "a=1", "scheme": "http"}, "host": "vm"})"),
      make_event("db", false, base, db, wsgi, t + 100, R"({"db": {"statement": "UPDATE t SET x=1", "params": {"x": 1}}, "host": "vm"})"),
      make_event("db", true, base, db, wsgi, t + 1100, R"({"etype": "IntegrityError", "message": "dup", "host": "vm"})"),
      make_event("wsgi", true, base, wsgi, base, t + 5000, R"({"host": "vm"})")};
  {
    driver_handle d(otlp_url(), "nova", "api");
    const auto r = d.write(batch);
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(r.rejected, 0u);
    d.close();
  }
  auto received = spans();
  ASSERT_EQ(received.size(), 2u);
  std::map<std::string, simdjson::dom::element> by_span;
  for (auto s : received) by_span[str(s["spanId"])] = s;
  ASSERT_EQ(by_span.count("2222222222222222"), 1u);
  ASSERT_EQ(by_span.count("4444444444444444"), 1u);
  auto root = by_span["2222222222222222"];
  EXPECT_EQ(str(root["traceId"]), "0123456789abcdeffedcba9876543210");
  EXPECT_TRUE(root["parentSpanId"].is_null());
  EXPECT_EQ(str(root["name"]), "WSGI_GET_/v2.1/servers");
  EXPECT_EQ(root["kind"].get_int64().value(), 2);
  EXPECT_EQ(root["startTimeUnixNano"].get_uint64().value(), 1764590400000000000ULL);
  EXPECT_EQ(root["endTimeUnixNano"].get_uint64().value(), 1764590400005000000ULL);
  EXPECT_EQ(str(root["attributes"]["request.query"]), "a=1");
  EXPECT_EQ(str(root["attributes"]["host"]), "vm");
  EXPECT_EQ(root["status"]["code"].get_int64().value(), 0);
  EXPECT_EQ(str(root["resource"]["service.name"]), "nova-api") << "<project>-<service>, as Python OSProfiler's";
  EXPECT_TRUE(root["resource"]["service.namespace"].error());
  EXPECT_EQ(str(root["resource"]["host.name"]), "vm");
  EXPECT_EQ(str(root["scope"]["name"]), "osprof");
  auto child = by_span["4444444444444444"];
  EXPECT_EQ(str(child["traceId"]), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(str(child["parentSpanId"]), "2222222222222222");
  EXPECT_EQ(str(child["name"]), "SQL_UPDATE");
  EXPECT_EQ(child["kind"].get_int64().value(), 3);
  EXPECT_EQ(child["attributes"]["db.params.x"].get_int64().value(), 1);
  EXPECT_EQ(child["status"]["code"].get_int64().value(), 2);
  EXPECT_EQ(str(child["status"]["message"]), "IntegrityError: dup");
  EXPECT_TRUE(child["attributes"]["error"].get_bool().value());
  EXPECT_EQ(str(child["events"].at(0)["name"]), "log");
  EXPECT_EQ(str(child["events"].at(0)["attributes"]["error.kind"]), "IntegrityError");
  EXPECT_EQ(str(child["events"].at(0)["attributes"]["message"]), "dup");
  EXPECT_EQ(str(child["events"].at(1)["name"]), "exception");
  EXPECT_EQ(str(child["events"].at(1)["attributes"]["exception.type"]), "IntegrityError");
  EXPECT_EQ(child["events"].at(1)["timeUnixNano"].get_uint64().value(), 1764590400001100000ULL);
}

TEST_F(OtlpServer, TraceFromTheEmitterKeepsItsTree) {
  std::string base;
  osprof::stats st;
  {
    osprof::emitter e{test_options(otlp_url("service_name_prefix=region1"))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(5s);
    st = e.get_stats();
  }
  EXPECT_EQ(st.emitted, 8u);
  EXPECT_EQ(st.written, 8u) << balance_text(st);
  auto received = spans();
  ASSERT_EQ(received.size(), 4u);
  std::string hex = base;
  std::erase(hex, '-');
  std::map<std::string, simdjson::dom::element> by_name;
  for (auto s : received) {
    EXPECT_EQ(str(s["traceId"]), hex);
    by_name[str(s["name"])] = s;
  }
  ASSERT_EQ(by_name.count("WSGI_POST_/v2.1/servers"), 1u);
  ASSERT_EQ(by_name.count("rpc"), 1u);
  ASSERT_EQ(by_name.count("SQL_SELECT"), 1u);
  ASSERT_EQ(by_name.count("driver"), 1u);
  auto wsgi = by_name["WSGI_POST_/v2.1/servers"];
  EXPECT_TRUE(wsgi["parentSpanId"].is_null());
  EXPECT_EQ(str(by_name["rpc"]["parentSpanId"]), str(wsgi["spanId"]));
  EXPECT_EQ(str(by_name["SQL_SELECT"]["parentSpanId"]), str(by_name["rpc"]["spanId"]));
  EXPECT_EQ(str(by_name["driver"]["parentSpanId"]), str(wsgi["spanId"]));
  EXPECT_EQ(by_name["driver"]["status"]["code"].get_int64().value(), 2);
  EXPECT_EQ(str(by_name["driver"]["events"].at(0)["attributes"]["message"]), "boom: cannot spawn vm1");
  EXPECT_EQ(str(by_name["driver"]["events"].at(1)["attributes"]["exception.message"]), "boom: cannot spawn vm1");
  EXPECT_EQ(str(by_name["driver"]["resource"]["service.name"]), "region1-demo-api") << "the prefix option reaches the resource";
  for (auto [name, s] : by_name) {
    EXPECT_GE(s["endTimeUnixNano"].get_uint64().value(), s["startTimeUnixNano"].get_uint64().value()) << name;
    EXPECT_GE(s["startTimeUnixNano"].get_uint64().value(), wsgi["startTimeUnixNano"].get_uint64().value()) << name;
  }
}

TEST_F(OtlpServer, UnfinishedSpansAfterTheTimeoutAndAtClose) {
  const auto base = make_id(0xabc, 0xdef);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  driver_handle d(otlp_url("unfinished_timeout_ms=100"));
  const std::vector<osprof::event_record> first{
      make_event("lost", false, base, make_id(1, 1), base, now, R"({"host": "vm"})"),
      make_event("kept", false, base, make_id(1, 2), base, now + 1, R"({"host": "vm"})")};
  EXPECT_EQ(d.write(first).status, osprof::write_status::ok);
  EXPECT_EQ(spans().size(), 0u) << "starts are held for their stops";
  std::this_thread::sleep_for(250ms);
  const std::vector<osprof::event_record> second{
      make_event("quick", false, base, make_id(1, 3), base, now + 250000, R"({"host": "vm"})"),
      make_event("quick", true, base, make_id(1, 3), base, now + 250001, R"({"host": "vm"})")};
  EXPECT_EQ(d.write(second).status, osprof::write_status::ok);
  auto received = spans();
  ASSERT_EQ(received.size(), 3u) << "the pair, and both starts older than 100 ms";
  std::map<std::string, simdjson::dom::element> by_name;
  for (auto s : received) by_name[str(s["name"])] = s;
  EXPECT_TRUE(by_name["lost"]["attributes"]["osprof.unfinished"].get_bool().value());
  EXPECT_TRUE(by_name["quick"]["attributes"]["osprof.unfinished"].error());

  // A start still held at close is exported then.
  const std::vector<osprof::event_record> third{
      make_event("open", false, base, make_id(1, 4), base, now + 300000, R"({"host": "vm"})")};
  EXPECT_EQ(d.write(third).status, osprof::write_status::ok);
  EXPECT_EQ(spans().size(), 3u);
  d.close();
  received = spans();
  ASSERT_EQ(received.size(), 4u);
  EXPECT_EQ(str(received.at(3)["name"]), "open");
  EXPECT_TRUE(received.at(3)["attributes"]["osprof.unfinished"].get_bool().value());
}

TEST_F(OtlpServer, EndpointHeadersAndGzipFromTheEnvironment) {
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ("http://127.0.0.1:" + std::to_string(otlp_port())).c_str(), 1);
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-scope-orgid=tenant%201,authorization=Bearer%20t0k", 1);
  ::setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
  osprof::stats st;
  {
    osprof::emitter e{test_options("otlp://")};
    emit_demo_trace();
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(5s);
    st = e.get_stats();
  }
  ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
  ::unsetenv("OTEL_EXPORTER_OTLP_COMPRESSION");
  EXPECT_EQ(st.written, 8u) << balance_text(st);
  EXPECT_EQ(spans().size(), 4u);
  auto s = stats();
  EXPECT_EQ(str(s["last_headers"]["x-scope-orgid"]), "tenant 1");
  EXPECT_EQ(str(s["last_headers"]["authorization"]), "Bearer t0k");
  EXPECT_EQ(str(s["last_headers"]["content-encoding"]), "gzip");
  EXPECT_EQ(str(s["last_headers"]["content-type"]), "application/json");
}

TEST_F(OtlpServer, ShowAndListSayOtlpIsWriteOnly) {
  const std::string command = std::string(OSPROF_CLI_PATH) + " trace show aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee --connection-string " +
                              otlp_url() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(out.find("write-only"), std::string::npos) << out;
  EXPECT_NE(out.find("Jaeger"), std::string::npos) << "the driver's own explanation reaches the CLI: " << out;
  driver_handle reader(otlp_url());
  const auto drivers = osprof::registered_drivers();
  const auto otlp = std::find_if(drivers.begin(), drivers.end(), [](const auto& d) { return d.scheme == "otlp"; });
  ASSERT_NE(otlp, drivers.end());
  EXPECT_TRUE(otlp->can_write);
  EXPECT_FALSE(otlp->can_read);
  try {
    reader.list();
    ADD_FAILURE() << "list must fail on a write-only backend";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("OTLP is write-only"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Jaeger"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reader.trace("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), osprof::error);
  EXPECT_THROW(reader.errors(), osprof::error);
}

}  // namespace
