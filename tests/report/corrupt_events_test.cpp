// Corrupt stored events: each is skipped and described in `problems` as
// "trace <base_id>: event <i>: <why> (<excerpt>)", and the rest of the trace is still built.
#include <algorithm>

#include <gtest/gtest.h>

#include <osprof/report.hpp>
#include "report/report_internal.hpp"
#include "report/stored_event.hpp"
#include "report_test_util.hpp"

namespace osprof::test {
namespace {


// A good two-point trace plus one bad event at index 2; returns the report.
report with_bad_event(const std::string& bad) {
  const std::vector<std::string> events = {
      event("root-start", "r", base_id, t0), event("root-stop", "r", base_id, t0 + 5000), bad,
      event("child-start", "c", "r", t0 + 1000), event("child-stop", "c", "r", t0 + 2000),
  };
  return build_report(base_id, events);
}

void expect_skipped(const std::string& bad, const std::string& why) {
  SCOPED_TRACE(bad);
  const report r = with_bad_event(bad);
  ASSERT_EQ(r.problems.size(), 1u);
  const std::string& p = r.problems[0];
  EXPECT_TRUE(p.starts_with(std::string("trace ") + base_id + ": event 2: ")) << p;
  EXPECT_NE(p.find(why), std::string::npos) << p;
  EXPECT_TRUE(p.ends_with(")")) << p;
  // The excerpt shows the beginning of the event (printable ones verbatim).
  const std::string head = bad.substr(0, std::min<std::size_t>(bad.size(), 20));
  if (std::all_of(head.begin(), head.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    EXPECT_NE(p.find(" (" + head), std::string::npos) << p;
  }
  // The good events are all used.
  EXPECT_EQ(r.event_count, 4u);
  ASSERT_EQ(r.children.size(), 1u);
  EXPECT_EQ(r.children[0].trace_id, "r");
  ASSERT_EQ(r.children[0].children.size(), 1u);
  EXPECT_EQ(r.children[0].children[0].trace_id, "c");
}

// The good event the bad ones are derived from.
std::string good() { return event("x-start", "x", "r", t0 + 3000); }

std::string without(const std::string& text, const std::string& piece) {
  std::string out = text;
  const auto pos = out.find(piece);
  EXPECT_NE(pos, std::string::npos) << piece;
  out.erase(pos, piece.size());
  return out;
}

std::string replaced(const std::string& text, const std::string& from, const std::string& to) {
  std::string out = text;
  const auto pos = out.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  out.replace(pos, from.size(), to);
  return out;
}

TEST(CorruptEvents, GoodEventIsAccepted) {
  const report r = with_bad_event(good());
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.event_count, 5u);
}

TEST(CorruptEvents, NotJson) {
  const std::string g = good();
  expect_skipped(g.substr(0, g.size() / 2), "not valid JSON");  // truncated
  expect_skipped("{\"name\": \"x-start\",}", "not valid JSON");
  expect_skipped("", "not valid JSON");
  expect_skipped("\xff\xfe garbage", "not valid JSON");
}

TEST(CorruptEvents, NotAnObject) {
  expect_skipped("[1, 2, 3]", "not a JSON object but array");
  expect_skipped("null", "not a JSON object but null");
  expect_skipped("\"x-start\"", "not a JSON object but string");
}

TEST(CorruptEvents, MissingFields) {
  const std::string g = good();
  expect_skipped(without(g, "\"name\": \"x-start\", "), "missing \"name\"");
  expect_skipped(without(g, "\"trace_id\": \"x\", "), "missing \"trace_id\"");
  expect_skipped(without(g, "\"parent_id\": \"r\", "), "missing \"parent_id\"");
  expect_skipped(replaced(g, "\"timestamp\"", "\"time\""), "missing \"timestamp\"");
  expect_skipped(without(g, ", \"project\": \"demo\""), "missing \"project\"");
  expect_skipped(without(g, ", \"service\": \"api\""), "missing \"service\"");
  expect_skipped(replaced(g, "\"info\": {\"host\": \"vm\"}, ", ""), "missing \"info\"");
  expect_skipped(replaced(g, "{\"host\": \"vm\"}", "{\"hostname\": \"vm\"}"), "missing \"info.host\"");
}

TEST(CorruptEvents, WrongTypes) {
  const std::string g = good();
  expect_skipped(replaced(g, "\"name\": \"x-start\"", "\"name\": 7"), "\"name\" is not a string but number");
  expect_skipped(replaced(g, "\"trace_id\": \"x\"", "\"trace_id\": 12"), "\"trace_id\" is not a string but number");
  expect_skipped(replaced(g, "\"parent_id\": \"r\"", "\"parent_id\": null"), "\"parent_id\" is not a string but null");
  expect_skipped(replaced(g, "\"project\": \"demo\"", "\"project\": [\"demo\"]"), "\"project\" is not a string but array");
  expect_skipped(replaced(g, "\"service\": \"api\"", "\"service\": {}"), "\"service\" is not a string but object");
  expect_skipped(replaced(g, "\"info\": {\"host\": \"vm\"}", "\"info\": \"host=vm\""), "\"info\" is not an object but string");
  expect_skipped(replaced(g, "{\"host\": \"vm\"}", "{\"host\": 1}"), "\"info.host\" is not a string but number");
  expect_skipped(replaced(g, "\"base_id\": \"", "\"base_id\": 5, \"x\": \""), "\"base_id\" is not a string but number");
}

TEST(CorruptEvents, BadTimestamps) {
  const std::string g = good();
  const std::string ts = detail::format_timestamp(t0 + 3000);
  const std::string no_micro = ts.substr(0, 19);
  expect_skipped(replaced(g, ts, no_micro), "bad timestamp \"" + no_micro + "\"");  // Python requires %f
  expect_skipped(replaced(g, ts, ts + "Z"), "bad timestamp");
  expect_skipped(replaced(g, ts, "2026-13-25T15:26:21.360902"), "bad timestamp");
  expect_skipped(replaced(g, ts, "yesterday"), "bad timestamp \"yesterday\"");
  expect_skipped(replaced(g, "\"" + ts + "\"", "1795000000"), "\"timestamp\" is not a string but number");
}

TEST(CorruptEvents, OtherTrace) {
  const std::string other = event("x-start", "x", "r", t0 + 3000, R"({"host": "vm"})", "api", "demo",
                                  "99999999-9999-9999-9999-999999999999");
  expect_skipped(other, "belongs to another trace (base_id 99999999-9999-9999-9999-999999999999)");
}

TEST(CorruptEvents, ExcerptIsShortAndTerminalSafe) {
  // Not JSON, with an escape sequence and a newline: neither reaches the problem text raw.
  const std::string bad = "\x1b[31mred\nline " + std::string(300, 'x');
  const report r = with_bad_event(bad);
  ASSERT_EQ(r.problems.size(), 1u);
  const std::string& p = r.problems[0];
  EXPECT_EQ(p.find('\x1b'), std::string::npos);
  EXPECT_EQ(p.find('\n'), std::string::npos);
  EXPECT_NE(p.find("\\x1b[31mred\\nline xxx"), std::string::npos) << p;
  EXPECT_TRUE(p.ends_with("...)")) << p;
  EXPECT_LT(p.size(), 320u);
}

TEST(CorruptEvents, ManyBadEventsAreAllReported) {
  std::vector<std::string> events = {event("root-start", "r", base_id, t0), event("root-stop", "r", base_id, t0 + 10)};
  for (int i = 0; i < 50; ++i) events.push_back("{broken " + std::to_string(i));
  const report r = build_report(base_id, events);
  EXPECT_EQ(r.problems.size(), 50u);
  EXPECT_EQ(r.event_count, 2u);
  EXPECT_NE(r.problems[49].find("event 51: "), std::string::npos) << r.problems[49];
}

TEST(CorruptEvents, OnlyBadEventsGiveAnEmptyReport) {
  const report r = build_report(base_id, std::vector<std::string>{"nope", "[]"});
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.children.empty());
  EXPECT_EQ(r.problems.size(), 2u);
}

TEST(CorruptEvents, OversizedEventIsSkipped) {
  // A valid event whose info carries just over the 16 MiB limit.
  const std::string big = event("x-start", "x", "r", t0 + 3000,
                                R"({"host": "vm", "pad": ")" + std::string(max_stored_event_bytes, 'p') + "\"}");
  ASSERT_GT(big.size(), max_stored_event_bytes);
  expect_skipped(big, "too large (" + std::to_string(big.size()) + " bytes, more than 16 MiB): skipped");
  // One byte under the limit is still read.
  std::string fits = event("x-start", "x", "r", t0 + 3000, R"({"host": "vm", "pad": ""})");
  fits.insert(fits.find("\"pad\": \"") + 8, max_stored_event_bytes - fits.size(), 'p');
  ASSERT_EQ(fits.size(), max_stored_event_bytes);
  EXPECT_TRUE(with_bad_event(fits).problems.empty());
}

