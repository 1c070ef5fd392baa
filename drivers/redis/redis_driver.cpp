// redis://, rediss://, redissentinel:// and rediscluster://: OSProfiler's Redis layout
// (drivers/redis/README.md), written in pipelined transactions over coroutine connections
// and read back for `osprof trace show/list`.
//
// Write side. A batch becomes one or more groups (batch.hpp). Each group goes through three
// states: unsent -> uncertain (bytes may have reached the server) -> done. A failure leaves
// the state where it was, and the emitter's retry of the same batch resumes from there: done
// groups are not sent again, and an uncertain group is first settled: the connection that
// sent it is ended on the server (CLIENT KILL ID, so a transaction still sitting in its
// input cannot run later), then this writer's sequence key, set inside the same MULTI/EXEC,
// tells whether it ran. A transaction whose reply was lost is thus not applied twice.
#include <algorithm>
#include <map>
#include <unordered_map>

#include <simdjson.h>

#include <osprof/error.hpp>
#include <osprof/uuid.hpp>

#include "drivers/builtin.hpp"
#include "drivers/redis/batch.hpp"
#include "drivers/redis/client.hpp"
#include "drivers/redis/redis_driver.hpp"

namespace osprof::detail {

namespace redis {

namespace {

constexpr int max_rounds = 8;              // redirect rounds per write before giving up (retry)
constexpr std::int64_t scan_count = 1000;  // SCAN COUNT: keys looked at per call
constexpr std::size_t get_chunk = 1000;    // GETs per pipelined request
constexpr std::size_t head_chunk = 500;    // LRANGEs per pipelined request (list)
constexpr std::int64_t oldest_events = 16; // events looked at for a trace's start (list)

std::string glob_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string to_hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = digits[v & 15];
  return out;
}

std::uint64_t fingerprint(std::span<const event_record> batch) {
  auto mix = [](std::uint64_t h, std::uint64_t v) { return (h ^ v) * 0x100000001b3ULL; };
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = mix(h, batch.size());
  for (const event_record* e : {&batch.front(), &batch.back()}) {
    h = mix(h, e->trace_id.hi);
    h = mix(h, e->trace_id.lo);
    h = mix(h, static_cast<std::uint64_t>(e->time_us));
    h = mix(h, e->json.size());
  }
  return h;
}

// Fields of stored JSON (events and error flags) that list needs.
class field_reader {
 public:
  struct fields {
    std::string base_id;
    std::string timestamp;
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
      }
    }
    if (f.timestamp.empty()) return std::nullopt;
    return f;
  }

 private:
  simdjson::ondemand::parser parser_;
};

}  // namespace

redis_driver::redis_driver(std::string scheme, redis_options options, const driver_context& context)
    : scheme_(std::move(scheme)),
      options_(std::move(options)),
      executor_(context.executor),
      filter_error_trace_(context.filter_error_trace) {
  const uuid id = uuid::random();
  writer_id_ = to_hex(id.hi ^ id.lo);
  // Creating the client checks the TLS files now, so a bad path fails the emitter's constructor.
  writer_ = std::make_unique<client>(options_, executor_);
}

redis_driver::~redis_driver() = default;

// ---------------------------------------------------------------- write side

asio::awaitable<write_result> redis_driver::write(std::span<const event_record> batch) {
  if (batch.empty()) co_return write_result::success();
  try {
    co_return co_await write_batch(batch);
  } catch (const redis_failure& f) {
    if (f.retryable()) co_return write_result::retryable(f.what());
    co_return give_up(f.what());
  } catch (const boost::system::system_error& e) {
    co_return write_result::retryable(std::string("the write failed: ") + e.what());
  } catch (const std::exception& e) {
    co_return write_result::retryable(std::string("the write failed: ") + e.what());
  }
}

void redis_driver::prepare(std::span<const event_record> batch) {
  const std::uint64_t fp = fingerprint(batch);
  if (inflight_ && inflight_->data == batch.data() && inflight_->size == batch.size() && inflight_->fingerprint == fp) {
    return;  // the emitter retries the batch it gave last time: resume
  }
  inflight_.emplace();
  inflight_->data = batch.data();
  inflight_->size = batch.size();
  inflight_->fingerprint = fp;
  encode_settings settings;
  settings.cluster = options_.mode == redis_mode::cluster;
  settings.dedup = options_.dedup;
  settings.filter_error_trace = filter_error_trace_;
  settings.ttl_seconds = options_.ttl_seconds;
  settings.writer_id = writer_id_;
  settings.sequence = ++sequence_;
  inflight_->sequence = settings.sequence;
  for (auto& g : encode_batch(batch, settings, &spare_payloads_)) {
    pending_group pending;
    pending.encoded = std::move(g);
    inflight_->groups.push_back(std::move(pending));
  }
}

