// What trace points put on the wire: OSProfiler's notification, ids and nesting, info,
// exceptions, the function macro, context hand-off between threads, oversized info.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/propagation.hpp>

#include <gtest/gtest.h>

#include <list>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/time_format.hpp"
#include "tests/emitter/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using osprof::test::memory_store;

struct event {
  std::string name, base_id, trace_id, parent_id, timestamp, project, service, info_json, raw;
  simdjson::dom::element info;
};

class Events : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = osprof_test::unique_store("events");
    store_ = memory_store::get(name_);
    start_emitter(false);
  }
  // nullopt: options::hold_starts as it comes (its default).
  void start_emitter(std::optional<bool> hold_starts) {
    emitter_.reset();
    osprof::options o;
    o.connection_string = "memory://" + name_;
    o.project = "demo";
    o.service = "api";
    o.host = "vm";
    if (hold_starts) o.hold_starts = *hold_starts;
    emitter_ = std::make_unique<osprof::emitter>(o);
  }
  void TearDown() override {
    osprof::clean();
    emitter_.reset();
  }

  // Flushes and parses every stored event, in emission order.
  std::vector<event> collect() {
    EXPECT_TRUE(emitter_->flush(10s));
    std::vector<event> out;
    for (const auto& json : store_->events()) {
      auto& parser = parsers_.emplace_back();
      simdjson::dom::element doc;
      auto err = parser.parse(json).get(doc);
      EXPECT_FALSE(err) << json;
      if (err) continue;
      event e;
      e.raw = json;
      e.name = std::string(doc["name"].get_string().value());
      e.base_id = std::string(doc["base_id"].get_string().value());
      e.trace_id = std::string(doc["trace_id"].get_string().value());
      e.parent_id = std::string(doc["parent_id"].get_string().value());
      e.timestamp = std::string(doc["timestamp"].get_string().value());
      e.project = std::string(doc["project"].get_string().value());
      e.service = std::string(doc["service"].get_string().value());
      e.info = doc["info"].value();
      e.info_json = simdjson::to_string(e.info);
      out.push_back(std::move(e));
    }
    return out;
  }

  std::string name_;
  std::shared_ptr<memory_store> store_;
  std::unique_ptr<osprof::emitter> emitter_;
  std::list<simdjson::dom::parser> parsers_;
};

TEST_F(Events, NotificationHasOsprofilerShapeAndKeyOrder) {
  osprof::init("SECRET_KEY", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "");
  osprof::start("wsgi", {{"request", {{"path", "/v2/servers"}, {"query", "limit=1"}, {"method", "GET"}, {"scheme", "http"}}}});
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  const std::string& start = events[0].raw;
  // Key order and separators as Python's json.dumps of OSProfiler's payload.
  EXPECT_EQ(start.find("{\"name\": \"wsgi-start\", \"base_id\": \"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\", \"trace_id\": \""), 0u)
      << start;
  EXPECT_NE(start.find("\"info\": {\"request\": {\"path\": \"/v2/servers\", \"query\": \"limit=1\", \"method\": \"GET\", "
                       "\"scheme\": \"http\"}, \"host\": \"vm\"}, \"project\": \"demo\", \"service\": \"api\"}"),
            std::string::npos)
      << start;
  EXPECT_EQ(events[1].name, "wsgi-stop");
  EXPECT_EQ(events[1].info_json, R"({"host":"vm"})");
  EXPECT_EQ(events[0].trace_id, events[1].trace_id);
  // No init parent: the first point's parent is the base.
  EXPECT_EQ(events[0].parent_id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  // Timestamps: UTC, six fractional digits, near now, start <= stop.
  const auto t0 = osprof::detail::parse_timestamp(events[0].timestamp);
  const auto t1 = osprof::detail::parse_timestamp(events[1].timestamp);
  ASSERT_TRUE(t0 && t1);
  EXPECT_LE(*t0, *t1);
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LT(std::abs(now_us - *t0), 60'000'000) << events[0].timestamp;
}

TEST_F(Events, NestingFollowsOsprofilerStack) {
  osprof::init("k", "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000");
  auto* p = osprof::get();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->base_id().to_string(), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(p->parent_id().to_string(), "11111111-2222-3333-4444-555555555555");  // OSProfiler: stack[-2]
  EXPECT_EQ(p->id().to_string(), "66666666-7777-8888-9999-000000000000");
  osprof::start("outer");
  const std::string outer = p->id().to_string();
  osprof::start("inner");
  EXPECT_EQ(p->parent_id().to_string(), outer);
  osprof::stop();
  osprof::stop();
  osprof::stop();  // unmatched: ignored, as OSProfiler 4.4
  const auto events = collect();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].name, "outer-start");
  EXPECT_EQ(events[0].parent_id, "66666666-7777-8888-9999-000000000000");
  EXPECT_EQ(events[0].trace_id, outer);
  EXPECT_EQ(events[1].name, "inner-start");
  EXPECT_EQ(events[1].parent_id, outer);
  EXPECT_EQ(events[2].name, "inner-stop");
  EXPECT_EQ(events[2].trace_id, events[1].trace_id);
  EXPECT_EQ(events[2].parent_id, outer);
  EXPECT_EQ(events[3].name, "outer-stop");
  EXPECT_EQ(events[3].parent_id, "66666666-7777-8888-9999-000000000000");
  for (const auto& e : events) EXPECT_EQ(e.base_id, "11111111-2222-3333-4444-555555555555");
}

