// render_chrome(): the report in the Chrome/Perfetto Trace Event Format (JSON object form), for
// ui.perfetto.dev and chrome://tracing. Every point is an async nestable pair ("b"/"e") whose
// id is its trace_id: async events of different ids may overlap, unlike "X"/"B"/"E" slices,
// which must nest per thread and would be mangled by concurrent points. Each service@host is a
// process (pid numbered in order of appearance, named by an "M" process_name event); args hold
// the ids, project/service/host and the start (on "b") and stop (on "e") event's info.
#include <algorithm>
#include <unordered_map>

#include "common/json_writer.hpp"
#include <osprof/render.hpp>
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

class chrome_renderer {
 public:
  chrome_renderer(const report& r, std::string& out) : r_(r), out_(out), info_writer_(out, 0) {}

  void run() {
    out_ += "{\"traceEvents\":[";
    report_impl::for_each_preorder(r_.children, [&](const report_node& n, std::size_t, bool) { point(n); });
    out_ += "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"base_id\":";
    append_json_string(out_, r_.base_id);
    out_ += ",\"producer\":\"osprof\"}}\n";
  }

 private:
  void begin_event() {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += "\n{";
  }

  int pid_of(const report_node& n) {
    key_.assign(n.service);
    key_ += '@';
    key_ += n.host;
    auto [it, inserted] = pids_.try_emplace(key_, static_cast<int>(pids_.size()) + 1);
    if (inserted) {
      const std::string pid = std::to_string(it->second);
      begin_event();
      out_ += "\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + pid + ",\"tid\":" + pid + ",\"args\":{\"name\":";
      append_json_string(out_, key_);
      out_ += "}}";
      begin_event();
      out_ += "\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + pid + ",\"tid\":" + pid +
              ",\"args\":{\"sort_index\":" + pid + "}}";
    }
    return it->second;
  }

  void common(const report_node& n, char phase, std::int64_t ts, int pid) {
    begin_event();
    out_ += "\"name\":";
    append_json_string(out_, n.name);
    out_ += ",\"cat\":\"osprof\",\"ph\":\"";
    out_ += phase;
    out_ += "\",\"ts\":";
    append_json_int(out_, ts);
    out_ += ",\"pid\":";
    append_json_int(out_, pid);
    out_ += ",\"tid\":";
    append_json_int(out_, pid);
    out_ += ",\"id\":";
    append_json_string(out_, n.trace_id);
    out_ += ",\"args\":{";
  }

  // `,"info":{...}` from a stored event, when it has one.
  void info_of(const std::string* event_json) {
    if (event_json == nullptr) return;
    simdjson::dom::element doc, info;
    if (reader_.parse(*event_json).get(doc) || doc["info"].get(info)) return;
    out_ += ",\"info\":";
    info_writer_.value(info, 0);
  }

  void point(const report_node& n) {
    const int pid = pid_of(n);
    common(n, 'b', report_impl::effective_started(n), pid);
    out_ += "\"trace_id\":";
    append_json_string(out_, n.trace_id);
    out_ += ",\"parent_id\":";
    append_json_string(out_, n.parent_id);
    out_ += ",\"project\":";
    append_json_string(out_, n.project);
    out_ += ",\"service\":";
    append_json_string(out_, n.service);
    out_ += ",\"host\":";
    append_json_string(out_, n.host);
    info_of(report_impl::raw_payload_of(n, false));
    out_ += "}}";

    // A stop before its start (clocks of two hosts disagree) would unbalance the pair.
    const std::int64_t started = report_impl::effective_started(n);
    const std::int64_t finished = report_impl::effective_finished(n);
    common(n, 'e', std::max(started, finished), pid);
    out_ += "\"exception\":";
    append_json_string(out_, n.exception.value_or("None"));
    if (finished < started) {
      out_ += ",\"negative_duration_us\":";
      append_json_int(out_, finished - started);
    }
    info_of(report_impl::raw_payload_of(n, true));
    out_ += "}}";
  }

  const report& r_;
  std::string& out_;
  report_impl::py_json_writer info_writer_;
  report_impl::json_reader reader_;
  std::unordered_map<std::string, int> pids_;
  std::string key_;
  bool first_ = true;
};

}  // namespace

std::string render_chrome(const report& r) {
  std::string out;
  std::size_t estimate = 128;
  report_impl::for_each_preorder(r.children, [&](const report_node& n, std::size_t, bool) {
    estimate += 400;
    for (const auto& p : n.raw_payloads) estimate += p.second.size();
  });
  out.reserve(estimate);
  chrome_renderer(r, out).run();
  return out;
}

}  // namespace v1
}  // namespace osprof
