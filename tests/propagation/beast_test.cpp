// osprof::beast server and client pieces on Beast messages, with a real emitter writing to
// memory:// and the stored events read back.
#include <osprof_beast/beast.hpp>

#include <osprof/emitter.hpp>
#include <osprof/error.hpp>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/string_body.hpp>

#include "support/env_guard.hpp"
#include "support/memory_store.hpp"
#include "trace_events.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using osprof::uuid;

const uuid B = *uuid::parse("11111111-2222-3333-4444-555555555555");
const uuid P = *uuid::parse("66666666-7777-8888-9999-000000000000");

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

request signed_request(std::string_view target, std::string_view key, uuid base = B, uuid parent = P) {
  request req{http::verb::get, target, 11};
  req.set(http::field::host, "svc:8080");
  const auto s = osprof::sign_trace_info(key, base, parent);
  req.set("X-Trace-Info", s.info);
  req.set("x-trace-hmac", s.hmac);  // header names are case-insensitive
  return req;
}

// A server the operator turned on, with keys of its own.
osprof::beast::server_options server_opts(std::vector<std::string> keys) {
  osprof::beast::server_options o;
  o.propagation.trace_incoming = true;
  o.propagation.hmac_keys = std::move(keys);
  o.propagation.accept = osprof::propagators::osprofiler;
  o.propagation.emit = osprof::propagators::osprofiler | osprof::propagators::tracecontext;
  o.enabled = true;
  return o;
}

class BeastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = osprof::test::memory_store::get(store_name());
    store_->clear();
    emitter_ = std::make_unique<osprof::emitter>(osprof::options{.connection_string = "memory://" + store_name(), .service = "svc"});
    osprof::clean();
  }
  void TearDown() override {
    emitter_.reset();
    osprof::clean();
  }
  std::string store_name() const { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }
  std::vector<osprof::test::event> events(const uuid& base) {
    EXPECT_TRUE(emitter_->flush());
    return osprof::test::parse_events(store_->events_of(base.to_string()));
  }

  std::shared_ptr<osprof::test::memory_store> store_;
  std::unique_ptr<osprof::emitter> emitter_;
};

