// The write side of redis://, rediss://, redissentinel:// and rediscluster://: OSProfiler's
// Redis layout (drivers/redis/README.md) written in pipelined transactions over coroutine
// connections.
//
// A batch becomes one or more groups (batch.hpp). Each group goes through three states:
// unsent -> uncertain (bytes may have reached the server) -> done. A failure leaves the state
// where it was, and the emitter's retry of the same batch (same batch::id) resumes from
// there: done groups are not sent again, and an uncertain group is first settled: the
// connection that sent it is ended on the server (CLIENT KILL ID, so a transaction still
// sitting in its input cannot run later), then this writer's sequence key, set inside the
// same MULTI/EXEC, tells whether it ran. A transaction whose reply was lost is thus not
// applied twice.
#include "drivers/redis/redis_writer.hpp"

#include <algorithm>

#include <osprof/uuid.hpp>

#include "drivers/redis/batch.hpp"
#include "drivers/redis/client.hpp"

namespace osprof::detail::redis {

namespace {

constexpr int max_rounds = 8;  // redirect rounds per write before giving up (retry)

std::string to_hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = digits[v & 15];
  return out;
}

}  // namespace

redis_writer::redis_writer(redis_options options, const driver_context& context)
    : options_(std::move(options)),
      executor_(context.executor),
      filter_error_trace_(context.filter_error_trace) {
  const uuid id = uuid::random();
  writer_id_ = to_hex(id.hi ^ id.lo);
  // Creating the client checks the TLS files now, so a bad path fails the emitter's constructor.
  writer_ = std::make_unique<client>(options_, executor_);
}

redis_writer::~redis_writer() = default;

asio::awaitable<write_result> redis_writer::write(const batch& b) {
  if (b.empty()) co_return write_result::success();
  try {
    co_return co_await write_batch(b);
  } catch (const redis_failure& f) {
    if (f.retryable()) co_return write_result::retryable(f.what());
    co_return give_up(f.what());
  } catch (const boost::system::system_error& e) {
    co_return write_result::retryable(std::string("the write failed: ") + e.what());
  } catch (const std::exception& e) {
    co_return write_result::retryable(std::string("the write failed: ") + e.what());
  }
}

void redis_writer::prepare(const batch& b) {
  if (inflight_ && inflight_->id == b.id) return;  // the emitter retries the batch it gave last time: resume
  inflight_.emplace();
  inflight_->id = b.id;
  inflight_->size = b.size();
  encode_settings settings;
  settings.cluster = options_.mode == redis_mode::cluster;
  settings.dedup = options_.dedup;
  settings.filter_error_trace = filter_error_trace_;
  settings.ttl_seconds = options_.ttl_seconds;
  settings.writer_id = writer_id_;
  settings.sequence = ++sequence_;
  inflight_->sequence = settings.sequence;
  for (auto& g : encode_batch(b.events, settings, &spare_payloads_)) {
    pending_group pending;
    pending.encoded = std::move(g);
    inflight_->groups.push_back(std::move(pending));
  }
}

write_result redis_writer::give_up(const std::string& why) {
  if (!inflight_) return write_result::fatal(why);
  for (auto& g : inflight_->groups) {
    if (g.state == group_state::done) continue;
    g.state = group_state::done;
    g.rejected = g.encoded.events;
    if (g.rejection.empty()) g.rejection = why;
  }
  return finish();
}

write_result redis_writer::finish() {
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

asio::awaitable<write_result> redis_writer::write_batch(const batch& b) {
  prepare(b);
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

asio::awaitable<connection*> redis_writer::route(pending_group& g) {
  if (options_.mode != redis_mode::cluster) co_return co_await writer_->master();
  if (g.ask) co_return writer_->node(*g.ask);
  co_return writer_->node_for_slot(g.encoded.slot);
}

void redis_writer::apply_redirect(pending_group& g, const group_outcome& outcome, const connection& from) {
  endpoint target = outcome.redirect->second;
  if (target.host.empty()) target.host = from.where().host;
  if (outcome.what == group_outcome::verdict::moved) {
    writer_->moved(outcome.redirect->first, target);
    g.ask.reset();
  } else {
    g.ask = target;
  }
}

asio::awaitable<void> redis_writer::resolve_uncertain() {
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

asio::awaitable<void> redis_writer::send_round(std::string& retry_reason) {
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

asio::awaitable<close_result> redis_writer::close() {
  writer_->close_all();
  co_return close_result{};
}

}  // namespace osprof::detail::redis
