// build_report(): stored events -> the tree of points, as Python's _append_results,
// _parse_results and _build_tree do it, with the two fixes the header describes.
//
// Steps, all O(n log n): parse every event once (one reused simdjson parser) into a compact
// record of its fields' places in its text; sort the records chronologically (the processing
// order); fold them into one small flat node per trace_id (positions of its events, its
// times); link parents, break parent_id cycles (Python loses such points or fails), sort
// siblings by start time in microseconds. That analysed trace is what json_renderer writes
// (`trace show --json` needs nothing more); a report writes the nested report_node tree from it
// top down, each node once, in place, without recursion.
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <osprof/report.hpp>
#include "report/json_render.hpp"
#include "report/report_internal.hpp"
#include "report/stored_event.hpp"

namespace osprof::detail::report_impl {

namespace {

// A field of an event: its place in the event's text (or, for an event read through the DOM
// and for every etype, in the trace's spill text).
struct slice {
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

// The fields of an event the tree is made of.
enum class field : std::uint8_t { name, trace_id, parent_id, project, service, host };
inline constexpr std::size_t field_count = 6;

// A field's place in an event's text of at most 64 KiB.
struct near_slice {
  std::uint16_t offset = 0;
  std::uint16_t size = 0;
};
inline constexpr std::size_t max_near_text = std::numeric_limits<std::uint16_t>::max();

// One record per event, 40 bytes: a large trace has tens of thousands of them at once. A plain
// event (read_plain_stored_event) of at most 64 KiB has its fields' places in its own text
// here; any other is `far`: its fields' places are in far_fields_ (the entry is in at[0] and
// at[1]), in its own text or, for an event read through the DOM (`spilled`), in the spill text.
struct event_rec {
  std::int64_t time_us;
  std::uint32_t index;  // in stored_events
  bool stop;
  bool has_etype;
  bool spilled;
  bool far;
  std::array<near_slice, field_count> at;
};
static_assert(sizeof(event_rec) == 40);

// A point while the tree is made: what its events said, by their positions in processing
// order. Its report_node is written once, in place in the finished tree (materialize()).
struct flat_node {
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t first = none;  // its first event: ids, name, project, service, host
  std::uint32_t stop = none;   // its last stop event: the exception
  std::uint32_t parent = none;
  bool started = false;        // a start event was seen, at started_at
  bool finished = false;       // a stop event was seen, at finished_at
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::vector<std::uint32_t> children;

  // Its endpoints as a report_node has them (what effective_started/finished read).
  point_times times() const noexcept {
    return {started ? std::optional(started_at) : std::nullopt, finished ? std::optional(finished_at) : std::nullopt};
  }
};

// Below this many events one thread reads them all (a thread costs some tens of microseconds).
constexpr std::size_t two_thread_min_events = 4096;

// Sorts `v` by `less`, a strict total order (no two elements equivalent, so the result is
// unique). Events come from a backend in time order or in its reverse (Redis lists are newest
// first) and children are linked in time order: those need one pass, not a sort.
template <class T, class Less>
void sort_unless_in_order(std::vector<T>& v, Less less) {
  if (std::is_sorted(v.begin(), v.end(), less)) return;
  if (std::is_sorted(v.rbegin(), v.rend(), less)) {
    std::reverse(v.begin(), v.end());
    return;
  }
  std::sort(v.begin(), v.end(), less);
}

}  // namespace

class trace_builder {
 public:
  // The events are read where they are (they must outlive the builder) and copied into a report.
  trace_builder(std::string_view base_id, std::span<const std::string> events) : events_(events) {
    r_.base_id.assign(base_id);
    analyse();
  }
  // The events are kept, and moved into the report's raw payloads instead of copied.
  trace_builder(std::string_view base_id, std::vector<std::string>&& events)
      : owned_(std::move(events)), events_(owned_), movable_(true) {
    r_.base_id.assign(base_id);
    analyse();
  }

  trace_builder(const trace_builder&) = delete;  // node_of_ refers to it
  trace_builder& operator=(const trace_builder&) = delete;

  const report& head() const noexcept { return r_; }

  // Once: the texts of the kept events move into it.
  report take_report() {
    if (!recs_.empty()) materialize();
    return std::move(r_);
  }