TEST_F(BeastTest, NoHeaderRunsTheHandlerUntraced) {
  osprof::beast::server server(server_opts({"K"}));
  request req{http::verb::get, "/", 11};
  bool ran = false;
  const response res = server.handle(req, [&] {
    ran = true;
    EXPECT_EQ(osprof::get(), nullptr);
    osprof::trace t("ignored");
    return response{http::status::ok, 11};
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(emitter_->flush());
  EXPECT_EQ(store_->size(), 0u);
  EXPECT_EQ(emitter_->get_stats().rejected_headers, 0u);
}

TEST_F(BeastTest, SignedRequestContinuesTheTrace) {
  osprof::beast::server server(server_opts({"OTHER", "K"}));
  const request req = signed_request("/v2/servers?limit=1", "K");
  const response res = server.handle(req, [&] {
    EXPECT_NE(osprof::get(), nullptr);
    EXPECT_EQ(osprof::get()->hmac_key(), "K");  // the key that verified signs onward calls
    OSPROF_TRACE("db", {{"db", {{"statement", "SELECT 1"}}}});
    return response{http::status::created, 11};
  });
  EXPECT_EQ(res.result(), http::status::created);
  EXPECT_EQ(osprof::get(), nullptr);  // nothing left on the thread

  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 4u);
  osprof::test::expect_one_tree(ev, B.to_string(), {P.to_string()});
  const auto* wsgi = osprof::test::only(ev, "wsgi");
  ASSERT_NE(wsgi, nullptr);
  EXPECT_EQ(wsgi->parent_id, P.to_string());
  EXPECT_EQ(wsgi->at("/info/request/path"), "/v2/servers");
  EXPECT_EQ(wsgi->at("/info/request/query"), "limit=1");
  EXPECT_EQ(wsgi->at("/info/request/method"), "GET");
  EXPECT_EQ(wsgi->at("/info/request/scheme"), "http");
  const auto* db = osprof::test::only(ev, "db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->parent_id, wsgi->trace_id);
  const auto stop = osprof::test::points_of(ev).at(wsgi->trace_id).stop;
  EXPECT_EQ(stop->at("/info/request/status_code"), "201");
}

TEST_F(BeastTest, HandlerExceptionIsRecordedOnTheStopAndRethrown) {
  osprof::beast::server server(server_opts({"K"}));
  const request req = signed_request("/fail", "K");
  EXPECT_THROW(server.handle(req, []() -> response { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_EQ(osprof::get(), nullptr);
  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 2u);
  const auto* wsgi = osprof::test::only(ev, "wsgi");
  const auto stop = osprof::test::points_of(ev).at(wsgi->trace_id).stop;
  EXPECT_EQ(stop->at("/info/etype"), "std::runtime_error");
  EXPECT_EQ(stop->at("/info/message"), "boom");
}

TEST_F(BeastTest, RejectedHeaderIsCountedAndNotTraced) {
  osprof::beast::server server(server_opts({"K"}));
  const request req = signed_request("/", "WRONG");
  server.handle(req, [] {
    EXPECT_EQ(osprof::get(), nullptr);
    return response{http::status::ok, 11};
  });
  EXPECT_EQ(events(B).size(), 0u);
  EXPECT_EQ(emitter_->get_stats().rejected_headers, 1u);
}

TEST_F(BeastTest, DisabledServerLooksAtNothing) {
  auto opts = server_opts({"K"});
  opts.enabled = false;
  osprof::beast::server server(opts);
  server.handle(signed_request("/", "WRONG"), [] { return response{http::status::ok, 11}; });
  server.handle(signed_request("/", "K"), [] {
    EXPECT_EQ(osprof::get(), nullptr);
    return response{http::status::ok, 11};
  });
  EXPECT_EQ(events(B).size(), 0u);
  EXPECT_EQ(emitter_->get_stats().rejected_headers, 0u);
}

// Nothing from outside switches tracing on by default: a header signed with the key every
// OSProfiler guide prints (the default key) is ignored, neither traced nor counted.
TEST_F(BeastTest, DefaultServerIgnoresTraceHeaders) {
  osprof_test::env_guard env;
  for (const char* name : {"OSPROF_TRACE_INCOMING", "OSPROF_HMAC_KEYS", "OSPROF_PROPAGATORS", "OSPROF_PROPAGATORS_ACCEPT",
                           "OTEL_PROPAGATORS", "OSPROF_ENABLED", "OTEL_SDK_DISABLED"}) {
    env.set(name, nullptr);
  }
  const osprof::beast::server server;  // every setting at its default
  EXPECT_FALSE(server.options().propagation.trace_incoming);
  EXPECT_EQ(server.options().propagation.hmac_keys, std::vector<std::string>{"SECRET_KEY"});
  for (int i = 0; i < 3; ++i) {
    server.handle(signed_request("/", "SECRET_KEY"), [] {
      EXPECT_EQ(osprof::get(), nullptr);
      return response{http::status::ok, 11};
    });
  }
  request traceparent{http::verb::get, "/", 11};
  traceparent.set("traceparent", "00-11111111222233334444555555555555-0000000000000001-01");
  server.handle(traceparent, [] { return response{http::status::ok, 11}; });
  EXPECT_EQ(events(B).size(), 0u);
  EXPECT_EQ(emitter_->get_stats().rejected_headers, 0u);

  // The operator's switch: OSPROF_TRACE_INCOMING=true with a key of its own, and a request
  // signed with that key is traced.
  env.set("OSPROF_TRACE_INCOMING", "true");
  env.set("OSPROF_HMAC_KEYS", "K9");
  const osprof::beast::server enabled;
  enabled.handle(signed_request("/", "K9"), [] {
    EXPECT_NE(osprof::get(), nullptr);
    return response{http::status::ok, 11};
  });
  EXPECT_EQ(events(B).size(), 2u);
}

// Turned on, a server honours exactly its configured keys; with the well-known one among them
// it warns once, when it is constructed.
TEST_F(BeastTest, EnabledServerHonoursItsKeysAndWarnsOnceAboutTheWellKnownOne) {
  static std::vector<std::string> logged;
  logged.clear();
  osprof::set_log_handler([](std::string_view m) { logged.emplace_back(m); });
  const osprof::beast::server own(server_opts({"K1", "K2"}));
  EXPECT_TRUE(logged.empty()) << logged.front();
  own.handle(signed_request("/", "SECRET_KEY"), [] {
    EXPECT_EQ(osprof::get(), nullptr);
    return response{http::status::ok, 11};
  });
  own.handle(signed_request("/", "K2"), [] {
    EXPECT_NE(osprof::get(), nullptr);
    EXPECT_EQ(osprof::get()->hmac_key(), "K2");
    return response{http::status::ok, 11};
  });
  EXPECT_EQ(emitter_->get_stats().rejected_headers, 1u);
  EXPECT_EQ(events(B).size(), 2u);

  const osprof::beast::server well_known(server_opts({"K1", "SECRET_KEY"}));
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("well-known default key SECRET_KEY"), std::string::npos) << logged[0];
  EXPECT_NE(logged[0].find("OSPROF_HMAC_KEYS"), std::string::npos) << logged[0];
  const osprof::beast::server again(server_opts({"SECRET_KEY"}));
  well_known.handle(signed_request("/", "SECRET_KEY"), [] { return response{http::status::ok, 11}; });
  EXPECT_EQ(logged.size(), 1u) << "once per process";
  osprof::set_log_handler(nullptr);
  EXPECT_EQ(events(B).size(), 4u);
}

TEST_F(BeastTest, TraceparentWhenAccepted) {
  auto opts = server_opts({"K"});
  opts.propagation.accept = osprof::propagators::osprofiler | osprof::propagators::tracecontext;
  osprof::beast::server server(opts);
  request req{http::verb::post, "/items", 11};
  req.set("TraceParent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  req.insert("tracestate", "congo=1");
  req.insert("tracestate", "rojo=2");
  std::string outgoing_state;
  server.handle(req, [&] {
    outgoing_state = osprof::current_headers(opts.propagation).tracestate;
    return response{http::status::ok, 11};
  });
  const uuid base = *uuid::parse("4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
  const auto ev = events(base);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].parent_id, "00000000-0000-0000-00f0-67aa0ba902b7");
  EXPECT_EQ(outgoing_state.substr(outgoing_state.find(',')), ",congo=1,rojo=2");
}

TEST_F(BeastTest, ClientCallInjectsHeadersAndRecordsTheStatus) {
  auto trace = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"});
  osprof::propagated_scope scope(trace.get());
  request req{http::verb::get, "/v2/flavors?is_public=true", 11};
  req.set("X-Trace-Info", "stale");  // replaced, not duplicated
  uuid client_point;
  {
    osprof::beast::client_call call(req, {"compute", 8774, "http"});
    ASSERT_TRUE(call.traced());
    client_point = osprof::get()->id();
    call.finish(200);
  }
  EXPECT_EQ(req.count("X-Trace-Info"), 1u);
  const auto v = osprof::verify_trace_info(osprof::beast::detail::sv(req["X-Trace-Info"]),
                                           osprof::beast::detail::sv(req["X-Trace-HMAC"]),
                                           std::vector<std::string>{"K"});
  ASSERT_TRUE(v) << to_string(v.status);
  EXPECT_EQ(v.context.base_id, B);
  EXPECT_EQ(v.context.parent_id, client_point);
  const auto tp = osprof::parse_traceparent(osprof::beast::detail::sv(req["traceparent"]));
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->parent_id, client_point.lo);

  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 2u);
  const auto* http_point = osprof::test::only(ev, "http");
  ASSERT_NE(http_point, nullptr);
  EXPECT_EQ(http_point->trace_id, client_point.to_string());
  EXPECT_EQ(http_point->at("/info/requests/method"), "GET");
  EXPECT_EQ(http_point->at("/info/requests/path"), "/v2/flavors");
  EXPECT_EQ(http_point->at("/info/requests/query"), "is_public=true");
  EXPECT_EQ(http_point->at("/info/requests/hostname"), "compute");
  EXPECT_EQ(http_point->at("/info/requests/port"), "8774");
  EXPECT_EQ(http_point->at("/info/requests/scheme"), "http");
  const auto stop = osprof::test::points_of(ev).at(http_point->trace_id).stop;
  EXPECT_EQ(stop->at("/info/requests/status_code"), "200");
}

TEST_F(BeastTest, ClientCallTakesTheEndpointFromTheHostHeader) {
  auto trace = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"});
  osprof::propagated_scope scope(trace.get());
  for (const auto& [host, name, port] : {std::tuple{"[::1]:8080", "::1", "8080"}, std::tuple{"example.com", "example.com", "80"}}) {
    request req{http::verb::put, "/", 11};
    req.set(http::field::host, host);
    osprof::beast::client_call call(req);
    call.finish(204);
    (void)name;
    (void)port;
  }
  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].at("/info/requests/hostname"), "::1");
  EXPECT_EQ(ev[0].at("/info/requests/port"), "8080");
  EXPECT_EQ(ev[2].at("/info/requests/hostname"), "example.com");
  EXPECT_EQ(ev[2].at("/info/requests/port"), "80");
}

