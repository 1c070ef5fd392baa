// The report's JSON as `osprofiler trace show --json` prints it, written from any tree of
// points: a finished report (report_json.cpp), or a trace's analysed events before any
// report_node is made (report.cpp), which is how `osprof trace show --json` writes a large
// trace in a fraction of a report's memory. The tree is walked without recursion, so a deep
// chain of points cannot exhaust the stack.
#pragma once

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <osprof/report.hpp>

#include "report/report_internal.hpp"

namespace osprof::detail::report_impl {

/// Text is handed on in pieces of about this size when the caller takes it in pieces.
inline constexpr std::size_t json_piece_bytes = 64 * 1024;
/// An array of at least this many points is rendered on two threads (json_renderer::items()),
/// in chunks of items_per_chunk items, at most chunks_in_flight of them ahead of the text
/// handed on.
inline constexpr std::size_t two_thread_min_items = 512;
inline constexpr std::size_t items_per_chunk = 32;
inline constexpr std::size_t chunks_in_flight = 8;

/// What json_renderer reads a tree through (report_tree below is the plainest example):
///   const report& head()                       the report's times and stats (its children unused)
///   list roots(), list children(node)          a list of points, cheap to copy
///   std::size_t size(list), node at(list, i)
///   std::string_view trace_id(node), parent_id, name, project, service, host
///   point_times times(node)                    its start and stop, as a report_node has them
///   std::optional<std::string_view> exception(node)
///   for_each_payload(node, f)                  f(event name, stored JSON, plain) in arrival order;
///                                              plain: the JSON passed read_plain_stored_event
template <class Tree>
class json_renderer {
 public:
  using node = typename Tree::node;
  using list = typename Tree::list;

  json_renderer(const Tree& tree, int indent, std::string& out, const text_sink* write = nullptr)
      : t_(tree), r_(tree.head()), out_(out), w_(out, indent), origin_(origin_of(r_)), write_(write) {}

  /// Renders the items of the first wide array on two threads when the machine has two cores.
  void allow_two_threads() { two_threads_ = std::thread::hardware_concurrency() > 1; }

  void run() {
    out_ += '{';
    w_.newline(1);
    w_.key("info");
    root_info();
    w_.next_line(1);
    w_.key("children");
    children(t_.roots(), 1);
    w_.next_line(1);
    w_.key("stats");
    stats();
    w_.newline(0);
    out_ += '}';
  }

 private:
  void ms_or_null(const std::optional<std::int64_t>& us) {
    if (us && r_.started_us) {
      w_.integer(ms_between(origin_, *us));
    } else {
      out_ += "null";
    }
  }

  void root_info() {
    out_ += '{';
    w_.newline(2);
    w_.key("name");
    w_.string("total");
    w_.next_line(2);
    w_.key("started");
    w_.integer(0);
    w_.next_line(2);
    w_.key("finished");
    ms_or_null(r_.finished_us);
    w_.next_line(2);
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
      w_.next_line(3);
      w_.key("duration");
      w_.integer(s.duration_ms);
      w_.newline(2);
      out_ += '}';
    }
    w_.newline(1);
    out_ += '}';
  }

  // A "children" array at `level`, with every descendant.
  void children(list roots, int level) {
    if (t_.size(roots) == 0) {
      out_ += "[]";
      return;
    }
    out_ += '[';
    if (t_.size(roots) >= two_thread_min_items && two_threads_) {
      two_threads_ = false;  // one such array per report: the first one met
      items_on_two_threads(roots, level);
    } else {
      items(roots, 0, t_.size(roots), level);
    }
    w_.newline(level);
    out_ += ']';
  }

  // Items [from, to) of an array at `level` (brackets not included), each point with every
  // descendant, iteratively: a deep chain of points cannot exhaust the stack.
  void items(list array, std::size_t from, std::size_t to, int level) {
    struct frame {
      list items;
      std::size_t next;
      std::size_t end;
      int level;  // of the array
    };
    std::vector<frame> stack;
    stack.push_back({array, from, to, level});
    while (true) {
      const frame top = stack.back();
      if (top.next == top.end) {
        stack.pop_back();
        if (stack.empty()) return;
        // Close the array and the point that owns it.
        w_.newline(top.level);
        out_ += ']';
        w_.newline(top.level - 1);
        out_ += '}';
        continue;
      }
      stack.back().next++;
      const node n = t_.at(top.items, top.next);
      hand_on();
      if (top.next > 0) out_ += ',';
      const int node_level = top.level + 1;
      w_.newline(node_level);
      node_head(n, node_level);
      const list below = t_.children(n);
      const std::size_t count = t_.size(below);
      if (count == 0) {
        out_ += "[]";
        w_.newline(node_level);
        out_ += '}';
      } else if (count >= two_thread_min_items && two_threads_) {
        children(below, node_level + 1);  // renders it on two threads (one level of recursion)
        w_.newline(node_level);
        out_ += '}';
      } else {
        out_ += '[';
        stack.push_back({below, 0, count, node_level + 1});
      }
    }
  }

