// The read side of the Redis driver: `osprof trace show/list` over OSProfiler's Redis layout,
// on one server, the Sentinel-named master, or every master of a Redis Cluster.
#pragma once

#include <string>
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

 private:
  /// Runs a read, turning the client's failures into osprof::error (with the redacted string).
  template <typename T>
  asio::awaitable<T> guarded(asio::awaitable<T> op) const;

  redis_options options_;
};

}  // namespace osprof::detail::redis
