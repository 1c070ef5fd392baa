// The MongoDB driver against the loopback MongoDB of the CTest fixture
// (tests/servers/fake_mongodb.py; no MongoDB server can be installed here): Python
// OSProfiler's layout as stored, the indexes, reading back byte for byte, `osprof trace
// show --json` and `trace list [--error-trace]` through the CLI giving what the SQLite backend
// gives for the same events, a trace larger than one cursor batch, a batch sent twice, and
// what the reader does with what it does not expect. Every test uses a database of its own,
// so tests may run in parallel on the one server.
#include <gtest/gtest.h>

#include <set>

#include "mongo_test_util.hpp"

namespace {

using namespace osprof_test;
namespace fs = std::filesystem;

std::uint16_t mongo_port() { return fixture_port("fake-mongodb"); }

std::string mongo_url(const std::string& database, const std::string& options = "") {
  return "mongodb://127.0.0.1:" + std::to_string(mongo_port()) + "/" + database + (options.empty() ? "" : "?" + options);
}

osprof::uuid id(std::uint64_t hi, std::uint64_t lo) { return osprof::uuid{hi, lo}; }

// Three traces at fixed times, two of them with an error; a's error comes after an earlier one.
struct sample {
  osprof::uuid a = id(0xa0a0a0a0a0a04000ULL, 0x8000000000000001ULL);
  osprof::uuid b = id(0xb0b0b0b0b0b04000ULL, 0x8000000000000002ULL);
  osprof::uuid c = id(0xc0c0c0c0c0c04000ULL, 0x8000000000000003ULL);
  std::vector<osprof::event_record> events;
  sample() {
    const std::int64_t t = 1764590400000000;  // 2025-12-01T12:00:00
    const auto wsgi = id(1, 1), rpc = id(1, 2), db = id(1, 3), drv = id(1, 4);
    events = {
        make_record("wsgi-start", a, wsgi, a, t + 1, R"("request": {"path": "/v2.1/servers", "method": "POST"})"),
        make_record("rpc-start", a, rpc, wsgi, t + 120),
        make_record("db-start", a, db, rpc, t + 130, R"("db": {"statement": "SELECT 1", "params": {"id": 42}})"),
        make_record("db-stop", a, db, rpc, t + 1130, R"("etype": "E1", "message": "first")", true),
        make_record("rpc-stop", a, rpc, wsgi, t + 2100),
        make_record("driver-start", a, drv, wsgi, t + 2200, R"("function": {"name": "ns::Driver::spawn"})"),
        make_record("driver-stop", a, drv, wsgi, t + 3400,
                    R"("etype": "std::runtime_error", "message": "boom: cannot spawn vm1")", true),
        make_record("wsgi-stop", a, wsgi, a, t + 4000),
        make_record("w-start", b, id(2, 1), b, t + 5000000),
        make_record("w-stop", b, id(2, 1), b, t + 5000100),
        make_record("x-start", c, id(3, 1), c, t - 7000000),
        make_record("x-stop", c, id(3, 1), c, t - 6000000, R"("etype": "E", "message": "m")", true),
    };
  }
};

std::multiset<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::string field_of(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\" : \"");
  if (at == std::string::npos) return {};
  const auto from = at + key.size() + 6;
  return json.substr(from, json.find('"', from) - from);
}