  // A wide array (a point with thousands of calls) is most of a large report. Its items are
  // rendered in chunks, each into a buffer of its own, by whichever of two threads is free: a
  // helper that only renders, and this thread, which hands the chunks on in order and renders
  // when the next one is not ready. Handing on is as much work as rendering when the text goes
  // to a file, so neither thread is given a fixed share. At most chunks_in_flight chunks are
  // rendered ahead of the one handed on, so memory stays bounded.
  void items_on_two_threads(list array, int level) {
    const std::size_t n = t_.size(array);
    const int indent = w_.indent();
    const std::size_t chunks = (n + items_per_chunk - 1) / items_per_chunk;
    struct shared_state {
      std::mutex m;
      std::condition_variable cv;
      std::size_t claimed = 0;    // chunks [0, claimed) are being rendered, or done
      std::size_t handed_on = 0;  // chunks [0, handed_on) are handed on
      // Chunk c's text is in slot c % chunks_in_flight once it is ready; a slot's buffer keeps
      // its capacity from chunk to chunk.
      std::array<std::string, chunks_in_flight> text;
      std::array<bool, chunks_in_flight> ready{};
      std::exception_ptr failed;
      bool stop = false;
    } sh;
    // Under the lock: the next chunk, with its slot's buffer moved into `text`, if one may be
    // rendered now.
    const auto claim = [&](std::string& text) -> std::optional<std::size_t> {
      if (sh.claimed == chunks || sh.claimed == sh.handed_on + chunks_in_flight) return std::nullopt;
      const std::size_t c = sh.claimed++;
      text.swap(sh.text[c % chunks_in_flight]);
      return c;
    };
    const auto render = [&](json_renderer& sub, std::string& text, std::size_t c) {
      text.clear();
      sub.items(array, c * items_per_chunk, std::min(n, (c + 1) * items_per_chunk), level);
    };
    const auto ready = [&](std::string& text, std::size_t c) {  // under the lock
      text.swap(sh.text[c % chunks_in_flight]);
      sh.ready[c % chunks_in_flight] = true;
    };
    const auto helper_body = [&] {
      try {
        std::string text;  // what `sub` writes
        json_renderer sub(t_, indent, text);
        while (true) {
          std::optional<std::size_t> c;
          {
            std::unique_lock lock(sh.m);
            sh.cv.wait(lock, [&] { return sh.stop || (c = claim(text)) || sh.claimed == chunks; });
            if (!c) break;
          }
          render(sub, text, *c);
          {
            std::lock_guard lock(sh.m);
            ready(text, *c);
          }
          sh.cv.notify_all();
        }
      } catch (...) {
        std::lock_guard lock(sh.m);
        sh.failed = std::current_exception();
      }
      sh.cv.notify_all();
    };
    std::thread helper;
    try {
      helper = std::thread(helper_body);
    } catch (const std::system_error&) {  // no thread to be had: this one renders them all
    }
    // Stops and joins the helper however this ends (the sink may throw: a closed pipe).
    struct joiner {
      shared_state& sh;
      std::thread& t;
      ~joiner() {
        {
          std::lock_guard lock(sh.m);
          sh.stop = true;
        }
        sh.cv.notify_all();
        if (t.joinable()) t.join();
      }
    } join_at_exit{sh, helper};
    if (write_ != nullptr && !out_.empty()) {
      (*write_)(out_);
      out_.clear();
    }
    std::string text;   // what `sub` writes
    std::string chunk;  // the chunk being handed on
    json_renderer sub(t_, indent, text);
    std::unique_lock lock(sh.m);
    while (sh.handed_on < chunks) {
      const std::size_t next = sh.handed_on % chunks_in_flight;
      if (sh.ready[next]) {
        sh.ready[next] = false;
        chunk.swap(sh.text[next]);
        lock.unlock();
        // Handed on as it is, without a copy when the caller takes pieces.
        if (write_ != nullptr) {
          (*write_)(chunk);
        } else {
          out_ += chunk;
        }
        lock.lock();
        chunk.swap(sh.text[next]);
        ++sh.handed_on;
        lock.unlock();
        sh.cv.notify_all();
        lock.lock();
      } else if (const std::optional<std::size_t> c = claim(text)) {
        lock.unlock();
        render(sub, text, *c);
        lock.lock();
        ready(text, *c);
      } else if (sh.failed) {
        std::rethrow_exception(sh.failed);
      } else {
        sh.cv.wait(lock);  // for the helper's chunk
      }
    }
  }

