// The HTTP side of `osprof serve`: one coroutine per connection (on a strand), keep-alive,
// a timeout on every read and write, bounded request heads and bodies (431/413, then the
// connection closes and the server goes on), optional auth, and a graceful stop on SIGINT or
// SIGTERM: no new connections, idle ones closed, requests in progress finish (10 s at most).
#include <openssl/crypto.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <osprof/connection_string.hpp>
#include <osprof/error.hpp>

#include "cli.hpp"
#include "driver/scheme_resolver.hpp"
#include "serve.hpp"

namespace osprof::cli::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (const char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+') d = 62;
    else if (c == '/') d = 63;
    else if (c == '=') break;
    else return std::nullopt;
    value = (value << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xFF);
    }
  }
  return out;
}

// Nothing configured: everyone. Otherwise the bearer token or the basic credentials.
bool authorized(const settings& s, const request& req) {
  if (s.token.empty() && s.basic_auth.empty()) return true;
  const std::string_view auth = req[http::field::authorization];
  if (!s.token.empty() && auth.starts_with("Bearer ") && same(auth.substr(7), s.token)) return true;
  if (!s.basic_auth.empty() && auth.starts_with("Basic ")) {
    if (auto decoded = base64_decode(auth.substr(6)); decoded && same(*decoded, s.basic_auth)) return true;
  }
  return false;
}

struct connection {
  explicit connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> idle{true};
};

