#include "drivers/redis/connection.hpp"

#include <cstring>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <openssl/x509v3.h>

#include <osprof/error.hpp>

namespace osprof::detail::redis {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool is_tls_error(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() || ec.category() == asio::ssl::error::get_stream_category();
}

}  // namespace

failure_kind classify_error(const resp_value& reply) noexcept {
  const std::string_view code = reply.error_code();
  const std::string_view text = reply.text;
  if (code == "LOADING" || code == "BUSY" || code == "MASTERDOWN" || code == "READONLY" || code == "TRYAGAIN" ||
      code == "CLUSTERDOWN" || code == "OOM" || code == "NOREPLICAS" || starts_with(text, "ERR max number of clients")) {
    return failure_kind::busy;
  }
  if (code == "NOAUTH" || code == "WRONGPASS" || code == "NOPERM" || starts_with(text, "ERR invalid password") ||
      starts_with(text, "ERR AUTH") || starts_with(text, "ERR Client sent AUTH") ||
      starts_with(text, "ERR invalid username-password")) {
    return failure_kind::auth;
  }
  if (starts_with(text, "ERR DB index") || starts_with(text, "ERR SELECT is not allowed") ||
      starts_with(text, "ERR invalid DB index")) {
    return failure_kind::config;
  }
  return failure_kind::server;
}

