// The server side: what a Boost.Beast HTTP server puts around its request handler, as Python
// OSProfiler's WsgiMiddleware does. Per request it verifies the trace headers and, when they
// are valid, runs the handler inside the request's trace, wrapped in a point named `wsgi`
// (OSProfiler tools expect that name) whose start info is request: {path, query, method,
// scheme} and whose stop info adds request: {status_code}. Unless the operator turned on
// `propagation.trace_incoming` (OSPROF_TRACE_INCOMING, off by default as Python's `enabled`),
// trace headers are ignored. Disabled, or without a valid header, the handler runs as is: no
// trace, no allocation, no point.
//
//   osprof::beast::server tracing{{.propagation = {.trace_incoming = true, .hmac_keys = {"K1", "K2"}}}};
//   // coroutine servers: the handler returns asio::awaitable<Response>
//   auto res = co_await tracing.async_handle(req, [&] { return handle(req); });
//   // synchronous servers
//   auto res = tracing.handle(req, [&] { return handle(req); });
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include <osprof/options.hpp>
#include <osprof/profiler.hpp>
#include <osprof/propagation.hpp>

#include <osprof_beast/detail.hpp>
#include <osprof_beast/traced_executor.hpp>

namespace osprof::beast {

namespace http = boost::beast::http;

struct server_options {
  /// Whether trace headers are honoured (`trace_incoming`, off by default), keys and accepted
  /// header kinds (defaults from the environment: see propagation_options).
  propagation_options propagation{};
  /// Name of the point around the handler. `wsgi` is what OSProfiler's tools and drivers
  /// expect of a request (e.g. the OTLP driver makes it a SERVER span).
  std::string point_name = "wsgi";
  /// `request.scheme` in the point's info (Beast does not know whether TLS is in front).
  std::string scheme = "http";
  /// false: never trace (headers are not even looked at). OSPROF_ENABLED, as the emitter's.
  bool enabled = env::boolean("OSPROF_ENABLED", true) && !env::boolean("OTEL_SDK_DISABLED", false);
};

/// The request fields of the `wsgi` point.
struct request_info {
  std::string path;
  std::string query;
  std::string method;
  std::string scheme;
};

template <class Fields>
request_info make_request_info(const http::header<true, Fields>& req, std::string_view scheme) {
  std::string_view target = detail::sv(req.target());
  // absolute-form (a proxy request): keep the path and query
  if (!target.empty() && target.front() != '/') {
    const auto authority = target.find("://");
    if (authority != std::string_view::npos) {
      const auto path = target.find('/', authority + 3);
      target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
    }
  }
  const auto q = target.find('?');
  request_info info;
  info.path = std::string(target.substr(0, q));
  info.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  info.method = std::string(detail::sv(req.method_string()));
  info.scheme = std::string(scheme);
  return info;
}

class server {
 public:
  explicit server(server_options opts = {}) : opts_(std::move(opts)) {
    if (opts_.enabled) warn_about_well_known_key(opts_.propagation);
  }

  const server_options& options() const noexcept { return opts_; }

  /// The request's trace, or nullptr: disabled, trace_incoming off, no trace header, or a
  /// rejected one (counted in stats::rejected_headers; never an error for the caller).
  template <class Fields>
  std::shared_ptr<propagated_trace> accept(const http::header<true, Fields>& req) const {
    if (!opts_.enabled || !opts_.propagation.trace_incoming) return nullptr;
    std::string storage;
    const incoming_headers headers = detail::read_trace_headers(req, storage);
    if (!headers.any()) return nullptr;
    return propagated_trace::create(extract(headers, opts_.propagation));
  }

