// parse_report_json(): reads a report saved by `trace show --json` (osprof's or Python
// OSProfiler's) back into the tree, without recursion, so a deep chain of points cannot
// exhaust the stack.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include <osprof/error.hpp>
#include <osprof/report.hpp>

#include "common/time_format.hpp"
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

using report_impl::json_reader;

[[noreturn]] void not_a_report(std::string_view where, std::string_view why) {
  std::string msg = "not an OSProfiler report: ";
  if (!where.empty()) {
    msg += where;
    msg += ": ";
  }
  msg += why;
  throw osprof::error(msg);
}

class report_reader {
 public:
  report run(std::string_view json) {
    // One nesting level per point needs at least ~48 bytes of report text ("children" array
    // plus node object), so this depth is enough for any real report.
    json_reader reader(json.size() / 16 + simdjson::DEFAULT_MAX_DEPTH);
    simdjson::dom::element doc;
    if (auto err = reader.parse(json).get(doc); err) {
      not_a_report("", std::string("not valid JSON: ") + simdjson::error_message(err));
    }
    simdjson::dom::object root;
    if (doc.get_object().get(root)) not_a_report("", "the top level is not a JSON object");
    simdjson::dom::object info;
    if (root["info"].get_object().get(info)) not_a_report("", "no \"info\" object at the top level");
    std::string_view total;
    if (info["name"].get_string().get(total) || total != "total") {
      not_a_report("info", "\"name\" is not \"total\"");
    }
    simdjson::dom::array kids;
    if (root["children"].get_array().get(kids)) not_a_report("", "no \"children\" array at the top level");

    read_tree(kids);
    read_stats(root);
    std::int64_t finished_ms = 0, last_ms = 0;
    const bool has_finished = !info["finished"].get_int64().get(finished_ms);
    const bool has_last = !info["last_trace_started"].get_int64().get(last_ms);
    if (!r_.children.empty()) assign_times(has_finished, finished_ms, has_last, last_ms);
    pick_base_id();
    return std::move(r_);
  }

 private:
  struct pending {
    report_node* node = nullptr;
    std::int64_t started_ms = 0, finished_ms = 0;
    std::string start_ts, stop_ts;  // from the stored events, when present
  };

  void read_tree(simdjson::dom::array roots) {
    struct frame {
      simdjson::dom::array list;
      std::vector<report_node>* into;
      std::string path;
    };
    std::vector<frame> stack;
    stack.push_back({roots, &r_.children, "children"});
    // Pre-size every children vector before taking pointers into it.
    while (!stack.empty()) {
      frame f = std::move(stack.back());
      stack.pop_back();
      std::size_t count = 0;
      for (auto it = f.list.begin(); it != f.list.end(); ++it) ++count;
      f.into->resize(count);
      std::size_t i = 0;
      for (simdjson::dom::element item : f.list) {
        std::string path = f.path + "[" + std::to_string(i) + "]";
        report_node& n = (*f.into)[i++];
        simdjson::dom::array sub = read_node(item, n, path);
        if (sub.begin() != sub.end()) stack.push_back({sub, &n.children, path + ".children"});
      }
    }
  }

  static std::string_view string_field(simdjson::dom::object o, std::string_view key, const std::string& path,
                                       bool nullable) {
    simdjson::dom::element v;
    if (o[key].get(v)) not_a_report(path, "missing \"" + std::string(key) + "\"");
    if (nullable && v.is_null()) return {};
    std::string_view s;
    if (v.get_string().get(s)) not_a_report(path, "\"" + std::string(key) + "\" is not a string");
    return s;
  }

  static std::int64_t int_field(simdjson::dom::object o, std::string_view key, const std::string& path) {
    std::int64_t v = 0;
    if (o[key].get_int64().get(v)) not_a_report(path, "\"" + std::string(key) + "\" is not an integer");
    return v;
  }

  simdjson::dom::array read_node(simdjson::dom::element item, report_node& n, const std::string& path) {
    simdjson::dom::object o;
    if (item.get_object().get(o)) not_a_report(path, "a point is not a JSON object");
    simdjson::dom::object info;
    if (o["info"].get_object().get(info)) not_a_report(path, "no \"info\" object");
    n.trace_id = string_field(o, "trace_id", path, false);
    n.parent_id = string_field(o, "parent_id", path, false);
    const std::string info_path = path + ".info";
    n.name = string_field(info, "name", info_path, false);
    n.project = string_field(info, "project", info_path, true);
    n.service = string_field(info, "service", info_path, true);
    n.host = string_field(info, "host", info_path, true);

    pending p;
    p.node = &n;
    p.started_ms = int_field(info, "started", info_path);
    p.finished_ms = int_field(info, "finished", info_path);
    bool has_start = false, has_stop = false;
    for (auto field : info) {
      const std::string_view k = field.key;
      if (k == "exception") {
        has_stop = true;
        std::string_view s;
        n.exception = field.value.get_string().get(s) ? simdjson::minify(field.value) : std::string(s);
      } else if (k.starts_with("meta.raw_payload.")) {
        const std::string_view event_name = k.substr(17);
        n.raw_payloads.emplace_back(event_name, simdjson::minify(field.value));
        std::string_view ts;
        const bool has_ts = !field.value["timestamp"].get_string().get(ts);
        if (report_impl::is_stop_event(event_name)) {
          has_stop = true;
          if (has_ts) p.stop_ts.assign(ts);
        } else {
          has_start = true;
          if (has_ts) p.start_ts.assign(ts);
        }
      }
    }
    if (!has_start && !has_stop) has_start = has_stop = true;  // no way to tell: both ends
    if (has_start) n.started_us = 0;
    if (has_stop) n.finished_us = 0;
    r_.event_count += std::max<std::size_t>(n.raw_payloads.size(), (has_start ? 1 : 0) + (has_stop ? 1 : 0));
    pending_.push_back(std::move(p));

    simdjson::dom::element kids;
    if (o["children"].get(kids)) return {};
    simdjson::dom::array a;
    if (kids.get_array().get(a)) not_a_report(path, "\"children\" is not an array");
    return a;
  }