  // `{"info": {...}, "trace_id": ..., "parent_id": ..., "children": ` of one node.
  void node_head(node n, int level) {
    out_ += '{';
    w_.newline(level + 1);
    w_.key("info");
    node_info(n, level + 1);
    w_.next_line(level + 1);
    w_.key("trace_id");
    w_.string(t_.trace_id(n));
    w_.next_line(level + 1);
    w_.key("parent_id");
    w_.string(t_.parent_id(n));
    w_.next_line(level + 1);
    w_.key("children");
  }

  void field(std::string_view key, int level) {
    w_.next_line(level);
    w_.key(key);
  }

  // The keys in the order Python's dict gets them: name, project, service, host, then per
  // event "meta.raw_payload.<name>" followed by the first "finished"+"exception" (stop) or
  // "started" (start); a point without one endpoint gets it last.
  void node_info(node n, int level) {
    const int inner = level + 1;
    out_ += '{';
    w_.newline(inner);
    w_.key("name");
    w_.string(t_.name(n));
    field("project", inner);
    w_.string(t_.project(n));
    field("service", inner);
    w_.string(t_.service(n));
    field("host", inner);
    w_.string(t_.host(n));
    const point_times times = t_.times(n);
    const std::int64_t started = ms_between(origin_, effective_started(times));
    const std::int64_t finished = ms_between(origin_, effective_finished(times));
    const std::optional<std::string_view> exception = t_.exception(n);
    bool wrote_started = false, wrote_finished = false;
    t_.for_each_payload(n, [&](std::string_view event_name, std::string_view json, bool plain) {
      w_.next_line(inner);
      w_.raw_payload_key(event_name);
      payload(json, plain, inner);
      if (is_stop_event(event_name)) {
        if (!wrote_finished) {
          wrote_finished = true;
          field("finished", inner);
          w_.integer(finished);
          field("exception", inner);
          w_.string(exception.value_or("None"));
        }
      } else if (!wrote_started) {
        wrote_started = true;
        field("started", inner);
        w_.integer(started);
      }
    });
    if (!wrote_finished && exception) {  // a stop known without its stored event
      wrote_finished = true;
      field("finished", inner);
      w_.integer(finished);
      field("exception", inner);
      w_.string(*exception);
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

  void payload(std::string_view json, bool plain, int level) {
    if (plain) {
      w_.checked_plain_value(json, level);
      return;
    }
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
    if (write_ == nullptr || out_.size() < json_piece_bytes) return;
    (*write_)(out_);
    out_.clear();
  }

  const Tree& t_;
  const report& r_;
  std::string& out_;
  py_json_writer w_;
  std::int64_t origin_;
  const text_sink* write_;
  json_reader reader_;
  // Whether a wide array may still be rendered on two threads (json_renderer::items()): the
  // first one, by the renderer that writes the report, not by its helper.
  bool two_threads_ = false;
};

/// A finished report as json_renderer reads it.
class report_tree {
 public:
  using node = const report_node*;
  using list = const std::vector<report_node>*;

  explicit report_tree(const report& r) noexcept : r_(r) {}

  const report& head() const noexcept { return r_; }
  list roots() const noexcept { return &r_.children; }
  list children(node n) const noexcept { return &n->children; }
  static std::size_t size(list l) noexcept { return l->size(); }
  static node at(list l, std::size_t i) noexcept { return &(*l)[i]; }
  static std::string_view trace_id(node n) noexcept { return n->trace_id; }
  static std::string_view parent_id(node n) noexcept { return n->parent_id; }
  static std::string_view name(node n) noexcept { return n->name; }
  static std::string_view project(node n) noexcept { return n->project; }
  static std::string_view service(node n) noexcept { return n->service; }
  static std::string_view host(node n) noexcept { return n->host; }
  static point_times times(node n) noexcept { return {n->started_us, n->finished_us}; }
  static std::optional<std::string_view> exception(node n) {
    if (!n->exception) return std::nullopt;
    return std::string_view(*n->exception);
  }
  template <class F>
  static void for_each_payload(node n, F&& f) {
    for (const auto& [event_name, json] : n->raw_payloads) f(std::string_view(event_name), std::string_view(json), false);
  }

 private:
  const report& r_;
};

/// Writes `tree` as JSON, handing the text to `write` in pieces of about json_piece_bytes.
template <class Tree>
void render_json_pieces(const Tree& tree, int indent, const text_sink& write) {
  if (indent < 0) indent = 0;
  std::string out;
  out.reserve(json_piece_bytes + json_piece_bytes / 2);
  json_renderer<Tree> renderer(tree, indent, out, &write);
  renderer.allow_two_threads();
  renderer.run();
  if (!out.empty()) write(out);
}

}  // namespace osprof::detail::report_impl
