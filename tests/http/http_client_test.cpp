// The shared HTTP client (drivers/http) against a scripted loopback HTTP server in the test:
// keep-alive reuse, reconnecting after the server closed an idle connection, timeouts,
// refused connections, Basic auth, gzip both ways, and the retry rules of classify().
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/text.hpp"
#include "drivers/http/client.hpp"
#include "drivers/http/http_writer.hpp"
#include "scripted_server.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace osprof::detail;
using namespace std::chrono_literals;

using osprof::test::after_reply;
using osprof::test::scripted_reply;
using osprof::test::server_response;
using osprof::test::reply;
using osprof::test::scripted_server;
using osprof::test::server_request;

http::client_options options_for(std::uint16_t port, std::chrono::milliseconds timeout = 2000ms) {
  http::client_options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.timeout = timeout;
  o.redacted = "test://127.0.0.1:" + std::to_string(port);
  return o;
}

// Runs `fn(client&)` as a coroutine to completion and returns its result.
template <typename Fn>
auto run(http::client_options options, Fn fn) {
  asio::io_context ioc;
  http::client c(ioc.get_executor(), std::move(options));
  auto future = asio::co_spawn(ioc, fn(c), asio::use_future);
  ioc.run();
  return future.get();
}

http::request post(std::string target, std::string body) {
  http::request r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  r.content_type = "text/plain";
  return r;
}

TEST(HttpClient, ReusesOneConnectionForManyRequests) {
  scripted_server server([](const server_request& req) { return reply(200, "echo:" + req.body()); });
  auto bodies = run(options_for(server.port()), [](http::client& c) -> asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> out;
    for (int i = 0; i < 5; ++i) out.push_back((co_await c.send(post("/w", std::to_string(i)))).body);
    co_return out;
  });
  EXPECT_EQ(bodies, (std::vector<std::string>{"echo:0", "echo:1", "echo:2", "echo:3", "echo:4"}));
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 5);
}

TEST(HttpClient, ReconnectsWhenTheServerClosedAnIdleConnection) {
  // Every reply says keep-alive but the server hangs up anyway (as servers do after their
  // idle timeout): the next request must reconnect without surfacing an error.
  scripted_server server([](const server_request&) {
    auto r = reply(204, "");
    r.then = after_reply::close_connection;
    return r;
  });
  auto statuses = run(options_for(server.port()), [](http::client& c) -> asio::awaitable<std::vector<unsigned>> {
    std::vector<unsigned> out;
    for (int i = 0; i < 3; ++i) {
      out.push_back((co_await c.send(post("/w", "x"))).status);
      // Let the server's close reach us so the client sees a stale connection.
      asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return out;
  });
  EXPECT_EQ(statuses, (std::vector<unsigned>{204, 204, 204}));
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, AServerThatNeverAnswersTimesOut) {
  scripted_server server([](const server_request&) {
    scripted_reply r;
    r.never_answer = true;
    return r;
  });
  const auto started = std::chrono::steady_clock::now();
  auto message = run(options_for(server.port(), 300ms), [](http::client& c) -> asio::awaitable<std::string> {
    try {
      co_await c.send(post("/w", "x"));
    } catch (const http::transport_error& e) {
      co_return std::string(e.what());
    }
    co_return "no error";
  });
  EXPECT_NE(message.find("timed out after 300 ms"), std::string::npos) << message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(HttpClient, CloseDuringASendAbortsItCleanly) {
  scripted_server server([](const server_request&) {
    scripted_reply r;
    r.never_answer = true;
    return r;
  });
  auto message = run(options_for(server.port(), 5000ms), [](http::client& c) -> asio::awaitable<std::string> {
    auto ex = co_await asio::this_coro::executor;
    auto closer = [&c]() -> asio::awaitable<void> {
      asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
      co_await t.async_wait(asio::use_awaitable);
      c.close();
    };
    asio::co_spawn(ex, closer(), asio::detached);
    try {
      co_await c.send(post("/w", "x"));
    } catch (const http::transport_error& e) {
      co_return std::string(e.what());
    }
    co_return "no error";
  });
  EXPECT_NE(message.find("aborted: the client was closed"), std::string::npos) << message;
}

TEST(HttpClient, ARefusedConnectionIsARetryableTransportError) {
  std::uint16_t closed_port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = a.local_endpoint().port();
  }
  auto result = run(options_for(closed_port), [](http::client& c) -> asio::awaitable<http::verdict> {
    try {
      co_await c.send(post("/w", "x"));
    } catch (const http::transport_error& e) {
      co_return http::judge_failure(e, "writing");
    }
    co_return http::verdict::stored_part();
  });
  EXPECT_EQ(result.what, http::verdict::kind::retry);
  EXPECT_NE(result.why.find("cannot connect to http://127.0.0.1:"), std::string::npos) << result.why;
}

TEST(HttpClient, SendsBasicAuthAndConfiguredHeaders) {
  std::string seen_auth, seen_header;
  scripted_server server([&](const server_request& req) {
    seen_auth = std::string(req[beast::http::field::authorization]);
    seen_header = std::string(req["X-Scope"]);
    return reply(200, "");
  });
  auto options = options_for(server.port());
  options.has_auth = true;
  options.user = "alice";
  options.password = "s3cret";
  options.headers = {{"X-Scope", "tenant-1"}};
  run(options, [](http::client& c) -> asio::awaitable<unsigned> { co_return (co_await c.send(post("/", ""))).status; });
  EXPECT_EQ(seen_auth, "Basic YWxpY2U6czNjcmV0");  // base64("alice:s3cret")
  EXPECT_EQ(seen_header, "tenant-1");
}

TEST(HttpClient, GzipsRequestBodiesAndInflatesGzipResponses) {
  std::string seen_encoding, seen_body;
  scripted_server server([&](const server_request& req) {
    seen_encoding = std::string(req[beast::http::field::content_encoding]);
    seen_body = http::gunzip(req.body());
    auto r = reply(200, http::gzip("compressed answer"));
    r.response.set(beast::http::field::content_encoding, "gzip");
    return r;
  });
  const std::string payload(100000, 'a');
  auto body = run(options_for(server.port()), [&](http::client& c) -> asio::awaitable<std::string> {
    auto req = post("/w", payload);
    req.gzip = true;
    co_return (co_await c.send(std::move(req))).body;
  });
  EXPECT_EQ(seen_encoding, "gzip");
  EXPECT_EQ(seen_body, payload);
  EXPECT_EQ(body, "compressed answer");
}

TEST(HttpClient, ClassifiesStatusesByTheRetryRules) {
  auto with = [](unsigned status, std::optional<std::chrono::milliseconds> after = {}) {
    http::response r;
    r.status = status;
    r.body = "server says no";
    r.retry_after = after;
    return http::judge_status(r, "writing events");
  };
  EXPECT_EQ(with(200).what, http::verdict::kind::stored);
  EXPECT_EQ(with(204).what, http::verdict::kind::stored);
  for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u}) EXPECT_EQ(with(s).what, http::verdict::kind::retry) << s;
  for (unsigned s : {400u, 401u, 403u, 404u, 413u}) EXPECT_EQ(with(s).what, http::verdict::kind::refused) << s;
  const auto throttled = with(429, 3000ms);
  EXPECT_EQ(throttled.retry_after, 3000ms);
  EXPECT_EQ(with(400).why, "writing events: HTTP 400: server says no");
  EXPECT_EQ(with(401).why, "writing events: authentication failed (HTTP 401): server says no");
}

