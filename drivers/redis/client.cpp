#include "drivers/redis/client.hpp"

#include <algorithm>
#include <charconv>

#include <osprof/error.hpp>


namespace osprof::detail::redis {

std::optional<std::pair<std::uint16_t, endpoint>> parse_redirect(const resp_value& error) {
  // "MOVED <slot> <host>:<port>"; the host may be empty ("MOVED 3999 :6381"): same host.
  std::string_view text = error.text;
  const auto first = text.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view slot_text = text.substr(first + 1, second - first - 1);
  unsigned slot = 0;
  const auto r = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (r.ec != std::errc{} || slot >= slot_count) return std::nullopt;
  std::string_view target = text.substr(second + 1);
  endpoint ep;
  if (target.starts_with(':')) {
    unsigned port = 0;
    const auto pr = std::from_chars(target.data() + 1, target.data() + target.size(), port);
    if (pr.ec != std::errc{} || port == 0 || port > 65535) return std::nullopt;
    ep.port = static_cast<std::uint16_t>(port);
    return std::pair{static_cast<std::uint16_t>(slot), ep};
  }
  try {
    ep = parse_endpoint(target, 0, "redirect");
  } catch (const osprof::error&) {
    return std::nullopt;
  }
  if (ep.port == 0) return std::nullopt;
  return std::pair{static_cast<std::uint16_t>(slot), ep};
}

client::client(const redis_options& options, asio::any_io_executor executor)
    : options_(options), executor_(std::move(executor)) {
  if (options_.tls.enabled) tls_ = make_tls_context(options_.tls, options_.redacted);
  if (options_.mode == redis_mode::cluster) slot_owner_.assign(slot_count, -1);
}

connect_settings client::settings_for(const endpoint& where, bool sentinel) const {
  connect_settings s;
  s.where = where;
  s.timeout = options_.timeout;
  s.tls = tls_;
  s.check_hostname = options_.tls.check_hostname;
  if (sentinel) {
    s.user = options_.sentinel_user;
    s.password = options_.sentinel_password;
    s.has_password = options_.has_sentinel_password;
    return s;
  }
  s.user = options_.user;
  s.password = options_.password;
  s.has_password = options_.has_password;
  s.db = options_.db;
  s.require_master = options_.mode == redis_mode::sentinel;
  return s;
}

asio::awaitable<endpoint> client::ask_sentinels() {
  std::string request;
  command_writer(request).command("SENTINEL", "get-master-addr-by-name", options_.service_name);
  std::string failures;
  bool unknown_name = false;
  for (const endpoint& sentinel : options_.endpoints) {
    connection conn(executor_, settings_for(sentinel, true));
    try {
      auto replies = co_await conn.request(request, 1);
      const resp_value& r = replies.front();
      if (r.is_null()) {
        unknown_name = true;
        failures += (failures.empty() ? "" : "; ") + sentinel.text() + " knows no master named '" + options_.service_name + "'";
        continue;
      }
      if (r.is_error()) {
        const auto kind = classify_error(r);
        if (kind == failure_kind::auth) throw redis_failure(kind, "Sentinel " + sentinel.text() + ": " + r.text);
        failures += (failures.empty() ? "" : "; ") + sentinel.text() + ": " + r.text;
        continue;
      }
      if (!r.is_array() || r.elements.size() < 2) {
        failures += (failures.empty() ? "" : "; ") + sentinel.text() + ": unexpected reply " + r.describe();
        continue;
      }
      endpoint master;
      master.host = r.elements[0].text;
      unsigned port = 0;
      const std::string& pt = r.elements[1].text;
      const auto pr = std::from_chars(pt.data(), pt.data() + pt.size(), port);
      if (pr.ec != std::errc{} || port == 0 || port > 65535 || master.host.empty()) {
        failures += (failures.empty() ? "" : "; ") + sentinel.text() + ": unexpected master address";
        continue;
      }
      master.port = static_cast<std::uint16_t>(port);
      co_return master;
    } catch (const redis_failure& f) {
      if (!f.retryable()) throw;
      failures += (failures.empty() ? "" : "; ") + std::string(f.what());
    }
  }
  // Every Sentinel answered that it has no such master: a configuration error, not an outage.
  throw redis_failure(unknown_name ? failure_kind::config : failure_kind::connection,
                      "no master found for service_name '" + options_.service_name + "': " + failures);
}

asio::awaitable<connection*> client::master() {
  if (master_ && master_->is_open()) co_return master_.get();
  endpoint where = options_.endpoints.front();
  if (options_.mode == redis_mode::sentinel) where = co_await ask_sentinels();
  if (!master_ || master_->where() != where) master_ = std::make_unique<connection>(executor_, settings_for(where, false));
  try {
    co_await master_->ensure_connected();
  } catch (const redis_failure&) {
    if (options_.mode == redis_mode::sentinel) master_.reset();
    throw;
  }
  co_return master_.get();
}

void client::forget_master() noexcept {
  if (master_) master_->close();
}

asio::awaitable<void> client::ensure_slots() {
  if (!slots_loaded_ || slots_stale_) co_await refresh_slots();
}

asio::awaitable<void> client::refresh_slots() {
  // Known nodes first (they reflect the latest map), then the seeds from the connection string.
  std::vector<endpoint> candidates;
  for (const auto& n : nodes_) candidates.push_back(n->where());
  for (const auto& seed : options_.endpoints) {
    if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) candidates.push_back(seed);
  }
  std::string request;
  command_writer(request).command("CLUSTER", "SLOTS");
  std::string failures;
  for (const endpoint& where : candidates) {
    connection* conn = node(where);
    resp_value reply;
    try {
      auto replies = co_await conn->request(request, 1);
      reply = std::move(replies.front());
    } catch (const redis_failure& f) {
      if (!f.retryable()) throw;
      failures += (failures.empty() ? "" : "; ") + std::string(f.what());
      continue;
    }
    if (reply.is_error()) {
      if (reply.text.find("cluster support disabled") != std::string::npos) {
        throw redis_failure(failure_kind::config,
                            where.text() + " is not a Redis Cluster node (cluster support disabled); use redis://");
      }
      const auto kind = classify_error(reply);
      if (kind == failure_kind::auth) throw redis_failure(kind, where.text() + ": " + reply.text);
      failures += (failures.empty() ? "" : "; ") + where.text() + ": " + reply.text;
      continue;
    }
    if (!reply.is_array()) {
      throw redis_failure(failure_kind::protocol, where.text() + ": unexpected CLUSTER SLOTS reply " + reply.describe());
    }
    std::vector<std::int32_t> owners(slot_count, -1);
    for (const resp_value& range : reply.elements) {
      if (!range.is_array() || range.elements.size() < 3 || !range.elements[2].is_array() ||
          range.elements[2].elements.size() < 2) {
        continue;
      }
      const auto first = range.elements[0].integer;
      const auto last = range.elements[1].integer;
      const auto& master = range.elements[2].elements;
      endpoint owner;
      owner.host = master[0].text;
      // An empty or "?" host means "the address you reached me at".
      if (owner.host.empty() || owner.host == "?") owner.host = where.host;
      owner.port = static_cast<std::uint16_t>(master[1].integer);
      connection* target = node(owner);
      const auto index = static_cast<std::int32_t>(
          std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.get() == target; }) - nodes_.begin());
      for (auto s = std::max<std::int64_t>(first, 0); s <= last && s < slot_count; ++s) {
        owners[static_cast<std::size_t>(s)] = index;
      }
    }
    slot_owner_ = std::move(owners);
    slots_loaded_ = true;
    slots_stale_ = false;
    co_return;
  }
  throw redis_failure(failure_kind::connection, "no cluster node answered CLUSTER SLOTS: " + failures);
}

