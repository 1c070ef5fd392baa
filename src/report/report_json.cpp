// The report as JSON: render_json() writes exactly what `osprofiler trace show --json` prints
// (json.dumps(indent=2, separators=(",", ": ")), ensure_ascii), walking the tree without
// recursion, so a deep chain of points cannot exhaust the stack. Reading such a file back is
// report_json_read.cpp.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "common/time_format.hpp"
#include <osprof/report.hpp>
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

using report_impl::json_reader;
using report_impl::py_json_writer;

// Text is handed on in pieces of about this size when the caller takes it in pieces.
constexpr std::size_t piece_bytes = 64 * 1024;

class json_renderer {
 public:
  json_renderer(const report& r, int indent, std::string& out, const text_sink* write = nullptr)
      : r_(r), out_(out), w_(out, indent), origin_(report_impl::origin_of(r)), write_(write) {}

  void run() {
    out_ += '{';
    w_.newline(1);
    w_.key("info");
    root_info();
    out_ += ',';
    w_.newline(1);
    w_.key("children");
    children(r_.children, 1);
    out_ += ',';
    w_.newline(1);
    w_.key("stats");
    stats();
    w_.newline(0);
    out_ += '}';
  }

 private:
  void ms_or_null(const std::optional<std::int64_t>& us) {
    if (us && r_.started_us) {
      w_.integer(report_impl::ms_between(origin_, *us));
    } else {
      out_ += "null";
    }
  }

  void root_info() {
    out_ += '{';
    w_.newline(2);
    w_.key("name");
    w_.string("total");
    out_ += ',';
    w_.newline(2);
    w_.key("started");
    w_.integer(0);
    out_ += ',';
    w_.newline(2);
    w_.key("finished");
    ms_or_null(r_.finished_us);
    out_ += ',';
    w_.newline(2);
    w_.key("last_trace_started");
    ms_or_null(r_.last_trace_started_us);
    w_.newline(1);
    out_ += '}';
  }

  void stats() {
    if (r_.stats.empty()) {
      out_ += "{}";
      return;
    }
    out_ += '{';
    bool first = true;
    for (const report_stat& s : r_.stats) {
      if (!first) out_ += ',';
      first = false;
      w_.newline(2);
      w_.key(s.name);
      out_ += '{';
      w_.newline(3);
      w_.key("count");
      w_.integer(s.count);
      out_ += ',';
      w_.newline(3);
      w_.key("duration");
      w_.integer(s.duration_ms);
      w_.newline(2);
      out_ += '}';
    }
    w_.newline(1);
    out_ += '}';
  }

  // A "children" array at `level`, with every descendant, iteratively.
  void children(const std::vector<report_node>& roots, int level) {
    if (roots.empty()) {
      out_ += "[]";
      return;
    }
    struct frame {
      const std::vector<report_node>* list;
      std::size_t next;
      int level;  // of the array
    };
    std::vector<frame> stack;
    out_ += '[';
    stack.push_back({&roots, 0, level});
    while (!stack.empty()) {
      const frame top = stack.back();
      if (top.next == top.list->size()) {
        stack.pop_back();
        w_.newline(top.level);
        out_ += ']';
        if (!stack.empty()) {  // close the node that owns this array
          w_.newline(top.level - 1);
          out_ += '}';
        }
        continue;
      }
      stack.back().next++;
      const report_node& n = (*top.list)[top.next];
      hand_on();
      if (top.next > 0) out_ += ',';
      const int node_level = top.level + 1;
      w_.newline(node_level);
      node_head(n, node_level);
      if (n.children.empty()) {
        out_ += "[]";
        w_.newline(node_level);
        out_ += '}';
      } else {
        out_ += '[';
        stack.push_back({&n.children, 0, node_level + 1});
      }
    }
  }

  // `{"info": {...}, "trace_id": ..., "parent_id": ..., "children": ` of one node.
  void node_head(const report_node& n, int level) {
    out_ += '{';
    w_.newline(level + 1);
    w_.key("info");
    node_info(n, level + 1);
    out_ += ',';
    w_.newline(level + 1);
    w_.key("trace_id");
    w_.string(n.trace_id);
    out_ += ',';
    w_.newline(level + 1);
    w_.key("parent_id");
    w_.string(n.parent_id);
    out_ += ',';
    w_.newline(level + 1);
    w_.key("children");
  }