// Depth of the deepest node (a root is 1).
std::size_t depth(const std::vector<report_node>& nodes) {
  std::size_t deepest = 0;
  for (const auto& n : nodes) deepest = std::max(deepest, 1 + depth(n.children));
  return deepest;
}

// Two roots, each a chain deeper than the limit, and a wide level: each chain is cut under its
// own point at level 127, and the problem names the first cut found (the later root's: roots
// are walked from the last, as before the walk kept one stack entry per level).
TEST(CorruptEvents, DeepChainsUnderTwoRootsAreCutUnderEach) {
  constexpr int chain = 200;
  std::vector<std::string> events;
  for (const char* root : {"a", "b"}) {
    const int offset = root[0] == 'a' ? 0 : 10 * chain;
    for (int i = 0; i < chain; ++i) {
      const std::string id = root + std::to_string(i);
      const std::string parent = i == 0 ? std::string(base_id) : root + std::to_string(i - 1);
      events.push_back(event("deep-start", id, parent, t0 + offset + i));
      events.push_back(event("deep-stop", id, parent, t0 + offset + 2 * chain - i));
    }
  }
  for (int i = 0; i < 300; ++i) {  // a wide level under a0
    const std::string id = "w" + std::to_string(i);
    events.push_back(event("wide-start", id, "a0", t0 + 1 + i));
    events.push_back(event("wide-stop", id, "a0", t0 + 2 + i));
  }
  const report r = build_report(base_id, events);
  EXPECT_EQ(count_nodes(r.children), static_cast<std::size_t>(2 * chain + 300));
  EXPECT_EQ(depth(r.children), max_report_depth);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], std::string("trace ") + base_id + ": " + std::to_string(2 * (chain - max_report_depth)) +
                               " points nested deeper than 128 levels are shown at that level (the first under b126)");
  for (const char* anchor_id : {"a126", "b126"}) {
    const report_node* anchor = find_node(r.children, anchor_id);
    ASSERT_NE(anchor, nullptr) << anchor_id;
    EXPECT_EQ(anchor->children.size(), static_cast<std::size_t>(chain - max_report_depth + 1)) << anchor_id;
  }
  const report_node* a0 = find_node(r.children, "a0");
  ASSERT_NE(a0, nullptr);
  EXPECT_EQ(a0->children.size(), 301u);  // a1 and the wide level, untouched
}

