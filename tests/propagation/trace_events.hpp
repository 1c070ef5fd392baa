// Test helper: the stored events of one trace as parsed records, and a check that they form
// one well-nested tree.
#pragma once

#include <simdjson.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace osprof::test {

struct event {
  std::string json;
  std::string name;  ///< "<point>-start" / "<point>-stop"
  std::string base_id, trace_id, parent_id;
  std::string service;

  std::string point() const { return name.substr(0, name.rfind('-')); }
  bool is_start() const { return name.ends_with("-start"); }

  /// The value at a JSON pointer ("/info/request/path") as text: strings unquoted, other
  /// values as JSON; nullopt when absent.
  std::optional<std::string> at(std::string_view pointer) const {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json).get(doc)) return std::nullopt;
    simdjson::dom::element value;
    if (doc.at_pointer(pointer).get(value)) return std::nullopt;
    if (value.is_string()) return std::string(value.get_string().value());
    return simdjson::to_string(value);
  }
};

inline std::vector<event> parse_events(const std::vector<std::string>& texts) {
  std::vector<event> out;
  for (const std::string& text : texts) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc)) {
      ADD_FAILURE() << "stored event is not JSON: " << text;
      continue;
    }
    event e;
    e.json = text;
    auto str = [&](const char* key) {
      std::string_view v;
      return doc[key].get_string().get(v) ? std::string() : std::string(v);
    };
    e.name = str("name");
    e.base_id = str("base_id");
    e.trace_id = str("trace_id");
    e.parent_id = str("parent_id");
    e.service = str("service");
    out.push_back(std::move(e));
  }
  return out;
}

/// Points of a trace: trace_id -> (start, stop).
struct point {
  const event* start = nullptr;
  const event* stop = nullptr;
};

inline std::map<std::string, point> points_of(const std::vector<event>& events) {
  std::map<std::string, point> points;
  for (const event& e : events) (e.is_start() ? points[e.trace_id].start : points[e.trace_id].stop) = &e;
  return points;
}

/// The start event of the only point named `name` (fails the test otherwise).
inline const event* only(const std::vector<event>& events, std::string_view name) {
  const event* found = nullptr;
  for (const event& e : events) {
    if (e.is_start() && e.point() == name) {
      if (found != nullptr) {
        ADD_FAILURE() << "more than one point named " << name;
        return found;
      }
      found = &e;
    }
  }
  if (found == nullptr) ADD_FAILURE() << "no point named " << name;
  return found;
}

/// Every point has a start and a stop with the same ids, every event has `base`, and every
/// parent is a point of the trace or one of `roots`.
inline void expect_one_tree(const std::vector<event>& events, const std::string& base,
                            const std::vector<std::string>& roots) {
  const auto points = points_of(events);
  for (const auto& [id, p] : points) {
    ASSERT_NE(p.start, nullptr) << "point " << id << " has no start";
    ASSERT_NE(p.stop, nullptr) << "point " << id << " (" << p.start->name << ") has no stop";
    EXPECT_EQ(p.start->parent_id, p.stop->parent_id) << p.start->name;
    EXPECT_EQ(p.start->base_id, base) << p.start->json;
    EXPECT_EQ(p.stop->base_id, base) << p.stop->json;
    const bool known = points.count(p.start->parent_id) != 0 ||
                       std::find(roots.begin(), roots.end(), p.start->parent_id) != roots.end();
    EXPECT_TRUE(known) << "parent of " << p.start->json << " is not in the trace";
  }
}

}  // namespace osprof::test