TEST(HttpClient, ParsesRetryAfterSecondsAndDates) {
  EXPECT_EQ(http::parse_retry_after("5"), std::chrono::milliseconds(5000));
  EXPECT_EQ(http::parse_retry_after(" 0 "), std::chrono::milliseconds(0));
  EXPECT_EQ(http::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), std::chrono::milliseconds(0));  // past
  const auto later = http::parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT");
  ASSERT_TRUE(later.has_value());
  EXPECT_GT(*later, std::chrono::hours(24 * 365));
  EXPECT_FALSE(http::parse_retry_after("soon").has_value());
  EXPECT_FALSE(http::parse_retry_after("").has_value());
}

TEST(HttpClient, GunzipRejectsCorruptAndTruncatedData) {
  const std::string packed = http::gzip("hello, world");
  EXPECT_EQ(http::gunzip(packed), "hello, world");
  EXPECT_THROW(http::gunzip(packed.substr(0, packed.size() / 2)), std::runtime_error);
  EXPECT_THROW(http::gunzip("not gzip at all"), std::runtime_error);
}

TEST(HttpClient, UrlEncodesQueryValues) {
  EXPECT_EQ(osprof::detail::percent_encode("SELECT * FROM \"e\" WHERE a='b c'"),
            "SELECT%20%2A%20FROM%20%22e%22%20WHERE%20a%3D%27b%20c%27");
  EXPECT_EQ(osprof::detail::percent_encode("a-b_c.d~e"), "a-b_c.d~e");
}