  void read_stats(simdjson::dom::object root) {
    simdjson::dom::element s;
    if (root["stats"].get(s)) return;  // absent: recomputed below
    simdjson::dom::object stats;
    if (s.get_object().get(stats)) not_a_report("stats", "not an object");
    for (auto field : stats) {
      const std::string path = "stats." + std::string(field.key);
      simdjson::dom::object o;
      if (field.value.get_object().get(o)) not_a_report(path, "not an object");
      r_.stats.push_back(report_stat{std::string(field.key), int_field(o, "count", path), int_field(o, "duration", path)});
    }
    stats_read_ = true;
  }

  // Absolute times. When every endpoint's stored event has a timestamp and those timestamps
  // give back exactly the file's millisecond offsets, use them (microsecond precision for the
  // tree, HTML and Chrome views); otherwise keep the file's milliseconds (origin 0).
  void assign_times(bool has_finished, std::int64_t finished_ms, bool has_last, std::int64_t last_ms) {
    bool precise = true;
    std::int64_t origin = std::numeric_limits<std::int64_t>::max();
    std::int64_t latest = std::numeric_limits<std::int64_t>::min();
    std::optional<std::int64_t> last_start;
    std::vector<std::pair<std::int64_t, std::int64_t>> abs(pending_.size());
    for (std::size_t i = 0; i < pending_.size() && precise; ++i) {
      const pending& p = pending_[i];
      const report_node& n = *p.node;
      std::optional<std::int64_t> s, f;
      if (n.started_us) {
        s = parse_timestamp(p.start_ts);
        if (!s) precise = false;
      }
      if (n.finished_us) {
        f = parse_timestamp(p.stop_ts);
        if (!f) precise = false;
      }
      if (!precise) break;
      abs[i] = {s ? *s : *f, f ? *f : *s};
      origin = std::min({origin, abs[i].first, abs[i].second});
      latest = std::max({latest, abs[i].first, abs[i].second});
      if (s && (!last_start || *last_start < *s)) last_start = s;
    }
    if (precise) {
      for (std::size_t i = 0; i < pending_.size() && precise; ++i) {
        precise = report_impl::ms_between(origin, abs[i].first) == pending_[i].started_ms &&
                  report_impl::ms_between(origin, abs[i].second) == pending_[i].finished_ms;
      }
      precise = precise && has_finished && report_impl::ms_between(origin, latest) == finished_ms &&
                (last_start ? has_last && report_impl::ms_between(origin, *last_start) == last_ms : !has_last);
    }
    if (precise) {
      r_.started_us = origin;
      r_.finished_us = latest;
      r_.last_trace_started_us = last_start;
      for (std::size_t i = 0; i < pending_.size(); ++i) set_times(*pending_[i].node, abs[i].first, abs[i].second);
    } else {
      r_.started_us = 0;
      if (has_finished) r_.finished_us = finished_ms * 1000;
      if (has_last) r_.last_trace_started_us = last_ms * 1000;
      for (const pending& p : pending_) set_times(*p.node, p.started_ms * 1000, p.finished_ms * 1000);
    }
    if (!stats_read_) recompute_stats();
  }

  static void set_times(report_node& n, std::int64_t s, std::int64_t f) {
    if (n.started_us) n.started_us = s;
    if (n.finished_us) n.finished_us = f;
  }

  void recompute_stats() {
    const std::int64_t origin = report_impl::origin_of(r_);
    std::unordered_map<std::string_view, std::size_t> index;
    for (const pending& p : pending_) {
      const report_node& n = *p.node;
      const std::int64_t d = report_impl::ms_between(origin, report_impl::effective_finished(n)) -
                             report_impl::ms_between(origin, report_impl::effective_started(n));
      auto [it, inserted] = index.try_emplace(n.name, r_.stats.size());
      if (inserted) r_.stats.push_back(report_stat{n.name, 0, 0});
      ++r_.stats[it->second].count;
      r_.stats[it->second].duration_ms += d;
    }
  }

  // The trace id: "base_id" of the first stored event that has one, else the first root's
  // parent_id (a single-service root's parent is the base id).
  void pick_base_id() {
    json_reader reader;
    for (const pending& p : pending_) {
      for (const auto& [name, json] : p.node->raw_payloads) {
        simdjson::dom::element doc;
        std::string_view id;
        if (!reader.parse(json).get(doc) && !doc["base_id"].get_string().get(id)) {
          r_.base_id.assign(id);
          return;
        }
      }
    }
    if (!r_.children.empty()) r_.base_id = r_.children.front().parent_id;
  }

  report r_;
  std::vector<pending> pending_;
  bool stats_read_ = false;
};

}  // namespace

report parse_report_json(std::string_view json) { return report_reader().run(json); }

}  // namespace v1
}  // namespace osprof