// The open connections, so that a stop can close the idle ones.
class connections {
 public:
  std::size_t add(const std::shared_ptr<connection>& c) {
    std::lock_guard lock(mutex_);
    std::erase_if(list_, [](const std::weak_ptr<connection>& w) { return w.expired(); });
    list_.push_back(c);
    return list_.size();
  }
  std::size_t open() {
    std::lock_guard lock(mutex_);
    std::erase_if(list_, [](const std::weak_ptr<connection>& w) { return w.expired(); });
    return list_.size();
  }
  void close(bool idle_only) {
    std::lock_guard lock(mutex_);
    for (const std::weak_ptr<connection>& w : list_) {
      if (auto c = w.lock()) {
        asio::post(c->stream.get_executor(), [w, idle_only] {
          if (auto c = w.lock(); c && (!idle_only || c->idle)) {
            beast::error_code ignored;
            c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            c->stream.socket().close(ignored);
          }
        });
      }
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<connection>> list_;
};

struct server_state {
  const settings& cfg;
  backend& data;
  connections open;
  std::atomic<bool> stopping{false};
};

response refuse(unsigned status, std::string_view why, bool basic) {
  response res = json_error(status, why, 11, false);
  if (status == 401) res.set(http::field::www_authenticate, basic ? "Basic realm=\"osprof\"" : "Bearer");
  return res;
}

asio::awaitable<void> session(tcp::socket socket, server_state& state) {
  auto conn = std::make_shared<connection>(std::move(socket));
  const settings& cfg = state.cfg;
  if (state.open.add(conn) > cfg.max_connections) {
    // Over the limit: say so and close, rather than hold a connection that will not be served.
    conn->stream.expires_after(std::chrono::seconds(2));
    response res = json_error(503, "too many connections", 11, false);
    co_await http::async_write(conn->stream, res, asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  beast::tcp_stream& stream = conn->stream;
  beast::flat_buffer buffer(cfg.header_limit + cfg.body_limit);
  for (;;) {
    if (state.stopping) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
    parser.body_limit(cfg.body_limit);
    conn->idle = true;
    stream.expires_after(cfg.idle_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    conn->idle = false;
    beast::error_code ec = hec;
    if (!ec) {
      stream.expires_after(cfg.io_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      ec = bec;
    }
    if (ec) {
      // Answer what can be answered; the stream cannot be resynchronised, so close after.
      std::optional<response> res;
      if (ec == http::error::header_limit) {
        res = json_error(431, "request line and headers exceed " + std::to_string(cfg.header_limit) + " bytes", 11, false);
      } else if (ec == http::error::body_limit) {
        res = json_error(413, "request body exceeds " + std::to_string(cfg.body_limit) + " bytes", 11, false);
      } else if (ec.category() == beast::error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
                 ec != http::error::partial_message) {
        res = json_error(400, "malformed request: " + ec.message(), 11, false);
      }
      if (res) {
        stream.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, *res, asio::as_tuple(asio::use_awaitable));
      }
      break;
    }
    request req = parser.release();
    const auto started = std::chrono::steady_clock::now();
    response res;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res = json_error(405, "read-only: only GET and HEAD", req.version(), req.keep_alive());
      res.set(http::field::allow, "GET, HEAD");
    } else if (!authorized(cfg, req)) {
      res = refuse(401, "authentication required", !cfg.basic_auth.empty());
      res.version(req.version());
    } else {
      try {
        res = co_await handle(req, state.data);
      } catch (const std::exception& e) {
        res = json_error(500, std::string("internal error: ") + e.what(), req.version(), req.keep_alive());
      }
    }
    if (req.method() == http::verb::head) {
      const auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    if (state.stopping) res.keep_alive(false);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "%s %s -> %u (%.1f ms)\n", std::string(req.method_string()).c_str(),
                 std::string(req.target()).c_str(), res.result_int(), ms);
    const bool keep_alive = res.keep_alive();
    stream.expires_after(cfg.io_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(asio::io_context& ioc, tcp::acceptor& acceptor, server_state& state) {
  asio::steady_timer pause(ioc);
  while (!state.stopping) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      // Out of file descriptors (EMFILE/ENFILE) or a connection reset before accept: wait a
      // little and go on, rather than spin or stop serving.
      std::fprintf(stderr, "osprof serve: accept: %s\n", ec.message().c_str());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(std::move(socket), state), asio::detached);
  }
}

std::optional<tcp::endpoint> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string p = text.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  port = static_cast<unsigned>(std::stoul(p));
  if (port > 65535) return std::nullopt;
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

int run(const settings& s) {
  const auto where = parse_listen(s.listen);
  if (!where) throw usage_error{"--listen '" + s.listen + "': expected HOST:PORT with a numeric address, e.g. 127.0.0.1:8080"};
  // A malformed connection string or a backend without a reader is a usage error, found
  // now; a backend that is down (a missing file, a server not running) gives 503 per request.
  {
    const auto cs = connection_string::parse(s.connection_string);
    detail::resolve_scheme(cs.scheme);  // a driver the command loads when named
    bool readable = false;
    for (const auto& d : registered_drivers()) readable = readable || (d.scheme == cs.scheme && d.can_read);
    if (!readable) {
      driver_context context;
      (void)make_reader(s.connection_string, context);  // throws the registry's own message
    }
  }
  backend data(s);

  asio::io_context ioc(2);
  tcp::acceptor acceptor(ioc);
  acceptor.open(where->protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  beast::error_code ec;
  acceptor.bind(*where, ec);
  if (ec) throw error("cannot listen on " + s.listen + ": " + ec.message());
  acceptor.listen(asio::socket_base::max_listen_connections);

  const tcp::endpoint local = acceptor.local_endpoint();
  std::string host = local.address().to_string();
  if (local.address().is_v6()) host = "[" + host + "]";
  std::printf("osprof serve: %s on http://%s:%u/ (%s)\n", data.redacted().c_str(), host.c_str(),
              static_cast<unsigned>(local.port()),
              local.address().is_loopback() ? "loopback only; --listen 0.0.0.0:PORT to serve others"
              : s.token.empty() && s.basic_auth.empty()
                  ? "reachable from other machines, without authentication"
                  : "reachable from other machines, authentication required");
  std::fflush(stdout);

  server_state state{s, data, {}, {}};
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer deadline(ioc);
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (e) return;
    std::fprintf(stderr, "osprof serve: stopping\n");
    state.stopping = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    state.open.close(true);  // idle connections end now, requests in progress finish
    deadline.expires_after(std::chrono::seconds(10));
    deadline.async_wait([&](const boost::system::error_code& e2) {
      if (!e2) state.open.close(false);
    });
    // Ends the wait once every connection is gone.
    auto poll = std::make_shared<asio::steady_timer>(ioc);
    auto check = std::make_shared<std::function<void()>>();
    *check = [&, poll, check] {
      if (state.open.open() == 0) {
        deadline.cancel();
        *check = nullptr;
        return;
      }
      poll->expires_after(std::chrono::milliseconds(20));
      poll->async_wait([check](const boost::system::error_code&) {
        if (*check) (*check)();
      });
    };
    (*check)();
  });
  asio::co_spawn(ioc, accept_loop(ioc, acceptor, state), asio::detached);

  std::thread second([&] { ioc.run(); });
  ioc.run();
  second.join();
  data.stop();
  return 0;
}

}  // namespace osprof::cli::serve
