// The read side of redis://, rediss://, redissentinel:// and rediscluster://: a trace's events
// (OSProfiler's list per trace, and the legacy one-key-per-event layout) and the trace lists,
// read with SCAN, pipelined GETs and LRANGEs, following Cluster redirects.
#include "drivers/redis/redis_reader.hpp"

#include <algorithm>
#include <map>

#include <simdjson.h>

#include <osprof/error.hpp>

#include "drivers/redis/batch.hpp"
#include "drivers/redis/client.hpp"

namespace osprof::detail::redis {

namespace {

constexpr int max_rounds = 8;              // redirect rounds per write before giving up (retry)
constexpr std::int64_t scan_count = 1000;  // SCAN COUNT: keys looked at per call
constexpr std::size_t get_chunk = 1000;    // GETs per pipelined request
constexpr std::size_t head_chunk = 500;         // LRANGEs per pipelined request (list)
constexpr std::int64_t range_page = 1000;   // events per LRANGE when reading a trace
constexpr std::int64_t pipelined_pages = 16; // LRANGEs per pipelined request when reading a trace (Cluster)
constexpr std::size_t windowed_pages = 4;     // LRANGEs unanswered at once when reading a trace (one server)
constexpr std::int64_t reserved_events_at_most = 1 << 20;  // room made up front for a trace's events
constexpr std::int64_t oldest_events = 16; // events looked at for a trace's start (list)

std::string glob_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Fields of stored JSON (events and error flags) that list needs.
class field_reader {
 public:
  struct fields {
    std::string base_id;
    std::string timestamp;
    std::string name;
    std::string service;
  };
  std::optional<fields> read(std::string_view json) {
    simdjson::padded_string padded(json);
    simdjson::ondemand::document doc;
    if (parser_.iterate(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
    fields f;
    std::string_view v;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
      if (key == "base_id" || key == "timestamp") {
        if (field.value().get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
        (key == "base_id" ? f.base_id : f.timestamp) = v;
      } else if (key == "name" || key == "service") {
        if (field.value().get_string().get(v) == simdjson::SUCCESS) (key == "name" ? f.name : f.service) = v;
      }
    }
    if (f.timestamp.empty()) return std::nullopt;
    return f;
  }

 private:
  simdjson::ondemand::parser parser_;
};

asio::awaitable<std::vector<std::string>> scan(connection& conn, std::string pattern) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    std::string bytes;
    command_writer(bytes).command("SCAN", cursor, "MATCH", pattern, "COUNT", scan_count);
    auto replies = co_await conn.request(bytes, 1);
    resp_value& r = replies.front();
    if (r.is_error()) throw redis_failure(classify_error(r), conn.where().text() + ": SCAN failed: " + r.text);
    if (!r.is_array() || r.elements.size() != 2 || !r.elements[1].is_array()) {
      throw redis_failure(failure_kind::protocol, conn.where().text() + ": unexpected SCAN reply " + r.describe());
    }
    cursor = r.elements[0].text;
    for (auto& k : r.elements[1].elements) keys.push_back(std::move(k.text));
  } while (cursor != "0");
  // SCAN may return a key more than once.
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  co_return keys;
}

// `count` commands on one key, pipelined to the node that has the key, following Cluster
// redirects (the commands are reads: sent again whole after a redirect). One reply each.
asio::awaitable<std::vector<resp_value>> keyed_requests(client& c, std::string key, std::string commands,
                                                        std::size_t count) {
  std::optional<endpoint> ask;
  for (int attempt = 0; attempt < max_rounds; ++attempt) {
    connection* conn = nullptr;
    if (c.mode() != redis_mode::cluster) {
      conn = co_await c.master();
    } else if (ask) {
      conn = c.node(*ask);
    } else {
      co_await c.ensure_slots();
      conn = c.node_for_slot(key_slot(key));
    }
    std::string bytes;
    if (ask) command_writer(bytes).command("ASKING");
    bytes += commands;
    auto replies = co_await conn->request(bytes, ask ? count + 1 : count);
    if (ask) replies.erase(replies.begin());
    ask.reset();
    const auto redirected = std::find_if(replies.begin(), replies.end(), [&](const resp_value& r) {
      return r.is_error() && c.mode() == redis_mode::cluster && parse_redirect(r);
    });
    if (redirected != replies.end()) {
      auto redirect = parse_redirect(*redirected);
      endpoint target = redirect->second;
      if (target.host.empty()) target.host = conn->where().host;
      if (redirected->error_code() == "MOVED") {
        c.moved(redirect->first, target);
      } else {
        ask = target;
      }
      continue;
    }
    co_return replies;
  }
  throw redis_failure(failure_kind::connection, "cluster redirects for key '" + key + "' did not settle");
}

asio::awaitable<resp_value> keyed_request(client& c, std::string key, std::string command) {
  auto replies = co_await keyed_requests(c, std::move(key), std::move(command), 1);
  co_return std::move(replies.front());
}

asio::awaitable<std::vector<std::optional<std::string>>> get_values(client& c, connection& conn,
                                                                                   const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> values;
  values.reserve(keys.size());
  for (std::size_t from = 0; from < keys.size(); from += get_chunk) {
    const std::size_t to = std::min(keys.size(), from + get_chunk);
    std::string bytes;
    command_writer w(bytes);
    for (std::size_t i = from; i < to; ++i) w.command("GET", keys[i]);
    auto replies = co_await conn.request(bytes, to - from);
    for (std::size_t i = from; i < to; ++i) {
      resp_value& r = replies[i - from];
      if (r.is_error() && parse_redirect(r)) {
        // The slot moved while listing: ask the node that has it now.
        std::string get;
        command_writer(get).command("GET", keys[i]);
        r = co_await keyed_request(c, keys[i], get);
      }
      if (r.type == resp_value::kind::bulk) {
        values.emplace_back(std::move(r.text));
      } else if (r.is_error() && r.error_code() != "WRONGTYPE") {
        throw redis_failure(classify_error(r), conn.where().text() + ": GET " + keys[i] + " failed: " + r.text);
      } else {
        values.emplace_back(std::nullopt);  // deleted meanwhile, or not a string
      }
    }
  }
  co_return values;
}

asio::awaitable<std::map<std::string, std::string>> first_event_times(client& c,
                                                                                  const std::vector<std::string>& base_ids) {
  // A trace's start is its earliest event. OSProfiler pushes every event as it happens, so
  // the list's tail (the oldest element) is the start; osprof pushes per batch, so a callee's
  // events can land before its caller's start: the earliest of the oldest few covers that.
  std::map<std::string, std::string> out;
  std::vector<std::pair<connection*, std::vector<std::size_t>>> routes;
  for (std::size_t i = 0; i < base_ids.size(); ++i) {
    connection* conn = nullptr;
    if (c.mode() == redis_mode::cluster) {
      co_await c.ensure_slots();
      conn = c.node_for_slot(key_slot(std::string(list_prefix) + base_ids[i]));
    } else {
      conn = co_await c.master();
    }
    auto it = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.first == conn; });
    if (it == routes.end()) it = routes.insert(routes.end(), {conn, {}});
    it->second.push_back(i);
  }
  field_reader reader;
  for (auto& [conn, members] : routes) {
    for (std::size_t from = 0; from < members.size(); from += head_chunk) {
      const std::size_t to = std::min(members.size(), from + head_chunk);
      std::string bytes;
      command_writer w(bytes);
      for (std::size_t m = from; m < to; ++m) {
        w.command("LRANGE", std::string(list_prefix) + base_ids[members[m]], -oldest_events, std::int64_t{-1});
      }
      auto replies = co_await conn->request(bytes, to - from);
      for (std::size_t m = from; m < to; ++m) {
        const std::string& id = base_ids[members[m]];
        resp_value& r = replies[m - from];
        if (r.is_error() && parse_redirect(r)) {
          std::string key = std::string(list_prefix) + id;
          std::string cmd;
          command_writer(cmd).command("LRANGE", key, -oldest_events, std::int64_t{-1});
          r = co_await keyed_request(c, key, cmd);
        }
        if (r.is_error()) {
          if (r.error_code() == "WRONGTYPE") continue;
          throw redis_failure(classify_error(r), conn->where().text() + ": LRANGE failed: " + r.text);
        }
        std::string earliest;
        bool any = false;
        for (const auto& e : r.elements) {
          any = true;
          if (auto f = reader.read(e.text); f && (earliest.empty() || f->timestamp < earliest)) earliest = f->timestamp;
        }
        // A trace whose oldest events are all unreadable is still listed, without a time.
        if (any) out[id] = earliest;
      }
    }
  }
  co_return out;
}

