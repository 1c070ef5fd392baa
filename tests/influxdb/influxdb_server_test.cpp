// The InfluxDB driver against a real influxd (Debian's 1.6) started by a CTest fixture
// (tests/servers/influxdb.sh): the real emitter writes, `osprof trace show --json` and `trace
// list` through the CLI give what the SQLite backend gives for the same events, the points
// are stored as the README's schema says, and configuration problems are clear errors.
#include <gtest/gtest.h>

#include <set>

#include <simdjson.h>

#include "../http_drivers/server_test_util.hpp"

namespace {

using namespace osprof_test;

std::string base_url() { return "http://127.0.0.1:" + std::to_string(fixture_port("influxdb")); }

// A database per test (and process), so tests may run in parallel on the one server.
std::string fresh_database(const std::string& name) {
  const std::string db = name + "_" + std::to_string(::getpid());
  shell("curl -s -XPOST '" + base_url() + "/query' --data-urlencode 'q=DROP DATABASE \"" + db + "\"' >/dev/null");
  return db;
}

std::string url(const std::string& db, const std::string& options = {}) {
  return "influxdb://127.0.0.1:" + std::to_string(fixture_port("influxdb")) + "/" + db + options;
}

// InfluxQL through curl, answer as JSON text.
std::string influxql(const std::string& db, const std::string& q) {
  return shell("curl -s -XPOST '" + base_url() + "/query?db=" + db + "&epoch=ns' --data-urlencode " + single_quoted("q=" + q)).out;
}

osprof::stats emit_into(const std::string& connection, std::string& base, int burst = 100) {
  osprof::emitter e{test_options(connection)};
  base = emit_test_trace(burst);
  EXPECT_TRUE(e.flush(std::chrono::seconds(20)));
  e.shutdown(std::chrono::seconds(10));
  return e.get_stats();
}

TEST(InfluxServer, RoundTripThroughTheCliMatchesSqlite) {
  const std::string db = fresh_database("roundtrip");
  std::string base;
  const auto s = emit_into(url(db), base);
  const std::uint64_t events = 8 + 2 * 6 + 2 * 100;
  EXPECT_EQ(s.emitted, events);
  EXPECT_EQ(s.written, events) << s.last_error;
  expect_balanced(s);

  backend influx(url(db));
  const auto stored = influx.trace(base);
  ASSERT_EQ(stored.size(), events);
  const std::string reference = sqlite_copy(stored, "influx-roundtrip");

  const auto ours = cli("trace show " + base + " --json --connection-string " + single_quoted(url(db)));
  const auto theirs = cli("trace show " + base + " --json --connection-string " + single_quoted(reference));
  ASSERT_EQ(ours.code, 0) << cli("trace show " + base + " --json --connection-string " + single_quoted(url(db)), true).out;
  ASSERT_EQ(theirs.code, 0);
  EXPECT_EQ(ours.out, theirs.out);
  // The report holds every point, names and payloads exact.
  EXPECT_NE(ours.out.find("GET /v2.1/servers, id=7"), std::string::npos);
  EXPECT_NE(ours.out.find("C:\\\\temp\\\\new"), std::string::npos);
  EXPECT_NE(ours.out.find("trailing\\\\"), std::string::npos);
  EXPECT_NE(ours.out.find("boom: cannot spawn vm1"), std::string::npos);

  for (const std::string list : {"trace list --json", "trace list --json --error-trace", "trace list"}) {
    const auto a = cli(list + " --connection-string " + single_quoted(url(db)));
    const auto b = cli(list + " --connection-string " + single_quoted(reference));
    ASSERT_EQ(a.code, 0) << list;
    EXPECT_EQ(a.out, b.out) << list;
    EXPECT_NE(a.out.find(base), std::string::npos) << list << ": " << a.out;
  }
}

TEST(InfluxServer, StoresOnePointPerEventAsDocumented) {
  const std::string db = fresh_database("schema");
  std::string base;
  const auto s = emit_into(url(db, "?measurement=spans"), base, 500);
  const std::uint64_t events = 8 + 2 * 6 + 2 * 500;
  EXPECT_EQ(s.written, events) << s.last_error;

  // Every event is a point (a burst of 1,000 "tight" events in a few hundred microseconds
  // included: none overwrote another).
  const std::string count = influxql(db, "SELECT count(\"event\") FROM \"spans\" WHERE \"base_id\" = '" + base + "'");
  EXPECT_NE(count.find("[0," + std::to_string(events) + "]"), std::string::npos) << count;
  const std::string tight = influxql(db, "SELECT count(\"event\") FROM \"spans\" WHERE \"name\" = 'tight-start'");
  EXPECT_NE(tight.find("[0,500]"), std::string::npos) << tight;

  const std::string tags = influxql(db, "SHOW TAG KEYS FROM \"spans\"");
  EXPECT_NE(tags.find("[[\"base_id\"],[\"host\"],[\"name\"],[\"project\"],[\"service\"]]"), std::string::npos) << tags;
  const std::string fields = influxql(db, "SHOW FIELD KEYS FROM \"spans\"");
  EXPECT_NE(fields.find("[[\"error\",\"boolean\"],[\"event\",\"string\"]]"),
            std::string::npos)
      << fields;
  // Tag values are escaped (or, for what line protocol cannot carry, replaced) but usable.
  const std::string names = influxql(db, "SHOW TAG VALUES FROM \"spans\" WITH KEY = \"name\"");
  EXPECT_NE(names.find("\"GET /v2.1/servers, id=7-start\""), std::string::npos) << names;
  EXPECT_NE(names.find("\"trailing/-stop\""), std::string::npos) << names;
  // `error` is on the failed stop only.
  const std::string errors = influxql(db, "SELECT \"name\", \"error\" FROM \"spans\" WHERE \"error\" = true");
  EXPECT_NE(errors.find("\"driver-stop\",true"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("wsgi"), std::string::npos) << errors;
  // The time of a point is its event's microsecond plus a sub-microsecond offset.
  simdjson::dom::parser parser;
  const std::string rows = influxql(db, "SELECT \"event\" FROM \"spans\" WHERE \"name\" = 'wsgi-start'");
  simdjson::dom::element doc = parser.parse(rows);
  const std::int64_t ns = doc["results"].at(0)["series"].at(0)["values"].at(0).at(0);
  const std::string_view event = doc["results"].at(0)["series"].at(0)["values"].at(0).at(1);
  simdjson::dom::parser event_parser;
  const std::string_view ts = event_parser.parse(std::string(event))["timestamp"];
  EXPECT_EQ(osprof::detail::format_timestamp(ns / 1000), ts);
}

TEST(InfluxServer, ListsNewestFirstAndErrorsOnly) {
  const std::string db = fresh_database("lists");
  backend writer(url(db));
  const osprof::uuid a = *osprof::uuid::parse("aaaaaaaa-0000-4000-8000-000000000001");
  const osprof::uuid b = *osprof::uuid::parse("bbbbbbbb-0000-4000-8000-000000000002");
  const osprof::uuid c = *osprof::uuid::parse("cccccccc-0000-4000-8000-000000000003");
  const osprof::uuid p = *osprof::uuid::parse("dddddddd-0000-4000-8000-000000000004");
  // c's callee batch is stored before its caller's start: the start is still the earliest.
  std::vector<event_record> first = {make_record("callee-start", c, p, c, 1'700'000'300'000'000),
                                     make_record("callee-stop", c, p, c, 1'700'000'300'500'000, "\"etype\": \"E\"", true),
                                     make_record("w-start", a, p, a, 1'700'000'100'000'000),
                                     make_record("w-stop", a, p, a, 1'700'000'100'000'001, "\"etype\": \"E\"", true)};
  std::vector<event_record> second = {make_record("caller-start", c, a, c, 1'700'000'299'999'999),
                                      make_record("w-start", b, p, b, 1'700'000'200'000'000),
                                      make_record("w-stop", b, p, b, 1'700'000'200'000'002)};
  {
    const auto r = writer.write(first);
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
  }
  {
    const auto r = writer.write(second);
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
  }
  backend reader(url(db));
  const auto list = reader.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].base_id, c.to_string());
  EXPECT_EQ(list[0].timestamp, osprof::detail::format_timestamp(1'700'000'299'999'999));
  EXPECT_EQ(list[1].base_id, b.to_string());
  EXPECT_EQ(list[2].base_id, a.to_string());
  EXPECT_EQ(list[2].timestamp, osprof::detail::format_timestamp(1'700'000'100'000'000));
  const auto errors = reader.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].base_id, c.to_string());
  EXPECT_EQ(errors[0].timestamp, list[0].timestamp);
  EXPECT_EQ(errors[1].base_id, a.to_string());
  EXPECT_EQ(reader.trace(c.to_string()).size(), 3u);
  EXPECT_TRUE(reader.trace("00000000-0000-0000-0000-000000000000").empty());
  EXPECT_TRUE(reader.trace("x' OR 'a' = 'a").empty()) << "the id is a quoted literal";
}

// A server refuses a write to a missing database before reading the body and closes the
// connection: with a large body the client sees a broken pipe, never the refusal. The driver
// checks for the database before its first write, so a large first batch is stored.
TEST(InfluxServer, ALargeFirstBatchIntoAMissingDatabaseIsStored) {
  const std::string db = fresh_database("large");
  backend writer(url(db));
  const osprof::uuid base = *osprof::uuid::parse("eeeeeeee-0000-4000-8000-000000000005");
  std::vector<event_record> batch;
  const std::string blob = "\"blob\": \"" + std::string(600, 'b') + "\"";
  for (std::uint64_t i = 0; i < 20000; ++i) {
    batch.push_back(make_record(i % 2 ? "p-stop" : "p-start", base, {0x1234, i / 2 + 1}, base,
                                1'700'000'000'000'000 + static_cast<std::int64_t>(i), blob));
  }
  const auto r = writer.write(batch);  // about 16 MB of request bodies
  ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
  EXPECT_EQ(r.rejected, 0u);
  backend reader(url(db));
  EXPECT_EQ(reader.trace(base.to_string()).size(), 20000u);
}

TEST(InfluxServer, MissingDatabaseIsCreatedOnWriteAndAClearErrorOnRead) {
  const std::string db = fresh_database("created");
  backend reader(url(db));
  try {
    reader.list();
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("database '" + db + "' does not exist"), std::string::npos) << e.what();
  }
  const auto show = cli("trace show aaaaaaaa-0000-4000-8000-000000000001 --connection-string " + single_quoted(url(db)), true);
  EXPECT_EQ(show.code, 1);
  EXPECT_NE(show.out.find("does not exist"), std::string::npos) << show.out;

  // create_database=false: the events are dropped and counted, with the reason.
  std::string base;
  auto s = emit_into(url(db, "?create_database=false"), base, 0);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, s.emitted);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("does not exist"), std::string::npos) << s.last_error;

  s = emit_into(url(db), base, 0);
  EXPECT_EQ(s.written, s.emitted) << s.last_error;
  EXPECT_EQ(reader.trace(base).size(), s.emitted);
}

TEST(InfluxServer, FieldTypeConflictIsCountedPerEvent) {
  const std::string db = fresh_database("conflict");
  shell("curl -s -XPOST '" + base_url() + "/query' --data-urlencode 'q=CREATE DATABASE \"" + db + "\"' >/dev/null");
  // `event` already exists as an integer in the current shard: every event point is refused.
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  shell("curl -s -XPOST '" + base_url() + "/write?db=" + db + "&precision=ns' --data-binary 'osprofiler_events,base_id=x event=1i " +
        std::to_string(now_ns) + "'");
  osprof::set_log_handler(capture_log);
  std::string base;
  const auto s = emit_into(url(db), base, 0);
  osprof::set_log_handler(nullptr);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, s.emitted);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("field type conflict"), std::string::npos) << s.last_error;
  EXPECT_TRUE(logged("field type conflict"));
}

}  // namespace