TEST_F(Events, SecondInitKeepsTheFirstProfilerAndKey) {
  auto* first = osprof::init("first-key");
  auto* second = osprof::init("second-key");
  EXPECT_EQ(first, second);
  EXPECT_EQ(second->hmac_key(), "first-key");
  osprof::clean();
  EXPECT_EQ(osprof::get(), nullptr);
  EXPECT_EQ(osprof::init("k", "not-a-uuid"), nullptr);
  EXPECT_EQ(osprof::get(), nullptr);
}

// init() takes the ids a service's own code gives in any spelling Python's uuid module reads
// (oslo's is_uuid_like) and stores them canonical; text that is no uuid creates nothing.
TEST_F(Events, InitTakesOtherSpellingsOfAUuid) {
  auto* p = osprof::init("k", "{1111111122223333444455555555555F}", "urn:uuid:66666666-7777-8888-9999-00000000000A");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->base_id().to_string(), "11111111-2222-3333-4444-55555555555f");
  EXPECT_EQ(p->id().to_string(), "66666666-7777-8888-9999-00000000000a");
  osprof::start("point");
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].base_id, "11111111-2222-3333-4444-55555555555f");
  EXPECT_EQ(events[0].parent_id, "66666666-7777-8888-9999-00000000000a");
  osprof::clean();
  EXPECT_EQ(osprof::init("k", "11111111-2222-3333-4444-555555555555", "run-42"), nullptr);
  EXPECT_EQ(osprof::get(), nullptr);
}

TEST_F(Events, NoProfilerMeansNoEvents) {
  osprof::start("nothing");
  osprof::stop();
  { osprof::trace t("nothing either"); }
  const auto events = collect();
  EXPECT_TRUE(events.empty());
}

struct spawn_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void failing_point() {
  osprof::trace t("driver");
  throw spawn_error("boom: cannot spawn vm1");
}

TEST_F(Events, ScopedTraceRecordsTheExceptionThatLeavesIt) {
  osprof::init("k");
  EXPECT_THROW(failing_point(), spawn_error);
  {
    osprof::trace ok("ctx");
  }
  try {
    osprof::trace t("int");
    throw 42;
  } catch (int) {
  }
  const auto events = collect();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[1].name, "driver-stop");
  EXPECT_EQ(events[1].info_json,
            R"({"etype":"(anonymous namespace)::spawn_error","message":"boom: cannot spawn vm1","host":"vm"})");
  EXPECT_EQ(events[3].name, "ctx-stop");
  EXPECT_EQ(events[3].info_json, R"({"host":"vm"})");
  EXPECT_EQ(events[5].info_json, R"({"etype":"int","message":null,"host":"vm"})");
  // The error is flagged for the backend (error traces).
  EXPECT_EQ(store_->errors().size(), 1u);
}

