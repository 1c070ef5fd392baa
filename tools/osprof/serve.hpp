// `osprof serve`: the traces of one backend over HTTP, as a JSON API and a web UI, on
// Boost.Beast. The pieces:
//  - serve_backend.cpp: a small pool of readers on threads of their own; every read is bounded
//    by a deadline, so a slow or dead backend gives 503, never a hung connection;
//  - serve_api.cpp: the routes (/api/..., /, /traces/<id>, /assets/...), their parameters and
//    their JSON;
//  - serve_server.cpp: the accept loop, a coroutine per connection, limits, auth, shutdown;
//  - web/: the page, script and style of the list, embedded at build time (serve_assets.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <osprof/driver.hpp>
#include <osprof/report.hpp>

namespace osprof::cli::serve {

struct settings {
  std::string connection_string;
  std::string listen = "127.0.0.1:8080";
  std::string token;       ///< non-empty: `Authorization: Bearer <token>` is required
  std::string basic_auth;  ///< non-empty: "user:password" for `Authorization: Basic`
  std::chrono::milliseconds read_timeout{10000};  ///< one backend read, at most
  std::size_t readers = 4;              ///< backend reads in progress at most
  std::size_t max_connections = 512;    ///< open connections at most; more are closed at once
  std::size_t header_limit = 8 * 1024;  ///< bytes of request line and headers
  std::size_t body_limit = 16 * 1024;   ///< bytes of request body (the API takes none)
  std::chrono::seconds idle_timeout{30};  ///< a keep-alive connection waiting for a request
  std::chrono::seconds io_timeout{30};    ///< reading one request, writing one response
};

/// A backend read that failed: 503 with `what` (the driver's message, no password).
struct backend_unavailable {
  std::string what;
};

/// Readers of one backend, used one read at a time each, on threads of their own.
class backend {
 public:
  explicit backend(const settings& s);
  ~backend();
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;

  /// The connection string without its password.
  const std::string& redacted() const noexcept { return redacted_; }

  /// The events of a trace (empty when unknown). Throws backend_unavailable.
  boost::asio::awaitable<std::vector<std::string>> read_trace(const std::string& base_id);
  /// One page of the list. Throws backend_unavailable, or osprof::error for a filter the
  /// backend cannot apply (a 400).
  boost::asio::awaitable<trace_page> list_page(const list_query& query);

  /// Stops the reader threads; reads in progress are abandoned.
  void stop();

  struct pool;  ///< the readers and their threads (serve_backend.cpp)

 private:
  std::shared_ptr<pool> pool_;
  std::string redacted_;
  std::chrono::milliseconds timeout_;
};

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers one request (GET or HEAD; auth already checked).
boost::asio::awaitable<response> handle(const request& req, backend& b);

/// A JSON error response: {"error": message, "status": code}.
response json_error(unsigned status, std::string_view message, unsigned version, bool keep_alive);

/// The embedded web assets: body and content type, or nullptr.
struct asset {
  std::string_view body;
  std::string_view content_type;
};
const asset* find_asset(std::string_view path);

/// Runs the server until SIGINT/SIGTERM. Returns the exit code.
int run(const settings& s);

}  // namespace osprof::cli::serve