asio::awaitable<std::vector<std::string>> read_trace_from(client& c, std::string base_id) {
  std::vector<std::string> events;
  // Legacy layout (OSProfiler before 2.8): one string key per event.
  auto nodes = co_await c.read_nodes();
  for (connection* node : nodes) {
    auto keys = co_await scan(*node, std::string(legacy_prefix) + glob_escape(base_id) + "*");
    auto values = co_await get_values(c, *node, keys);
    for (auto& v : values) {
      if (v) events.push_back(std::move(*v));
    }
  }
  // In pages counted from the list's tail: writers LPUSH at the head, so the tail's indexes
  // stay put while a service goes on writing, and no reply grows beyond a page of events.
  // LLEN says how many events to make room for; pages are read until one comes back short,
  // since the list may grow meanwhile.
  // The pages are put back in the list's order (newest first), as one LRANGE 0 -1 gives it:
  // each is appended backwards as it comes, and the whole list turned round at the end.
  const std::string key = std::string(list_prefix) + base_id;
  const std::size_t listed_from = events.size();
  std::int64_t length = 0;
  {
    std::string cmd;
    command_writer(cmd).command("LLEN", key);
    resp_value r = co_await keyed_request(c, key, cmd);
    if (r.is_error() && r.error_code() != "WRONGTYPE") {
      throw redis_failure(classify_error(r), "LLEN " + key + " failed: " + r.text);
    }
    if (r.type == resp_value::kind::integer) length = r.integer;
    // As many as the list holds now, within what one trace may reasonably have.
    events.reserve(events.size() + static_cast<std::size_t>(std::clamp<std::int64_t>(length, 0, reserved_events_at_most)));
  }
  const auto page_request = [&key](std::int64_t from_tail) {
    std::string cmd;
    command_writer(cmd).command("LRANGE", key, -(from_tail + range_page), -(from_tail + 1));
    return cmd;
  };
  // A page's events, appended backwards; false for a short page (the list's head).
  const auto take_page = [&](resp_value& r) {
    if (r.is_error()) throw redis_failure(classify_error(r), "LRANGE " + key + " failed: " + r.text);
    for (auto e = r.elements.rbegin(); e != r.elements.rend(); ++e) events.push_back(std::move(e->text));
    return static_cast<std::int64_t>(r.elements.size()) == range_page;
  };
  if (c.mode() != redis_mode::cluster) {
    // One server: the pages are asked for in a window, each as the one windowed_pages before
    // it is read (connection::in_window()), so the server makes a page while this side reads.
    connection* conn = co_await c.master();
    co_await conn->in_window(
        windowed_pages,
        [&](std::size_t page) { return page_request(static_cast<std::int64_t>(page) * range_page); },
        [&](std::size_t, resp_value&& r) { return take_page(r); });
    std::reverse(events.begin() + static_cast<std::ptrdiff_t>(listed_from), events.end());
    co_return events;
  }
  // A Cluster: in pipelined requests, which follow the key's slot when it moves.
  for (std::int64_t from_tail = 0;;) {
    const std::int64_t expected_pages = std::max<std::int64_t>(1, (length - from_tail + range_page - 1) / range_page);
    const auto count = static_cast<std::size_t>(std::min<std::int64_t>(expected_pages, pipelined_pages));
    std::string cmd;
    for (std::size_t i = 0; i < count; ++i) cmd += page_request(from_tail + static_cast<std::int64_t>(i) * range_page);
    auto replies = co_await keyed_requests(c, key, cmd, count);
    bool last = false;
    for (auto& r : replies) {
      if (r.is_error()) take_page(r);  // throws
      if (last) break;  // past a short page: nothing more (the list did not grow there)
      last = !take_page(r);
      from_tail += range_page;
    }
    if (last) break;
  }
  std::reverse(events.begin() + static_cast<std::ptrdiff_t>(listed_from), events.end());
  co_return events;
}