TEST_F(Events, ExceptionCaughtInsideTheScopeIsNotAnError) {
  osprof::init("k");
  {
    osprof::trace t("recovering");
    try {
      throw std::runtime_error("handled");
    } catch (const std::exception&) {
    }
  }
  const auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].info_json, R"({"host":"vm"})");
}

struct Driver {
  void spawn(int) { OSPROF_TRACE_FUNCTION("driver", {{"vm", "vm1"}}); }
};

TEST_F(Events, FunctionMacroRecordsTheFunctionName) {
  osprof::init("k");
  Driver{}.spawn(1);
  const auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].name, "driver-start");
  std::string_view vm;
  ASSERT_FALSE(events[0].info["vm"].get_string().get(vm));
  EXPECT_EQ(vm, "vm1");
  std::string_view fn;
  ASSERT_FALSE(events[0].info["function"]["name"].get_string().get(fn));
  EXPECT_NE(fn.find("Driver::spawn"), std::string_view::npos) << fn;
  EXPECT_EQ(fn.find('('), std::string_view::npos) << fn;
  EXPECT_EQ(fn.find("void"), std::string_view::npos) << fn;
  EXPECT_EQ(events[1].info_json, R"({"host":"vm"})");
}

TEST_F(Events, ContextHandsWorkToAnotherThread) {
  osprof::init("k");
  osprof::start("request");
  const auto ctx = osprof::capture();
  ASSERT_TRUE(ctx);
  std::thread worker([&] {
    EXPECT_EQ(osprof::get(), nullptr);
    {
      osprof::context_scope scope(*ctx);
      osprof::trace t("pool-task");
    }
    EXPECT_EQ(osprof::get(), nullptr);  // restored
  });
  worker.join();
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 4u);
  std::map<std::string, event> by_name;
  for (const auto& e : events) by_name[e.name] = e;
  EXPECT_EQ(by_name["pool-task-start"].parent_id, by_name["request-start"].trace_id);
  EXPECT_EQ(by_name["pool-task-start"].base_id, by_name["request-start"].base_id);
}

TEST_F(Events, OversizedInfoSpillsThenTruncatesButKeepsTheEvent) {
  osprof::init("k");
  const std::string medium(2000, 'm');
  const std::string huge(200000, 'h');
  osprof::start("medium", {{"text", medium}});
  osprof::stop();
  osprof::start("huge", {{"text", huge}});
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 4u);
  std::string_view text;
  ASSERT_FALSE(events[0].info["text"].get_string().get(text));
  EXPECT_EQ(text, medium);
  EXPECT_EQ(events[2].name, "huge-start");
  std::uint64_t original = 0;
  ASSERT_FALSE(events[2].info["osprof_truncated_bytes"].get_uint64().get(original)) << events[2].info_json;
  EXPECT_GT(original, huge.size());
  const auto s = emitter_->get_stats();
  EXPECT_EQ(s.spilled_events, 1u);
  EXPECT_EQ(s.truncated_events, 1u);
  EXPECT_EQ(s.written, 4u);
}

