// The Redis driver: OSProfiler's Redis layout written through pipelined MULTI/EXEC
// transactions (batch.hpp) over coroutine connections (connection.hpp), to one server, the
// Sentinel-named master, or a Redis Cluster (client.hpp); and read back for trace show/list.
// Created through the registry (redis://, rediss://, redissentinel://, rediscluster://).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driver/driver.hpp"
#include "drivers/redis/batch.hpp"
#include "drivers/redis/redis_options.hpp"

namespace osprof::detail::redis {

class client;
class connection;

class redis_driver final : public driver {
 public:
  redis_driver(std::string scheme, redis_options options, const driver_context& context);
  ~redis_driver() override;

  std::string_view scheme() const noexcept override { return scheme_; }
  const redis_options& options() const noexcept { return options_; }

  asio::awaitable<write_result> write(std::span<const event_record> batch) override;
  asio::awaitable<void> close() override;

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;

 private:
  enum class group_state : std::uint8_t { unsent, uncertain, done };
  struct pending_group {
    encoded_group encoded;
    group_state state = group_state::unsent;
    std::optional<endpoint> ask;  ///< send next to this node, after ASKING
    /// Uncertain: the connection that sent it (server, CLIENT ID, our ip:port), to end it.
    std::optional<endpoint> sent_to;
    std::optional<std::int64_t> sent_by;
    std::string sent_from;
    std::uint32_t rejected = 0;
    std::string rejection;
  };
  /// The batch being written, kept across the emitter's retries of it.
  struct inflight_batch {
    const event_record* data = nullptr;
    std::size_t size = 0;
    std::uint64_t fingerprint = 0;
    std::uint64_t sequence = 0;
    std::vector<pending_group> groups;
  };

  void prepare(std::span<const event_record> batch);
  asio::awaitable<write_result> write_batch(std::span<const event_record> batch);
  asio::awaitable<void> resolve_uncertain();
  asio::awaitable<void> send_round(std::string& retry_reason);
  asio::awaitable<connection*> route(pending_group& g);
  void apply_redirect(pending_group& g, const group_outcome& outcome, const connection& from);
  write_result give_up(const std::string& why);
  write_result finish();

  template <typename T>
  asio::awaitable<T> guarded(asio::awaitable<T> op) const;
  static asio::awaitable<std::vector<std::string>> scan(connection& conn, std::string pattern);
  static asio::awaitable<resp_value> keyed_request(client& c, std::string key, std::string command);
  static asio::awaitable<std::vector<std::optional<std::string>>> get_values(client& c, connection& conn,
                                                                            const std::vector<std::string>& keys);
  static asio::awaitable<std::map<std::string, std::string>> first_event_times(client& c,
                                                                              const std::vector<std::string>& base_ids);
  static asio::awaitable<std::vector<std::string>> read_trace_from(client& c, std::string base_id);
  static asio::awaitable<std::vector<trace_summary>> list_from(client& c, bool errors_only);

  std::string scheme_;
  redis_options options_;
  asio::any_io_executor executor_;
  bool filter_error_trace_ = true;
  std::string writer_id_;
  std::uint64_t sequence_ = 0;
  std::unique_ptr<client> writer_;
  std::optional<inflight_batch> inflight_;
  std::vector<std::string> spare_payloads_;  ///< buffers of finished batches, reused
};

}  // namespace osprof::detail::redis