connection* client::node(const endpoint& where) {
  for (const auto& n : nodes_) {
    if (n->where() == where) return n.get();
  }
  nodes_.push_back(std::make_unique<connection>(executor_, settings_for(where, false)));
  return nodes_.back().get();
}

connection* client::node_for_slot(std::uint16_t slot) {
  const std::int32_t owner = slot_owner_.empty() ? -1 : slot_owner_[slot];
  if (owner < 0) {
    throw redis_failure(failure_kind::busy, "no cluster node serves slot " + std::to_string(slot) +
                                                " (CLUSTER SLOTS leaves it uncovered)");
  }
  return nodes_[static_cast<std::size_t>(owner)].get();
}

std::vector<connection*> client::masters() {
  std::vector<std::int32_t> seen;
  std::vector<connection*> out;
  for (const std::int32_t owner : slot_owner_) {
    if (owner < 0 || std::find(seen.begin(), seen.end(), owner) != seen.end()) continue;
    seen.push_back(owner);
    out.push_back(nodes_[static_cast<std::size_t>(owner)].get());
  }
  return out;
}

void client::moved(std::uint16_t slot, const endpoint& where) {
  connection* target = node(where);
  const auto index = static_cast<std::int32_t>(
      std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.get() == target; }) - nodes_.begin());
  slot_owner_[slot] = index;
  slots_stale_ = true;
}

asio::awaitable<std::vector<connection*>> client::read_nodes() {
  std::vector<connection*> out;
  if (options_.mode != redis_mode::cluster) {
    connection* m = co_await master();
    out.push_back(m);
    co_return out;
  }
  co_await ensure_slots();
  out = masters();
  co_return out;
}

void client::close_all() noexcept {
  for (auto& n : nodes_) n->close();
  if (master_) master_->close();
}

}  // namespace osprof::detail::redis