std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, const std::string& redacted) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  auto step = [&](const char* what, const std::string& file, auto&& fn) {
    boost::system::error_code ec;
    fn(ec);
    if (ec) {
      throw error("invalid connection string '" + redacted + "': cannot use " + what + (file.empty() ? "" : " '" + file + "'") +
                  ": " + ec.message());
    }
  };
  if (tls.verify_peer) {
    ctx->set_verify_mode(asio::ssl::verify_peer);
    if (!tls.ca_file.empty()) step("ssl_ca_certs", tls.ca_file, [&](auto& ec) { ctx->load_verify_file(tls.ca_file, ec); });
    if (!tls.ca_path.empty()) step("ssl_ca_path", tls.ca_path, [&](auto& ec) { ctx->add_verify_path(tls.ca_path, ec); });
    if (tls.ca_file.empty() && tls.ca_path.empty()) {
      step("the system's CA certificates", "", [&](auto& ec) { ctx->set_default_verify_paths(ec); });
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  if (!tls.cert_file.empty()) {
    step("ssl_certfile", tls.cert_file, [&](auto& ec) { ctx->use_certificate_chain_file(tls.cert_file, ec); });
    step("ssl_keyfile", tls.key_file,
         [&](auto& ec) { ctx->use_private_key_file(tls.key_file, asio::ssl::context::pem, ec); });
  }
  return ctx;
}

redis_failure timed_out(std::string_view what, std::chrono::milliseconds timeout) {
  return redis_failure(failure_kind::connection, std::string(what) + " timed out after " + std::to_string(timeout.count()) + " ms");
}

connection::connection(asio::any_io_executor executor, connect_settings settings)
    : executor_(std::move(executor)), settings_(std::move(settings)), socket_(executor_) {}

connection::~connection() { close(); }

void connection::close() noexcept {
  boost::system::error_code ignored;
  if (tls_stream_) {
    tls_stream_->lowest_layer().close(ignored);
    tls_stream_.reset();
  }
  socket_.close(ignored);
  open_ = false;
  parser_.reset();
  buffer_pos_ = buffer_end_ = 0;
}

void connection::fail(failure_kind kind, const std::string& why) {
  close();
  throw redis_failure(kind, settings_.where.text() + ": " + why);
}

void connection::fail_io(const boost::system::system_error& e, std::string_view doing) {
  const auto& ec = e.code();
  if (ec == asio::error::operation_aborted) fail(failure_kind::connection, std::string(doing) + " was cancelled");
  if (is_tls_error(ec)) {
    std::string why = ec.message();
    if (ec == asio::ssl::error::stream_truncated) {
      fail(failure_kind::connection, std::string(doing) + ": the server ended the TLS session");
    }
    fail(failure_kind::tls, std::string(doing) + ": TLS error: " + why);
  }
  if (ec == asio::error::eof) {
    fail(failure_kind::connection, std::string(doing) + ": the server closed the connection");
  }
  fail(failure_kind::connection, std::string(doing) + ": " + ec.message());
}

asio::awaitable<void> connection::ensure_connected() {
  if (open_) co_return;
  // Assigned first: GCC 12 miscompiles a co_await inside an if condition here.
  const bool connected = co_await with_timeout(connect(), settings_.timeout);
  if (!connected) throw timed_out(settings_.where.text() + ": connecting", settings_.timeout);
}

asio::awaitable<void> connection::connect() {
  close();
  namespace ip = asio::ip;
  std::vector<ip::tcp::endpoint> targets;
  boost::system::error_code parse_ec;
  const auto address = ip::make_address(settings_.where.host, parse_ec);
  if (!parse_ec) {
    targets.emplace_back(address, settings_.where.port);
  } else {
    ip::tcp::resolver resolver(executor_);
    try {
      auto results = co_await resolver.async_resolve(settings_.where.host, std::to_string(settings_.where.port),
                                                     asio::use_awaitable);
      for (const auto& r : results) targets.push_back(r.endpoint());
    } catch (const boost::system::system_error& e) {
      fail(failure_kind::connection, "cannot resolve the host name: " + e.code().message());
    }
  }
  try {
    ip::tcp::socket socket(executor_);
    co_await asio::async_connect(socket, targets, asio::use_awaitable);
    socket.set_option(ip::tcp::no_delay(true));
    const auto local = socket.local_endpoint();
    local_address_ = local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
    local_address_ += ":" + std::to_string(local.port());
    if (settings_.tls) {
      tls_stream_.emplace(std::move(socket), *settings_.tls);
      if (parse_ec) {
        // SNI for names only (RFC 6066 forbids addresses).
        SSL_set_tlsext_host_name(tls_stream_->native_handle(), settings_.where.host.c_str());
      }
      if (settings_.check_hostname) {
        // OpenSSL's own check (rather than a verify callback) reports a mismatch by name.
        X509_VERIFY_PARAM* param = SSL_get0_param(tls_stream_->native_handle());
        if (!parse_ec) {
          X509_VERIFY_PARAM_set1_ip_asc(param, settings_.where.host.c_str());
        } else {
          X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
          X509_VERIFY_PARAM_set1_host(param, settings_.where.host.c_str(), 0);
        }
      }
    } else {
      socket_ = std::move(socket);
    }
  } catch (const boost::system::system_error& e) {
    fail_io(e, "cannot connect");
  }
  if (tls_stream_) {
    try {
      co_await tls_stream_->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      // Say which check failed ("certificate verify failed" alone does not).
      const long verify = SSL_get_verify_result(tls_stream_->native_handle());
      fail_io(e, verify == X509_V_OK ? std::string("TLS handshake")
                                     : std::string("TLS handshake (") + X509_verify_cert_error_string(verify) + ")");
    }
  }
  open_ = true;

  // One round trip: AUTH, SELECT, ROLE, CLIENT ID and PING pipelined; PING proves the peer
  // speaks RESP.
  std::string hello;
  command_writer w(hello);
  std::size_t n = 0;
  int auth_at = -1, select_at = -1, role_at = -1, id_at = -1;
  if (settings_.has_password) {
    auth_at = static_cast<int>(n++);
    if (settings_.user.empty()) {
      w.command("AUTH", settings_.password);
    } else {
      w.command("AUTH", settings_.user, settings_.password);
    }
  }
  if (settings_.db != 0) {
    select_at = static_cast<int>(n++);
    w.command("SELECT", settings_.db);
  }
  if (settings_.require_master) {
    role_at = static_cast<int>(n++);
    w.command("ROLE");
  }
  // The server's id for this connection: after a failure, the driver ends this connection
  // on the server (CLIENT KILL ID) before asking whether its last transaction ran.
  id_at = static_cast<int>(n++);
  w.command("CLIENT", "ID");
  w.command("PING");
  ++n;
  std::vector<resp_value> replies;
  try {
    co_await send(hello);
    replies = co_await receive(n);
  } catch (const redis_failure& f) {
    if (f.kind == failure_kind::protocol) throw;
    // A TLS port drops a plain-text client at its first bytes.
    const bool hint = f.kind == failure_kind::connection && !settings_.tls;
    throw redis_failure(f.kind, std::string(f.what()) + " (during the handshake" +
                                    (hint ? "; if this is a TLS port, use rediss:// or tls=true)" : ")"));
  }
  client_id_.reset();
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const resp_value& r = replies[i];
    const int at = static_cast<int>(i);
    if (at == id_at) {
      // An ACL may forbid CLIENT ID; the driver then does without.
      if (r.type == resp_value::kind::integer) client_id_ = r.integer;
      if (!r.is_error() || r.error_code() != "NOAUTH") continue;
    }
    if (r.is_error()) {
      const failure_kind kind = classify_error(r);
      if (at == auth_at) {
        fail(kind == failure_kind::busy ? kind : failure_kind::auth, "authentication failed: " + r.text);
      }
      if (at == select_at) {
        fail(kind == failure_kind::busy ? kind : failure_kind::config,
             "cannot select database " + std::to_string(settings_.db) + ": " + r.text);
      }
      if (r.error_code() == "NOAUTH") fail(failure_kind::auth, "the server requires a password: " + r.text);
      fail(kind, r.text);
    }
    if (at == role_at) {
      const bool master = r.is_array() && !r.elements.empty() && r.elements[0].text == "master";
      if (!master) {
        fail(failure_kind::busy, "is not a master (ROLE says '" +
                                     (r.is_array() && !r.elements.empty() ? r.elements[0].text : r.describe()) +
                                     "'); a failover may be in progress");
      }
    }
  }
  const resp_value& pong = replies.back();
  if (!(pong.type == resp_value::kind::simple && pong.text == "PONG")) {
    fail(failure_kind::protocol, "unexpected reply to PING: " + pong.describe());
  }
}

