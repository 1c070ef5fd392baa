// Helpers shared by the report's builder, reader and renderers: a reusable simdjson reader
// for JSON texts held as string_views, a writer that reproduces Python's json.dumps byte for
// byte (ensure_ascii strings, float repr, indent, separators "," and ": "), Python's
// millisecond arithmetic, and small text helpers for terminal-safe output.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include <osprof/report.hpp>

#include "common/text.hpp"

namespace osprof::detail::report_impl {

/// Parses JSON texts that are not padded (std::string_view) with one reused simdjson DOM
/// parser: the text is copied into a padded buffer that grows and is kept. The element a
/// parse returns lives until the next parse.
///
/// Python's json module also writes NaN, Infinity, -Infinity and integers of any size, which
/// JSON and simdjson do not have: a text that fails to parse is read again with each such
/// value as a string marked by python_literal_prefix, which python_literal() recognises.
class json_reader {
 public:
  explicit json_reader(std::size_t max_depth = simdjson::DEFAULT_MAX_DEPTH) : max_depth_(max_depth) {}

  simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view text);

 private:
  simdjson::simdjson_result<simdjson::dom::element> parse_json(std::string_view text);

  simdjson::dom::parser parser_;
  std::string marked_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t max_depth_;
};

/// build_report() taking the events' texts: they become the points' raw payloads instead of
/// being copied (a read trace's texts are needed only there).
report build_report_taking(std::string_view base_id, std::vector<std::string>&& stored_events);

/// read_report() without the report: the trace's stored events as the backend returned them.
std::vector<std::string> read_trace_events(std::string_view connection_string, std::string_view base_id,
                                           const read_options& options);

class trace_builder;

/// A trace's stored events, analysed (parsed, ordered, folded into points, linked, counted)
/// but not yet written as report_nodes: enough to write the report's JSON, in a fraction of a
/// report's memory (no copy of any event's fields or text).
class analysed_trace {
 public:
  analysed_trace(std::string_view base_id, std::vector<std::string>&& stored_events);
  ~analysed_trace();
  analysed_trace(const analysed_trace&) = delete;
  analysed_trace& operator=(const analysed_trace&) = delete;

  /// The report without its points: ids, times, stats, event_count and problems.
  const report& head() const noexcept;
  /// render_json(report, indent, write) of the report take_report() would return.
  void render_json(int indent, const text_sink& write) const;
  /// The whole report (once; the events' texts move into it).
  report take_report();

 private:
  std::unique_ptr<trace_builder> b_;
};

/// Marks a value Python writes that is not JSON (NaN, Infinity, -Infinity, an integer beyond
/// 64 bits, a number beyond double's range): its text follows the prefix. A NUL byte cannot
/// start a string that Python's drivers store from a name or an info value written as JSON.
inline constexpr std::string_view python_literal_prefix{"\0py:", 4};

/// The Python literal a string read by json_reader stands for ("NaN", "123...", "Infinity"),
/// or empty if it is an ordinary string.
inline std::string_view python_literal(std::string_view s) noexcept {
  return s.starts_with(python_literal_prefix) ? s.substr(python_literal_prefix.size()) : std::string_view{};
}

/// `text` with Python's non-JSON literals (outside strings) turned into marked strings, or
/// empty if it has none.
std::string mark_python_literals(std::string_view text);

/// Python's json.dumps(value, indent=N, separators=(",", ": ")) (ensure_ascii, as the
/// OSProfiler CLI prints). `indent` 0 writes one line (items joined by ",").
class py_json_writer {
 public:
  py_json_writer(std::string& out, int indent) : out_(out), indent_(indent) {}

  /// A line break and the indentation of the usual depths: newline() writes from it in one copy.
  static constexpr std::string_view line_break_and_spaces = "\n                                                ";

  /// A newline and the indentation of `level` (nothing on one line).
  void newline(int level) {
    if (indent_ <= 0) return;
    const std::size_t n = static_cast<std::size_t>(level) * static_cast<std::size_t>(indent_);
    if (n < line_break_and_spaces.size()) {
      out_.append(line_break_and_spaces.data(), n + 1);
      return;
    }
    out_ += '\n';
    out_.append(n, ' ');
  }
  /// A comma, then newline(level): between the members or items of a container.
  void next_line(int level) {
    if (indent_ <= 0) {
      out_ += ',';
      return;
    }
    const std::size_t n = static_cast<std::size_t>(level) * static_cast<std::size_t>(indent_);
    if (n < line_break_and_spaces.size()) {
      // The comma, the line break and the spaces in one append.
      char line[1 + line_break_and_spaces.size()];
      line[0] = ',';
      std::memcpy(line + 1, line_break_and_spaces.data(), n + 1);
      out_.append(line, n + 2);
      return;
    }
    out_ += ',';
    newline(level);
  }
  void string(std::string_view s) { quoted(s, {}); }
  void key(std::string_view k) { quoted(k, ": "); }
  /// The key "meta.raw_payload.<event_name>" of a point's stored event.
  void raw_payload_key(std::string_view event_name);
  void integer(std::int64_t v);
  /// Any DOM value, nested at `level` (the level of the line that holds it).
  void value(simdjson::dom::element e, int level);
  /// The JSON `text` as value() writes its parsed form, copied from the text without parsing
  /// it into a DOM, for the common shape of stored events: objects, arrays, strings of
  /// printable ASCII without escapes, integers, true, false and null. Returns false, having
  /// written nothing, for anything else (escapes, non-ASCII, fractions, a repeated key, deep
  /// nesting, invalid JSON): value() of the parsed text is then the way.
  bool plain_value(std::string_view text, int level);
  /// plain_value() of a text already known to be plain (read_plain_stored_event read all of
  /// it): only re-indented, nothing checked again.
  void checked_plain_value(std::string_view text, int level);