TEST(CorruptEvents, DeepChainIsShownAtTheDepthLimit) {
  // 5000 points, each the parent of the next: every point is kept, none below level 128.
  constexpr int points = 5000;
  std::vector<std::string> events;
  for (int i = 0; i < points; ++i) {
    const std::string id = "p" + std::to_string(i);
    const std::string parent = i == 0 ? std::string(base_id) : "p" + std::to_string(i - 1);
    events.push_back(event("deep-start", id, parent, t0 + i));
    events.push_back(event("deep-stop", id, parent, t0 + 2 * points - i));
  }
  const report r = build_report(base_id, events);
  EXPECT_EQ(r.event_count, 2u * points);
  EXPECT_EQ(count_nodes(r.children), static_cast<std::size_t>(points));
  EXPECT_EQ(depth(r.children), max_report_depth);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], std::string("trace ") + base_id + ": " + std::to_string(points - max_report_depth) +
                               " points nested deeper than 128 levels are shown at that level (the first under p126)");
  // The flattened points hang from p126 (level 127), in start order.
  const report_node* anchor = find_node(r.children, "p126");
  ASSERT_NE(anchor, nullptr);
  ASSERT_EQ(anchor->children.size(), static_cast<std::size_t>(points - max_report_depth + 1));
  EXPECT_EQ(anchor->children.front().trace_id, "p127");
  EXPECT_EQ(anchor->children.back().trace_id, "p" + std::to_string(points - 1));
  // The rendered report grows with the number of points, not with the square of the depth:
  // indentation stops at level 128 (unbounded, this chain would render to about 4 GB).
  const std::string json = render_json(r);
  EXPECT_LT(json.size(), std::size_t{points} * 32 * 1024);
}

