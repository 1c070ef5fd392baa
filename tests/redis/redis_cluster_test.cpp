// The Redis driver against a real 3-master Redis Cluster on loopback (tests/servers/redis.sh
// start-cluster): every key lands on the node that owns its slot, show and list read across
// the nodes, and writes follow MOVED (a slot moved to another node) and ASK (a slot being
// migrated). The tests move slots and put them back, so they hold the cluster's lock.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "drivers/redis/slot.hpp"
#include "redis_test_util.hpp"

namespace {

using namespace osprof_test;
using namespace std::chrono_literals;
using osprof::detail::redis::key_slot;

std::vector<std::uint16_t> ports() { return fixture_ports("redis-cluster"); }
std::string cluster_url() { return "rediscluster://127.0.0.1:" + std::to_string(ports()[0]); }

// The port of the node that owns `slot`, from CLUSTER SLOTS.
std::uint16_t owner_of(std::uint16_t slot) {
  const auto r = redis_command(ports()[0], {"CLUSTER", "SLOTS"});
  for (const auto& range : r.elements) {
    if (slot >= range.elements[0].integer && slot <= range.elements[1].integer) {
      return static_cast<std::uint16_t>(range.elements[2].elements[1].integer);
    }
  }
  throw std::runtime_error("slot " + std::to_string(slot) + " has no owner");
}

std::string node_id(std::uint16_t port) { return redis_command(port, {"CLUSTER", "MYID"}).text; }

// Emits a trace of `points` start/stop pairs under `base` (the last point fails if `error`).
void emit_trace(const osprof::uuid& base, int points, bool error = false) {
  osprof::init("SECRET_KEY", base);
  {
    osprof::trace root("root");
    for (int i = 1; i < points; ++i) {
      if (error && i == points - 1) {
        try {
          osprof::trace p("fails");
          throw std::runtime_error("boom");
        } catch (const std::exception&) {
        }
      } else {
        osprof::trace p("point");
      }
    }
  }
  osprof::clean();
}

// A fresh trace id whose list key lives in a slot without keys, and that slot's owner.
std::pair<osprof::uuid, std::uint16_t> trace_in_an_empty_slot() {
  for (;;) {
    const auto id = osprof::uuid::random();
    const auto slot = key_slot("osprofiler_opt:" + id.to_string());
    const auto owner = owner_of(slot);
    if (redis_command(owner, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).integer == 0) return {id, slot};
  }
}

// Gives `slot` to the node at `to` on every node (the slot must have no keys on its owner).
void assign_slot(std::uint16_t slot, std::uint16_t to) {
  const std::string id = node_id(to);
  // The new owner first, then the others (as redis-cli --cluster does).
  std::vector<std::uint16_t> order = {to};
  for (auto p : ports()) {
    if (p != to) order.push_back(p);
  }
  for (auto p : order) {
    const auto r = redis_command(p, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", id});
    ASSERT_TRUE(r.is_ok()) << r.text;
  }
}

// Deletes every key of `slot` on the node at `port` (with ASKING, for an importing slot).
void clear_slot(std::uint16_t slot, std::uint16_t port) {
  const auto keys = redis_command(port, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "1000"});
  for (const auto& k : keys.elements) redis_pipeline(port, {{"ASKING"}, {"DEL", k.text}});
}

TEST(RedisCluster, WritesLandOnTheNodeThatOwnsTheSlot) {
  std::map<std::string, int> expected;  // base_id -> events
  std::set<std::string> with_errors;
  osprof::stats s;
  {
    osprof::emitter e{test_options(cluster_url())};
    for (int t = 0; t < 60; ++t) {
      const auto base = osprof::uuid::random();
      const int points = 1 + t % 7;
      const bool error = t % 5 == 0 && points > 1;
      emit_trace(base, points, error);
      expected[base.to_string()] = 2 * points;
      if (error) with_errors.insert(base.to_string());
    }
    ASSERT_TRUE(e.flush(20s));
    s = e.get_stats();
  }
  EXPECT_EQ(s.written, s.emitted) << s.last_error;
  EXPECT_EQ(s.dropped(), 0u);

  std::set<std::uint16_t> nodes_used;
  for (const auto& [base, events] : expected) {
    const std::string key = "osprofiler_opt:" + base;
    const auto owner = owner_of(key_slot(key));
    nodes_used.insert(owner);
    // Asked directly (no redirect followed): the owner has it.
    const auto r = redis_command(owner, {"LLEN", key});
    EXPECT_EQ(r.integer, events) << key << " on " << owner << ": " << r.describe();
    const std::string flag = "osprofiler_error:" + base;
    EXPECT_EQ(redis_command(owner_of(key_slot(flag)), {"EXISTS", flag}).integer, with_errors.count(base) ? 1 : 0) << flag;
  }
  EXPECT_EQ(nodes_used.size(), 3u) << "60 traces should spread over all 3 masters";

  // Reading goes across the nodes.
  reader rd(cluster_url());
  for (const auto& [base, events] : expected) EXPECT_EQ(rd.trace(base).size(), static_cast<std::size_t>(events)) << base;
  std::set<std::string> listed, errored;
  for (const auto& row : rd.list()) {
    listed.insert(row.base_id);
    EXPECT_EQ(row.timestamp.size(), 26u) << row.base_id;
  }
  for (const auto& row : rd.errors()) errored.insert(row.base_id);
  for (const auto& [base, events] : expected) EXPECT_TRUE(listed.count(base)) << base;
  for (const auto& base : with_errors) EXPECT_TRUE(errored.count(base)) << base;
  for (const auto& base : errored) {
    if (expected.count(base)) {
      EXPECT_TRUE(with_errors.count(base)) << base;
    }
  }
}

TEST(RedisCluster, FollowsMovedWhenASlotMovesToAnotherNode) {
  const auto [base, slot] = trace_in_an_empty_slot();
  const auto from = owner_of(slot);
  const auto to = from == ports()[0] ? ports()[1] : ports()[0];
  osprof::emitter e{test_options(cluster_url())};
  emit_trace(osprof::uuid::random(), 2);  // the driver learns the slot map
  ASSERT_TRUE(e.flush(10s));
  assign_slot(slot, to);
  emit_trace(base, 4);
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, s.emitted);
  EXPECT_EQ(s.write_failures, 0u) << "MOVED is followed within the write: " << s.last_error;
  const std::string key = "osprofiler_opt:" + base.to_string();
  EXPECT_EQ(redis_command(to, {"LLEN", key}).integer, 8);
  EXPECT_EQ(reader(cluster_url()).trace(base.to_string()).size(), 8u);
  clear_slot(slot, to);
  assign_slot(slot, from);
}