asio::awaitable<std::vector<trace_summary>> list_from(client& c, bool errors_only) {
  std::map<std::string, std::string> started;  // base_id -> earliest timestamp
  auto nodes = co_await c.read_nodes();
  field_reader reader;
  if (errors_only) {
    std::map<std::string, std::string> flagged;  // base_id -> the flag's timestamp
    for (connection* node : nodes) {
      auto keys = co_await scan(*node, std::string(error_prefix) + "*");
      auto values = co_await get_values(c, *node, keys);
      for (std::size_t i = 0; i < keys.size(); ++i) {
        std::string id = keys[i].substr(error_prefix.size());
        std::string ts;
        if (values[i]) {
          if (auto f = reader.read(*values[i])) {
            if (!f->base_id.empty()) id = f->base_id;
            ts = f->timestamp;
          }
        }
        flagged[id] = ts;
      }
    }
    std::vector<std::string> ids;
    for (const auto& [id, ts] : flagged) ids.push_back(id);
    auto times = co_await first_event_times(c, ids);
    for (const auto& [id, ts] : flagged) {
      auto it = times.find(id);
      started[id] = it != times.end() && !it->second.empty() ? it->second : ts;
    }
  } else {
    std::vector<std::string> ids;
    for (connection* node : nodes) {
      auto keys = co_await scan(*node, std::string(list_prefix) + "*");
      for (auto& k : keys) ids.push_back(k.substr(list_prefix.size()));
    }
    started = co_await first_event_times(c, ids);
    // Legacy layout: the earliest event per trace.
    for (connection* node : nodes) {
      auto keys = co_await scan(*node, std::string(legacy_prefix) + "*");
      auto values = co_await get_values(c, *node, keys);
      for (auto& v : values) {
        if (!v) continue;
        auto f = reader.read(*v);
        if (!f || f->base_id.empty()) continue;
        auto [it, inserted] = started.try_emplace(f->base_id, f->timestamp);
        if (!inserted && (it->second.empty() || f->timestamp < it->second)) it->second = f->timestamp;
      }
    }
  }
  std::vector<trace_summary> rows;
  rows.reserve(started.size());
  for (auto& [id, ts] : started) rows.push_back({id, ts});
  std::stable_sort(rows.begin(), rows.end(), [](const trace_summary& a, const trace_summary& b) { return a.timestamp > b.timestamp; });
  co_return rows;
}