TEST(CorruptEvents, ShallowTreeIsNotTouched) {
  std::vector<std::string> events;
  for (std::size_t i = 0; i < max_report_depth; ++i) {
    const std::string id = "p" + std::to_string(i);
    const std::string parent = i == 0 ? std::string(base_id) : "p" + std::to_string(i - 1);
    events.push_back(event("deep-start", id, parent, t0 + static_cast<std::int64_t>(i)));
  }
  const report r = build_report(base_id, events);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(depth(r.children), max_report_depth);
}

// The plain reader (no DOM) reads what the DOM way reads, and leaves to it every event that
// is not plain JSON or cannot be used, so that the DOM way says why.
TEST(CorruptEvents, PlainReaderAgreesWithTheDom) {
  using detail::report_impl::read_plain_stored_event;
  using detail::report_impl::read_stored_event;
  using detail::report_impl::stored_event;
  detail::report_impl::json_reader reader;  // the DOM's views live until its next parse
  const auto by_dom = [&reader](const std::string& text, stored_event& ev) {
    simdjson::dom::element doc;
    if (reader.parse(text).get(doc)) return std::string("not JSON");
    return read_stored_event(doc, ev);
  };
  const std::string plain[] = {
      good(),
      event("x-stop", "x", "r", t0 + 3000, R"({"etype": "ValueError", "host": "vm", "n": [1, {"a": null}, -3, true]})"),
      replaced(good(), R"("project": "demo")", R"("project": null)"),
      replaced(good(), R"("base_id": ")" + std::string(base_id) + "\", ", ""),
      " " + good() + "\n",
  };
  for (const std::string& text : plain) {
    SCOPED_TRACE(text);
    stored_event fast, dom;
    ASSERT_TRUE(read_plain_stored_event(text, fast));
    ASSERT_EQ(by_dom(text, dom), "");
    EXPECT_EQ(fast.name, dom.name);
    EXPECT_EQ(fast.trace_id, dom.trace_id);
    EXPECT_EQ(fast.parent_id, dom.parent_id);
    EXPECT_EQ(fast.project, dom.project);
    EXPECT_EQ(fast.service, dom.service);
    EXPECT_EQ(fast.host, dom.host);
    EXPECT_EQ(fast.has_base_id, dom.has_base_id);
    EXPECT_EQ(fast.base_id, dom.base_id);
    EXPECT_EQ(fast.time_us, dom.time_us);
    EXPECT_EQ(fast.has_etype, dom.has_etype);
    EXPECT_EQ(fast.etype, dom.etype);
  }
  const std::string declined[] = {
      without(good(), R"("name": "x-start", )"),
      replaced(good(), R"("name": "x-start")", R"("name": null)"),
      replaced(good(), R"("trace_id": "x")", R"("trace_id": 7)"),
      replaced(good(), R"({"host": "vm"})", R"({"host": "vm", "host": "vm2"})"),
      replaced(good(), R"({"host": "vm"})", R"({"etype": {"type": "E"}, "host": "vm"})"),
      replaced(good(), R"({"host": "vm"})", R"({"etype": null, "host": "vm"})"),
      replaced(good(), R"({"host": "vm"})", R"({"message": "a\nb", "host": "vm"})"),
      replaced(good(), R"({"host": "vm"})", R"({"ratio": 0.5, "host": "vm"})"),
      replaced(good(), R"({"host": "vm"})", R"({"host": "vm\u00e9"})"),
      replaced(good(), R"({"host": "vm"})", R"({})"),
      replaced(good(), R"({"host": "vm"})", R"([])"),
      replaced(good(), R"("base_id": ")", R"("base_id": null, "x": ")"),
      replaced(good(), "T", "x"),  // the timestamp
      good() + " {}",
      good().substr(0, 40),
  };
  for (const std::string& text : declined) {
    stored_event ev;
    EXPECT_FALSE(read_plain_stored_event(text, ev)) << text;
  }
}

}  // namespace
}  // namespace osprof::test
