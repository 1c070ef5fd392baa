// OSProfiler's unified report: the tree of a trace's points built from its stored events,
// with per-point stats, as `osprofiler trace show --json` prints it. Stored events are parsed
// with simdjson; a corrupt event is reported (with the trace id) and skipped.
//
// Two deliberate differences from Python OSProfiler (documented in the README):
//  - a point's name is the event name minus its final "-start"/"-stop" (Python cuts at the
//    first '-', so "my-point" became "my");
//  - siblings are ordered by their start time in microseconds (Python sorts by truncated
//    milliseconds, so points within one millisecond came out in storage order).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace osprof::detail {

/// One trace point (a start/stop pair sharing a trace_id).
struct report_node {
  std::string trace_id;
  std::string parent_id;
  std::string name;     ///< the point name
  std::string project;
  std::string service;
  std::string host;     ///< info.host of the first event seen
  std::optional<std::int64_t> started_us;   ///< absolute, from the start event
  std::optional<std::int64_t> finished_us;  ///< absolute, from the stop event
  std::optional<std::string> exception;     ///< with a stop event: its info.etype, or "None"
  /// The stored events, verbatim JSON, keyed by full event name ("wsgi-start"): what the
  /// report shows under "meta.raw_payload.<event name>", in arrival order.
  std::vector<std::pair<std::string, std::string>> raw_payloads;
  std::vector<report_node> children;
};

struct report_stat {
  std::string name;
  std::int64_t count = 0;
  std::int64_t duration_ms = 0;
};

struct report {
  std::string base_id;
  std::optional<std::int64_t> started_us;  ///< earliest event
  std::optional<std::int64_t> finished_us; ///< latest event
  std::optional<std::int64_t> last_trace_started_us;
  std::vector<report_node> children;       ///< root points
  std::vector<report_stat> stats;          ///< per point name, in order of first appearance
  std::size_t event_count = 0;             ///< events used
  /// Events that could not be used, one line each: "trace <base_id>: <why> (<excerpt>)".
  std::vector<std::string> problems;

  bool empty() const noexcept { return event_count == 0; }
};

/// Builds the report from a trace's stored events (JSON texts, any order).
report build_report(std::string_view base_id, std::span<const std::string> stored_events);

/// Reads a report saved by `trace show --json` (osprof's or Python OSProfiler's).
/// Throws osprof::error if it is not one.
report parse_report_json(std::string_view json);

/// OSProfiler's report JSON (`indent` spaces; 0 = one line): root info {name "total", started 0,
/// finished, last_trace_started} in integer ms from the earliest event, children, stats.
std::string render_json(const report& r, int indent = 2);
/// An indented text tree: name, service, duration and start offset per point, errors marked.
std::string render_tree(const report& r, bool color = false);
/// Graphviz DOT, as OSProfiler's --dot (labels "service:name - N ms").
std::string render_dot(const report& r);
/// A self-contained HTML page (no CDN): a collapsible tree with duration bars and details.
std::string render_html(const report& r);
/// Chrome/Perfetto trace-event JSON (opens in ui.perfetto.dev and chrome://tracing).
std::string render_chrome(const report& r);

}  // namespace osprof::detail
