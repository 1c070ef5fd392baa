// The client side: an outgoing Beast request carries the current trace, wrapped in a point as
// OSProfiler's requests hook does: named after the scheme (`http`), with start info
// requests: {method, path, query, hostname, port, scheme} and stop info
// requests: {status_code}; the trace headers name that point as the callee's parent.
// Without a profiler on the thread nothing happens.
//
//   http::request<http::string_body> req{http::verb::get, "/v2/servers", 11};
//   req.set(http::field::host, "api:8774");
//   co_await osprof::beast::async_send(stream, buffer, req, res);   // traced write + read
//   // or by hand, around any transport:
//   osprof::beast::client_call call(req, {"api", 8774});
//   ... send, receive ...
//   call.finish(res.result_int());
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <osprof/profiler.hpp>
#include <osprof/propagation.hpp>

#include <osprof_beast/detail.hpp>

namespace osprof::beast {

namespace asio = boost::asio;
namespace http = boost::beast::http;

/// Where a request goes, for the point's info.
struct endpoint {
  std::string host;         ///< empty: taken from the request's Host header
  std::uint16_t port = 0;   ///< 0: from the Host header, else 80 (http) or 443 (https)
  std::string scheme = "http";
};

struct client_options {
  /// Which header kinds to send (default: from the environment, see propagation_options).
  propagation_options propagation = default_propagation_options();
  /// Point name; empty: the scheme, as OSProfiler's requests hook names it.
  std::string point_name;
};

/// One traced outgoing call: starts the client point and sets the trace headers on `req` when
/// constructed; finish() (or fail()) stops it. Destroyed unfinished, it stops the point with
/// etype `unfinished`. Sets nothing and starts nothing without a profiler on the thread.
class client_call {
 public:
  template <class Body, class Fields>
  client_call(http::request<Body, Fields>& req, endpoint ep = {}, const client_options& opts = client_options{})
      : state_(osprof::detail::current) {
    if (state_ == nullptr) return;
    fill_endpoint(req, ep);
    const std::string_view target = detail::sv(req.target());
    const auto q = target.find('?');
    const info_field requests[] = {
        {"method", detail::sv(req.method_string())},
        {"query", q == std::string_view::npos ? std::string_view() : target.substr(q + 1)},
        {"path", target.substr(0, q)},
        {"hostname", ep.host},
        {"port", static_cast<unsigned>(ep.port)},
        {"scheme", ep.scheme},
    };
    const info_field fields[] = {{"requests", info_value(std::span<const info_field>(requests))}};
    osprof::detail::start_point(state_, opts.point_name.empty() ? std::string_view(ep.scheme) : opts.point_name,
                                fields, nullptr);
    // After the start, so the callee's parent is this point.
    detail::write_trace_headers(req, current_headers(opts.propagation));
  }

  ~client_call() {
    if (state_ != nullptr) {
      const info_field fields[] = {{"etype", "unfinished"}, {"message", nullptr}};
      osprof::detail::stop_point(state_, fields);
    }
  }
  client_call(const client_call&) = delete;
  client_call& operator=(const client_call&) = delete;

  /// Whether a point was started (a profiler was active).
  bool traced() const noexcept { return state_ != nullptr; }

  /// Stops the point with requests: {status_code}.
  void finish(unsigned status_code) noexcept {
    if (state_ == nullptr) return;
    const info_field requests[] = {{"status_code", status_code}};
    const info_field fields[] = {{"requests", info_value(std::span<const info_field>(requests))}};
    osprof::detail::stop_point(std::exchange(state_, nullptr), fields);
  }

  /// Stops the point with the error's etype and message.
  void fail(std::exception_ptr error) noexcept {
    if (state_ == nullptr) return;
    detail::stop_with_exception(std::exchange(state_, nullptr), error);
  }

 private:
  template <class Fields>
  static void fill_endpoint(const http::header<true, Fields>& req, endpoint& ep) {
    if (ep.host.empty() || ep.port == 0) {
      std::string_view host = detail::sv(req[http::field::host]);
      std::string_view port;
      if (!host.empty() && host.front() == '[') {  // [v6]:port
        const auto close = host.find(']');
        if (close != std::string_view::npos) {
          if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
          host = host.substr(1, close - 1);
        }
      } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
      }
      if (ep.host.empty()) ep.host = std::string(host);
      if (ep.port == 0) {
        unsigned value = 0;
        for (const char c : port) {
          if (c < '0' || c > '9' || value > 65535) {
            value = 0;
            break;
          }
          value = value * 10 + static_cast<unsigned>(c - '0');
        }
        ep.port = static_cast<std::uint16_t>(value <= 65535 ? value : 0);
      }
    }
    if (ep.port == 0) ep.port = ep.scheme == "https" ? 443 : 80;
  }

  osprof::detail::profiler_state* state_;
};

/// Writes `req` to `stream` and reads the response into `res`, as one traced client call.
/// Errors are rethrown after the point records them.
template <class Stream, class DynamicBuffer, class ReqBody, class ReqFields, class ResBody, class ResFields>
asio::awaitable<void> async_send(Stream& stream, DynamicBuffer& buffer, http::request<ReqBody, ReqFields>& req,
                                 http::response<ResBody, ResFields>& res, endpoint ep = {},
                                 client_options opts = client_options{}) {
  client_call call(req, std::move(ep), opts);
  std::exception_ptr error;
  try {
    co_await http::async_write(stream, req, asio::use_awaitable);
    co_await http::async_read(stream, buffer, res, asio::use_awaitable);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    call.fail(error);
    std::rethrow_exception(error);
  }
  call.finish(res.result_int());
}

}  // namespace osprof::beast
