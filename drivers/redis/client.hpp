// Which server a command goes to, for the three modes: the one server (standalone), the
// master that Sentinel names (found again after a failover), or the Redis Cluster node that
// owns the key's slot (slot map from CLUSTER SLOTS, refreshed after MOVED). Connections are
// opened lazily and kept; a failed one is reopened on next use.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "drivers/redis/connection.hpp"
#include "drivers/redis/redis_options.hpp"
#include "drivers/redis/slot.hpp"

namespace osprof::detail::redis {

class client {
 public:
  client(const redis_options& options, asio::any_io_executor executor);

  redis_mode mode() const noexcept { return options_.mode; }
  const redis_options& options() const noexcept { return options_; }

  /// Standalone and Sentinel: the master's connection, connected (Sentinel is asked for the
  /// master's address whenever there is no open connection).
  asio::awaitable<connection*> master();
  /// After READONLY or a connection failure in Sentinel mode: ask Sentinel again next time.
  void forget_master() noexcept;

  // ---- cluster
  /// Loads the slot map if there is none.
  asio::awaitable<void> ensure_slots();
  /// Reloads the slot map (CLUSTER SLOTS) from the first node that answers.
  asio::awaitable<void> refresh_slots();
  /// The node that owns `slot` (ensure_slots first). Not connected yet.
  connection* node_for_slot(std::uint16_t slot);
  /// The connection to `where`, created on first use (MOVED/ASK targets).
  connection* node(const endpoint& where);
  /// Every node that owns slots.
  std::vector<connection*> masters();
  /// MOVED: `slot` now lives at `where` (the full map is reloaded before the next round).
  void moved(std::uint16_t slot, const endpoint& where);
  bool slots_stale() const noexcept { return slots_stale_; }

  /// Every node the reads should visit: the master (standalone, Sentinel) or all masters.
  asio::awaitable<std::vector<connection*>> read_nodes();

  void close_all() noexcept;

 private:
  connect_settings settings_for(const endpoint& where, bool sentinel) const;
  asio::awaitable<endpoint> ask_sentinels();

  redis_options options_;
  asio::any_io_executor executor_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::vector<std::unique_ptr<connection>> nodes_;
  std::unique_ptr<connection> master_;
  std::vector<std::int32_t> slot_owner_;  ///< index into nodes_, -1 = unknown; cluster only
  bool slots_loaded_ = false;
  bool slots_stale_ = false;
};

/// Parses "MOVED 3999 127.0.0.1:6381" / "ASK ..." into the slot and the target.
std::optional<std::pair<std::uint16_t, endpoint>> parse_redirect(const resp_value& error);

}  // namespace osprof::detail::redis