  // What json_renderer reads (json_render.hpp): a point is its flat node's index.
  using node = std::uint32_t;
  using list = const std::vector<std::uint32_t>*;
  list roots() const noexcept { return &roots_; }
  list children(node n) const noexcept { return &nodes_[n].children; }
  static std::size_t size(list l) noexcept { return l->size(); }
  static node at(list l, std::size_t i) noexcept { return (*l)[i]; }
  std::string_view trace_id(node n) const { return trace_id_of(nodes_[n]); }
  std::string_view parent_id(node n) const { return first_field(n, field::parent_id); }
  std::string_view name(node n) const { return name_of(nodes_[n]); }
  std::string_view project(node n) const { return first_field(n, field::project); }
  std::string_view service(node n) const { return first_field(n, field::service); }
  std::string_view host(node n) const { return first_field(n, field::host); }
  point_times times(node n) const noexcept { return nodes_[n].times(); }
  std::optional<std::string_view> exception(node n) const {
    const flat_node& f = nodes_[n];
    if (f.stop == flat_node::none) return std::nullopt;
    const event_rec& stop = recs_[f.stop];
    return stop.has_etype ? etype_of(stop) : std::string_view("None");
  }
  template <class F>
  void for_each_payload(node n, F&& f) const {
    for (std::uint32_t k = payloads_from_[n]; k < payloads_from_[n + 1]; ++k) {
      const std::uint32_t p = payloads_[k];
      const event_rec& e = recs_[p];
      const std::uint32_t stored = payload_of_[p];
      f(view(e, field::name), std::string_view(events_[stored]), plain_[stored]);
    }
  }

 private:
  void analyse() {
    parse_all();
    if (!recs_.empty()) {
      sort_chronologically();
      fold();
      link();
      node_of_ = decltype(node_of_)(0, by_trace_id{this}, by_trace_id{this});  // not needed once linked
      group_by_node();
      node_at_ = {};  // grouped: not needed any more
      find_duplicates();
      compute_stats();
    }
    r_.event_count = recs_.size();
  }

  std::string_view view(const event_rec& e, field f) const {
    const auto which = static_cast<std::size_t>(f);
    if (e.far) [[unlikely]] {
      const std::uint32_t entry = e.at[0].offset | std::uint32_t{e.at[1].offset} << 16;
      const slice s = far_fields_[entry][which];
      return std::string_view(e.spilled ? spill_ : events_[e.index]).substr(s.offset, s.size);
    }
    const near_slice s = e.at[which];
    return {events_[e.index].data() + s.offset, s.size};
  }
  // A field of a point's first event, which gave it its ids and names.
  std::string_view first_field(node n, field f) const { return view(first_of(nodes_[n]), f); }
  // Events with an etype are few: their etypes are in the spill text, listed by event index.
  std::string_view etype_of(const event_rec& e) const {
    const auto it = std::lower_bound(etypes_.begin(), etypes_.end(), e.index,
                                     [](const auto& entry, std::uint32_t index) { return entry.first < index; });
    return std::string_view(spill_).substr(it->second.offset, it->second.size);
  }

  slice spill(std::string_view s) {
    slice out{static_cast<std::uint32_t>(spill_.size()), static_cast<std::uint32_t>(s.size())};
    spill_.append(s);
    return out;
  }
  // A field read from the event's own text (plain JSON): where it is in it.
  static slice within(std::string_view text, std::string_view s) noexcept {
    if (s.empty()) return {};
    return {static_cast<std::uint32_t>(s.data() - text.data()), static_cast<std::uint32_t>(s.size())};
  }
  // A plain event of at most max_near_text bytes (the common case, on two threads).
  static void place_near(event_rec& rec, std::string_view text, const stored_event& ev) noexcept {
    const auto near = [text](std::string_view s) {
      const slice at = within(text, s);
      return near_slice{static_cast<std::uint16_t>(at.offset), static_cast<std::uint16_t>(at.size)};
    };
    rec.far = false;
    rec.at = {near(ev.name), near(ev.trace_id), near(ev.parent_id), near(ev.project), near(ev.service), near(ev.host)};
  }
  // Any other event: its fields' places in its own text (plain) or in the spill text.
  void place_far(event_rec& rec, std::string_view text, const stored_event& ev, bool plain) {
    const auto place = [&](std::string_view s) { return plain ? within(text, s) : spill(s); };
    const auto entry = static_cast<std::uint32_t>(far_fields_.size());
    far_fields_.push_back(
        {place(ev.name), place(ev.trace_id), place(ev.parent_id), place(ev.project), place(ev.service), place(ev.host)});
    rec.far = true;
    rec.at = {};
    rec.at[0].offset = static_cast<std::uint16_t>(entry);
    rec.at[1].offset = static_cast<std::uint16_t>(entry >> 16);
  }