// The row's details from its list: the oldest event (point, service), the newest (finished),
// the length, and whether an error flag exists.
asio::awaitable<void> add_details(client& c, trace_summary& row) {
  field_reader reader;
  const std::string key = std::string(list_prefix) + row.base_id;
  std::string cmd;
  command_writer(cmd).command("LLEN", key);
  resp_value length = co_await keyed_request(c, key, cmd);
  if (length.type == resp_value::kind::integer) row.events = static_cast<std::size_t>(length.integer);
  for (const std::int64_t index : {std::int64_t{-1}, std::int64_t{0}}) {
    cmd.clear();
    command_writer(cmd).command("LINDEX", key, index);
    resp_value r = co_await keyed_request(c, key, cmd);
    if (r.type != resp_value::kind::bulk) continue;
    if (auto f = reader.read(r.text)) {
      if (index == 0) {
        row.finished = f->timestamp;
      } else {
        row.name = f->name;
        for (std::string_view suffix : {"-start", "-stop"}) {
          if (row.name.ends_with(suffix)) row.name.resize(row.name.size() - suffix.size());
        }
        row.service = f->service;
      }
    }
  }
  const std::string flag = std::string(error_prefix) + row.base_id;
  cmd.clear();
  command_writer(cmd).command("EXISTS", flag);
  resp_value exists = co_await keyed_request(c, flag, cmd);
  if (exists.type == resp_value::kind::integer) row.has_error = exists.integer != 0;
}