TEST(HttpClient, OptionsComeFromTheConnectionString) {
  auto cs = osprof::connection_string::parse(
      "elasticsearch+https://bob:pw@search.example:9443?tls_verify=false&timeout_ms=250&gzip=true&max_body_bytes=8192");
  constexpr http::backend search{"elasticsearch", "Search", 9200, 1u << 20, "", ""};
  const auto endpoint = http::endpoint_options::parse(cs, search, 10000ms, {});
  EXPECT_TRUE(endpoint.gzip);
  EXPECT_EQ(endpoint.max_body_bytes, 8192u);
  const auto& o = endpoint.client;
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.host, "search.example");
  EXPECT_EQ(o.port, 9443);
  EXPECT_TRUE(o.has_auth);
  EXPECT_EQ(o.user, "bob");
  EXPECT_EQ(o.password, "pw");
  EXPECT_FALSE(o.verify_peer);
  EXPECT_EQ(o.timeout, 250ms);
  EXPECT_EQ(o.redacted.find("pw"), std::string::npos);
  const auto plain_endpoint =
      http::endpoint_options::parse(osprof::connection_string::parse("influxdb://localhost/db?compression=none"),
                                    {"influxdb", "InfluxDB", 8086, 1u << 20, "", ""}, 10000ms, {});
  EXPECT_FALSE(plain_endpoint.gzip);
  EXPECT_EQ(plain_endpoint.max_body_bytes, 1u << 20);
  const auto& plain = plain_endpoint.client;
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.port, 8086);
  EXPECT_FALSE(plain.has_auth);
  EXPECT_TRUE(plain.verify_peer);
}

// ---------------------------------------------------------------- TLS

// A private CA and a server certificate naming 127.0.0.1 and localhost, made with the openssl
// command line once for this suite.
class HttpClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("osprof-http-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string d = dir_.string();
    const std::string script =
        "cd '" + d + "' && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=osprof test CA' -keyout ca.key -out ca.crt && "
        "openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext "
        "-out server.crt";
    ASSERT_EQ(std::system(("(" + script + ") >/dev/null 2>&1").c_str()), 0) << "openssl could not make certificates";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

 public:
  static std::string file(const char* name) { return (dir_ / name).string(); }

 private:
  static inline std::filesystem::path dir_;
};

// Serves HTTPS on `address`, one request per connection, answering 200 "secure".
class tls_server {
 public:
  explicit tls_server(const std::string& address) : ssl_(asio::ssl::context::tls_server),
      acceptor_(ioc_, tcp::endpoint(asio::ip::make_address(address), 0)) {
    ssl_.use_certificate_chain_file(HttpClientTls::file("server.crt"));
    ssl_.use_private_key_file(HttpClientTls::file("server.key"), asio::ssl::context::pem);
    thread_ = std::thread([this] {
      while (!stopping_) {
        tcp::socket socket(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        asio::ssl::stream<tcp::socket&> stream(socket, ssl_);
        stream.handshake(asio::ssl::stream_base::server, ec);
        if (ec) continue;  // the client refused our certificate
        beast::flat_buffer buffer;
        server_request req;
        beast::http::read(stream, buffer, req, ec);
        if (ec) continue;
        server_response res{beast::http::status::ok, 11};
        res.body() = "secure";
        res.keep_alive(false);
        res.prepare_payload();
        beast::http::write(stream, res, ec);
        stream.shutdown(ec);
      }
    });
  }
  ~tls_server() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket waker(ioc_);
    waker.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ioc_;
  asio::ssl::context ssl_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

// The outcome of one GET: the body, or the transport error and whether it is a TLS failure.
struct tls_outcome {
  std::string body;
  std::string error;
  bool tls_failure = false;
};

tls_outcome get_over_tls(http::client_options options) {
  options.tls = true;
  return run(std::move(options), [](http::client& c) -> asio::awaitable<tls_outcome> {
    tls_outcome out;
    try {
      http::request req;
      req.method = "GET";
      out.body = (co_await c.send(std::move(req))).body;
    } catch (const http::transport_error& e) {
      out.error = e.what();
      out.tls_failure = e.tls_failure;
    }
    co_return out;
  });
}

TEST_F(HttpClientTls, VerifiesTheServerAgainstTheGivenCa) {
  tls_server server("127.0.0.1");
  auto options = options_for(server.port());
  options.ca_file = file("ca.crt");
  const auto out = get_over_tls(options);
  EXPECT_EQ(out.body, "secure") << out.error;
}

TEST_F(HttpClientTls, RefusesAServerItCannotVerify) {
  tls_server server("127.0.0.1");
  const auto out = get_over_tls(options_for(server.port()));  // the system's CAs only
  EXPECT_TRUE(out.body.empty());
  EXPECT_TRUE(out.tls_failure) << out.error;
  http::transport_error e(out.error, out.tls_failure);
  EXPECT_EQ(http::judge_failure(e, "writing").what, http::verdict::kind::refused) << "retrying cannot fix a certificate";
}

TEST_F(HttpClientTls, RefusesACertificateForAnotherHost) {
  tls_server server("127.0.0.2");  // the certificate names 127.0.0.1 and localhost only
  auto options = options_for(server.port());
  options.host = "127.0.0.2";
  options.ca_file = file("ca.crt");
  const auto out = get_over_tls(options);
  EXPECT_TRUE(out.body.empty());
  EXPECT_TRUE(out.tls_failure) << out.error;
}

TEST_F(HttpClientTls, TlsVerifyFalseAcceptsAnyCertificate) {
  tls_server server("127.0.0.1");
  auto options = options_for(server.port());
  options.verify_peer = false;
  EXPECT_EQ(get_over_tls(options).body, "secure");
}

}  // namespace