TEST_F(BeastTest, ClientCallWithoutAProfilerDoesNothing) {
  request req{http::verb::get, "/", 11};
  osprof::beast::client_call call(req, {"h", 1});
  EXPECT_FALSE(call.traced());
  EXPECT_EQ(req.count("X-Trace-Info"), 0u);
  EXPECT_EQ(req.count("traceparent"), 0u);
}

TEST_F(BeastTest, UnfinishedClientCallIsStoppedWithAnError) {
  auto trace = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"});
  osprof::propagated_scope scope(trace.get());
  {
    request req{http::verb::get, "/", 11};
    osprof::beast::client_call call(req, {"h", 1});
  }
  EXPECT_EQ(trace->depth(), 0u);
  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].at("/info/etype"), "unfinished");
}

TEST_F(BeastTest, AsyncHandleOnOneThread) {
  osprof::beast::server server(server_opts({"K"}));
  asio::io_context ioc;
  const request req = signed_request("/async", "K");
  bool done = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        const response res = co_await server.async_handle(req, [&]() -> asio::awaitable<response> {
          EXPECT_NE(osprof::get(), nullptr);
          OSPROF_TRACE("step");
          asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
          co_await timer.async_wait(asio::use_awaitable);
          EXPECT_NE(osprof::get(), nullptr);
          co_return response{http::status::accepted, 11};
        });
        EXPECT_EQ(res.result(), http::status::accepted);
        EXPECT_EQ(osprof::get(), nullptr);  // the caller's code runs outside the request's trace
        // No header: the handler itself, untraced.
        const response plain = co_await server.async_handle(request{http::verb::get, "/", 11}, [&]() -> asio::awaitable<response> {
          EXPECT_EQ(osprof::get(), nullptr);
          co_return response{http::status::ok, 11};
        });
        EXPECT_EQ(plain.result(), http::status::ok);
        done = true;
      },
      asio::detached);
  ioc.run();
  EXPECT_TRUE(done);
  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 4u);
  osprof::test::expect_one_tree(ev, B.to_string(), {P.to_string()});
  const auto* wsgi = osprof::test::only(ev, "wsgi");
  EXPECT_EQ(osprof::test::only(ev, "step")->parent_id, wsgi->trace_id);
  EXPECT_EQ(osprof::test::points_of(ev).at(wsgi->trace_id).stop->at("/info/request/status_code"), "202");
}