TEST_F(Events, LimitsThatChangeAnEventAreCounted) {
  osprof::init("k");
  // A name over max_point_name_bytes, cut before the character the limit falls in.
  const std::string long_name = std::string(osprof::max_point_name_bytes - 1, 'n') + "\xC3\xA9tail";
  osprof::start(long_name);
  osprof::stop();
  // A name that is not UTF-8, and an info value that is not either.
  osprof::start("bad\xFF" "name");
  osprof::stop({{"v", "x\xC0y"}});
  // Info nested 18 levels deep: the deepest object becomes null.
  std::vector<osprof::info_field> chain;
  chain.reserve(18);
  chain.emplace_back("k", 1);
  for (int i = 1; i < 18; ++i) {
    chain.emplace_back("k", osprof::info_value(std::span<const osprof::info_field>(&chain.back(), 1)));
  }
  osprof::start("deep", std::span<const osprof::info_field>(&chain.back(), 1));
  osprof::stop();
  osprof::start("fine", {{"text", "caf\xC3\xA9"}});
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 8u);
  // Every stored name is valid UTF-8, Python's sqlite3 and Redis clients decode it.
  EXPECT_EQ(events[0].name, std::string(osprof::max_point_name_bytes - 1, 'n') + "-start");
  EXPECT_EQ(events[2].name, "bad\xEF\xBF\xBDname-start");
  EXPECT_EQ(events[3].name, "bad\xEF\xBF\xBDname-stop");
  EXPECT_NE(events[3].info_json.find("x\xEF\xBF\xBDy"), std::string::npos) << events[3].info_json;
  EXPECT_NE(events[4].info_json.find("{\"k\":null}"), std::string::npos) << events[4].info_json;
  const auto s = emitter_->get_stats();
  EXPECT_EQ(s.cut_names, 2u);     // start and stop of the long name
  EXPECT_EQ(s.invalid_utf8, 2u);  // bad-name start and stop (its info's bad value is in the stop)
  EXPECT_EQ(s.cut_info, 1u);
  EXPECT_EQ(s.written, 8u);
}

TEST_F(Events, StopInfoAndExplicitErrorsAreRecorded) {
  osprof::init("k");
  osprof::start("db", {{"db", {{"statement", "SELECT ?"}, {"params", {{"id", 42}}}}}});
  osprof::stop({{"etype", "IntegrityError"}, {"message", "duplicate key"}});
  const auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].info_json, R"({"db":{"statement":"SELECT ?","params":{"id":42}},"host":"vm"})");
  EXPECT_EQ(events[1].info_json, R"({"etype":"IntegrityError","message":"duplicate key","host":"vm"})");
  EXPECT_EQ(store_->errors().size(), 1u);
}

// ---- Held starts (options::hold_starts): a start travels with its stop in one record.

TEST_F(Events, HeldStartKeepsItsOwnTimeInfoAndFunction) {
  start_emitter(true);
  osprof::init("k");
  osprof::trace root("request");  // the first start is sent at once; the next ones are held
  {
    OSPROF_TRACE_FUNCTION("driver", {{"vm", "vm1"}});
    std::this_thread::sleep_for(20ms);
  }
  const auto events = collect();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].name, "request-start");
  EXPECT_EQ(events[1].name, "driver-start");
  EXPECT_EQ(events[2].name, "driver-stop");
  const auto started = osprof::detail::parse_timestamp(events[1].timestamp);
  const auto stopped = osprof::detail::parse_timestamp(events[2].timestamp);
  ASSERT_TRUE(started && stopped);
  // The start's timestamp is when it started, not when it was sent (with the stop).
  EXPECT_GE(*stopped - *started, 19'000) << events[1].timestamp << " " << events[2].timestamp;
  EXPECT_NE(events[1].info_json.find(R"("vm":"vm1")"), std::string::npos) << events[1].info_json;
  EXPECT_NE(events[1].info_json.find(R"("function":{"name":")"), std::string::npos) << events[1].info_json;
  EXPECT_NE(events[1].info_json.find("TestBody"), std::string::npos) << events[1].info_json;
  EXPECT_EQ(events[2].info_json, R"({"host":"vm"})");
  const auto s = emitter_->get_stats();
  EXPECT_EQ(s.emitted, 3u);
  EXPECT_EQ(s.written, 3u);
}

TEST_F(Events, HeldStartIsNotStoredBeforeItsStop) {
  start_emitter(true);
  osprof::init("k");
  osprof::start("request");  // the profiler's first start: sent at once
  osprof::start("long");
  const auto before = collect();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].name, "request-start");
  osprof::stop();
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].name, "long-start");
  EXPECT_EQ(events[1].parent_id, events[0].trace_id);
  EXPECT_EQ(events[2].name, "long-stop");
  EXPECT_EQ(events[2].parent_id, events[0].trace_id);
  EXPECT_EQ(events[3].name, "request-stop");
}

