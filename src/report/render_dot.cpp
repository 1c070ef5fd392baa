// render_dot(): Graphviz DOT as `osprofiler trace show --dot` writes it (the Python graphviz
// module's source): node 0 is "total", then each point in preorder, numbered as it is met, and
// the edge to a point right after its subtree. Labels are "service:name - N ms"; wsgi points
// add "METHOD path[:30].." and rpc/driver points the last segment of the function name.
// Unlike Python, label text from the trace is escaped (quotes, backslashes, control chars).
#include <osprof/render.hpp>
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

void append_dot_escaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += ' ';
    } else {
      out += ch;
    }
  }
}

void append_int(std::string& out, std::int64_t v) { out += std::to_string(v); }

class dot_renderer {
 public:
  dot_renderer(const report& r, std::string& out) : r_(r), out_(out), origin_(report_impl::origin_of(r)) {}

  void run() {
    out_ += "digraph {\n";
    const std::int64_t total =
        r_.started_us && r_.finished_us ? report_impl::ms_between(origin_, *r_.finished_us) : 0;
    out_ += "\t0 [label=\"total - ";
    append_int(out_, total);
    out_ += " ms\"]\n";

    struct frame {
      const std::vector<report_node>* list;
      std::size_t next;
      std::int64_t owner;
      std::int64_t owner_parent;  // -1 for "total"
    };
    std::vector<frame> stack;
    stack.push_back({&r_.children, 0, 0, -1});
    std::int64_t next_id = 1;
    while (!stack.empty()) {
      frame& top = stack.back();
      if (top.next == top.list->size()) {
        const frame done = top;
        stack.pop_back();
        if (done.owner_parent >= 0) edge(done.owner_parent, done.owner);
        continue;
      }
      const report_node& n = (*top.list)[top.next++];
      const std::int64_t id = next_id++;
      const std::int64_t parent = top.owner;
      node(id, n);
      stack.push_back({&n.children, 0, id, parent});
    }
    out_ += "}\n";
  }

 private:
  void edge(std::int64_t from, std::int64_t to) {
    out_ += '\t';
    append_int(out_, from);
    out_ += " -> ";
    append_int(out_, to);
    out_ += '\n';
  }

  void node(std::int64_t id, const report_node& n) {
    out_ += '\t';
    append_int(out_, id);
    out_ += " [label=\"";
    append_dot_escaped(out_, n.service);
    out_ += ':';
    append_dot_escaped(out_, n.name);
    out_ += " - ";
    append_int(out_, report_impl::ms_between(origin_, report_impl::effective_finished(n)) -
                         report_impl::ms_between(origin_, report_impl::effective_started(n)));
    out_ += " ms";
    if (n.name == "wsgi" || n.name == "rpc" || n.name == "driver") extra_line(n);
    out_ += "\"]\n";
  }

  // The second label line, from the start event's info (skipped when the fields are absent;
  // Python fails on such a trace).
  void extra_line(const report_node& n) {
    const std::string* start = report_impl::raw_payload_of(n, false);
    if (start == nullptr) return;
    simdjson::dom::element doc;
    if (reader_.parse(*start).get(doc)) return;
    if (n.name == "wsgi") {
      std::string_view method, path;
      if (doc["info"]["request"]["method"].get_string().get(method) ||
          doc["info"]["request"]["path"].get_string().get(path)) {
        return;
      }
      out_ += "\\n";
      append_dot_escaped(out_, method);
      out_ += ' ';
      append_dot_escaped(out_, report_impl::utf8_prefix(path, 30));
      out_ += "..";
    } else {
      std::string_view fn;
      if (doc["info"]["function"]["name"].get_string().get(fn)) return;
      const std::size_t dot = fn.rfind('.');
      out_ += "\\n";
      append_dot_escaped(out_, dot == std::string_view::npos ? fn : fn.substr(dot + 1));
    }
  }

  const report& r_;
  std::string& out_;
  std::int64_t origin_;
  report_impl::json_reader reader_;
};

}  // namespace

std::string render_dot(const report& r) {
  std::string out;
  out.reserve(64 + r.event_count * 40);
  dot_renderer(r, out).run();
  return out;
}

}  // namespace v1
}  // namespace osprof
