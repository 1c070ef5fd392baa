// The HTTP client every HTTP driver shares (InfluxDB, ClickHouse, Elasticsearch, OTLP): one
// persistent connection (keep-alive, reconnect on demand) to one server over Boost.Beast
// coroutines, plain or TLS (OpenSSL, certificate and host name verified by default), with a
// timeout on every operation, Basic auth from the connection string's user info, and gzip of
// request bodies when asked. It does not retry: the emitter retries whole batches with backoff
// and jitter, and the HTTP writer (http_writer.hpp) judges each answer.
//
// Concurrency: like the drivers that own it, one client is used by one coroutine at a time on
// the executor it was created with.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/noncopyable.hpp>
#include <boost/system/error_code.hpp>

namespace boost::asio::ssl {
class context;
}

namespace osprof::detail::http {

namespace asio = boost::asio;

struct client_options {
  bool tls = false;             ///< https
  std::string host = "127.0.0.1";
  std::uint16_t port = 80;
  std::string user;             ///< Basic auth when has_auth
  std::string password;
  bool has_auth = false;
  std::chrono::milliseconds timeout{10000};  ///< connect, TLS handshake, send and receive each
  bool verify_peer = true;      ///< ?tls_verify=false turns certificate checks off
  std::string ca_file;          ///< ?ca_file=PATH: PEM bundle of trusted CAs (default: the system's)
  std::vector<std::pair<std::string, std::string>> headers;  ///< sent with every request
  std::string redacted;         ///< the connection string without its password, for messages
};

struct request {
  std::string method = "POST";  ///< GET, POST, PUT, DELETE, HEAD
  std::string target = "/";     ///< path and query, already encoded
  std::string body;
  std::string content_type;     ///< empty: no Content-Type
  bool gzip = false;            ///< compress the body, with Content-Encoding: gzip
  std::vector<std::pair<std::string, std::string>> headers;  ///< in addition to the client's
};

struct response {
  unsigned status = 0;
  std::string body;             ///< decompressed if the server sent gzip
  std::string content_type;
  std::optional<std::chrono::milliseconds> retry_after;  ///< from a Retry-After header
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// A request that got no HTTP response: refused, reset, timed out, TLS failure, not HTTP.
class transport_error : public std::runtime_error {
 public:
  transport_error(const std::string& what, bool tls) : std::runtime_error(what), tls_failure(tls) {}
  bool tls_failure;  ///< certificate or handshake: retrying will not help
};

class client : boost::noncopyable {
 public:
  client(asio::any_io_executor executor, client_options options);
  ~client();

  const client_options& options() const noexcept { return options_; }

  /// Sends one request and reads its response, connecting first if needed. A kept-alive
  /// connection the server has closed meanwhile is reopened once, transparently. Throws
  /// transport_error when no response came; any HTTP status is returned, not thrown.
  asio::awaitable<response> send(request req);

  /// Closes the connection (the next send reconnects). A send in progress is aborted and
  /// throws transport_error; it may be called from within another coroutine meanwhile.
  void close() noexcept;

 private:
  struct connection;
  struct outgoing;
  asio::awaitable<void> connect();
  asio::awaitable<response> exchange(const outgoing& message, boost::system::error_code& ec);

  asio::any_io_executor executor_;
  client_options options_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  // Shared with a send in progress, which keeps the streams alive if close() runs meanwhile.
  std::shared_ptr<connection> connection_;
};

/// Sends a request of a read (trace show/list): no answer at all becomes osprof::error
/// "cannot reach <where>: <why>"; any HTTP status is returned.
asio::awaitable<response> fetch(client& c, request req, std::string_view where);

/// Parses Retry-After: delta-seconds or an HTTP date. nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

/// gzip (RFC 1952) of `data`, and back; gunzip throws std::runtime_error on corrupt input.
std::string gzip(std::string_view data);
std::string gunzip(std::string_view data);

}  // namespace osprof::detail::http