  /// Synchronous servers: runs `handler()` for `req`, inside its trace when it has one.
  template <class Body, class Fields, class Handler>
  decltype(auto) handle(const http::request<Body, Fields>& req, Handler&& handler) const {
    auto trace = accept(req);
    if (!trace) return std::forward<Handler>(handler)();
    propagated_scope scope(trace.get());
    osprof::detail::profiler_state* state = osprof::detail::current;
    start_point(state, make_request_info(req, opts_.scheme));
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<Handler&&>>) {
        std::forward<Handler>(handler)();
        osprof::detail::stop_point(state, {});
      } else {
        decltype(auto) result = std::forward<Handler>(handler)();
        stop_with_result(state, result);
        return result;
      }
    } catch (...) {
      detail::stop_with_exception(state, std::current_exception());
      throw;
    }
  }

  /// Coroutine servers: `handler()` returns asio::awaitable<R> (R a response, or void). With a
  /// trace, the handler runs on a traced strand of the calling coroutine's executor, so its
  /// trace points join the request's trace across every co_await and thread hop; without
  /// one, this returns handler() itself.
  /// If the handler is itself a lambda coroutine, co_await this in the same expression, so the
  /// lambda outlives the coroutine it starts (as with any lambda coroutine).
  template <class Body, class Fields, class Handler>
  auto async_handle(const http::request<Body, Fields>& req, Handler handler) const -> std::invoke_result_t<Handler&> {
    using awaitable_type = std::invoke_result_t<Handler&>;
    using executor_type = typename awaitable_parts<awaitable_type>::executor;
    static_assert(std::is_constructible_v<executor_type, traced_executor<asio::strand<executor_type>>>,
                  "async_handle: the handler must return asio::awaitable<R, E> with a polymorphic executor E "
                  "(asio::any_io_executor, the default)");
    auto trace = accept(req);
    if (!trace) return handler();
    return traced_call<awaitable_type>(std::move(trace), make_request_info(req, opts_.scheme), std::move(handler),
                                       opts_.point_name);
  }

 private:
  template <class A>
  struct awaitable_parts;
  template <class R, class Ex>
  struct awaitable_parts<asio::awaitable<R, Ex>> {
    using result = R;
    using executor = Ex;
  };

  void start_point(osprof::detail::profiler_state* state, const request_info& info) const {
    start_request_point(state, opts_.point_name, info);
  }

  static void start_request_point(osprof::detail::profiler_state* state, std::string_view name,
                                  const request_info& info) {
    const info_field request[] = {
        {"path", info.path}, {"query", info.query}, {"method", info.method}, {"scheme", info.scheme}};
    const info_field fields[] = {{"request", info_value(std::span<const info_field>(request))}};
    osprof::detail::start_point(state, name, fields, nullptr);
  }

  template <class R>
  static void stop_with_result(osprof::detail::profiler_state* state, const R& result) {
    if constexpr (requires { result.result_int(); }) {
      const info_field request[] = {{"status_code", static_cast<unsigned>(result.result_int())}};
      const info_field fields[] = {{"request", info_value(std::span<const info_field>(request))}};
      osprof::detail::stop_point(state, fields);
    } else {
      osprof::detail::stop_point(state, {});
    }
  }

  // Runs on the traced strand: the point around the handler.
  template <class R, class Ex, class Handler>
  static asio::awaitable<R, Ex> traced_body(request_info info, Handler handler, std::string name) {
    osprof::detail::profiler_state* state = osprof::detail::current;
    start_request_point(state, name, info);
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
      try {
        co_await handler();
      } catch (...) {
        error = std::current_exception();
      }
      if (error) {
        detail::stop_with_exception(state, error);
        std::rethrow_exception(error);
      }
      osprof::detail::stop_point(state, {});
    } else {
      std::optional<R> result;
      try {
        result.emplace(co_await handler());
      } catch (...) {
        error = std::current_exception();
      }
      if (error) {
        detail::stop_with_exception(state, error);
        std::rethrow_exception(error);
      }
      stop_with_result(state, *result);
      co_return std::move(*result);
    }
  }

  template <class A, class Handler>
  static A traced_call(std::shared_ptr<propagated_trace> trace, request_info info, Handler handler, std::string name) {
    using R = typename awaitable_parts<A>::result;
    using Ex = typename awaitable_parts<A>::executor;
    osprof::detail::profiler_state* const entry_state = osprof::detail::current;
    propagated_trace* const entry_trace = propagated_trace::active();
    const auto entry_thread = std::this_thread::get_id();
    const Ex ex = co_await asio::this_coro::executor;
    auto body = traced_body<R, Ex>(std::move(info), std::move(handler), std::move(name));
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
    try {
      if constexpr (std::is_void_v<R>) {
        co_await asio::co_spawn(make_traced_strand(ex, trace), std::move(body), asio::use_awaitable_t<Ex>{});
        result.emplace(0);
      } else {
        result.emplace(co_await asio::co_spawn(make_traced_strand(ex, trace), std::move(body), asio::use_awaitable_t<Ex>{}));
      }
    } catch (...) {
      error = std::current_exception();
    }
    // The handler may have completed inline into this frame, with the request's trace still
    // installed below it: what runs from here on belongs to the caller.
    if (propagated_trace::active() == trace.get()) {
      if (std::this_thread::get_id() == entry_thread) {
        propagated_trace::deactivate({entry_state, entry_trace});
      } else {
        propagated_trace::deactivate({nullptr, nullptr});
      }
    }
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
  }

  server_options opts_;
};

}  // namespace osprof::beast
