#include "drivers/http/client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <zlib.h>

#include <osprof/error.hpp>
#include <osprof/version.hpp>

#include "common/text.hpp"
#include "common/with_timeout.hpp"

namespace osprof::detail::http {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// Responses larger than this are refused (a trace read is a few MB; this bounds a bad peer).
constexpr std::size_t max_response_body = 512u << 20;

bool is_tls_error(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() || ec.category() == asio::ssl::error::get_stream_category();
}

// A kept-alive connection the server closed while idle fails this way on its next use.
bool is_stale_connection(const boost::system::error_code& ec) {
  return ec == beast::http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

beast::http::verb verb_of(std::string_view method) {
  const auto v = beast::http::string_to_verb(method);
  if (v == beast::http::verb::unknown) throw error("HTTP method '" + std::string(method) + "' is not supported");
  return v;
}

std::shared_ptr<asio::ssl::context> make_tls_context(const client_options& o) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (o.verify_peer) {
    ctx->set_verify_mode(asio::ssl::verify_peer);
    if (!o.ca_file.empty()) {
      ctx->load_verify_file(o.ca_file, ec);
      if (ec) throw error("invalid connection string '" + o.redacted + "': cannot use ca_file '" + o.ca_file + "': " + ec.message());
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) throw error("cannot load the system's CA certificates: " + ec.message());
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  return ctx;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// options

// ---------------------------------------------------------------------------------------------
// the connection: one TCP or TLS stream, reopened on demand

struct client::connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::size_t requests = 0;  ///< answered on this connection (0: fresh)

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

struct client::outgoing {
  beast::http::request<beast::http::string_body> message;
};

client::client(asio::any_io_executor executor, client_options options)
    : executor_(std::move(executor)), options_(std::move(options)) {
  if (options_.tls) tls_context_ = make_tls_context(options_);
}

client::~client() { close(); }

void client::close() noexcept {
  if (!connection_) return;
  boost::system::error_code ignored;
  connection_->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  connection_->lowest().close();
  connection_.reset();
}

namespace {

// Resolves `host` within `timeout` (the resolver has no deadline of its own).
asio::awaitable<tcp::resolver::results_type> resolve(const client_options& o) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  auto results = co_await with_timeout(
      resolver.async_resolve(o.host, std::to_string(o.port), asio::redirect_error(asio::use_awaitable, ec)), o.timeout);
  if (!results) throw transport_error("resolving " + o.host + " timed out", false);
  if (ec) throw transport_error("cannot resolve " + o.host + ": " + ec.message(), false);
  co_return std::move(*results);
}

std::string where(const client_options& o) {
  const bool v6 = o.host.find(':') != std::string::npos;
  return (o.tls ? "https://" : "http://") + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

[[noreturn]] void fail(const client_options& o, std::string_view doing, const boost::system::error_code& ec) {
  const bool tls = is_tls_error(ec);
  std::string why = ec == beast::error::timeout ? "timed out after " + std::to_string(o.timeout.count()) + " ms"
                                                : ec.message();
  throw transport_error(std::string(doing) + " " + where(o) + ": " + why, tls);
}

}  // namespace

asio::awaitable<void> client::connect() {
  auto results = co_await resolve(options_);
  auto conn = std::make_shared<connection>();
  boost::system::error_code ec;
  if (options_.tls) {
    conn->secure.emplace(executor_, *tls_context_);
    // SNI, and the certificate must name the host we asked for.
    SSL_set_tlsext_host_name(conn->secure->native_handle(), options_.host.c_str());
    if (options_.verify_peer) conn->secure->set_verify_callback(asio::ssl::host_name_verification(options_.host));
  } else {
    conn->plain.emplace(executor_);
  }
  auto& tcp_layer = conn->lowest();
  tcp_layer.expires_after(options_.timeout);
  co_await tcp_layer.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) fail(options_, "cannot connect to", ec);
  tcp_layer.socket().set_option(tcp::no_delay(true), ec);
  if (conn->secure) {
    tcp_layer.expires_after(options_.timeout);
    co_await conn->secure->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) fail(options_, "TLS handshake with", ec);
  }
  connection_ = std::move(conn);
}

asio::awaitable<response> client::send(request req) {
  outgoing out{{verb_of(req.method), req.target, 11}};
  auto& message = out.message;
  message.set(beast::http::field::host, options_.host + ":" + std::to_string(options_.port));
  message.set(beast::http::field::user_agent, "osprof/" OSPROF_VERSION_STRING);
  message.set(beast::http::field::accept_encoding, "gzip");
  if (options_.has_auth) {
    message.set(beast::http::field::authorization, "Basic " + base64_encode(options_.user + ":" + options_.password));
  }
  for (const auto& [name, value] : options_.headers) message.set(name, value);
  for (const auto& [name, value] : req.headers) message.set(name, value);
  if (!req.content_type.empty()) message.set(beast::http::field::content_type, req.content_type);
  if (req.gzip) {
    message.set(beast::http::field::content_encoding, "gzip");
    message.body() = gzip(req.body);
  } else {
    message.body() = std::move(req.body);
  }
  message.keep_alive(true);
  message.prepare_payload();

  // A reused connection may have been closed by the server while idle: try once more on a
  // fresh one. A fresh connection that fails is a real failure.
  for (int attempt = 0;; ++attempt) {
    if (!connection_) co_await connect();
    const bool reused = connection_->requests > 0;
    boost::system::error_code ec;
    auto result = co_await exchange(out, ec);
    if (!ec) co_return result;
    if (ec == asio::error::operation_aborted) throw transport_error("request to " + where(options_) + " aborted: the client was closed", false);
    close();
    if (reused && attempt == 0 && is_stale_connection(ec)) continue;
    fail(options_, "request to", ec);
  }
}

asio::awaitable<response> client::exchange(const outgoing& out, boost::system::error_code& ec) {
  const auto& message = out.message;
  const auto keep_alive = connection_;  // close() may run while this waits
  auto& conn = *keep_alive;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(max_response_body);
  conn.lowest().expires_after(options_.timeout);
  if (conn.secure) {
    co_await beast::http::async_write(*conn.secure, message, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      conn.lowest().expires_after(options_.timeout);
      co_await beast::http::async_read(*conn.secure, conn.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
  } else {
    co_await beast::http::async_write(*conn.plain, message, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      conn.lowest().expires_after(options_.timeout);
      co_await beast::http::async_read(*conn.plain, conn.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  if (!ec && connection_ != keep_alive) ec = asio::error::operation_aborted;  // closed meanwhile
  if (ec) co_return response{};
  conn.lowest().expires_never();
  ++conn.requests;

  auto& raw = parser.get();
  response r;
  r.status = raw.result_int();
  r.content_type = std::string(raw[beast::http::field::content_type]);
  if (auto it = raw.find(beast::http::field::retry_after); it != raw.end()) r.retry_after = parse_retry_after(it->value());
  if (lowercase(raw[beast::http::field::content_encoding]) == "gzip") {
    try {
      r.body = gunzip(raw.body());
    } catch (const std::exception& e) {
      close();
      throw transport_error("corrupt gzip response from " + where(options_) + ": " + e.what(), false);
    }
  } else {
    r.body = std::move(raw.body());
  }
  if (!raw.keep_alive()) close();
  co_return r;
}

// ---------------------------------------------------------------------------------------------
// classification, Retry-After, gzip, URL encoding

asio::awaitable<response> fetch(client& c, request req, std::string_view where) {
  try {
    co_return co_await c.send(std::move(req));
  } catch (const transport_error& e) {
    throw error("cannot reach " + std::string(where) + ": " + e.what());
  }
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return std::chrono::hours(24);  // absurd values: cap at a day
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // An HTTP date (IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(when - std::chrono::system_clock::now());
  return std::max(delay, std::chrono::milliseconds{0});
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  // 15 window bits + 16: a gzip wrapper; level 1 (fastest): bodies are repetitive JSON/text.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip failed");
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream zs{};
  // 15 + 32: accept a gzip or zlib header.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 64 * 1024> chunk;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::runtime_error(rc == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data");
    }
    out.append(chunk.data(), chunk.size() - zs.avail_out);
    if (out.size() > max_response_body) {
      inflateEnd(&zs);
      throw std::runtime_error("gzip data expands beyond the response size limit");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace osprof::detail::http
