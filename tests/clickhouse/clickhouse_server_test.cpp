// The ClickHouse driver against a real clickhouse-server (Debian's 18.16) started by a CTest
// fixture (tests/servers/clickhouse.sh): the real emitter writes, `osprof trace show --json`
// and `trace list` through the CLI give what the SQLite backend gives for the same events, rows
// are stored as the README's schema says, the README's cluster setup (a Distributed table over
// per-shard tables) works, an INSERT sent twice is read once, and problems are clear errors.
#include <gtest/gtest.h>

#include <set>

#include <simdjson.h>

#include "../http_drivers/server_test_util.hpp"

namespace {

using namespace osprof_test;

std::string base_url() { return "http://127.0.0.1:" + std::to_string(fixture_port("clickhouse")) + "/"; }

// SQL through curl; the answer's body.
std::string sql(const std::string& query) {
  return shell("curl -s '" + base_url() + "?output_format_json_quote_64bit_integers=0' --data-binary " + single_quoted(query)).out;
}

// A database per test (and process), so tests may run in parallel on the one server.
std::string fresh_database(const std::string& name) {
  const std::string db = name + "_" + std::to_string(::getpid());
  sql("DROP DATABASE IF EXISTS " + db);
  return db;
}

std::string url(const std::string& db, const std::string& options = {}) {
  return "clickhouse://127.0.0.1:" + std::to_string(fixture_port("clickhouse")) + "/" + db + options;
}

osprof::stats emit_into(const std::string& connection, std::string& base, int burst = 100) {
  osprof::emitter e{test_options(connection)};
  base = emit_test_trace(burst);
  EXPECT_TRUE(e.flush(std::chrono::seconds(20)));
  e.shutdown(std::chrono::seconds(10));
  return e.get_stats();
}

void expect_same_reports(const std::string& ours_url, const std::string& reference, const std::string& base,
                         bool same_lists = true) {
  const auto ours = cli("trace show " + base + " --json --connection-string " + single_quoted(ours_url));
  const auto theirs = cli("trace show " + base + " --json --connection-string " + single_quoted(reference));
  ASSERT_EQ(ours.code, 0) << cli("trace show " + base + " --json --connection-string " + single_quoted(ours_url), true).out;
  ASSERT_EQ(theirs.code, 0);
  EXPECT_EQ(ours.out, theirs.out);
  if (!same_lists) return;
  for (const std::string list : {"trace list --json", "trace list --json --error-trace", "trace list"}) {
    const auto a = cli(list + " --connection-string " + single_quoted(ours_url));
    const auto b = cli(list + " --connection-string " + single_quoted(reference));
    ASSERT_EQ(a.code, 0) << list;
    EXPECT_EQ(a.out, b.out) << list;
    EXPECT_NE(a.out.find(base), std::string::npos) << list << ": " << a.out;
  }
}

TEST(ClickHouseServer, RoundTripThroughTheCliMatchesSqlite) {
  const std::string db = fresh_database("roundtrip");
  std::string base;
  const auto s = emit_into(url(db), base);
  const std::uint64_t events = 8 + 2 * 6 + 2 * 100;
  EXPECT_EQ(s.emitted, events);
  EXPECT_EQ(s.written, events) << s.last_error;
  expect_balanced(s);

  backend ch(url(db));
  const auto stored = ch.trace(base);
  ASSERT_EQ(stored.size(), events);
  const std::string reference = sqlite_copy(stored, "clickhouse-roundtrip");
  expect_same_reports(url(db), reference, base);
  const auto ours = cli("trace show " + base + " --json --connection-string " + single_quoted(url(db)));
  EXPECT_NE(ours.out.find("GET /v2.1/servers, id=7"), std::string::npos);
  EXPECT_NE(ours.out.find("slash/and=equals"), std::string::npos);
  EXPECT_NE(ours.out.find("boom: cannot spawn vm1"), std::string::npos);
}

TEST(ClickHouseServer, StoresOneRowPerEventAsDocumented) {
  const std::string db = fresh_database("schema");
  std::string base;
  const auto s = emit_into(url(db, "?table=spans"), base, 10);
  const std::uint64_t events = 8 + 2 * 6 + 2 * 10;
  EXPECT_EQ(s.written, events) << s.last_error;

  EXPECT_EQ(sql("SELECT name, type FROM system.columns WHERE database = '" + db + "' AND table = 'spans' FORMAT TSV"),
            "date\tDate\nbase_id\tString\ntrace_id\tString\nparent_id\tString\nname\tString\nproject\tString\n"
            "service\tString\nhost\tString\ntime_us\tUInt64\ntimestamp\tString\nis_stop\tUInt8\nhas_error\tUInt8\n"
            "info\tString\nevent\tString\n");
  EXPECT_EQ(sql("SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = '" + db +
                "' AND name = 'spans' FORMAT TSV"),
            "MergeTree\tbase_id, time_us\ttoYYYYMM(date)\n");
  EXPECT_EQ(sql("SELECT count(), uniqExact(trace_id, name), sum(is_stop), sum(has_error) FROM " + db + ".spans FORMAT TSV"),
            std::to_string(events) + "\t" + std::to_string(events) + "\t" + std::to_string(events / 2) + "\t1\n");
  EXPECT_EQ(sql("SELECT name FROM " + db + ".spans WHERE has_error FORMAT TSV"), "driver-stop\n");

  // Each row's columns agree with its event, and the event is the text the emitter formatted.
  simdjson::dom::parser row_parser;
  simdjson::dom::parser event_parser;
  const std::string rows = sql("SELECT * FROM " + db + ".spans FORMAT JSONEachRow");
  std::size_t checked = 0;
  std::string_view rest = rows;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    simdjson::dom::element row = row_parser.parse(std::string(rest.substr(0, nl)));
    rest = rest.substr(nl + 1);
    const std::string event{std::string_view(row["event"])};
    simdjson::dom::element e = event_parser.parse(event);
    EXPECT_EQ(std::string_view(row["base_id"]), std::string_view(e["base_id"]));
    EXPECT_EQ(std::string_view(row["trace_id"]), std::string_view(e["trace_id"]));
    EXPECT_EQ(std::string_view(row["parent_id"]), std::string_view(e["parent_id"]));
    EXPECT_EQ(std::string_view(row["name"]), std::string_view(e["name"]));
    EXPECT_EQ(std::string_view(row["timestamp"]), std::string_view(e["timestamp"]));
    EXPECT_EQ(std::string_view(row["date"]), std::string_view(e["timestamp"]).substr(0, 10));
    EXPECT_EQ(osprof::detail::format_timestamp(std::int64_t(row["time_us"])), std::string_view(e["timestamp"]));
    EXPECT_EQ(std::string_view(row["project"]), "demo");
    EXPECT_EQ(std::string_view(row["service"]), "api");
    EXPECT_EQ(std::string_view(row["host"]), "vm");
    EXPECT_EQ(std::int64_t(row["is_stop"]), std::string_view(e["name"]).ends_with("-stop") ? 1 : 0);
    EXPECT_EQ(osprof_test::record_from_json(event).info, std::string_view(row["info"]));
    ++checked;
  }
  EXPECT_EQ(checked, events);
}