TEST_F(BeastTest, AsyncHandlerExceptionReachesTheCaller) {
  osprof::beast::server server(server_opts({"K"}));
  asio::io_context ioc;
  const request req = signed_request("/async", "K");
  bool caught = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        try {
          co_await server.async_handle(req, []() -> asio::awaitable<response> {
            OSPROF_TRACE("inner");
            throw std::logic_error("bad request state");
            co_return response{};
          });
        } catch (const std::logic_error& e) {
          caught = std::string(e.what()) == "bad request state";
        }
        EXPECT_EQ(osprof::get(), nullptr);
      },
      asio::detached);
  ioc.run();
  EXPECT_TRUE(caught);
  const auto ev = events(B);
  ASSERT_EQ(ev.size(), 4u);
  const auto* wsgi = osprof::test::only(ev, "wsgi");
  const auto stop = osprof::test::points_of(ev).at(wsgi->trace_id).stop;
  EXPECT_EQ(stop->at("/info/etype"), "std::logic_error");
  EXPECT_EQ(stop->at("/info/message"), "bad request state");
  const auto* inner = osprof::test::only(ev, "inner");
  EXPECT_EQ(osprof::test::points_of(ev).at(inner->trace_id).stop->at("/info/etype"), "std::logic_error");
}

}  // namespace
