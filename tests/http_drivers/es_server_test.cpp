// The Elasticsearch driver against the loopback Elasticsearch of the CTest fixture
// (tests/servers/fake_elasticsearch.py; no Elasticsearch can be installed here): the stored
// layout, `osprof trace show --json` and `trace list` through the CLI giving what the SQLite
// backend gives for the same events, a trace beyond the 10,000-hit result window, indices that
// Elasticsearch mapped dynamically, gzip, and configuration errors. Every test uses indices of
// its own, so tests may run in parallel on the one server.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <set>

#include "loopback_util.hpp"

namespace {

using namespace osprof_test;
namespace fs = std::filesystem;

std::uint16_t es_port() { return fixture_port("fake-elasticsearch"); }

// elasticsearch://127.0.0.1:<port>?index=<name>-events&error_index=<name>-errors[&extra]
std::string es_url(const std::string& name, const std::string& extra = {}) {
  return "elasticsearch://127.0.0.1:" + std::to_string(es_port()) + "?index=" + name + "-events&error_index=" + name +
         "-errors" + (extra.empty() ? "" : "&" + extra);
}

struct cli_result {
  int code;
  std::string out;
  std::string err;
};

cli_result cli(const std::string& args) {
  const std::string err_file = fs::temp_directory_path() / ("osprof-es-cli-" + std::to_string(::getpid()) + ".err");
  const std::string command = std::string(OSPROF_CLI_PATH) + " " + args + " 2>" + err_file;
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  std::ifstream in(err_file);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(err_file);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, err};
}

// A multi-service trace with an error, three traces in all, at fixed times.
struct sample {
  osprof::uuid a = make_id(0xa0a0a0a0a0a04000ULL, 0x8000000000000001ULL);
  osprof::uuid b = make_id(0xb0b0b0b0b0b04000ULL, 0x8000000000000002ULL);
  osprof::uuid c = make_id(0xc0c0c0c0c0c04000ULL, 0x8000000000000003ULL);
  std::vector<osprof::event_record> events;
  sample() {
    const std::int64_t t = 1764590400000000;  // 2025-12-01T12:00:00
    const auto wsgi = make_id(0x1, 0x1), rpc = make_id(0x1, 0x2), db = make_id(0x1, 0x3), drv = make_id(0x1, 0x4);
    events = {
        make_event("wsgi", false, a, wsgi, a, t + 1, R"({"request": {"path": "/v2.1/servers", "method": "POST"}, "host": "vm"})"),
        make_event("rpc", false, a, rpc, wsgi, t + 120, R"({"host": "vm"})"),
        make_event("db", false, a, db, rpc, t + 130, R"({"db": {"statement": "SELECT 1", "params": {"id": 42}}, "host": "vm"})"),
        make_event("db", true, a, db, rpc, t + 1130, R"({"host": "vm"})"),
        make_event("rpc", true, a, rpc, wsgi, t + 2100, R"({"host": "vm"})"),
        make_event("driver", false, a, drv, wsgi, t + 2200, R"({"function": {"name": "ns::Driver::spawn"}, "host": "vm"})"),
        make_event("driver", true, a, drv, wsgi, t + 3400,
                   R"({"etype": "std::runtime_error", "message": "boom: cannot spawn vm1", "host": "vm"})"),
        make_event("wsgi", true, a, wsgi, a, t + 4000, R"({"host": "vm"})"),
        make_event("w", false, b, make_id(2, 1), b, t + 5000000, R"({"host": "vm"})"),
        make_event("w", true, b, make_id(2, 1), b, t + 5000100, R"({"host": "vm"})"),
        make_event("x", false, c, make_id(3, 1), c, t - 7000000, R"({"host": "vm"})"),
        make_event("x", true, c, make_id(3, 1), c, t - 6000000, R"({"etype": "E", "message": "m", "host": "vm"})"),
    };
  }
};