  void problem(std::string why, std::string_view text) {
    std::string line = "trace ";
    line += r_.base_id;
    line += ": ";
    line += why;
    line += " (";
    line += excerpt(text, 80);
    line += ')';
    r_.problems.push_back(std::move(line));
  }

  static std::string event_label(std::size_t index) { return "event " + std::to_string(index) + ": "; }

  // The common case, an event of this trace in plain JSON of at most max_near_text bytes without
  // an etype, read into recs_[i] and marked in `read`, for events [from, to). Anything else is
  // left to parse_all(), which also says what is wrong with an event. No member is written but
  // those slots.
  void read_plain_events(std::size_t from, std::size_t to, std::uint8_t* read) noexcept {
    try {
      stored_event ev;
      for (std::size_t i = from; i < to; ++i) {
        const std::string& text = events_[i];
        if (text.size() > max_near_text || !read_plain_stored_event(text, ev) || ev.has_etype ||
            (ev.has_base_id && ev.base_id != r_.base_id)) {
          continue;
        }
        event_rec& rec = recs_[i];
        rec.time_us = ev.time_us;
        rec.index = static_cast<std::uint32_t>(i);
        rec.stop = is_stop_event(ev.name);
        rec.has_etype = false;
        rec.spilled = false;
        place_near(rec, text, ev);
        read[i] = 1;
      }
    } catch (...) {  // out of memory: the events not marked are read again, one by one
    }
  }

  // Reading the events' text is a third of the command's work on a large trace: with a second
  // core, two threads read the plain ones, each its half; the rest is read here, in order.
  void read_plain_events_on_two_threads(std::uint8_t* read) {
    const std::size_t n = events_.size();
    std::size_t half = n;
    std::thread helper;
    if (n >= two_thread_min_events && std::thread::hardware_concurrency() > 1) {
      half = n / 2;
      try {
        helper = std::thread([this, half, n, read] { read_plain_events(half, n, read); });
      } catch (const std::system_error&) {  // no thread to be had: one does it all
        half = n;
      }
    }
    read_plain_events(0, half, read);
    if (helper.joinable()) helper.join();
  }

  void parse_all() {
    const std::size_t n = events_.size();
    recs_.resize(n);  // a slot per event, compacted below to the events kept
    std::vector<std::uint8_t> read(n, 0);
    read_plain_events_on_two_threads(read.data());
    plain_.assign(n, false);
    std::size_t kept = 0;
    json_reader reader;
    stored_event ev;
    for (std::size_t i = 0; i < n; ++i) {
      if (read[i] != 0) {
        plain_[i] = true;
        recs_[kept++] = recs_[i];
        continue;
      }
      const std::string& text = events_[i];
      if (text.size() > max_stored_event_bytes) {
        problem(event_label(i) + "too large (" + std::to_string(text.size()) + " bytes, more than " +
                    std::to_string(max_stored_event_bytes >> 20) + " MiB): skipped",
                text);
        continue;
      }
      // Most events are plain JSON, read from their text; the DOM reads the rest, and says
      // what is wrong with an event that cannot be used.
      const bool plain = read_plain_stored_event(text, ev);
      if (!plain) {
        simdjson::dom::element doc;
        if (auto err = reader.parse(text).get(doc); err) {
          problem(event_label(i) + "not valid JSON: " + simdjson::error_message(err), text);
          continue;
        }
        if (std::string why = read_stored_event(doc, ev); !why.empty()) {
          problem(event_label(i) + why, text);
          continue;
        }
      }
      if (ev.has_base_id && ev.base_id != r_.base_id) {
        problem(event_label(i) + "belongs to another trace (base_id " + excerpt(ev.base_id, 40) + ")",
                text);
        continue;
      }
      event_rec rec{};
      rec.time_us = ev.time_us;
      rec.index = static_cast<std::uint32_t>(i);
      rec.stop = is_stop_event(ev.name);
      rec.has_etype = ev.has_etype;
      rec.spilled = !plain;  // the DOM's strings live until the next parse
      plain_[i] = plain;
      if (plain && text.size() <= max_near_text) {
        place_near(rec, text, ev);
      } else {
        place_far(rec, text, ev, plain);
      }
      if (ev.has_etype) etypes_.emplace_back(rec.index, spill(ev.etype));
      recs_[kept++] = rec;
    }
    recs_.resize(kept);
  }

