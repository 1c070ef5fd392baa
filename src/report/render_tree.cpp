// render_tree(): the report as an indented text tree for terminals. One line per point:
// name, service (project), duration, start offset from the trace start, and for failed points
// the exception type and message. Every string from the trace is escaped so that stored data
// cannot send control sequences to the terminal. Indentation stops growing past max_indent
// levels (the depth is printed instead), so a deep chain stays linear in output size.
#include <osprof/render.hpp>
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

constexpr std::size_t max_indent = 40;

struct palette {
  std::string_view bold, dim, red, cyan, yellow, reset;
};
constexpr palette no_color{"", "", "", "", "", ""};
constexpr palette ansi{"\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[36m", "\x1b[33m", "\x1b[0m"};

bool failed(const report_node& n) { return n.exception && *n.exception != "None"; }

}  // namespace

std::string render_tree(const report& r, bool color) {
  const palette& c = color ? ansi : no_color;
  const std::int64_t origin = report_impl::origin_of(r);
  std::size_t points = 0, errors = 0;
  report_impl::for_each_preorder(r.children, [&](const report_node& n, std::size_t, bool) {
    ++points;
    if (failed(n)) ++errors;
  });

  std::string out;
  out.reserve(160 + points * 120);
  out += c.bold;
  out += "trace ";
  report_impl::append_terminal_safe(out, r.base_id.empty() ? std::string_view("(unknown)") : r.base_id);
  out += c.reset;
  out += "  total ";
  report_impl::append_ms(out, r.started_us && r.finished_us ? *r.finished_us - *r.started_us : 0);
  out += "  ";
  out += std::to_string(points);
  out += points == 1 ? " point" : " points";
  if (errors > 0) {
    out += "  ";
    out += c.red;
    out += std::to_string(errors);
    out += " failed";
    out += c.reset;
  }
  if (!r.problems.empty()) {
    out += "  ";
    out += c.yellow;
    out += std::to_string(r.problems.size());
    out += r.problems.size() == 1 ? " event skipped or repaired" : " events skipped or repaired";
    out += c.reset;
  }
  out += '\n';
  if (points == 0) {
    out += "(no trace points)\n";
    return out;
  }

  report_impl::json_reader reader;
  std::string prefix;                      // the ancestors' "│  " / "   " segments
  std::vector<std::size_t> segment_end{0};  // prefix length after k segments
  report_impl::for_each_preorder(r.children, [&](const report_node& n, std::size_t depth, bool last) {
    const std::size_t ancestors = depth == 0 ? 0 : std::min(depth - 1, max_indent);
    prefix.resize(segment_end[ancestors]);
    segment_end.resize(ancestors + 1);
    if (depth > 0) {
      out += c.dim;
      out += prefix;
      out += last ? "└─ " : "├─ ";
      if (depth > max_indent + 1) {
        out += "[depth ";
        out += std::to_string(depth);
        out += "] ";
      }
      out += c.reset;
    }
    // Segment this point adds for its children.
    if (depth > 0 && depth <= max_indent) {
      prefix += last ? "   " : "│  ";
      segment_end.push_back(prefix.size());
    }

    const bool error = failed(n);
    out += c.bold;
    if (error) out += c.red;
    report_impl::append_terminal_safe(out, n.name);
    out += c.reset;
    out += "  ";
    out += c.cyan;
    report_impl::append_terminal_safe(out, n.service);
    if (!n.project.empty()) {
      out += " (";
      report_impl::append_terminal_safe(out, n.project);
      out += ')';
    }
    out += c.reset;
    out += "  ";
    report_impl::append_ms(out, report_impl::effective_finished(n) - report_impl::effective_started(n));
    out += "  ";
    out += c.dim;
    out += '+';
    report_impl::append_ms(out, report_impl::effective_started(n) - origin);
    out += c.reset;
    if (error) {
      out += "  ";
      out += c.red;
      out += "ERROR ";
      report_impl::append_terminal_safe(out, *n.exception);
      if (const std::string* stop = report_impl::raw_payload_of(n, true)) {
        const std::string message = report_impl::info_field_text(reader, *stop, "message");
        if (!message.empty()) {
          out += ": ";
          out += report_impl::excerpt(message, 200);
        }
      }
      out += c.reset;
    }
    out += '\n';
  });
  return out;
}

}  // namespace v1
}  // namespace osprof