std::multiset<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST(EsServer, WritesOsprofilersLayoutAndReadsItBack) {
  const std::string url = es_url("layout");
  sample s;
  {
    driver_handle d(url);
    const auto r = d.write(s.events);
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(r.rejected, 0u);
    d.close();
  }
  simdjson::dom::parser parser;
  auto hits = http_json(parser, es_port(), "POST", "/layout-events/_search",
                        R"({"size":100,"query":{"term":{"base_id":")" + s.a.to_string() + R"("}},"sort":["_doc"]})");
  ASSERT_EQ(hits["hits"]["total"]["value"].get_int64().value(), 8) << simdjson::minify(hits);
  std::vector<std::string> stored;
  for (auto h : hits["hits"]["hits"]) stored.push_back(simdjson::minify(h["_source"]));
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < 8; ++i) {
    simdjson::dom::parser p;
    expected.push_back(simdjson::minify(p.parse(s.events[i].json)));
  }
  EXPECT_EQ(stored, expected) << "each event's JSON, as OSProfiler's notify indexes it";
  // One error document per trace with an error: OSProfiler's {base_id, timestamp}.
  auto errs = http_json(parser, es_port(), "POST", "/layout-errors/_search", R"({"size":10,"sort":[{"timestamp":"asc"}]})");
  ASSERT_EQ(errs["hits"]["total"]["value"].get_int64().value(), 2);
  EXPECT_EQ(simdjson::minify(errs["hits"]["hits"].at(1)["_source"]),
            "{\"base_id\":\"" + s.a.to_string() + "\",\"timestamp\":\"" + std::string(s.events[6].timestamp_text()) + "\"}");
  // The mapping the driver created.
  auto mapping = http_json(parser, es_port(), "GET", "/layout-events");
  EXPECT_EQ(std::string_view(mapping["layout-events"]["mappings"]["properties"]["base_id"]["type"].get_string().value()),
            "keyword");

  driver_handle reader(url);
  std::vector<std::string> event_jsons;
  for (std::size_t i = 0; i < 8; ++i) event_jsons.push_back(s.events[i].json);
  EXPECT_EQ(as_set(reader.trace(s.a.to_string())), as_set(event_jsons)) << "the stored bytes, unchanged";
  EXPECT_TRUE(reader.trace("00000000-0000-4000-8000-000000000000").empty());
  const auto list = reader.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].base_id, s.b.to_string());
  EXPECT_EQ(list[0].timestamp, std::string(s.events[8].timestamp_text()));
  EXPECT_EQ(list[1].base_id, s.a.to_string());
  EXPECT_EQ(list[1].timestamp, std::string(s.events[0].timestamp_text())) << "the trace's first event, microseconds kept";
  EXPECT_EQ(list[2].base_id, s.c.to_string());
  const auto errors = reader.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].base_id, s.a.to_string());
  EXPECT_EQ(errors[0].timestamp, std::string(s.events[0].timestamp_text()));
  EXPECT_EQ(errors[1].base_id, s.c.to_string());
  // The scroll contexts were cleared, not left to time out.
  EXPECT_TRUE(http_json(parser, es_port(), "GET", "/_osprof/stats")["open_scrolls_by_index"]["layout-events"].error());
}

TEST(EsServer, CliShowAndListGiveWhatSqliteGives) {
  const std::string url = es_url("cli");
  const fs::path db = fs::temp_directory_path() / ("osprof-es-cli-" + std::to_string(::getpid()) + ".db");
  fs::remove(db);
  const std::string sqlite = "sqlite:///" + db.string();
  sample s;
  for (const std::string& cs : {url, sqlite}) {
    driver_handle d(cs);
    const auto r = d.write(s.events);
    ASSERT_EQ(r.status, osprof::write_status::ok) << cs << ": " << r.error;
    d.close();
  }
  for (const auto& id : {s.a, s.b, s.c}) {
    const auto from_es = cli("trace show " + id.to_string() + " --json --connection-string '" + url + "'");
    const auto from_sqlite = cli("trace show " + id.to_string() + " --json --connection-string " + sqlite);
    ASSERT_EQ(from_es.code, 0) << from_es.err;
    ASSERT_EQ(from_sqlite.code, 0) << from_sqlite.err;
    EXPECT_EQ(from_es.out, from_sqlite.out);
    EXPECT_NE(from_es.out.find("\"name\": \"total\""), std::string::npos) << from_es.out.substr(0, 300);
  }
  const auto tree = cli("trace show " + s.a.to_string() + " --tree --connection-string '" + url + "'");
  EXPECT_NE(tree.out.find("std::runtime_error: boom: cannot spawn vm1"), std::string::npos) << tree.out;
  for (const char* flags : {"", " --error-trace"}) {
    const auto from_es = cli(std::string("trace list --json") + flags + " --connection-string '" + url + "'");
    const auto from_sqlite = cli(std::string("trace list --json") + flags + " --connection-string " + sqlite);
    ASSERT_EQ(from_es.code, 0) << from_es.err;
    EXPECT_EQ(from_es.out, from_sqlite.out) << flags;
  }
  const auto unknown = cli("trace show 00000000-0000-4000-8000-00000000abcd --connection-string '" + url + "'");
  EXPECT_EQ(unknown.code, 1) << unknown.out << unknown.err;
  fs::remove(db);
}