TEST(MongodbServer, WritesPythonsLayoutAndReadsItBack) {
  const std::string url = mongo_url("layout");
  sample s;
  {
    backend d(url);
    const auto r = d.write(s.events);
    ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(r.rejected, 0u);
    d.close();
  }
  mongo_admin admin(mongo_port());
  // One document per event in `profiler`, `_id` first and deterministic, then the event's
  // fields in OSProfiler's order, project and service included.
  const auto docs = admin.find("layout", "profiler");
  ASSERT_EQ(docs.size(), s.events.size());
  std::set<std::string> ids;
  for (const auto& doc : docs) {
    EXPECT_EQ(doc.rfind("{ \"_id\" : \"", 0), 0u) << doc;
    ids.insert(field_of(doc, "_id"));
    EXPECT_NE(doc.find("\"project\" : \"demo\", \"service\" : \"api\""), std::string::npos) << doc;
  }
  EXPECT_TRUE(ids.count(id(1, 4).to_string() + "-stop")) << "`<trace_id>-stop`";
  EXPECT_EQ(ids.size(), s.events.size());
  // profiler_error: Python's {base_id, timestamp}, one per trace, the latest error's time.
  const auto errors = admin.find("layout", "profiler_error");
  ASSERT_EQ(errors.size(), 2u);
  std::map<std::string, std::string> flagged;
  for (const auto& e : errors) flagged[field_of(e, "base_id")] = field_of(e, "timestamp");
  EXPECT_EQ(flagged[s.a.to_string()], std::string(s.events[6].timestamp_text()));
  EXPECT_EQ(flagged[s.c.to_string()], std::string(s.events[11].timestamp_text()));
  // The indexes the README documents.
  const auto indexes = admin.index_names("layout", "profiler");
  EXPECT_NE(std::find(indexes.begin(), indexes.end(), "base_id_1_timestamp_1"), indexes.end());
  const auto error_indexes = admin.index_names("layout", "profiler_error");
  EXPECT_NE(std::find(error_indexes.begin(), error_indexes.end(), "base_id_1"), error_indexes.end());

  backend reader(url);
  std::vector<std::string> a_events;
  for (std::size_t i = 0; i < 8; ++i) a_events.push_back(s.events[i].json);
  EXPECT_EQ(as_set(reader.trace(s.a.to_string())), as_set(a_events)) << "the event JSON, byte for byte";
  EXPECT_TRUE(reader.trace("00000000-0000-4000-8000-000000000000").empty());
  const auto list = reader.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].base_id, s.b.to_string());
  EXPECT_EQ(list[0].timestamp, std::string(s.events[8].timestamp_text()));
  EXPECT_EQ(list[1].base_id, s.a.to_string());
  EXPECT_EQ(list[1].timestamp, std::string(s.events[0].timestamp_text())) << "the trace's first event";
  EXPECT_EQ(list[2].base_id, s.c.to_string());
  const auto error_list = reader.errors();
  ASSERT_EQ(error_list.size(), 2u);
  EXPECT_EQ(error_list[0].base_id, s.a.to_string());
  EXPECT_EQ(error_list[0].timestamp, std::string(s.events[0].timestamp_text())) << "start time, as list shows it";
  EXPECT_EQ(error_list[1].base_id, s.c.to_string());
}

TEST(MongodbServer, CliShowAndListGiveWhatSqliteGives) {
  const std::string url = mongo_url("cli");
  sample s;
  {
    backend d(url);
    ASSERT_EQ(d.write(s.events).status, osprof::write_status::ok);
    d.close();
  }
  std::vector<std::string> jsons;
  for (const auto& e : s.events) jsons.push_back(e.json);
  const std::string sqlite = sqlite_copy(jsons, "mongodb-cli");
  for (const auto& trace : {s.a, s.b, s.c}) {
    const auto from_mongo = cli("trace show " + trace.to_string() + " --json --connection-string '" + url + "'");
    const auto from_sqlite = cli("trace show " + trace.to_string() + " --json --connection-string " + sqlite);
    ASSERT_EQ(from_mongo.code, 0) << from_mongo.out;
    ASSERT_EQ(from_sqlite.code, 0);
    EXPECT_EQ(from_mongo.out, from_sqlite.out);
    EXPECT_NE(from_mongo.out.find("\"name\": \"total\""), std::string::npos);
  }
  const auto tree = cli("trace show " + s.a.to_string() + " --tree --connection-string '" + url + "'");
  EXPECT_NE(tree.out.find("std::runtime_error: boom: cannot spawn vm1"), std::string::npos) << tree.out;
  for (const char* flags : {"", " --error-trace"}) {
    const auto from_mongo = cli(std::string("trace list --json") + flags + " --connection-string '" + url + "'");
    const auto from_sqlite = cli(std::string("trace list --json") + flags + " --connection-string " + sqlite);
    ASSERT_EQ(from_mongo.code, 0) << flags;
    EXPECT_EQ(from_mongo.out, from_sqlite.out) << flags;
  }
  const auto unknown = cli("trace show 00000000-0000-4000-8000-00000000abcd --connection-string '" + url + "'", true);
  EXPECT_EQ(unknown.code, 1) << unknown.out;
}

TEST(MongodbServer, ReadsATraceLargerThanOneCursorBatch) {
  const std::string url = mongo_url("big");
  const auto base = id(0xbbbb, 0x1);
  std::vector<osprof::event_record> events;
  for (std::uint64_t i = 0; i < 2500; ++i) {
    events.push_back(make_record("p-start", base, id(9, i), base, 1764590400000000 + static_cast<std::int64_t>(i)));
    events.push_back(make_record("p-stop", base, id(9, i), base, 1764590400000001 + static_cast<std::int64_t>(i)));
  }
  {
    backend d(url);
    for (std::size_t from = 0; from < events.size(); from += 1000) {
      const std::span<const osprof::event_record> part(events.data() + from, std::min<std::size_t>(1000, events.size() - from));
      const auto r = d.write(part);
      ASSERT_EQ(r.status, osprof::write_status::ok) << r.error;
    }
    d.close();
  }
  backend reader(url);
  const auto read = reader.trace(base.to_string());
  ASSERT_EQ(read.size(), events.size()) << "first batch of 101, then getMore";
  EXPECT_EQ(std::set<std::string>(read.begin(), read.end()).size(), events.size()) << "every event once";
  const auto shown = cli("trace show " + base.to_string() + " --json --connection-string '" + url + "'");
  ASSERT_EQ(shown.code, 0);
  EXPECT_EQ(mongo_admin(mongo_port()).command("admin", "{\"osprofStats\": 1}").find("\"openCursors\" : 0") != std::string::npos,
            true)
      << "cursors were read to the end or killed";
}

