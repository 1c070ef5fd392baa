// The write side of the Redis driver: OSProfiler's Redis layout written through pipelined
// MULTI/EXEC transactions (batch.hpp) over coroutine connections (connection.hpp), to one
// server, the Sentinel-named master, or a Redis Cluster (client.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/redis/batch.hpp"
#include "drivers/redis/redis_options.hpp"

namespace osprof::detail::redis {

namespace asio = boost::asio;

class client;
class connection;

class redis_writer final : public writer {
 public:
  redis_writer(redis_options options, const driver_context& context);
  ~redis_writer() override;

  const redis_options& options() const noexcept { return options_; }

  asio::awaitable<write_result> write(const batch& b) override;
  asio::awaitable<close_result> close() override;

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
  /// The batch being written, kept across the emitter's retries of it (the same batch::id).
  struct inflight_batch {
    std::uint64_t id = 0;
    std::size_t size = 0;
    std::uint64_t sequence = 0;
    std::vector<pending_group> groups;
  };

  void prepare(const batch& b);
  asio::awaitable<write_result> write_batch(const batch& b);
  asio::awaitable<void> resolve_uncertain();
  asio::awaitable<void> send_round(std::string& retry_reason);
  asio::awaitable<connection*> route(pending_group& g);
  void apply_redirect(pending_group& g, const group_outcome& outcome, const connection& from);
  write_result give_up(const std::string& why);
  write_result finish();

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