TEST(EsServer, ReadsATraceBeyondTheResultWindow) {
  const std::string url = es_url("big", "scroll_size=4000");
  const auto base = make_id(0xbbbb, 0x1);
  std::vector<osprof::event_record> events;
  for (std::uint64_t i = 0; i < 10600; ++i) {
    events.push_back(make_event("p", false, base, make_id(9, i), base, 1764590400000000 + static_cast<std::int64_t>(i),
                                R"({"host": "vm"})"));
    events.push_back(make_event("p", true, base, make_id(9, i), base, 1764590400000001 + static_cast<std::int64_t>(i),
                                R"({"host": "vm"})"));
  }
  {
    driver_handle d(url);
    for (std::size_t from = 0; from < events.size(); from += 2000) {
      const std::span<const osprof::event_record> batch(events.data() + from, std::min<std::size_t>(2000, events.size() - from));
      const auto r = d.write(batch);
      ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    }
    d.close();
  }
  simdjson::dom::parser parser;
  // A plain search cannot page past 10,000 hits: the driver has to scroll.
  const auto window = http_call(es_port(), "POST", "/big-events/_search", R"({"from":9000,"size":2000})");
  EXPECT_EQ(window.status, 400u);
  EXPECT_NE(window.body.find("Result window is too large"), std::string::npos);
  driver_handle reader(url);
  const auto read = reader.trace(base.to_string());
  ASSERT_EQ(read.size(), events.size());
  std::set<std::string> unique(read.begin(), read.end());
  EXPECT_EQ(unique.size(), events.size()) << "every event once";
  const auto stats = http_json(parser, es_port(), "GET", "/_osprof/stats");
  EXPECT_TRUE(stats["open_scrolls_by_index"]["big-events"].error()) << "the driver cleared its scroll";
  EXPECT_GE(stats["scroll_pages"].get_int64().value(), 6) << "21,200 hits in pages of 4,000";
  const auto shown = cli("trace show " + base.to_string() + " --json --connection-string '" + url + "'");
  ASSERT_EQ(shown.code, 0) << shown.err;
  simdjson::dom::element report;
  ASSERT_FALSE(parser.parse(shown.out).get(report)) << shown.out.substr(0, 300);
  EXPECT_EQ(report["stats"]["p"]["count"].get_int64().value(), 10600);
}

TEST(EsServer, ResendingABatchReplacesInsteadOfDuplicating) {
  const std::string url = es_url("idempotent");
  sample s;
  driver_handle d(url);
  ASSERT_EQ(d.write(s.events).status, osprof::write_status::ok);
  // A different span of the same events: as if an answer had been lost and the batch resent.
  std::vector<osprof::event_record> again(s.events.begin(), s.events.end());
  ASSERT_EQ(d.write(again).status, osprof::write_status::ok);
  d.close();
  simdjson::dom::parser parser;
  auto stats = http_json(parser, es_port(), "GET", "/_osprof/stats");
  EXPECT_EQ(stats["indices"]["idempotent-events"].get_int64().value(), 12);
  EXPECT_EQ(stats["indices"]["idempotent-errors"].get_int64().value(), 2);
}