write_result redis_driver::give_up(const std::string& why) {
  if (!inflight_) return write_result::fatal(why);
  for (auto& g : inflight_->groups) {
    if (g.state == group_state::done) continue;
    g.state = group_state::done;
    g.rejected = g.encoded.events;
    if (g.rejection.empty()) g.rejection = why;
  }
  return finish();
}

write_result redis_driver::finish() {
  std::size_t rejected = 0;
  std::string why;
  for (const auto& g : inflight_->groups) {
    rejected += g.rejected;
    if (why.empty() && !g.rejection.empty()) why = g.rejection;
  }
  const std::size_t total = inflight_->size;
  for (auto& g : inflight_->groups) {
    if (spare_payloads_.size() < 8 && g.encoded.payload.capacity() <= (std::size_t{16} << 20)) {
      spare_payloads_.push_back(std::move(g.encoded.payload));
    }
  }
  inflight_.reset();
  if (rejected >= total) return write_result::fatal(why);
  write_result r;
  r.rejected = rejected;
  r.error = why;
  return r;
}

asio::awaitable<write_result> redis_driver::write_batch(std::span<const event_record> batch) {
  prepare(batch);
  const bool cluster = options_.mode == redis_mode::cluster;
  for (int round = 0; round < max_rounds; ++round) {
    if (cluster) co_await writer_->ensure_slots();
    co_await resolve_uncertain();
    std::string retry_reason;
    co_await send_round(retry_reason);
    const bool all_done = std::all_of(inflight_->groups.begin(), inflight_->groups.end(),
                                      [](const pending_group& g) { return g.state == group_state::done; });
    if (all_done) co_return finish();
    if (!retry_reason.empty()) co_return write_result::retryable(retry_reason);
    // Only redirects are left: route again with the updated slot map.
  }
  co_return write_result::retryable("cluster redirects did not settle after " + std::to_string(max_rounds) + " rounds");
}

asio::awaitable<connection*> redis_driver::route(pending_group& g) {
  if (options_.mode != redis_mode::cluster) co_return co_await writer_->master();
  if (g.ask) co_return writer_->node(*g.ask);
  co_return writer_->node_for_slot(g.encoded.slot);
}

void redis_driver::apply_redirect(pending_group& g, const group_outcome& outcome, const connection& from) {
  endpoint target = outcome.redirect->second;
  if (target.host.empty()) target.host = from.where().host;
  if (outcome.what == group_outcome::verdict::moved) {
    writer_->moved(outcome.redirect->first, target);
    g.ask.reset();
  } else {
    g.ask = target;
  }
}

asio::awaitable<void> redis_driver::resolve_uncertain() {
  auto& groups = inflight_->groups;
  const bool any = std::any_of(groups.begin(), groups.end(), [](const auto& g) { return g.state == group_state::uncertain; });
  if (!any) co_return;
  if (!options_.dedup) {
    // Without the sequence key nothing tells whether it ran: send again (duplicates possible).
    for (auto& g : groups) {
      if (g.state == group_state::uncertain) g.state = group_state::unsent;
    }
    co_return;
  }
  // Ask each node whether the transactions it may have run did run: EXEC set the writer key
  // to this batch's number in the same transaction.
  std::vector<std::pair<connection*, std::vector<pending_group*>>> routes;
  for (auto& g : groups) {
    if (g.state != group_state::uncertain) continue;
    connection* conn = co_await route(g);
    auto it = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.first == conn; });
    if (it == routes.end()) it = routes.insert(routes.end(), {conn, {}});
    it->second.push_back(&g);
  }
  const std::string expected = std::to_string(inflight_->sequence);
  for (auto& [conn, members] : routes) {
    std::string bytes;
    command_writer w(bytes);
    std::size_t replies = 0;
    // End the connections that sent these groups, in case the server has not read or run
    // all they sent yet (a server that was stalled): after that their effect is final.
    // "No such client" (already gone, or a restarted server) is as good; NOPERM (an ACL
    // without CLIENT KILL) leaves the check below best effort. The filter names our old
    // address too, so a restarted server's new client with a reused id is never touched.
    co_await conn->ensure_connected();
    std::vector<std::int64_t> old_clients;
    for (pending_group* g : members) {
      if (!g->sent_by || g->sent_to != conn->where() || g->sent_by == conn->client_id()) continue;
      if (std::find(old_clients.begin(), old_clients.end(), *g->sent_by) != old_clients.end()) continue;
      old_clients.push_back(*g->sent_by);
      w.command("CLIENT", "KILL", "ID", *g->sent_by, "ADDR", g->sent_from);
      ++replies;
    }
    const std::size_t kills = replies;
    for (pending_group* g : members) {
      if (g->ask) {
        w.command("ASKING");
        ++replies;
      }
      w.command("GET", g->encoded.writer_key);
      ++replies;
    }
    std::vector<resp_value> answers;
    try {
      answers = co_await conn->request(bytes, replies);
    } catch (const redis_failure&) {
      if (options_.mode == redis_mode::sentinel) writer_->forget_master();
      throw;
    }
    std::size_t at = kills;
    for (pending_group* g : members) {
      if (g->ask) ++at;
      const resp_value& r = answers[at++];
      if (r.type == resp_value::kind::bulk) {
        g->state = r.text == expected ? group_state::done : group_state::unsent;
        continue;
      }
      if (r.is_null()) {
        g->state = group_state::unsent;
        continue;
      }
      if (r.is_error()) {
        if (auto redirect = parse_redirect(r); redirect && options_.mode == redis_mode::cluster) {
          group_outcome o;
          o.what = r.error_code() == "MOVED" ? group_outcome::verdict::moved : group_outcome::verdict::ask;
          o.redirect = redirect;
          apply_redirect(*g, o, *conn);
          continue;  // still uncertain: asked again at the new place next round
        }
        const failure_kind kind = classify_error(r);
        throw redis_failure(kind == failure_kind::auth ? kind : failure_kind::busy,
                            conn->where().text() + ": cannot check an earlier write: " + r.text);
      }
      throw redis_failure(failure_kind::protocol, conn->where().text() + ": unexpected reply to GET " + r.describe());
    }
  }
}