TEST_F(Events, HeldStartsAreSentWhenTheProfilerIsCleaned) {
  start_emitter(true);
  osprof::init("k");
  osprof::start("request");
  osprof::start("outer", {{"a", 1}});
  osprof::start("inner");
  const std::string outer = osprof::get()->parent_id().to_string();
  const std::string inner = osprof::get()->id().to_string();
  osprof::clean();  // the points were never stopped: their starts are stored, as OSProfiler's
  const auto events = collect();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].name, "request-start");
  EXPECT_EQ(events[1].name, "outer-start");
  EXPECT_EQ(events[1].trace_id, outer);
  EXPECT_EQ(events[1].parent_id, events[0].trace_id);
  EXPECT_EQ(events[1].info_json, R"({"a":1,"host":"vm"})");
  EXPECT_EQ(events[2].name, "inner-start");
  EXPECT_EQ(events[2].trace_id, inner);
  EXPECT_EQ(events[2].parent_id, outer);
}

TEST_F(Events, HeldStartsAreSentWhenAContextScopeEnds) {
  start_emitter(true);
  osprof::init("k");
  const auto ctx = osprof::capture();
  ASSERT_TRUE(ctx);
  std::thread worker([&] {
    osprof::context_scope scope(*ctx);
    osprof::start("task");
    osprof::start("left-open");
  });
  worker.join();
  const auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].name, "task-start");
  EXPECT_EQ(events[0].parent_id, ctx->parent_id.to_string());
  EXPECT_EQ(events[1].name, "left-open-start");
  EXPECT_EQ(events[1].parent_id, events[0].trace_id);
}

TEST_F(Events, HeldStartAndItsStopKeepTheirOwnInfoInOneRecord) {
  start_emitter(true);
  osprof::init("k");
  osprof::trace root("request");
  osprof::start("db", {{"db", {{"statement", "SELECT ?"}, {"params", {{"id", 42}}}}}});
  osprof::stop({{"etype", "IntegrityError"}, {"message", "duplicate key"}});
  osprof::start("cache");  // no info on either side
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1].name, "db-start");
  EXPECT_EQ(events[1].info_json, R"({"db":{"statement":"SELECT ?","params":{"id":42}},"host":"vm"})");
  EXPECT_EQ(events[2].name, "db-stop");
  EXPECT_EQ(events[2].info_json, R"({"etype":"IntegrityError","message":"duplicate key","host":"vm"})");
  EXPECT_EQ(events[3].name, "cache-start");
  EXPECT_EQ(events[3].info_json, R"({"host":"vm"})");
  EXPECT_EQ(events[4].name, "cache-stop");
  EXPECT_EQ(events[4].info_json, R"({"host":"vm"})");
  EXPECT_EQ(store_->errors().size(), 1u);
}

TEST_F(Events, StopInfoTooLargeToTravelWithTheStartSendsBothApart) {
  start_emitter(true);
  osprof::init("k");
  osprof::trace root("request");
  const std::string statement(120, 'x');
  osprof::start("db", {{"db", {{"statement", "SELECT 1"}}}});
  osprof::stop({{"result", statement}});  // does not fit the start's record: two pushes
  const auto events = collect();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].name, "db-start");
  EXPECT_EQ(events[1].info_json, R"({"db":{"statement":"SELECT 1"},"host":"vm"})");
  EXPECT_EQ(events[2].name, "db-stop");
  EXPECT_EQ(events[2].info_json, R"({"result":")" + statement + R"(","host":"vm"})");
  EXPECT_EQ(emitter_->get_stats().written, 3u);
}

