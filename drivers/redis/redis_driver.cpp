// Registers redis://, rediss://, redissentinel:// and rediscluster://: a writer
// (redis_writer.hpp) and a reader (redis_reader.hpp) for each.
#include <osprof/drivers/redis.hpp>

#include "drivers/redis/redis_reader.hpp"
#include "drivers/redis/redis_writer.hpp"

namespace osprof::drivers {

void register_redis() {
  using namespace osprof::detail::redis;
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
    register_driver({
        .scheme = s.scheme,
        .summary = s.summary,
        .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
          return std::make_unique<redis_writer>(redis_options::from(cs, context.timeout), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<reader> {
          return std::make_unique<redis_reader>(redis_options::from(cs, context.timeout));
        },
    });
  }
}

}  // namespace osprof::drivers