asio::awaitable<void> redis_driver::send_round(std::string& retry_reason) {
  auto& groups = inflight_->groups;
  std::vector<std::pair<connection*, std::vector<pending_group*>>> routes;
  for (auto& g : groups) {
    if (g.state != group_state::unsent) continue;
    connection* conn = nullptr;
    try {
      conn = co_await route(g);
    } catch (const redis_failure& f) {
      if (!f.retryable()) throw;
      retry_reason = f.what();
      co_return;
    }
    auto it = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.first == conn; });
    if (it == routes.end()) it = routes.insert(routes.end(), {conn, {}});
    it->second.push_back(&g);
  }
  for (auto& [conn, members] : routes) {
    try {
      co_await conn->ensure_connected();
    } catch (const redis_failure& f) {
      if (options_.mode == redis_mode::sentinel) writer_->forget_master();
      if (f.retryable()) {
        retry_reason = f.what();
        continue;
      }
      for (pending_group* g : members) {
        g->state = group_state::done;
        g->rejected = g->encoded.events;
        g->rejection = f.what();
      }
      continue;
    }
    std::size_t replies = 0;
    std::size_t bytes_needed = 0;
    for (pending_group* g : members) bytes_needed += g->encoded.payload.size() + (g->ask ? 20 : 0);
    std::string owned;
    std::string_view bytes;
    if (members.size() == 1 && !members.front()->ask) {
      bytes = members.front()->encoded.payload;  // the common case: no copy
      replies = members.front()->encoded.replies;
    } else {
      owned.reserve(bytes_needed);
      for (pending_group* g : members) {
        if (g->ask) {
          command_writer(owned).command("ASKING");
          ++replies;
        }
        owned += g->encoded.payload;
        replies += g->encoded.replies;
      }
      bytes = owned;
    }
    for (pending_group* g : members) {
      g->state = group_state::uncertain;
      g->sent_to = conn->where();
      g->sent_by = conn->client_id();
      g->sent_from = conn->local_address();
    }
    std::vector<resp_value> answers;
    try {
      answers = co_await conn->request(bytes, replies);
    } catch (const redis_failure& f) {
      // The groups stay uncertain: the next attempt asks before sending them again.
      if (options_.mode == redis_mode::sentinel) writer_->forget_master();
      retry_reason = f.what();
      continue;
    }
    std::size_t at = 0;
    for (pending_group* g : members) {
      if (g->ask) ++at;  // ASKING's +OK
      const std::span<const resp_value> mine(answers.data() + at, g->encoded.replies);
      at += g->encoded.replies;
      const group_outcome outcome = evaluate_group(g->encoded, mine, options_.dedup);
      g->ask.reset();
      switch (outcome.what) {
        case group_outcome::verdict::stored:
          g->state = group_state::done;
          g->rejected = outcome.rejected;
          if (outcome.rejected != 0) g->rejection = conn->where().text() + ": " + outcome.error;
          break;
        case group_outcome::verdict::moved:
        case group_outcome::verdict::ask:
          if (options_.mode != redis_mode::cluster) {
            g->state = group_state::done;
            g->rejected = g->encoded.events;
            g->rejection = conn->where().text() + " is a Redis Cluster node (" + outcome.error +
                           "); use rediscluster:// or cluster=true";
            break;
          }
          g->state = group_state::unsent;
          apply_redirect(*g, outcome, *conn);
          break;
        case group_outcome::verdict::retry:
          g->state = group_state::unsent;
          retry_reason = conn->where().text() + ": " + outcome.error;
          if (options_.mode == redis_mode::sentinel && outcome.error.starts_with("READONLY")) writer_->forget_master();
          break;
        case group_outcome::verdict::refused:
          g->state = group_state::done;
          g->rejected = g->encoded.events;
          g->rejection = conn->where().text() + ": " + outcome.error;
          if (options_.mode != redis_mode::cluster && outcome.error.starts_with("CROSSSLOT")) {
            g->rejection += " (this is a Redis Cluster node; use rediscluster:// or cluster=true)";
          }
          break;
      }
    }
  }
}

