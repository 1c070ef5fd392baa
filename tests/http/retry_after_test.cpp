// A server's Retry-After is honoured up to retry_backoff_max, never beyond: one bad answer (a
// day, from a proxy) must not stop an HTTP backend's writes for that long.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include "scripted_server.hpp"

namespace {

using namespace std::chrono_literals;
using osprof::test::reply;
using osprof::test::scripted_server;
using osprof::test::server_request;

TEST(RetryAfter, ADayLongRetryAfterWaitsNoLongerThanTheBackoffCeiling) {
  std::atomic<int> writes{0};
  scripted_server server([&](const server_request&) {
    if (writes++ == 0) {
      auto r = reply(429, "{\"error\":\"slow down\"}");
      r.response.set("Retry-After", "86400");
      return r;
    }
    return reply(204, "");
  });
  osprof::options o;
  o.connection_string = "influxdb://127.0.0.1:" + std::to_string(server.port()) + "/db?create_database=false";
  o.retry_backoff = 20ms;
  o.retry_backoff_max = 300ms;
  o.flush_interval = 10ms;
  osprof::emitter tracing(o);
  osprof::init("SECRET_KEY");
  osprof::start("point");
  osprof::stop();
  osprof::clean();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(tracing.flush(10s)) << tracing.get_stats().last_error;
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_LT(waited, 3s) << "the day-long Retry-After was honoured";
  const auto s = tracing.get_stats();
  EXPECT_EQ(s.written, 2u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(writes.load(), 2);
}

}  // namespace
