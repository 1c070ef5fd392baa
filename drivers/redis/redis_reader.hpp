// The read side of the Redis driver: `osprof trace show/list` over OSProfiler's Redis layout,
// on one server, the Sentinel-named master, or every master of a Redis Cluster.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <osprof/driver.hpp>

#include "drivers/redis/redis_options.hpp"

namespace osprof::detail::redis {

namespace asio = boost::asio;

class redis_reader final : public reader {
 public:
  explicit redis_reader(redis_options options);
  ~redis_reader() override;

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override;
  asio::awaitable<std::vector<trace_summary>> list_traces() override;
  asio::awaitable<std::vector<trace_summary>> list_error_traces() override;
  /// SCANs the trace keys (names only), looks up the start of the traces it has not seen in
  /// the last 5 minutes, and fills in the page's rows only.
  asio::awaitable<trace_page> list_page(const list_query& query) override;

  /// Starts of traces seen by list_page(), base_id -> earliest timestamp; shared by the
  /// readers of one server and database in this process.
  struct start_cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::string> starts;
    std::chrono::steady_clock::time_point filled{};
  };

 private:
  /// Runs a read, turning the client's failures into osprof::error (with the redacted string).
  template <typename T>
  asio::awaitable<T> guarded(asio::awaitable<T> op) const;

  redis_options options_;
  std::shared_ptr<start_cache> cache_;
};

}  // namespace osprof::detail::redis