  // Processing order: by time, a start before a stop at the same microsecond, then by ids, so
  // that the report does not depend on the order the backend returned the events in.
  // The records are sorted in place: a record's place in recs_ is its processing position.
  void sort_chronologically() {
    const auto before = [this](const event_rec& x, const event_rec& y) {
      // The times nearly always differ: the strings are compared only on a tie.
      if (x.time_us != y.time_us) return x.time_us < y.time_us;
      if (x.stop != y.stop) return x.stop < y.stop;
      return std::tuple(view(x, field::trace_id), view(x, field::name), x.index) <
             std::tuple(view(y, field::trace_id), view(y, field::name), y.index);
    };
    sort_unless_in_order(recs_, before);
  }

  // Two events of a point (same trace_id) with the same name: as in Python's dict, the point
  // keeps one "meta.raw_payload.<name>" entry, at the first one's place, holding the last one.
  // Each point's list of events becomes the list of its payloads.
  void find_duplicates() {
    payload_of_.assign(recs_.size(), flat_node::none);
    std::vector<std::uint32_t> by_name;
    std::uint32_t kept = 0;
    for (std::uint32_t v = 0; v < nodes_.size(); ++v) {
      const std::uint32_t begin = payloads_from_[v], end = payloads_from_[v + 1];
      payloads_from_[v] = kept;
      // Mostly one start and one stop, which cannot share a name (a stop's name ends in
      // "stop", a start's does not): nothing to compare, no event text to read again.
      if (end - begin == 1 || (end - begin == 2 && recs_[payloads_[begin]].stop != recs_[payloads_[begin + 1]].stop)) {
        for (std::uint32_t k = begin; k < end; ++k) {
          payload_of_[payloads_[k]] = recs_[payloads_[k]].index;
          payloads_[kept++] = payloads_[k];
        }
        continue;
      }
      by_name.assign(payloads_.begin() + begin, payloads_.begin() + end);
      const auto name_at = [this](std::uint32_t p) {
        const event_rec& e = recs_[p];
        return view(e, field::name);
      };
      // Positions by name, then in processing order (a point has a start and a stop, mostly).
      std::sort(by_name.begin(), by_name.end(), [&](std::uint32_t x, std::uint32_t y) {
        const auto nx = name_at(x), ny = name_at(y);
        return nx != ny ? nx < ny : x < y;
      });
      for (std::size_t g = 0; g < by_name.size();) {
        std::size_t h = g + 1;
        while (h < by_name.size() && name_at(by_name[h]) == name_at(by_name[g])) ++h;
        const std::uint32_t last = recs_[by_name[h - 1]].index;
        payload_of_[by_name[g]] = last;
        for (std::size_t k = g; k + 1 < h; ++k) {
          const event_rec& e = recs_[by_name[k]];
          problem(event_label(e.index) + "duplicate event \"" + std::string(view(e, field::name)) + "\" of point " +
                      std::string(view(e, field::trace_id)) + ", replaced by event " + std::to_string(last),
                  events_[e.index]);
        }
        g = h;
      }
      for (std::uint32_t k = begin; k < end; ++k) {
        if (payload_of_[payloads_[k]] != flat_node::none) payloads_[kept++] = payloads_[k];
      }
    }
    payloads_from_.back() = kept;
    payloads_.resize(kept);
  }

  void fold() {
    node_of_.reserve(recs_.size() / 2 + 1);  // a point has two events, mostly
    nodes_.reserve(recs_.size() / 2 + 1);
    node_at_.resize(recs_.size());
    for (std::uint32_t p = 0; p < recs_.size(); ++p) {
      const event_rec& e = recs_[p];
      auto it = node_of_.find(view(e, field::trace_id));
      if (it == node_of_.end()) {
        nodes_.emplace_back().first = p;
        it = node_of_.insert(static_cast<std::uint32_t>(nodes_.size() - 1)).first;
      }
      node_at_[p] = *it;
      flat_node& n = nodes_[*it];
      if (e.stop) {
        n.finished = true;
        n.finished_at = e.time_us;
        n.stop = p;
      } else {
        n.started = true;
        n.started_at = e.time_us;
        if (!r_.last_trace_started_us || *r_.last_trace_started_us < e.time_us) r_.last_trace_started_us = e.time_us;
      }
    }
    r_.started_us = recs_.front().time_us;
    r_.finished_us = recs_.back().time_us;
  }

