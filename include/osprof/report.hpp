// OSProfiler's unified report: the tree of a trace's points built from its stored events,
// with per-point stats, as `osprofiler trace show --json` prints it, and the calls that read
// it from any backend with a reader. Stored events are parsed with simdjson; a corrupt event
// is reported (with the trace id) and skipped. The text, HTML, DOT and Chrome renderings are
// in <osprof/render.hpp> (CMake target osprof::render).
//
// Two deliberate differences from Python OSProfiler (documented in the README):
//  - a point's name is the event name minus its final "-start"/"-stop" (Python cuts at the
//    first '-', so "my-point" became "my");
//  - siblings are ordered by their start time in microseconds (Python sorts by truncated
//    milliseconds, so points within one millisecond came out in storage order).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace osprof {
inline namespace v1 {

/// One row of `trace list`.
struct trace_summary {
  std::string base_id;
  std::string timestamp;  ///< the trace's first event, "%Y-%m-%dT%H:%M:%S.%f"
  // Filled by reader::list_page() where the backend has them cheaply; empty otherwise.
  std::string name{};       ///< the point of the trace's first event
  std::string service{};    ///< the service of the trace's first event
  std::string finished{};   ///< the trace's latest event
  std::size_t events = 0;   ///< stored events (0: not known)
  std::optional<bool> has_error{};  ///< a stop event carries `etype` (nullopt: not known)
};

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

/// A stored event larger than this is skipped (and named in report::problems): no trace point
/// needs it, and one hostile event must not cost gigabytes.
inline constexpr std::size_t max_stored_event_bytes = std::size_t{16} << 20;
/// Points nested deeper than this are shown at this depth (and counted in report::problems):
/// the report's JSON grows with depth on every line, and Python's report fails far earlier.
inline constexpr std::size_t max_report_depth = 128;

/// Builds the report from a trace's stored events (JSON texts, any order).
report build_report(std::string_view base_id, std::span<const std::string> stored_events);

/// Reads a report saved by `trace show --json` (osprof's or Python OSProfiler's).
/// Throws osprof::error if it is not one.
report parse_report_json(std::string_view json);

/// OSProfiler's report JSON (`indent` spaces; 0 = one line): root info {name "total", started 0,
/// finished, last_trace_started} in integer ms from the earliest event, children, stats.
std::string render_json(const report& r, int indent = 2);

/// Takes the report's JSON piece by piece.
using text_sink = std::function<void(std::string_view)>;
/// render_json(r, indent) handed to `write` in pieces (of about 64 KiB) as it is produced,
/// so that a large report is never held as one string. The pieces in order are the text.
void render_json(const report& r, int indent, const text_sink& write);

/// How long a read from a backend may take in all; past it the read throws osprof::error.
struct read_options {
  std::chrono::milliseconds timeout{30000};
};

/// Reads one trace through the reader registered for the connection string's scheme and
/// builds its report (empty() when the trace is unknown). Throws osprof::error for a bad
/// connection string, a backend without a reader, a failing or silent backend.
report read_report(std::string_view connection_string, std::string_view base_id, const read_options& options = {});

/// The traces in the backend, newest first; with `errors_only`, those that contain an error.
/// Throws as read_report().
std::vector<trace_summary> list_traces(std::string_view connection_string, bool errors_only = false,
                                       const read_options& options = {});

}  // namespace v1
}  // namespace osprof