TEST(ClickHouseServer, ListsNewestFirstAndErrorsOnly) {
  const std::string db = fresh_database("lists");
  backend writer(url(db));
  const osprof::uuid a = *osprof::uuid::parse("aaaaaaaa-0000-4000-8000-000000000001");
  const osprof::uuid b = *osprof::uuid::parse("bbbbbbbb-0000-4000-8000-000000000002");
  const osprof::uuid c = *osprof::uuid::parse("cccccccc-0000-4000-8000-000000000003");
  const osprof::uuid p = *osprof::uuid::parse("dddddddd-0000-4000-8000-000000000004");
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
  const auto errors = reader.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].base_id, c.to_string());
  EXPECT_EQ(errors[0].timestamp, list[0].timestamp);
  EXPECT_EQ(errors[1].base_id, a.to_string());
  EXPECT_EQ(reader.trace(c.to_string()).size(), 3u);
  EXPECT_TRUE(reader.trace("x' OR 'a' = 'a").empty()) << "the id is a quoted literal";

  // An INSERT sent again (its answer lost) stores the rows twice; reading shows them once.
  {
    const auto r = writer.write(second);
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
  }
  EXPECT_EQ(sql("SELECT count() FROM " + db + ".osprofiler_events WHERE base_id = '" + c.to_string() + "' FORMAT TSV"), "4\n");
  EXPECT_EQ(reader.trace(c.to_string()).size(), 3u);
  EXPECT_EQ(reader.list().size(), 3u);
}