// Starts moving `slot` from `from` to `to` (IMPORTING / MIGRATING), as resharding does.
void begin_migration(std::uint16_t slot, std::uint16_t from, std::uint16_t to) {
  const std::string s_text = std::to_string(slot);
  ASSERT_TRUE(redis_command(to, {"CLUSTER", "SETSLOT", s_text, "IMPORTING", node_id(from)}).is_ok());
  ASSERT_TRUE(redis_command(from, {"CLUSTER", "SETSLOT", s_text, "MIGRATING", node_id(to)}).is_ok());
}

TEST(RedisCluster, FollowsAskWhileASlotIsMigrating) {
  // Plain commands (dedup=false) touch one key each: ASK lets them in on the importing node.
  const auto [base, slot] = trace_in_an_empty_slot();
  const auto from = owner_of(slot);
  const auto to = from == ports()[0] ? ports()[1] : ports()[0];
  osprof::emitter e{test_options(cluster_url() + "?dedup=false")};
  emit_trace(osprof::uuid::random(), 2);
  ASSERT_TRUE(e.flush(10s));
  begin_migration(slot, from, to);
  emit_trace(base, 4);
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.written, s.emitted);
  EXPECT_EQ(s.write_failures, 0u) << "ASK is followed within the write: " << s.last_error;
  const std::string key = "osprofiler_opt:" + base.to_string();
  // The new key went to the importing node (reachable there with ASKING only, for now).
  EXPECT_EQ(redis_command(from, {"EXISTS", key}).integer, 0);
  EXPECT_EQ(redis_pipeline(to, {{"ASKING"}, {"LLEN", key}})[1].integer, 8);
  // Finish the migration; the trace reads back from its new home.
  assign_slot(slot, to);
  EXPECT_EQ(reader(cluster_url()).trace(base.to_string()).size(), 8u);
  clear_slot(slot, to);
  assign_slot(slot, from);
}

TEST(RedisCluster, ATransactionWaitsForTheMigrationToEnd) {
  // A transaction (the default) names two new keys of the slot; the importing node answers
  // TRYAGAIN until the slot has moved, so the batch is held and retried, then stored once.
  const auto [base, slot] = trace_in_an_empty_slot();
  const auto from = owner_of(slot);
  const auto to = from == ports()[0] ? ports()[1] : ports()[0];
  osprof::emitter e{test_options(cluster_url())};
  emit_trace(osprof::uuid::random(), 2);
  ASSERT_TRUE(e.flush(10s));
  begin_migration(slot, from, to);
  emit_trace(base, 4);
  EXPECT_FALSE(e.flush(1s));
  auto s = e.get_stats();
  EXPECT_NE(s.last_error.find("TRYAGAIN"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.held, 8u);
  assign_slot(slot, to);
  ASSERT_TRUE(e.flush(10s)) << e.get_stats().last_error;
  e.shutdown(10s);
  s = e.get_stats();
  EXPECT_EQ(s.written, s.emitted);
  EXPECT_EQ(redis_command(to, {"LLEN", "osprofiler_opt:" + base.to_string()}).integer, 8);
  clear_slot(slot, to);
  assign_slot(slot, from);
}

TEST(RedisCluster, APlainRedisUrlToAClusterNodeSaysSo) {
  // Without cluster mode, keys of other nodes' slots come back MOVED: refused with a hint.
  auto o = test_options("redis://127.0.0.1:" + std::to_string(ports()[0]));
  osprof::emitter e{o};
  for (int i = 0; i < 20; ++i) emit_trace(osprof::uuid::random(), 1);
  e.flush(10s);
  e.shutdown(10s);
  const auto s = e.get_stats();
  EXPECT_EQ(s.emitted, s.written + s.dropped());
  EXPECT_GT(s.dropped_backend, 0u);
  EXPECT_NE(s.last_error.find("use rediscluster://"), std::string::npos) << s.last_error;
}

}  // namespace