namespace {
// What is left, in one write where the socket takes it. async_write's default writes at most
// 64 KiB per call and resumes through the scheduler in between: other work on the thread (the
// worker formatting the next batch) then runs between the pieces of a pipeline that the server
// cannot finish (EXEC comes last) until it has every byte.
std::size_t all_at_once(const boost::system::error_code& error, std::size_t) noexcept {
  return error ? 0 : std::numeric_limits<std::size_t>::max();
}
}  // namespace

asio::awaitable<void> connection::send(std::string_view bytes) {
  if (!open_) fail(failure_kind::connection, "not connected");
  try {
    if (tls_stream_) {
      co_await asio::async_write(*tls_stream_, asio::buffer(bytes), asio::use_awaitable);
    } else {
      co_await asio::async_write(socket_, asio::buffer(bytes), all_at_once, asio::use_awaitable);
    }
  } catch (const boost::system::system_error& e) {
    fail_io(e, "sending");
  }
}

asio::awaitable<std::size_t> connection::read_some() {
  static constexpr std::size_t chunk = 64 * 1024;
  if (buffer_pos_ == buffer_end_) {
    buffer_pos_ = buffer_end_ = 0;
  } else if (buffer_pos_ != 0 && buffer_pos_ >= buffer_end_ / 2) {
    std::memmove(buffer_.data(), buffer_.data() + buffer_pos_, buffer_end_ - buffer_pos_);
    buffer_end_ -= buffer_pos_;
    buffer_pos_ = 0;
  }
  // Grown only while a reply's unparsed part outgrows it: a resize writes zeros over the room
  // (64 KiB per read, a few percent of reading a large trace).
  if (buffer_.size() < buffer_end_ + chunk) buffer_.resize(buffer_end_ + chunk);
  std::size_t n = 0;
  try {
    if (tls_stream_) {
      n = co_await tls_stream_->async_read_some(asio::buffer(buffer_.data() + buffer_end_, chunk), asio::use_awaitable);
    } else {
      n = co_await socket_.async_read_some(asio::buffer(buffer_.data() + buffer_end_, chunk), asio::use_awaitable);
    }
  } catch (const boost::system::system_error& e) {
    fail_io(e, "reading a reply");
  }
  buffer_end_ += n;
  co_return n;
}

asio::awaitable<std::vector<resp_value>> connection::receive(std::size_t replies) {
  if (!open_) fail(failure_kind::connection, "not connected");
  std::vector<resp_value> out;
  out.reserve(replies);
  while (out.size() < replies) {
    while (out.size() < replies && parser_.has_reply()) out.push_back(parser_.take());
    if (out.size() == replies) break;
    co_await read_some();
    try {
      buffer_pos_ += parser_.parse(std::string_view(buffer_.data() + buffer_pos_, buffer_end_ - buffer_pos_));
    } catch (const protocol_error& e) {
      fail(failure_kind::protocol, std::string("does not speak the Redis protocol: ") + e.what());
    }
  }
  co_return out;
}

asio::awaitable<std::vector<resp_value>> connection::request(std::string_view bytes, std::size_t replies) {
  auto exchange = [this](std::string_view b, std::size_t n) -> asio::awaitable<std::vector<resp_value>> {
    co_await ensure_connected();
    co_await send(b);
    co_return co_await receive(n);
  };
  try {
    co_return co_await within(exchange(bytes, replies), settings_.timeout, settings_.where.text() + ": a request");
  } catch (const redis_failure&) {
    // A timed-out request leaves unread replies behind: the connection cannot be reused.
    close();
    throw;
  }
}

asio::awaitable<void> connection::in_window(std::size_t window, const std::function<std::string(std::size_t)>& command,
                                            const std::function<bool(std::size_t, resp_value&&)>& reply) {
  const std::string what = settings_.where.text() + ": a request";
  try {
    co_await ensure_connected();
    std::size_t sent = 0;
    const auto ask_next = [&]() -> asio::awaitable<void> {
      const std::string bytes = command(sent);
      if (!co_await with_timeout(send(bytes), settings_.timeout)) throw timed_out(what, settings_.timeout);
      ++sent;
    };
    while (sent < window) co_await ask_next();
    bool asking = true;  // false once a reply said no later request is needed
    for (std::size_t answered = 0; answered < sent; ++answered) {
      auto replies = co_await within(receive(1), settings_.timeout, what);
      if (asking) asking = reply(answered, std::move(replies.front()));
      if (asking) co_await ask_next();
    }
  } catch (...) {
    // Replies may be left unread: the connection cannot be reused.
    close();
    throw;
  }
}

}  // namespace osprof::detail::redis
