// What the messaging tests share: the fixture's broker (tests/servers/rabbitmq.sh: its ports,
// rabbitmqctl, kill and restart), a raw consumer on the driver's own AMQP link, and the
// emitter settings the tests use.
#pragma once

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/uuid.hpp>

#include "drivers/messaging/amqp_link.hpp"
#include "drivers/messaging/messaging_options.hpp"
#include "drivers/messaging/notification.hpp"

namespace osprof_test {

namespace mq = osprof::detail::messaging;

inline std::string broker_dir() { return std::string(OSPROF_TEST_BINARY_DIR) + "/servers/rabbitmq"; }

inline std::string broker_file(const std::string& name) {
  std::ifstream in(broker_dir() + "/" + name);
  std::string text;
  if (!(in >> text)) throw std::runtime_error("no " + name + " in " + broker_dir() + " (did the fixture run?)");
  return text;
}

inline std::string port() { return broker_file("port"); }
inline std::string tls_port() { return broker_file("tls_port"); }
inline std::string ca_file() { return broker_dir() + "/tls/ca.pem"; }

/// rabbit://guest:guest@127.0.0.1:<port>/ with `query` appended (e.g. "?topic=t1").
inline std::string url(const std::string& query = "") { return "rabbit://guest:guest@127.0.0.1:" + port() + "/" + query; }

/// A topic of its own for each test: its queue is "<topic>.info".
inline std::string fresh_topic() { return "t" + osprof::uuid::random().to_string().substr(0, 8); }

/// Runs tests/servers/rabbitmq.sh <command> <dir> [args]; returns its exit status.
inline int broker(const std::string& command, const std::string& args = "") {
  const std::string line = "bash " + std::string(OSPROF_TEST_SOURCE_DIR) + "/tests/servers/rabbitmq.sh " + command +
                           " " + broker_dir() + " " + args + " >/dev/null 2>&1";
  return std::system(line.c_str());
}

/// rabbitmqctl against the fixture's broker; throws if it fails.
inline void ctl(const std::string& args) {
  if (broker("ctl", args) != 0) throw std::runtime_error("rabbitmqctl " + args + " failed");
}

/// Restarts the broker if a test left it down (a failed fault test must not break the next).
struct broker_up_guard {
  ~broker_up_guard() {
    if (broker("running") != 0) broker("restart");
  }
};

inline mq::messaging_options options_for(const std::string& text) {
  return mq::messaging_options::from(osprof::connection_string::parse(text), std::chrono::seconds(10), nullptr);
}

/// Takes every message now in "<topic>.info" (until `idle` passes without one), acknowledged.
/// With `expect`, waits up to 15 s for each message while fewer than `expect` came (a loaded
/// machine can stall the broker longer than `idle`), then `idle` for any beyond it.
inline std::vector<mq::delivery> drain(const std::string& topic, std::chrono::milliseconds idle = std::chrono::milliseconds(500),
                                       const std::string& extra = "", std::size_t expect = 0) {
  const auto options = options_for(url("?topic=" + topic + extra));
  mq::amqp_link link(options, "osprof test drain");
  link.open();
  link.declare_topology();
  link.consume(1000);
  std::vector<mq::delivery> out;
  for (;;) {
    const auto wait = out.size() < expect ? std::max<std::chrono::milliseconds>(idle, std::chrono::seconds(15)) : idle;
    auto d = link.next(mq::clock::now() + wait);
    if (!d) break;
    link.ack(d->tag, false);
    out.push_back(std::move(*d));
  }
  link.close();
  return out;
}

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
  return o;
}

/// A trace of 4 points (8 events), one failing; returns its base id.
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
      throw std::runtime_error("boom");
    } catch (const std::exception&) {
    }
  }
  osprof::clean();
  return base;
}

/// A JSON text's string member, found by its exact spelling (enough for the driver's output).
inline std::string field(const std::string& json, const std::string& name) {
  const auto at = json.find("\"" + name + "\": \"");
  if (at == std::string::npos) return {};
  const auto from = at + name.size() + 5;
  return json.substr(from, json.find('"', from) - from);
}

}  // namespace osprof_test