  std::string& out() noexcept { return out_; }
  int indent() const noexcept { return indent_; }

 private:
  void object(simdjson::dom::object o, int level);
  /// `s` as a JSON string, then `suffix` (plain text).
  void quoted(std::string_view s, std::string_view suffix);

  std::string& out_;
  int indent_;
  // Fields of the objects being written, used as a stack (index based, never referenced).
  std::vector<std::pair<std::string_view, simdjson::dom::element>> fields_;
  std::string key_buf_;  // a key assembled from parts that need escaping
};

/// Appends `text` as Python's json.dumps writes a str with ensure_ascii: only printable ASCII
/// stays, everything else is \uXXXX (surrogate pairs above U+FFFF, lowercase hex).
void append_py_string(std::string& out, std::string_view text);
/// Appends a double as Python's repr(float) (shortest round trip, "1.0", "1e-05", "1e+16").
void append_py_float(std::string& out, double value);

/// Python's test for a stop event: the event name ends with "stop".
inline bool is_stop_event(std::string_view event_name) noexcept { return event_name.ends_with("stop"); }
/// The point name: the event name without its final "-start"/"-stop" (the whole name when it
/// has neither suffix).
inline std::string_view point_name(std::string_view event_name) noexcept {
  if (event_name.ends_with("-start")) return event_name.substr(0, event_name.size() - 6);
  if (event_name.ends_with("-stop")) return event_name.substr(0, event_name.size() - 5);
  return event_name;
}

/// Python's msec(): integer milliseconds, truncated toward zero.
inline std::int64_t ms_between(std::int64_t origin_us, std::int64_t us) noexcept { return (us - origin_us) / 1000; }

/// A point's endpoints, as a report_node holds them.
struct point_times {
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> finished_us;
};

/// A point's start and end as Python fills them in: a point with one endpoint only gets the
/// other one equal to it.
template <class Point>  // a report_node or point_times
std::int64_t effective_started(const Point& n) noexcept {
  return n.started_us ? *n.started_us : n.finished_us.value_or(0);
}
template <class Point>
std::int64_t effective_finished(const Point& n) noexcept {
  return n.finished_us ? *n.finished_us : n.started_us.value_or(0);
}
/// The report's time origin (the earliest event; 0 when empty).
inline std::int64_t origin_of(const report& r) noexcept { return r.started_us.value_or(0); }

using detail::append_terminal_safe;
using detail::excerpt;
using detail::utf8_prefix;

/// A duration in milliseconds, finer below 1 ms: "0.077 ms", "1.39 ms", "12.4 ms", "1234 ms".
void append_ms(std::string& out, std::int64_t us);

/// A JSON value of an event's info (e.g. info.message) as text: strings as they are, other
/// values as compact JSON. Empty if the event or the key is missing.
std::string info_field_text(json_reader& reader, std::string_view event_json, std::string_view key);

/// The stored event of a point whose full name matches `is_stop` (its last one), or null.
const std::string* raw_payload_of(const report_node& n, bool stop);

/// Calls f(node, depth, is_last_sibling) for every node in preorder, without recursion.
template <class F>
void for_each_preorder(const std::vector<report_node>& roots, F&& f) {
  struct frame {
    const std::vector<report_node>* list;
    std::size_t next;
  };
  std::vector<frame> stack;
  stack.push_back({&roots, 0});
  while (!stack.empty()) {
    frame& top = stack.back();
    if (top.next == top.list->size()) {
      stack.pop_back();
      continue;
    }
    const report_node& n = (*top.list)[top.next++];
    const std::size_t depth = stack.size() - 1;
    const bool last = top.next == top.list->size();
    f(n, depth, last);
    if (!n.children.empty()) stack.push_back({&n.children, 0});
  }
}

}  // namespace osprof::detail::report_impl
