// build_report(): stored events -> the tree of points, as Python's _append_results,
// _parse_results and _build_tree do it, with the two fixes the header describes.
//
// Steps, all O(n log n): parse every event once (one reused simdjson parser) into a compact
// record whose strings live in one arena; sort the records chronologically (the processing
// order); fold them into one small flat node per trace_id (positions of its events, its
// times); link parents, break parent_id cycles (Python loses such points or fails), sort
// siblings by start time in microseconds; then write the nested report_node tree top down,
// each node once, in place, without recursion.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <osprof/report.hpp>
#include "report/report_internal.hpp"
#include "report/stored_event.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

using report_impl::json_reader;

struct slice {
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

struct event_rec {
  std::int64_t time_us;
  std::uint32_t index;  // in stored_events
  bool stop;
  bool has_etype;
  slice name, trace_id, parent_id, project, service, host, etype;
};

// A point while the tree is made: what its events said, by their positions in processing
// order. Its report_node is written once, in place in the finished tree (materialize()).
struct flat_node {
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t first = none;  // its first event: ids, name, project, service, host
  std::uint32_t stop = none;   // its last stop event: the exception
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> finished_us;
  std::uint32_t parent = none;
  std::vector<std::uint32_t> children;
};

class builder {
 public:
  builder(std::string_view base_id, std::span<const std::string> events) : events_(events) {
    r_.base_id.assign(base_id);
  }
  // The events' texts may be moved into the points' raw payloads instead of copied.
  builder(std::string_view base_id, std::vector<std::string>& events) : builder(base_id, std::span<const std::string>(events)) {
    movable_ = &events;
  }

  report run() {
    parse_all();
    if (!recs_.empty()) {
      sort_chronologically();
      find_duplicates();
      fold();
      link();
      compute_stats();
      materialize();
    }
    r_.event_count = recs_.size();
    return std::move(r_);
  }

 private:
  std::string_view view(slice s) const noexcept { return std::string_view(arena_).substr(s.offset, s.size); }

  slice put(std::string_view s) {
    slice out{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(s.size())};
    arena_.append(s);
    return out;
  }

  void problem(std::string why, std::string_view text) {
    std::string line = "trace ";
    line += r_.base_id;
    line += ": ";
    line += why;
    line += " (";
    line += report_impl::excerpt(text, 80);
    line += ')';
    r_.problems.push_back(std::move(line));
  }

  static std::string event_label(std::size_t index) { return "event " + std::to_string(index) + ": "; }

  void parse_all() {
    std::size_t total = 0;
    for (const auto& e : events_) total += e.size();
    arena_.reserve(total / 2 + 64);
    recs_.reserve(events_.size());
    json_reader reader;
    report_impl::stored_event ev;
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const std::string& text = events_[i];
      if (text.size() > max_stored_event_bytes) {
        problem(event_label(i) + "too large (" + std::to_string(text.size()) + " bytes, more than " +
                    std::to_string(max_stored_event_bytes >> 20) + " MiB): skipped",
                text);
        continue;
      }
      // Most events are plain JSON, read from their text; the DOM reads the rest, and says
      // what is wrong with an event that cannot be used.
      if (!report_impl::read_plain_stored_event(text, ev)) {
        simdjson::dom::element doc;
        if (auto err = reader.parse(text).get(doc); err) {
          problem(event_label(i) + "not valid JSON: " + simdjson::error_message(err), text);
          continue;
        }
        if (std::string why = report_impl::read_stored_event(doc, ev); !why.empty()) {
          problem(event_label(i) + why, text);
          continue;
        }
      }
      if (ev.has_base_id && ev.base_id != r_.base_id) {
        problem(event_label(i) + "belongs to another trace (base_id " + report_impl::excerpt(ev.base_id, 40) + ")",
                text);
        continue;
      }
      event_rec rec{};
      rec.time_us = ev.time_us;
      rec.index = static_cast<std::uint32_t>(i);
      rec.stop = report_impl::is_stop_event(ev.name);
      rec.has_etype = ev.has_etype;
      rec.name = put(ev.name);
      rec.trace_id = put(ev.trace_id);
      rec.parent_id = put(ev.parent_id);
      rec.project = put(ev.project);
      rec.service = put(ev.service);
      rec.host = put(ev.host);
      if (ev.has_etype) rec.etype = put(ev.etype);
      recs_.push_back(rec);
    }
  }

