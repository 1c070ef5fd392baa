// One connection to one Redis server over Asio coroutines: plain TCP or TLS (OpenSSL),
// the handshake (AUTH, SELECT, and ROLE when the server must be a master), and pipelined
// requests: a request is any number of commands sent in one write, whose replies are read
// back in order. Every failure closes the connection and is thrown as redis_failure, whose
// kind tells the driver whether trying again can help.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/noncopyable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/with_timeout.hpp"
#include "drivers/redis/redis_options.hpp"
#include "drivers/redis/resp.hpp"

namespace osprof::detail::redis {

namespace asio = boost::asio;

enum class failure_kind : std::uint8_t {
  connection,  ///< refused, reset, closed, timed out: try again later
  busy,        ///< the server cannot take writes now (LOADING, OOM, READONLY, TRYAGAIN, ...)
  auth,        ///< credentials refused (WRONGPASS, NOAUTH, NOPERM)
  config,      ///< a setting the server rejects (database index, unknown Sentinel master)
  protocol,    ///< the peer does not speak RESP: not a Redis server
  tls,         ///< TLS handshake or certificate verification failed
  server,      ///< any other error reply
};

class redis_failure : public std::runtime_error {
 public:
  redis_failure(failure_kind k, const std::string& what) : std::runtime_error(what), kind(k) {}
  failure_kind kind;
  bool retryable() const noexcept { return kind == failure_kind::connection || kind == failure_kind::busy; }
};

/// How an error reply should be treated ("-LOADING ..." -> busy, "-WRONGPASS ..." -> auth).
failure_kind classify_error(const resp_value& reply) noexcept;

/// A TLS client context from the options; throws osprof::error for unreadable files.
std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, const std::string& redacted);

struct connect_settings {
  endpoint where;
  std::string user;
  std::string password;
  bool has_password = false;
  std::int64_t db = 0;
  bool require_master = false;  ///< check ROLE (a master discovered through Sentinel)
  std::chrono::milliseconds timeout{10000};
  std::shared_ptr<asio::ssl::context> tls;  ///< null: plain TCP
  bool check_hostname = true;
};

/// The failure a timed-out operation throws.
redis_failure timed_out(std::string_view what, std::chrono::milliseconds timeout);

/// Runs `op` within `timeout` (common/with_timeout.hpp); a timeout is thrown as
/// redis_failure(connection, "<what> timed out after N ms").
template <typename T>
asio::awaitable<T> within(asio::awaitable<T> op, std::chrono::milliseconds timeout, std::string_view what) {
  auto result = co_await with_timeout(std::move(op), timeout);
  if (!result) throw timed_out(what, timeout);
  co_return std::move(*result);
}

class connection : boost::noncopyable {
 public:
  connection(asio::any_io_executor executor, connect_settings settings);
  ~connection();

  const endpoint& where() const noexcept { return settings_.where; }
  bool is_open() const noexcept { return open_; }
  /// CLIENT ID of the current (or last) connection, when the server told it.
  std::optional<std::int64_t> client_id() const noexcept { return client_id_; }
  /// This side's "ip:port" of the current (or last) connection, as CLIENT LIST shows it.
  const std::string& local_address() const noexcept { return local_address_; }

  /// Connects and runs the handshake unless already connected, within the timeout.
  asio::awaitable<void> ensure_connected();
  /// Closes the socket; the next request connects again. Pending operations are aborted.
  void close() noexcept;

  /// Sends `bytes` (one or more commands) and reads `replies` replies, within the timeout.
  asio::awaitable<std::vector<resp_value>> request(std::string_view bytes, std::size_t replies);
  /// The two halves of request(), without a timeout: pipelines to several servers send to
  /// each first and then read from each, under one deadline of the caller's.
  asio::awaitable<void> send(std::string_view bytes);
  asio::awaitable<std::vector<resp_value>> receive(std::size_t replies);
  /// Requests sent one by one with at most `window` unanswered: Redis makes a pipeline's replies
  /// whole before it sends the first byte of them, so the next request asked for as a reply is
  /// read keeps it working meanwhile. `command(i)` is request i's bytes; `reply(i, value)` takes
  /// request i's reply, in order, and returns false when no later one is needed (the replies of
  /// requests already sent are then read and dropped). Each reply within the timeout.
  asio::awaitable<void> in_window(std::size_t window, const std::function<std::string(std::size_t)>& command,
                                  const std::function<bool(std::size_t, resp_value&&)>& reply);

 private:
  asio::awaitable<void> connect();
  asio::awaitable<std::size_t> read_some();
  [[noreturn]] void fail_io(const boost::system::system_error& e, std::string_view doing);
  [[noreturn]] void fail(failure_kind kind, const std::string& why);

  asio::any_io_executor executor_;
  connect_settings settings_;
  asio::ip::tcp::socket socket_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> tls_stream_;
  bool open_ = false;
  std::optional<std::int64_t> client_id_;
  std::string local_address_;
  resp_parser parser_;
  // Received bytes: those not parsed yet are [buffer_pos_, buffer_end_). The string's size is
  // the room reads have had, kept between reads so that it is not zero-filled again each time.
  std::string buffer_;
  std::size_t buffer_pos_ = 0;
  std::size_t buffer_end_ = 0;
};

}  // namespace osprof::detail::redis
