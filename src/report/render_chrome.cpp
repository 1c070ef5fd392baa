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
  // The separator before an event, which json_members then opens.
  json_members begin_event() {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '\n';
    return json_members(out_, json_members::style::compact);
  }

  int pid_of(const report_node& n) {
    key_.assign(n.service);
    key_ += '@';
    key_ += n.host;
    auto [it, inserted] = pids_.try_emplace(key_, static_cast<int>(pids_.size()) + 1);
    if (inserted) {
      const std::string pid = std::to_string(it->second);
      begin_event().string("name", "process_name").string("ph", "M").raw("pid", pid).raw("tid", pid).raw("args", "");
      json_members(out_, json_members::style::compact).string("name", key_).close();
      out_ += '}';
      begin_event().string("name", "process_sort_index").string("ph", "M").raw("pid", pid).raw("tid", pid).raw("args", "");
      json_members(out_, json_members::style::compact).raw("sort_index", pid).close();
      out_ += '}';
    }
    return it->second;
  }

  // An event of a trace point, its "args" object opened for the caller to fill and close.
  json_members event(const report_node& n, char phase, std::int64_t ts, int pid) {
    begin_event()
        .string("name", n.name)
        .string("cat", "osprof")
        .string("ph", std::string_view(&phase, 1))
        .integer("ts", ts)
        .integer("pid", pid)
        .integer("tid", pid)
        .string("id", n.trace_id)
        .raw("args", "");
    return json_members(out_, json_members::style::compact);
  }

  // "info" from a stored event, when it has one.
  void info_of(json_members& args, const std::string* event_json) {
    if (event_json == nullptr) return;
    simdjson::dom::element doc, info;
    if (reader_.parse(*event_json).get(doc) || doc["info"].get(info)) return;
    args.raw("info", "");
    info_writer_.value(info, 0);
  }

  void point(const report_node& n) {
    const int pid = pid_of(n);
    json_members start = event(n, 'b', report_impl::effective_started(n), pid);
    start.string("trace_id", n.trace_id)
        .string("parent_id", n.parent_id)
        .string("project", n.project)
        .string("service", n.service)
        .string("host", n.host);
    info_of(start, report_impl::raw_payload_of(n, false));
    start.close();
    out_ += '}';

    // A stop before its start (clocks of two hosts disagree) would unbalance the pair.
    const std::int64_t started = report_impl::effective_started(n);
    const std::int64_t finished = report_impl::effective_finished(n);
    json_members stop = event(n, 'e', std::max(started, finished), pid);
    stop.string("exception", n.exception.value_or("None"));
    if (finished < started) stop.integer("negative_duration_us", finished - started);
    info_of(stop, report_impl::raw_payload_of(n, true));
    stop.close();
    out_ += '}';
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