// Indices Elasticsearch created itself (Python OSProfiler's writes leave them so) hold base_id
// as text with a .keyword subfield; reads look at the mapping and need no option.
TEST(EsServer, DynamicallyMappedIndicesAreReadWithoutOptions) {
  const std::string url = es_url("dynamic", "create_index=false");
  sample s;
  {
    driver_handle d(url);
    ASSERT_EQ(d.write(s.events).status, osprof::write_status::ok);
    d.close();
  }
  simdjson::dom::parser parser;
  auto mapping = http_json(parser, es_port(), "GET", "/dynamic-events");
  EXPECT_EQ(std::string_view(mapping["dynamic-events"]["mappings"]["properties"]["base_id"]["type"].get_string().value()),
            "text");
  driver_handle plain(url);
  EXPECT_EQ(plain.trace(s.a.to_string()).size(), 8u);
  const auto list = plain.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].base_id, s.b.to_string());
  EXPECT_EQ(list[1].base_id, s.a.to_string());
  EXPECT_EQ(list[1].timestamp, "2025-12-01T12:00:00.000001") << "the earliest event, microseconds kept";
  EXPECT_EQ(plain.errors().size(), 2u);

  // ?keyword_subfields= overrides the mapping: false queries the text field itself.
  driver_handle forced(url + "&keyword_subfields=false");
  EXPECT_TRUE(forced.trace(s.a.to_string()).empty()) << "a term query on a text field matches tokens, not the id";
  try {
    forced.list();
    ADD_FAILURE() << "aggregating a text field must fail";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("keyword_subfields= overrides"), std::string::npos) << e.what();
  }
  EXPECT_EQ(driver_handle(url + "&keyword_subfields=true").trace(s.a.to_string()).size(), 8u);
}

TEST(EsServer, GzipAndTheEmitter) {
  simdjson::dom::parser parser;
  const auto before = http_json(parser, es_port(), "GET", "/_osprof/stats");
  std::int64_t gzip_before = 0;
  if (before["gzip_requests"].get_int64().get(gzip_before)) gzip_before = 0;
  std::string base;
  osprof::stats st;
  {
    osprof::emitter e{test_options(es_url("gzip", "compression=gzip"))};
    base = emit_demo_trace();
    ASSERT_TRUE(e.flush(10s));
    e.shutdown(5s);
    st = e.get_stats();
  }
  EXPECT_EQ(st.emitted, 8u);
  EXPECT_EQ(st.written, 8u) << balance_text(st);
  const auto after = http_json(parser, es_port(), "GET", "/_osprof/stats");
  EXPECT_GT(after["gzip_requests"].get_int64().value(), gzip_before);
  driver_handle reader(es_url("gzip"));
  EXPECT_EQ(reader.trace(base).size(), 8u);
}

std::vector<std::string>& logged() {
  static std::vector<std::string> lines;
  return lines;
}

// Elasticsearch 8 has no mapping types: a doc_type given for an older server is not sent
// (the server would refuse every document), and the log says so once.
TEST(EsServer, DocTypeIsIgnoredWhereTheServerHasNoTypes) {
  logged().clear();
  osprof::set_log_handler([](std::string_view m) { logged().emplace_back(m); });
  osprof::stats st;
  std::string base;
  {
    osprof::emitter e{test_options(es_url("typed", "doc_type=notification"))};
    base = emit_demo_trace();
    e.flush(10s);
    e.shutdown(5s);
    st = e.get_stats();
  }
  osprof::set_log_handler(nullptr);
  EXPECT_EQ(st.emitted, 8u);
  EXPECT_EQ(st.written, 8u) << balance_text(st);
  EXPECT_EQ(std::count_if(logged().begin(), logged().end(),
                          [](const std::string& l) {
                            return l.find("ignoring doc_type=notification: Elasticsearch 8.11.0 has no mapping types") !=
                                   std::string::npos;
                          }),
            1)
      << (logged().empty() ? std::string("nothing logged") : logged().front());
  EXPECT_EQ(driver_handle(es_url("typed")).trace(base).size(), 8u);
}

TEST(EsServer, MissingIndicesReadAsEmpty) {
  driver_handle reader(es_url("never-written"));
  EXPECT_TRUE(reader.trace("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee").empty());
  EXPECT_TRUE(reader.list().empty());
  EXPECT_TRUE(reader.errors().empty());
}

TEST(EsServer, UnreachableServerIsAClearReadError) {
  driver_handle reader("elasticsearch://127.0.0.1:" + std::to_string(free_port()));
  try {
    reader.list();
    ADD_FAILURE() << "no server: list must fail";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("listing traces failed"), std::string::npos) << e.what();
  }
}

}  // namespace