asio::awaitable<trace_page> page_from(client& c, const list_query& query, redis_reader::start_cache& cache) {
  auto nodes = co_await c.read_nodes();
  // One SCAN pass over OSProfiler's keys finds the lists, the error flags and any legacy keys.
  // (Results of co_await are named: GCC 12 mishandles some temporaries around co_await.)
  bool legacy = false;
  std::vector<std::string> ids;
  const std::string_view prefix = query.errors_only ? error_prefix : list_prefix;
  for (connection* node : nodes) {
    std::vector<std::string> keys = co_await scan(*node, "osprofiler*");
    for (auto& k : keys) {
      if (k.starts_with(prefix)) {
        std::string id = k.substr(prefix.size());
        if (id.starts_with(query.id_prefix)) ids.push_back(std::move(id));
      } else if (k.starts_with(legacy_prefix)) {
        legacy = true;
      }
    }
  }
  // The legacy one-key-per-event layout has no list per trace: page the whole list.
  if (legacy) {
    std::vector<trace_summary> all = co_await list_from(c, query.errors_only);
    co_return page_of(std::move(all), query);
  }
  std::vector<std::string> missing;
  {
    std::lock_guard lock(cache.mutex);
    const auto now = std::chrono::steady_clock::now();
    // Forget everything now and then (a trace's start can still move while it is written),
    // and what no longer exists when the whole list was scanned.
    if (now - cache.filled > std::chrono::minutes(5) ||
        (!query.errors_only && query.id_prefix.empty() && cache.starts.size() > 2 * ids.size() + 1024)) {
      cache.starts.clear();
      cache.filled = now;
    }
    for (const auto& id : ids) {
      if (!cache.starts.contains(id)) missing.push_back(id);
    }
  }
  std::map<std::string, std::string> found = co_await first_event_times(c, missing);
  std::vector<trace_summary> rows;
  rows.reserve(ids.size());
  {
    std::lock_guard lock(cache.mutex);
    for (auto& [id, ts] : found) cache.starts[id] = std::move(ts);
    for (auto& id : ids) {
      auto it = cache.starts.find(id);
      if (it == cache.starts.end()) continue;  // an error flag without its trace, or deleted meanwhile
      rows.push_back({std::move(id), it->second});
    }
  }
  trace_page page = page_of(std::move(rows), query);
  for (auto& row : page.traces) co_await add_details(c, row);
  co_return page;
}

}  // namespace

namespace {

// One start cache per server and database (the redacted connection string), for as long as a
// reader uses it.
std::shared_ptr<redis_reader::start_cache> shared_start_cache(const std::string& key) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<redis_reader::start_cache>> caches;
  std::lock_guard lock(mutex);
  auto& slot = caches[key];
  auto cache = slot.lock();
  if (!cache) {
    cache = std::make_shared<redis_reader::start_cache>();
    slot = cache;
  }
  return cache;
}

}  // namespace

redis_reader::redis_reader(redis_options options)
    : options_(std::move(options)), cache_(shared_start_cache(options_.redacted)) {}

redis_reader::~redis_reader() = default;

template <typename T>
asio::awaitable<T> redis_reader::guarded(asio::awaitable<T> op) const {
  try {
    co_return co_await std::move(op);
  } catch (const redis_failure& f) {
    throw error(options_.redacted + ": " + f.what());
  } catch (const boost::system::system_error& e) {
    throw error(options_.redacted + ": " + e.code().message());
  }
}

asio::awaitable<std::vector<std::string>> redis_reader::read_trace(std::string_view base_id) {
  client c(options_, co_await asio::this_coro::executor);
  co_return co_await guarded(read_trace_from(c, std::string(base_id)));
}

asio::awaitable<std::vector<trace_summary>> redis_reader::list_traces() {
  client c(options_, co_await asio::this_coro::executor);
  co_return co_await guarded(list_from(c, false));
}

asio::awaitable<std::vector<trace_summary>> redis_reader::list_error_traces() {
  client c(options_, co_await asio::this_coro::executor);
  co_return co_await guarded(list_from(c, true));
}

}  // namespace osprof::detail::redis

namespace osprof::detail::redis {

asio::awaitable<trace_page> redis_reader::list_page(const list_query& query) {
  if (query.has_field_filter()) {
    throw error(options_.redacted +
                ": Redis cannot filter traces by project, service, host or name (OSProfiler's layout has no index "
                "for them)");
  }
  client c(options_, co_await asio::this_coro::executor);
  auto cache = cache_;
  co_return co_await guarded(page_from(c, query, *cache));
}

}  // namespace osprof::detail::redis
