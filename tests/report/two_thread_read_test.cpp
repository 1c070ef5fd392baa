// A large trace is read by two threads, each reading half of its events (report.cpp), and a
// wide array of its points is rendered by two (json_render.hpp): what they read and write must
// be what one thread does. Also run under ThreadSanitizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include <osprof/render.hpp>
#include <osprof/report.hpp>
#include "report/report_internal.hpp"
#include "report_test_util.hpp"

namespace osprof::test {
namespace {

// The point `id` of `r`; a test that does not find it fails (with the exception's message).
const report_node& point_of(const report& r, const std::string& id) {
  const report_node* n = find_node(r.children, id);
  if (n == nullptr) throw std::runtime_error("no point " + id + " in the report");
  return *n;
}

// A trace large enough to be read by two threads (each reads half of the events): bad events
// in both halves are reported in order and skipped, and the events only the DOM reads (an
// etype, an escaped string) are read in either half as in a small trace.
TEST(TwoThreadRead, BadAndUncommonEventsInBothHalves) {
  constexpr int points = 3000;  // 6,000 events
  std::vector<std::string> events;
  for (int i = 0; i < points; ++i) {
    const std::string id = "p" + std::to_string(i);
    events.push_back(event("call-start", id, base_id, t0 + 10 * i));
    events.push_back(event("call-stop", id, base_id, t0 + 10 * i + 5));
  }
  events[10] = "{broken";                                                             // first half
  events[4000] = "[]";                                                                // second half
  events[5000] = event("call-start", "p2500", base_id, t0 + 25000, R"({"host": "vm"})", "api", "demo",
                       "99999999-2222-3333-4444-555555555555");                      // another trace
  events[5201] = event("call-stop", "p2600", base_id, t0 + 26005, R"({"host": "vm", "etype": "ValueError"})");
  events[5400] = event("call-start", "p2700", base_id, t0 + 27000, R"({"host": "v\u00e9"})");
  events[1201] = event("call-stop", "p600", base_id, t0 + 6005, R"({"host": "vm", "etype": "KeyError"})");
  const report r = build_report(base_id, events);
  ASSERT_EQ(r.problems.size(), 3u);
  EXPECT_NE(r.problems[0].find("event 10: not valid JSON"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[1].find("event 4000: "), std::string::npos) << r.problems[1];
  EXPECT_NE(r.problems[2].find("event 5000: belongs to another trace"), std::string::npos) << r.problems[2];
  EXPECT_EQ(r.event_count, 2u * points - 3);
  EXPECT_EQ(count_nodes(r.children), static_cast<std::size_t>(points));
  EXPECT_EQ(point_of(r, "p2600").exception, "ValueError");
  EXPECT_EQ(point_of(r, "p600").exception, "KeyError");
  EXPECT_EQ(point_of(r, "p2601").exception, "None");
  EXPECT_EQ(point_of(r, "p2700").host, "v\xc3\xa9");
  EXPECT_EQ(point_of(r, "p2701").host, "vm");
  // The point whose start was another trace's keeps its stop only.
  EXPECT_EQ(point_of(r, "p2500").raw_payloads.size(), 1u);
}

// A trace whose root has `calls` points under it, some with children of their own and one
// with a chain deeper than the depth limit, then `roots` more roots.
std::vector<std::string> wide_trace(int calls, int roots) {
  std::vector<std::string> events;
  std::int64_t t = t0;
  const auto point = [&](const std::string& id, const std::string& parent, const std::string& info) {
    events.push_back(event("call-start", id, parent, t++, info));
    events.push_back(event("call-stop", id, parent, t++));
  };
  events.push_back(event("root-start", "r", base_id, t++));
  for (int i = 0; i < calls; ++i) {
    const std::string id = "c" + std::to_string(i);
    // Payloads of differing sizes, so that chunks differ in length.
    point(id, "r", R"({"host": "vm", "n": )" + std::to_string(i) + R"(, "pad": ")" + std::string(i % 37, 'x') + R"("})");
    if (i % 7 == 0) {
      for (int k = 0; k < 3; ++k) point(id + "." + std::to_string(k), id, R"({"host": "vm"})");
    }
  }
  std::string parent = "c" + std::to_string(calls / 2);
  for (int depth = 0; depth < 200; ++depth) {
    const std::string id = "deep" + std::to_string(depth);
    point(id, parent, R"({"host": "vm"})");
    parent = id;
  }
  events.push_back(event("root-stop", "r", base_id, t++));
  for (int i = 0; i < roots; ++i) point("top" + std::to_string(i), base_id, R"({"host": "vm"})");
  return events;
}

// Where two texts first differ, or npos: a failed EXPECT_EQ would print a diff of megabytes
// (and gtest's line diff of texts this large does not end in reasonable memory).
std::size_t first_difference(std::string_view a, std::string_view b) {
  const auto [in_a, in_b] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (in_a == a.end() && in_b == b.end()) return std::string::npos;
  return static_cast<std::size_t>(in_a - a.begin());
}

std::string in_pieces(const std::function<void(const text_sink&)>& render) {
  std::string out;
  std::size_t pieces = 0;
  render([&](std::string_view piece) {
    out.append(piece);
    ++pieces;
  });
  EXPECT_GT(pieces, 1u);
  return out;
}

// The first wide array is the one rendered on two threads: a point's 3,000 calls, then (in a
// trace of its own) 700 roots.
TEST(TwoThreadRender, WideArraysAreWrittenAsOneThreadWritesThem) {
  for (const auto& [calls, roots] : {std::pair{3000, 0}, std::pair{100, 700}}) {
    SCOPED_TRACE(std::to_string(calls) + " calls, " + std::to_string(roots) + " more roots");
    const std::vector<std::string> events = wide_trace(calls, roots);
    const report r = build_report(base_id, events);
    ASSERT_EQ(r.children.size(), 1u + roots);
    ASSERT_EQ(r.children[0].children.size(), static_cast<std::size_t>(calls));
    const std::string one_thread = render_json(r, 2);  // the string form: one thread
    constexpr std::size_t same = std::string::npos;
    EXPECT_EQ(first_difference(in_pieces([&](const text_sink& w) { render_json(r, 2, w); }), one_thread), same);
    // As `trace show --json` writes it: from the analysed events, without a report.
    detail::report_impl::analysed_trace trace(base_id, std::vector<std::string>(events));
    EXPECT_EQ(first_difference(in_pieces([&](const text_sink& w) { trace.render_json(2, w); }), one_thread), same);
    // On one line too.
    EXPECT_EQ(first_difference(in_pieces([&](const text_sink& w) { render_json(r, 0, w); }), render_json(r, 0)), same);
  }
}

TEST(TwoThreadRender, SinkThatFailsStopsBothThreads) {
  const report r = build_report(base_id, wide_trace(5000, 0));
  for (int fail_at : {1, 2, 5, 40}) {
    int pieces = 0;
    EXPECT_THROW(render_json(r, 2,
                             [&](std::string_view) {
                               if (++pieces == fail_at) throw std::runtime_error("closed pipe");
                             }),
                 std::runtime_error);
    EXPECT_EQ(pieces, fail_at);
  }
}

}  // namespace
}  // namespace osprof::test