asio::awaitable<void> redis_driver::close() {
  writer_->close_all();
  co_return;
}

// ---------------------------------------------------------------- read side

template <typename T>
asio::awaitable<T> redis_driver::guarded(asio::awaitable<T> op) const {
  try {
    co_return co_await std::move(op);
  } catch (const redis_failure& f) {
    throw error(options_.redacted + ": " + f.what());
  } catch (const boost::system::system_error& e) {
    throw error(options_.redacted + ": " + e.code().message());
  }
}

asio::awaitable<std::vector<std::string>> redis_driver::scan(connection& conn, std::string pattern) {
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

asio::awaitable<resp_value> redis_driver::keyed_request(client& c, std::string key, std::string command) {
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
    bytes += command;
    auto replies = co_await conn->request(bytes, ask ? 2 : 1);
    resp_value r = std::move(replies.back());
    ask.reset();
    if (r.is_error() && c.mode() == redis_mode::cluster) {
      if (auto redirect = parse_redirect(r)) {
        endpoint target = redirect->second;
        if (target.host.empty()) target.host = conn->where().host;
        if (r.error_code() == "MOVED") {
          c.moved(redirect->first, target);
        } else {
          ask = target;
        }
        continue;
      }
    }
    co_return r;
  }
  throw redis_failure(failure_kind::connection, "cluster redirects for key '" + key + "' did not settle");
}

asio::awaitable<std::vector<std::optional<std::string>>> redis_driver::get_values(client& c, connection& conn,
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

asio::awaitable<std::map<std::string, std::string>> redis_driver::first_event_times(client& c,
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

asio::awaitable<std::vector<std::string>> redis_driver::read_trace_from(client& c, std::string base_id) {
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
  const std::string key = std::string(list_prefix) + base_id;
  std::string cmd;
  command_writer(cmd).command("LRANGE", key, std::int64_t{0}, std::int64_t{-1});
  resp_value r = co_await keyed_request(c, key, cmd);
  if (r.is_error()) {
    throw redis_failure(classify_error(r), "LRANGE " + key + " failed: " + r.text);
  }
  events.reserve(events.size() + r.elements.size());
  for (auto& e : r.elements) events.push_back(std::move(e.text));
  co_return events;
}

asio::awaitable<std::vector<trace_summary>> redis_driver::list_from(client& c, bool errors_only) {
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

asio::awaitable<std::vector<std::string>> redis_driver::read_trace(std::string_view base_id) {
  client c(options_, co_await asio::this_coro::executor);
  co_return co_await guarded(read_trace_from(c, std::string(base_id)));
}

asio::awaitable<std::vector<trace_summary>> redis_driver::list_traces() {
  client c(options_, co_await asio::this_coro::executor);
  co_return co_await guarded(list_from(c, false));
}

asio::awaitable<std::vector<trace_summary>> redis_driver::list_error_traces() {
  client c(options_, co_await asio::this_coro::executor);
  co_return co_await guarded(list_from(c, true));
}

}  // namespace redis

void register_redis_driver(driver_registry& registry) {
  struct scheme_info {
    const char* scheme;
    const char* summary;
  };
  static constexpr scheme_info schemes[] = {
      {"redis", "redis://[[user]:password@]host[:port][/db] Redis, OSProfiler's layout (osprofiler_opt:<base_id> lists)"},
      {"rediss", "rediss://[[user]:password@]host[:port][/db] Redis over TLS, certificates verified"},
      {"redissentinel", "redissentinel://[:password@]host:port[?service_name=mymaster] the master Redis Sentinel names"},
      {"rediscluster", "rediscluster://[[user]:password@]host:port[?nodes=host:port,...] Redis Cluster, keys routed by slot"},
  };
  for (const auto& s : schemes) {
    registry.add(
        s.scheme,
        [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<driver> {
          return std::make_unique<redis::redis_driver>(cs.scheme, redis::redis_options::from(cs, context.timeout), context);
        },
        s.summary);
  }
}

}  // namespace osprof::detail