  // A node's first event, which gave it its ids and names.
  const event_rec& first_of(const flat_node& f) const { return recs_[f.first]; }
  std::string_view trace_id_of(const flat_node& f) const { return view(first_of(f), field::trace_id); }
  std::string_view name_of(const flat_node& f) const { return point_name(view(first_of(f), field::name)); }

  std::int64_t sort_key(std::uint32_t i) const { return effective_started(nodes_[i].times()); }

  void link() {
    const auto n = static_cast<std::uint32_t>(nodes_.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      const event_rec& first = first_of(nodes_[i]);
      auto it = node_of_.find(view(first, field::parent_id));
      if (it != node_of_.end()) {
        nodes_[i].parent = *it;
        nodes_[*it].children.push_back(i);
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
    sort_unless_in_order(roots_, by_start);
    for (auto& f : nodes_) sort_unless_in_order(f.children, by_start);
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
              "parent_id " + std::string(view(first_of(cut), field::parent_id)));
      nodes_[x].parent = flat_node::none;
      roots_.push_back(x);
      mark(x);
    }
  }

  // Points below max_report_depth levels are moved up to hang from their ancestor at the level
  // above it, so they are shown at the last allowed level (ordered by start time, as everywhere).
  void limit_depth() {
    static_assert(max_report_depth >= 2);
    // Depth first, a point's children from the last to the first. The stack holds one entry
    // per level, not one per child waiting: a trace with one wide level (a root with 10,000
    // calls) would otherwise have a stack that wide at the time the trace takes most memory.
    struct level_visit {
      std::uint32_t node;
      std::size_t children_level;     ///< as shown (never more than max_report_depth)
      std::uint32_t children_anchor;  ///< the ancestor at level max_report_depth - 1, once that deep
      std::size_t unvisited;          ///< its children [0, unvisited) are still to be visited
    };
    std::vector<level_visit> stack;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> moves;  // node -> new parent
    const auto visit = [&](std::uint32_t node, std::size_t level, std::uint32_t anchor) {
      const std::uint32_t children_anchor = level + 1 == max_report_depth ? node : anchor;
      const auto& children = nodes_[node].children;
      if (level + 1 > max_report_depth) {
        for (std::uint32_t c : children) moves.emplace_back(c, children_anchor);
      }
      stack.push_back({node, std::min(level + 1, max_report_depth), children_anchor, children.size()});
    };
    for (auto root = roots_.rbegin(); root != roots_.rend(); ++root) {
      visit(*root, 1, flat_node::none);
      while (!stack.empty()) {
        level_visit& top = stack.back();
        if (top.unvisited == 0) {
          stack.pop_back();
          continue;
        }
        const std::uint32_t child = nodes_[top.node].children[--top.unvisited];
        visit(child, top.children_level, top.children_anchor);  // may move `top`: not used after
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
    const std::int64_t origin = origin_of(r_);
    std::unordered_map<std::string_view, std::size_t> index;
    for (const flat_node& f : nodes_) {
      const point_times t = f.times();
      const std::int64_t d = ms_between(origin, effective_finished(t)) - ms_between(origin, effective_started(t));
      const std::string_view name = name_of(f);
      auto [it, inserted] = index.try_emplace(name, r_.stats.size());
      if (inserted) r_.stats.push_back(report_stat{std::string(name), 0, 0});
      report_stat& s = r_.stats[it->second];
      ++s.count;
      s.duration_ms += d;
    }
  }

  // The events of each node, grouped by node in processing order (a counting sort).
  void group_by_node() {
    payloads_from_.assign(nodes_.size() + 1, 0);
    for (std::uint32_t p = 0; p < recs_.size(); ++p) ++payloads_from_[node_at_[p] + 1];
    for (std::size_t i = 1; i < payloads_from_.size(); ++i) payloads_from_[i] += payloads_from_[i - 1];
    payloads_.resize(recs_.size());
    std::vector<std::uint32_t> next(payloads_from_.begin(), payloads_from_.end() - 1);
    for (std::uint32_t p = 0; p < recs_.size(); ++p) payloads_[next[node_at_[p]]++] = p;
  }

  // Writes the nested tree, top down: each children vector is sized once, then each node is
  // written in place in it (no node is made twice). A node's raw payloads are its events'
  // texts, moved (or copied) out of the stored events, in processing order. The events a node
  // reads are its own, and are read before its payloads move.
  void materialize() {
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
      out->trace_id.assign(trace_id(v));
      out->parent_id.assign(parent_id(v));
      out->name.assign(name(v));
      out->project.assign(project(v));
      out->service.assign(service(v));
      out->host.assign(host(v));
      const point_times t = f.times();
      out->started_us = t.started_us;
      out->finished_us = t.finished_us;
      if (const auto e = exception(v)) out->exception.emplace(*e);
      out->raw_payloads.reserve(payloads_from_[v + 1] - payloads_from_[v]);
      for (std::uint32_t k = payloads_from_[v]; k < payloads_from_[v + 1]; ++k) {
        const std::uint32_t p = payloads_[k];
        const event_rec& e = recs_[p];
        auto& [event_name, json] = out->raw_payloads.emplace_back();
        event_name.assign(view(e, field::name));
        // Each event is the payload of one point at most, and nothing reads its text later.
        if (movable_) {
          json = std::move(owned_[payload_of_[p]]);
        } else {
          json.assign(events_[payload_of_[p]]);
        }
      }
      out->children.resize(f.children.size());  // never resized again: the pointers below stay valid
      for (std::size_t k = 0; k < f.children.size(); ++k) stack.push_back({f.children[k], &out->children[k]});
    }
  }

  std::vector<std::string> owned_;  // the events, when the builder keeps them
  std::span<const std::string> events_;
  bool movable_ = false;
  report r_;  // all but its points until take_report()
  std::string spill_;
  std::vector<std::pair<std::uint32_t, slice>> etypes_;  // by event index, ascending
  std::vector<std::array<slice, field_count>> far_fields_;  // of the events not placed near
  std::vector<event_rec> recs_;
  std::vector<std::uint32_t> payload_of_;  // by processing position: source event, or none
  // By event index: read as plain JSON (read_plain_stored_event), which the renderer then
  // copies without checking it again.
  std::vector<bool> plain_;
  // The points by trace_id: a set of node indexes, looked up by trace_id (no key is stored).
  struct by_trace_id {
    using is_transparent = void;
    const trace_builder* b;
    std::string_view key(std::uint32_t node) const noexcept { return b->trace_id_of(b->nodes_[node]); }
    static std::string_view key(std::string_view id) noexcept { return id; }
    // Not noexcept: libstdc++ then keeps each entry's hash beside it (in the 32 bytes an
    // entry takes either way) instead of hashing the trace_id of every entry a lookup passes.
    template <class K>
    std::size_t operator()(const K& k) const {
      return std::hash<std::string_view>{}(key(k));
    }
    template <class K1, class K2>
    bool operator()(const K1& x, const K2& y) const noexcept {
      return key(x) == key(y);
    }
  };
  std::unordered_set<std::uint32_t, by_trace_id, by_trace_id> node_of_{0, by_trace_id{this}, by_trace_id{this}};
  std::vector<flat_node> nodes_;
  std::vector<std::uint32_t> node_at_;  // by processing position: the node of that event
  std::vector<std::uint32_t> roots_;
  std::vector<std::uint32_t> payloads_from_;  // by node: its first entry in payloads_
  std::vector<std::uint32_t> payloads_;       // processing positions of its payload events, by node
};

analysed_trace::analysed_trace(std::string_view base_id, std::vector<std::string>&& stored_events)
    : b_(std::make_unique<trace_builder>(base_id, std::move(stored_events))) {}
analysed_trace::~analysed_trace() = default;
const report& analysed_trace::head() const noexcept { return b_->head(); }
report analysed_trace::take_report() { return b_->take_report(); }
void analysed_trace::render_json(int indent, const text_sink& write) const { render_json_pieces(*b_, indent, write); }

report build_report_taking(std::string_view base_id, std::vector<std::string>&& stored_events) {
  return trace_builder(base_id, std::move(stored_events)).take_report();
}

}  // namespace osprof::detail::report_impl

namespace osprof {
inline namespace v1 {

report build_report(std::string_view base_id, std::span<const std::string> stored_events) {
  return detail::report_impl::trace_builder(base_id, stored_events).take_report();
}

}  // namespace v1
}  // namespace osprof