  void field(std::string_view key, int level) {
    out_ += ',';
    w_.newline(level);
    w_.key(key);
  }

  // The keys in the order Python's dict gets them: name, project, service, host, then per
  // event "meta.raw_payload.<name>" followed by the first "finished"+"exception" (stop) or
  // "started" (start); a point without one endpoint gets it last.
  void node_info(const report_node& n, int level) {
    const int inner = level + 1;
    out_ += '{';
    w_.newline(inner);
    w_.key("name");
    w_.string(n.name);
    field("project", inner);
    w_.string(n.project);
    field("service", inner);
    w_.string(n.service);
    field("host", inner);
    w_.string(n.host);
    const std::int64_t started = report_impl::ms_between(origin_, report_impl::effective_started(n));
    const std::int64_t finished = report_impl::ms_between(origin_, report_impl::effective_finished(n));
    bool wrote_started = false, wrote_finished = false;
    for (const auto& [event_name, json] : n.raw_payloads) {
      key_buf_.assign("meta.raw_payload.");
      key_buf_ += event_name;
      field(key_buf_, inner);
      payload(json, inner);
      if (report_impl::is_stop_event(event_name)) {
        if (!wrote_finished) {
          wrote_finished = true;
          field("finished", inner);
          w_.integer(finished);
          field("exception", inner);
          w_.string(n.exception.value_or("None"));
        }
      } else if (!wrote_started) {
        wrote_started = true;
        field("started", inner);
        w_.integer(started);
      }
    }
    if (!wrote_finished && n.exception) {  // a stop known without its stored event
      wrote_finished = true;
      field("finished", inner);
      w_.integer(finished);
      field("exception", inner);
      w_.string(*n.exception);
    }
    if (!wrote_started) {
      field("started", inner);
      w_.integer(started);
    }
    if (!wrote_finished) {
      field("finished", inner);
      w_.integer(finished);
    }
    w_.newline(level);
    out_ += '}';
  }

  void payload(const std::string& json, int level) {
    if (w_.plain_value(json, level)) return;
    simdjson::dom::element doc;
    if (reader_.parse(json).get(doc)) {
      // Not JSON (only possible for a report assembled by hand): keep it, as a string.
      w_.string(json);
      return;
    }
    w_.value(doc, level);
  }

  // Between points, what is written so far goes to the caller once it is a piece's worth.
  void hand_on() {
    if (write_ == nullptr || out_.size() < piece_bytes) return;
    (*write_)(out_);
    out_.clear();
  }

  const report& r_;
  std::string& out_;
  py_json_writer w_;
  std::int64_t origin_;
  const text_sink* write_;
  json_reader reader_;
  std::string key_buf_;
};

std::size_t estimate_size(const report& r, int indent) {
  std::size_t size = 256 + r.stats.size() * 64;
  report_impl::for_each_preorder(r.children, [&](const report_node& n, std::size_t depth, bool) {
    size += 320 + n.name.size() + n.project.size() + n.service.size() + n.host.size();
    size += (depth + 2) * static_cast<std::size_t>(indent) * 24;
    // Re-indenting a stored event roughly adds its size again (one line per value).
    for (const auto& p : n.raw_payloads) size += p.first.size() + p.second.size() * 2 + 40;
  });
  return size;
}

}  // namespace

std::string render_json(const report& r, int indent) {
  if (indent < 0) indent = 0;
  std::string out;
  out.reserve(estimate_size(r, indent));
  json_renderer(r, indent, out).run();
  return out;
}

void render_json(const report& r, int indent, const text_sink& write) {
  if (indent < 0) indent = 0;
  std::string out;
  out.reserve(piece_bytes + piece_bytes / 2);
  json_renderer(r, indent, out, &write).run();
  if (!out.empty()) write(out);
}

}  // namespace v1
}  // namespace osprof
