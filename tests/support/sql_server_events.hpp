// What the SQL servers' driver tests (tests/mysql, tests/postgresql) share besides their
// servers: the emitter settings, the traces they emit and events made by hand for a writer
// driven directly (emit_accounting.hpp has what every driver suite shares).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <osprof/driver.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/uuid.hpp>

#include "support/emit_accounting.hpp"

namespace osprof_test::sql {

/// Emitter settings for the tests: quick batches and retries, project demo, service api, host vm.
inline osprof::options test_options(std::string connection) {
  osprof::options o;
  o.connection_string = std::move(connection);
  o.project = "demo";
  o.service = "api";
  o.host = "vm";
  o.flush_interval = std::chrono::milliseconds(20);
  o.retry_backoff = std::chrono::milliseconds(20);
  o.retry_backoff_max = std::chrono::milliseconds(200);
  o.write_timeout = std::chrono::seconds(5);
  o.shutdown_timeout = std::chrono::seconds(10);
  return o;
}

/// OSProfiler's demo trace (osprofiler.md §4.1): wsgi > rpc > db, then driver fails.
inline std::string emit_demo_trace() {
  osprof::init("SECRET_KEY");
  const std::string base = osprof::get()->base_id().to_string();
  {
    osprof::trace wsgi("wsgi", {{"request", {{"path", "/v2.1/servers"}, {"method", "POST"}}}});
    {
      osprof::trace rpc("rpc");
      osprof::trace db("db", {{"db", {{"statement", "SELECT 1"}}}});
    }
    try {
      osprof::trace driver("driver");
      throw std::runtime_error("boom: cannot spawn vm1");
    } catch (const std::exception&) {
    }
  }
  osprof::clean();
  return base;
}

/// An event made by hand, for a writer driven directly.
inline osprof::event_record make_event(const osprof::uuid& base, const osprof::uuid& trace, const osprof::uuid& parent,
                                       std::string name, std::string info, int micros) {
  osprof::event_record e;
  e.is_stop = name.ends_with("-stop");
  e.name = std::move(name);
  e.base_id = base;
  e.trace_id = trace;
  e.parent_id = parent;
  e.time_us = 1764000000000000 + micros;
  char ts[32];
  std::snprintf(ts, sizeof ts, "2025-11-24T16:00:00.%06d", micros % 1000000);
  std::copy(ts, ts + 26, e.timestamp.begin());
  e.has_error = info.find("\"etype\"") != std::string::npos;
  e.info = std::move(info);
  e.json = "{}";  // the SQL drivers store the columns and info, not this
  return e;
}

/// `n` start/stop pairs of one trace (2n events); `failing` of them stop with an error.
inline std::vector<osprof::event_record> make_trace(const osprof::uuid& base, int n, int failing = 0) {
  std::vector<osprof::event_record> out;
  for (int i = 0; i < n; ++i) {
    const osprof::uuid point = osprof::uuid::random();
    out.push_back(make_event(base, point, base, "point-start", "{\"i\": " + std::to_string(i) + ", \"host\": \"vm\"}", 2 * i));
    out.push_back(make_event(base, point, base, "point-stop",
                             i < failing ? "{\"etype\": \"RuntimeError\", \"message\": \"boom\", \"host\": \"vm\"}"
                                         : "{\"host\": \"vm\"}",
                             2 * i + 1));
  }
  return out;
}

}  // namespace osprof_test::sql