// A server refuses a write to a missing table before reading the body and closes the
// connection: with a large body the client sees a broken pipe, never the refusal. The driver
// checks for the table before its first write, so a large first batch is stored.
TEST(ClickHouseServer, ALargeFirstBatchIntoAMissingTableIsStored) {
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

TEST(ClickHouseServer, MissingTableIsCreatedOnWriteAndAClearErrorOnRead) {
  const std::string db = fresh_database("created");
  backend reader(url(db));
  try {
    reader.list();
    FAIL() << "expected an error";
  } catch (const osprof::error& e) {
    EXPECT_NE(std::string(e.what()).find("doesn't exist"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing was written there yet?"), std::string::npos) << e.what();
  }
  const auto show = cli("trace show aaaaaaaa-0000-4000-8000-000000000001 --connection-string " + single_quoted(url(db)), true);
  EXPECT_EQ(show.code, 1);
  EXPECT_NE(show.out.find("doesn't exist"), std::string::npos) << show.out;

  std::string base;
  auto s = emit_into(url(db, "?create_table=false"), base, 0);
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped_backend, s.emitted);
  expect_balanced(s);
  EXPECT_NE(s.last_error.find("create_table=false"), std::string::npos) << s.last_error;

  s = emit_into(url(db), base, 0);
  EXPECT_EQ(s.written, s.emitted) << s.last_error;
  EXPECT_EQ(reader.trace(base).size(), s.emitted);
}

// The cluster setup of drivers/clickhouse/README.md, on the fixture's cluster osprof_two_shards
// (this one server twice, default databases osprof_shard1 and osprof_shard2).
TEST(ClickHouseServer, DistributedTableOverTwoShards) {
  const std::string db = fresh_database("tracing");
  for (const std::string shard : {"osprof_shard1", "osprof_shard2"}) {
    sql("CREATE DATABASE IF NOT EXISTS " + shard);
    sql("DROP TABLE IF EXISTS " + shard + ".osprofiler_events_local");
    ASSERT_EQ(sql("CREATE TABLE " + shard +
                  ".osprofiler_events_local (date Date, base_id String, trace_id String, parent_id String, name String,"
                  " project String, service String, host String, time_us UInt64, timestamp String, is_stop UInt8,"
                  " has_error UInt8, info String, event String)"
                  " ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (base_id, time_us)"),
              "");
  }
  sql("CREATE DATABASE " + db);
  ASSERT_EQ(sql("CREATE TABLE " + db +
                ".osprofiler_events AS osprof_shard1.osprofiler_events_local"
                " ENGINE = Distributed(osprof_two_shards, '', osprofiler_events_local, cityHash64(base_id))"),
            "");
  const std::string cs = url(db, "?table=osprofiler_events&create_table=false");
  std::vector<std::string> bases;
  {
    osprof::emitter e{test_options(cs)};
    for (int i = 0; i < 8; ++i) bases.push_back(emit_test_trace(5));
    ASSERT_TRUE(e.flush(std::chrono::seconds(20)));
    e.shutdown(std::chrono::seconds(10));
    const auto s = e.get_stats();
    EXPECT_EQ(s.written, s.emitted) << s.last_error;
  }
  // insert_distributed_sync=1: acknowledged rows are on the shards already, a trace on one shard.
  const std::string one = sql("SELECT count() FROM osprof_shard1.osprofiler_events_local FORMAT TSV");
  const std::string two = sql("SELECT count() FROM osprof_shard2.osprofiler_events_local FORMAT TSV");
  EXPECT_EQ(std::stoi(one) + std::stoi(two), 8 * (8 + 12 + 10)) << one << " + " << two;
  EXPECT_NE(one, "0\n");
  EXPECT_NE(two, "0\n");
  EXPECT_EQ(sql("SELECT count() FROM osprof_shard1.osprofiler_events_local WHERE base_id IN "
                "(SELECT base_id FROM osprof_shard2.osprofiler_events_local) FORMAT TSV"),
            "0\n");

  backend reader(cs);
  EXPECT_EQ(reader.list().size(), 8u);
  const auto stored = reader.trace(bases[3]);
  ASSERT_EQ(stored.size(), 30u);
  expect_same_reports(cs, sqlite_copy(stored, "clickhouse-distributed"), bases[3], false);
}

}  // namespace
