// A large trace is read by two threads, each reading half of its events (report.cpp): what
// they read must be what one thread reads. Also run under ThreadSanitizer.
#include <gtest/gtest.h>

#include <osprof/report.hpp>
#include "report_test_util.hpp"

namespace osprof::test {
namespace {

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
  const report_node* late = find_node(r.children, "p2600");
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->exception, "ValueError");
  const report_node* early = find_node(r.children, "p600");
  ASSERT_NE(early, nullptr);
  EXPECT_EQ(early->exception, "KeyError");
  EXPECT_EQ(find_node(r.children, "p2601")->exception, "None");
  const report_node* escaped = find_node(r.children, "p2700");
  ASSERT_NE(escaped, nullptr);
  EXPECT_EQ(escaped->host, "v\xc3\xa9");
  const report_node* next = find_node(r.children, "p2701");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->host, "vm");
  // The point whose start was another trace's keeps its stop only.
  const report_node* half = find_node(r.children, "p2500");
  ASSERT_NE(half, nullptr);
  EXPECT_EQ(half->raw_payloads.size(), 1u);
}

}  // namespace
}  // namespace osprof::test