  // Processing order: by time, a start before a stop at the same microsecond, then by ids, so
  // that the report does not depend on the order the backend returned the events in.
  void sort_chronologically() {
    order_.resize(recs_.size());
    for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [this](std::uint32_t a, std::uint32_t b) {
      const event_rec& x = recs_[a];
      const event_rec& y = recs_[b];
      // The times nearly always differ: the strings are compared only on a tie.
      if (x.time_us != y.time_us) return x.time_us < y.time_us;
      if (x.stop != y.stop) return x.stop < y.stop;
      return std::forward_as_tuple(view(x.trace_id), view(x.name), x.index) <
             std::forward_as_tuple(view(y.trace_id), view(y.name), y.index);
    });
  }

  // Two events with the same trace_id and name: as in Python's dict, the point keeps one
  // "meta.raw_payload.<name>" entry, at the first one's place, holding the last one.
  void find_duplicates() {
    const std::size_t n = order_.size();
    payload_of_.assign(n, flat_node::none);
    if (!any_duplicate()) {  // the usual case: every event is its point's payload
      for (std::uint32_t p = 0; p < n; ++p) payload_of_[p] = recs_[order_[p]].index;
      return;
    }
    std::vector<std::uint32_t> by_key(n);
    for (std::uint32_t p = 0; p < n; ++p) by_key[p] = p;  // positions in processing order
    auto key = [this](std::uint32_t p) {
      const event_rec& e = recs_[order_[p]];
      return std::make_pair(view(e.trace_id), view(e.name));
    };
    std::sort(by_key.begin(), by_key.end(), [&](std::uint32_t a, std::uint32_t b) {
      const auto ka = key(a), kb = key(b);
      return ka != kb ? ka < kb : a < b;
    });
    for (std::size_t g = 0; g < n;) {
      std::size_t h = g + 1;
      while (h < n && key(by_key[h]) == key(by_key[g])) ++h;
      const std::uint32_t last = by_key[h - 1];
      payload_of_[by_key[g]] = recs_[order_[last]].index;
      for (std::size_t k = g; k + 1 < h; ++k) {
        const event_rec& e = recs_[order_[by_key[k]]];
        problem(event_label(e.index) + "duplicate event \"" + std::string(view(e.name)) + "\" of point " +
                    std::string(view(e.trace_id)) + ", replaced by event " + std::to_string(recs_[order_[last]].index),
                events_[e.index]);
      }
      g = h;
    }
  }

  // Whether two events have the same trace_id and name (hashing them is cheaper than the
  // sort that orders them when some have).
  bool any_duplicate() const {
    struct key_hash {
      std::size_t operator()(const std::pair<std::string_view, std::string_view>& k) const noexcept {
        const std::size_t h = std::hash<std::string_view>{}(k.first);
        return h ^ (std::hash<std::string_view>{}(k.second) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
      }
    };
    std::unordered_set<std::pair<std::string_view, std::string_view>, key_hash> seen;
    seen.reserve(recs_.size());
    for (const event_rec& e : recs_) {
      if (!seen.emplace(view(e.trace_id), view(e.name)).second) return true;
    }
    return false;
  }

  void fold() {
    node_of_.reserve(recs_.size());
    nodes_.reserve(recs_.size() / 2 + 1);
    node_at_.resize(order_.size());
    for (std::uint32_t p = 0; p < order_.size(); ++p) {
      const event_rec& e = recs_[order_[p]];
      auto [it, inserted] = node_of_.try_emplace(view(e.trace_id), static_cast<std::uint32_t>(nodes_.size()));
      if (inserted) nodes_.emplace_back().first = p;
      node_at_[p] = it->second;
      flat_node& n = nodes_[it->second];
      if (e.stop) {
        n.finished_us = e.time_us;
        n.stop = p;
      } else {
        n.started_us = e.time_us;
        if (!r_.last_trace_started_us || *r_.last_trace_started_us < e.time_us) r_.last_trace_started_us = e.time_us;
      }
    }
    r_.started_us = recs_[order_.front()].time_us;
    r_.finished_us = recs_[order_.back()].time_us;
  }

  // A node's first event, which gave it its ids and names.
  const event_rec& first_of(const flat_node& f) const { return recs_[order_[f.first]]; }
  std::string_view trace_id_of(const flat_node& f) const { return view(first_of(f).trace_id); }
  std::string_view name_of(const flat_node& f) const { return report_impl::point_name(view(first_of(f).name)); }

  std::int64_t sort_key(std::uint32_t i) const { return report_impl::effective_started(nodes_[i]); }

  void link() {
    const auto n = static_cast<std::uint32_t>(nodes_.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      auto it = node_of_.find(view(first_of(nodes_[i]).parent_id));
      if (it != node_of_.end()) {
        nodes_[i].parent = it->second;
        nodes_[it->second].children.push_back(i);
      } else {
        roots_.push_back(i);
      }
    }
    break_cycles();
    limit_depth();
    // Siblings by start time in microseconds; ties keep the processing order (node creation).
    auto by_start = [this](std::uint32_t a, std::uint32_t b) {
      const std::int64_t ka = sort_key(a), kb = sort_key(b);
      return ka != kb ? ka < kb : a < b;
    };
    std::sort(roots_.begin(), roots_.end(), by_start);
    for (auto& f : nodes_) std::sort(f.children.begin(), f.children.end(), by_start);
  }

  // Points whose parent_id chain loops (a point that is its own parent, or A -> B -> A) are
  // reachable from no root: Python drops them from the report or fails on the cycle. Each
  // cycle is cut at the first point found on it, which becomes a root, and is reported.
  void break_cycles() {
    const auto n = static_cast<std::uint32_t>(nodes_.size());
    std::vector<char> reached(n, 0);
    std::vector<std::uint32_t> stack;
    auto mark = [&](std::uint32_t from) {
      stack.push_back(from);
      while (!stack.empty()) {
        const std::uint32_t v = stack.back();
        stack.pop_back();
        reached[v] = 1;
        for (std::uint32_t c : nodes_[v].children) {
          if (!reached[c]) stack.push_back(c);
        }
      }
    };
    for (std::uint32_t root : roots_) mark(root);
    std::vector<std::uint32_t> walk(n, flat_node::none);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (reached[i]) continue;
      // Every ancestor of an unreached point is unreached, so the chain must loop.
      std::uint32_t x = i;
      while (walk[x] != i) {
        walk[x] = i;
        x = nodes_[x].parent;
      }
      auto& siblings = nodes_[nodes_[x].parent].children;
      siblings.erase(std::find(siblings.begin(), siblings.end(), x));
      const flat_node& cut = nodes_[x];
      problem("point \"" + std::string(name_of(cut)) + "\" " + std::string(trace_id_of(cut)) +
                  " is in a parent_id cycle; shown as a root",
              "parent_id " + std::string(view(first_of(cut).parent_id)));
      nodes_[x].parent = flat_node::none;
      roots_.push_back(x);
      mark(x);
    }
  }

  // Points below max_report_depth levels are moved up to hang from their ancestor at the level
  // above it, so they are shown at the last allowed level (ordered by start time, as everywhere).
  void limit_depth() {
    static_assert(max_report_depth >= 2);
    struct visit {
      std::uint32_t node;
      std::size_t level;     ///< 1 for a root, as shown (never more than max_report_depth)
      std::uint32_t anchor;  ///< the ancestor at level max_report_depth - 1, once that deep
    };
    std::vector<visit> stack;
    for (std::uint32_t root : roots_) stack.push_back({root, 1, flat_node::none});
    std::vector<std::pair<std::uint32_t, std::uint32_t>> moves;  // node -> new parent
    while (!stack.empty()) {
      const visit v = stack.back();
      stack.pop_back();
      const std::uint32_t anchor = v.level + 1 == max_report_depth ? v.node : v.anchor;
      for (std::uint32_t c : nodes_[v.node].children) {
        if (v.level + 1 > max_report_depth) moves.emplace_back(c, anchor);
        stack.push_back({c, std::min(v.level + 1, max_report_depth), anchor});
      }
    }
    if (moves.empty()) return;
    // One pass per former parent, so a wide level costs linear time.
    std::vector<bool> moved(nodes_.size());
    for (const auto& move : moves) moved[move.first] = true;
    for (const auto& move : moves) {
      auto& siblings = nodes_[nodes_[move.first].parent].children;
      std::erase_if(siblings, [&](std::uint32_t n) { return moved[n]; });
    }
    for (const auto& [node, parent] : moves) {
      nodes_[node].parent = parent;
      nodes_[parent].children.push_back(node);
    }
    problem(std::to_string(moves.size()) + " points nested deeper than " + std::to_string(max_report_depth) +
                " levels are shown at that level",
            "the first under " + std::string(trace_id_of(nodes_[moves.front().second])));
  }

  // Per point name, in order of first appearance: count and summed duration in integer ms,
  // each endpoint truncated relative to the earliest event as Python does.
  void compute_stats() {
    const std::int64_t origin = report_impl::origin_of(r_);
    std::unordered_map<std::string_view, std::size_t> index;
    for (const flat_node& f : nodes_) {
      const std::int64_t d = report_impl::ms_between(origin, report_impl::effective_finished(f)) -
                             report_impl::ms_between(origin, report_impl::effective_started(f));
      const std::string_view name = name_of(f);
      auto [it, inserted] = index.try_emplace(name, r_.stats.size());
      if (inserted) r_.stats.push_back(report_stat{std::string(name), 0, 0});
      report_stat& s = r_.stats[it->second];
      ++s.count;
      s.duration_ms += d;
    }
  }

  // Writes the nested tree, top down: each children vector is sized once, then each node is
  // written in place in it (no node is made twice). A node's raw payloads are its events'
  // texts, moved (or copied) out of the stored events, in processing order.
  void materialize() {
    // The payload events of each node, grouped by node in processing order (a counting sort).
    std::vector<std::uint32_t> from(nodes_.size() + 1, 0);
    for (std::uint32_t p = 0; p < order_.size(); ++p) from[node_at_[p] + 1] += payload_of_[p] != flat_node::none;
    for (std::size_t i = 1; i < from.size(); ++i) from[i] += from[i - 1];
    std::vector<std::uint32_t> payloads(from.back());
    {
      std::vector<std::uint32_t> next(from.begin(), from.end() - 1);
      for (std::uint32_t p = 0; p < order_.size(); ++p) {
        if (payload_of_[p] != flat_node::none) payloads[next[node_at_[p]]++] = p;
      }
    }
    struct todo {
      std::uint32_t node;
      report_node* out;
    };
    std::vector<todo> stack;
    r_.children.resize(roots_.size());
    for (std::size_t i = 0; i < roots_.size(); ++i) stack.push_back({roots_[i], &r_.children[i]});
    while (!stack.empty()) {
      const auto [v, out] = stack.back();
      stack.pop_back();
      const flat_node& f = nodes_[v];
      const event_rec& e = first_of(f);
      out->trace_id.assign(view(e.trace_id));
      out->parent_id.assign(view(e.parent_id));
      out->name.assign(name_of(f));
      out->project.assign(view(e.project));
      out->service.assign(view(e.service));
      out->host.assign(view(e.host));
      out->started_us = f.started_us;
      out->finished_us = f.finished_us;
      if (f.stop != flat_node::none) {
        const event_rec& stop = recs_[order_[f.stop]];
        out->exception = stop.has_etype ? std::string(view(stop.etype)) : std::string("None");
      }
      out->raw_payloads.reserve(from[v + 1] - from[v]);
      for (std::uint32_t k = from[v]; k < from[v + 1]; ++k) {
        const std::uint32_t p = payloads[k];
        const std::uint32_t source = payload_of_[p];
        // Each event is the payload of one point at most, and nothing reads its text later.
        if (movable_ != nullptr) {
          out->raw_payloads.emplace_back(view(recs_[order_[p]].name), std::move((*movable_)[source]));
        } else {
          out->raw_payloads.emplace_back(view(recs_[order_[p]].name), events_[source]);
        }
      }
      out->children.resize(f.children.size());  // never resized again: the pointers below stay valid
      for (std::size_t k = 0; k < f.children.size(); ++k) stack.push_back({f.children[k], &out->children[k]});
    }
  }

  std::span<const std::string> events_;
  std::vector<std::string>* movable_ = nullptr;
  report r_;
  std::string arena_;
  std::vector<event_rec> recs_;
  std::vector<std::uint32_t> order_;
  std::vector<std::uint32_t> payload_of_;  // by processing position: source event, or none
  std::unordered_map<std::string_view, std::uint32_t> node_of_;
  std::vector<flat_node> nodes_;
  std::vector<std::uint32_t> node_at_;  // by processing position: the node of that event
  std::vector<std::uint32_t> roots_;
};

}  // namespace

report build_report(std::string_view base_id, std::span<const std::string> stored_events) {
  return builder(base_id, stored_events).run();
}

}  // namespace v1
}  // namespace osprof

namespace osprof::detail::report_impl {

report build_report_taking(std::string_view base_id, std::vector<std::string>&& stored_events) {
  return osprof::v1::builder(base_id, stored_events).run();
}

}  // namespace osprof::detail::report_impl