TEST_F(Events, ExceptionLeavingAHeldPointSendsItsStartThenTheError) {
  start_emitter(true);
  osprof::init("k");
  osprof::trace root("request");
  EXPECT_THROW(failing_point(), spawn_error);
  const auto events = collect();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].name, "driver-start");
  EXPECT_EQ(events[2].name, "driver-stop");
  EXPECT_EQ(events[2].info_json,
            R"({"etype":"(anonymous namespace)::spawn_error","message":"boom: cannot spawn vm1","host":"vm"})");
}

TEST_F(Events, ByDefaultAnInnermostPointsStartTravelsWithItsStop) {
  start_emitter(std::nullopt);
  osprof::init("k");
  osprof::start("request");  // the profiler's first start: sent at once
  osprof::start("db");
  ASSERT_EQ(collect().size(), 1u);
  osprof::stop();
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].name, "db-start");
  EXPECT_EQ(events[2].name, "db-stop");
  EXPECT_EQ(events[3].name, "request-stop");
}

TEST_F(Events, AHeldStartIsSentWhenAPointStartsInsideIt) {
  start_emitter(true);
  osprof::init("k");
  osprof::start("request");
  osprof::start("outer");
  ASSERT_EQ(collect().size(), 1u);  // outer is innermost: held
  osprof::start("inner");
  const auto while_inner_runs = collect();
  ASSERT_EQ(while_inner_runs.size(), 2u);
  EXPECT_EQ(while_inner_runs[1].name, "outer-start");
  osprof::stop();
  osprof::stop();
  osprof::stop();
  // OSProfiler's order: each start before the events of the points inside it.
  const auto events = collect();
  ASSERT_EQ(events.size(), 6u);
  const char* expected[] = {"request-start", "outer-start", "inner-start", "inner-stop", "outer-stop", "request-stop"};
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].name, expected[i]) << i;
  EXPECT_EQ(events[2].parent_id, events[1].trace_id);
  EXPECT_EQ(events[1].parent_id, events[0].trace_id);
}

TEST_F(Events, AHeldStartIsSentWhenItsPointIsCapturedOrPropagated) {
  start_emitter(true);
  osprof::init("k");
  osprof::start("request");
  osprof::start("task");
  const auto ctx = osprof::capture();  // points on another thread will name "task" their parent
  ASSERT_TRUE(ctx);
  auto events = collect();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].name, "task-start");
  EXPECT_EQ(events[1].trace_id, ctx->parent_id.to_string());
  osprof::stop();
  osprof::start("call");
  const auto headers = osprof::current_headers();  // so will the callee's points
  EXPECT_FALSE(headers.empty());
  events = collect();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].name, "task-stop");
  EXPECT_EQ(events[3].name, "call-start");
  osprof::stop();
  osprof::stop();
  EXPECT_EQ(collect().size(), 6u);
}

TEST_F(Events, WithoutHoldingEveryStartIsSentAtOnce) {
  osprof::init("k");
  osprof::start("request");
  osprof::start("long");
  ASSERT_EQ(collect().size(), 2u);
  osprof::stop();
  osprof::stop();
  ASSERT_EQ(collect().size(), 4u);
}

TEST_F(Events, SpansAreCountedAsTwoEventsEach) {
  start_emitter(true);
  osprof::init("k");
  osprof::start("request");
  for (int i = 0; i < 1000; ++i) {
    osprof::start("point", {{"i", i}});
    osprof::stop();
  }
  osprof::stop();
  const auto events = collect();
  ASSERT_EQ(events.size(), 2002u);
  const auto s = emitter_->get_stats();
  EXPECT_EQ(s.emitted, 2002u);
  EXPECT_EQ(s.written, 2002u);
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(s.queue_depth, 0u);
  for (std::size_t i = 1; i < 2001; i += 2) {
    ASSERT_EQ(events[i].name, "point-start");
    ASSERT_EQ(events[i + 1].name, "point-stop");
    ASSERT_EQ(events[i].trace_id, events[i + 1].trace_id);
    ASSERT_EQ(events[i].info_json, R"({"i":)" + std::to_string(i / 2) + R"(,"host":"vm"})");
  }
}

}  // namespace