TEST(MongodbServer, ABatchSentAgainStoresNothingTwice) {
  const std::string url = mongo_url("again");
  sample s;
  backend first(url);
  ASSERT_EQ(first.write(s.events).status, osprof::write_status::ok);
  // The emitter's retry of the same batch: the writer knows it is stored and sends nothing.
  auto r = first.retry(s.events);
  EXPECT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, 0u);
  // The same events as a new batch (another writer): the server refuses every one as a
  // duplicate of its _id; nothing is stored twice, and they are counted refused, not written.
  backend second(url);
  r = second.write(s.events);
  EXPECT_EQ(r.status, osprof::write_status::ok);
  EXPECT_EQ(r.rejected, s.events.size());
  EXPECT_NE(r.error.find("E11000 duplicate key error"), std::string::npos) << r.error;
  EXPECT_EQ(mongo_admin(mongo_port()).count("again", "profiler"), static_cast<std::int64_t>(s.events.size()));
}

TEST(MongodbServer, WithoutIndexesWhenAskedAndWithAConflictingOne) {
  sample s;
  {
    backend d(mongo_url("noindex", "create_indexes=false"));
    ASSERT_EQ(d.write(s.events).status, osprof::write_status::ok);
  }
  mongo_admin admin(mongo_port());
  EXPECT_EQ(admin.index_names("noindex", "profiler"), std::vector<std::string>{"_id_"});

  // An index of that name on other keys (someone else's): logged once, events still written.
  admin.command("conflict", R"({"createIndexes": "profiler", "indexes": [{"key": {"timestamp": 1}, "name": "base_id_1_timestamp_1"}]})");
  log_lines.clear();
  const auto previous = osprof::set_log_handler(&capture_log);
  {
    backend d(mongo_url("conflict"));
    const auto r = d.write(s.events);
    EXPECT_EQ(r.status, osprof::write_status::ok) << r.error;
    EXPECT_EQ(r.rejected, 0u);
    ASSERT_EQ(d.write(s.events).status, osprof::write_status::ok);
  }
  osprof::set_log_handler(previous);
  EXPECT_TRUE(logged("creating index base_id_1_timestamp_1 on profiler")) << (log_lines.empty() ? "" : log_lines[0]);
  EXPECT_TRUE(logged("IndexKeySpecsConflict") || logged("existing index has the same name"))
      << (log_lines.empty() ? "" : log_lines[0]);
  EXPECT_EQ(admin.count("conflict", "profiler"), static_cast<std::int64_t>(s.events.size()));
}

TEST(MongodbServer, ReadsWhatItDoesNotExpect) {
  mongo_admin admin(mongo_port());
  // Written by something else: ObjectId ids, a number as a string, a nested array, a date.
  admin.command("odd", R"({"insert": "profiler", "documents": [
      {"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "name": "odd-start", "base_id": "0dd00000-0000-4000-8000-000000000001",
       "trace_id": "0dd00000-0000-4000-8000-000000000002", "parent_id": "0dd00000-0000-4000-8000-000000000001",
       "timestamp": "2025-12-01T12:00:00.000001", "info": {"host": "py", "args": [1, [2, 3]], "when": {"$date": "2025-12-01T12:00:00Z"}},
       "project": "p", "service": "s"},
      {"_id": {"$oid": "65a1b2c3d4e5f60718293a4c"}, "name": "odd-stop", "base_id": "0dd00000-0000-4000-8000-000000000001",
       "trace_id": "0dd00000-0000-4000-8000-000000000002", "parent_id": "0dd00000-0000-4000-8000-000000000001",
       "timestamp": "2025-12-01T12:00:00.000900", "info": {"host": "py"}, "project": "p", "service": "s"}]})");
  backend reader(mongo_url("odd"));
  const auto events = reader.trace("0dd00000-0000-4000-8000-000000000001");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].find("\"_id\""), std::string::npos) << "projected out, as Python's get_report does";
  EXPECT_NE(events[0].find(R"("args": [1, [2, 3]])"), std::string::npos) << events[0];
  EXPECT_NE(events[0].find(R"("when": { "$date" : "2025-12-01T12:00:00Z" })"), std::string::npos) << events[0];
  const auto shown = cli("trace show 0dd00000-0000-4000-8000-000000000001 --json --connection-string '" + mongo_url("odd") + "'");
  EXPECT_EQ(shown.code, 0);
  // A database that does not exist: nothing, not an error.
  backend empty(mongo_url("nothing_here"));
  EXPECT_TRUE(empty.list().empty());
  EXPECT_TRUE(empty.errors().empty());
}

}  // namespace
