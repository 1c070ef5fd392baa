// osprof-demo-service: a small Boost.Beast HTTP service instrumented with osprof, and the
// example to copy when instrumenting a service. Given --hmac-keys (or OSPROF_TRACE_INCOMING=true)
// it continues the traces that callers send (OSProfiler's signed headers; W3C traceparent if
// enabled); otherwise it ignores trace headers, as osprof does by default. It does a little
// traced work per request, optionally calls a downstream service with the trace propagated,
// and flushes its traces when stopped with SIGINT or SIGTERM.
//
// Only osprof's public API is used: <osprof/...> and <osprof_beast/...>; the command line
// is CLI11's (Debian's libcli11-dev).
#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>
#include <osprof/propagation.hpp>
#include <osprof_beast/beast.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <CLI/CLI.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// An http:// URL split for a client call.
struct target_url {
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";  // path and query
};

std::optional<target_url> parse_url(const std::string& text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) return std::nullopt;
  target_url u;
  u.host = parsed->host_address();  // without the brackets of an IPv6 literal
  if (parsed->has_port()) u.port = parsed->port_number();
  u.target = std::string(parsed->encoded_path());
  if (u.target.empty()) u.target = "/";
  if (parsed->has_query()) u.target += "?" + std::string(parsed->encoded_query());
  return u;
}

struct config {
  std::string listen = "127.0.0.1:8080";
  std::optional<std::string> connection_string, project, service, downstream, call;
  std::vector<std::string> hmac_keys = osprof::env::list("OSPROF_HMAC_KEYS", "SECRET_KEY");
  bool hmac_keys_given = false;  ///< --hmac-keys: the operator trusts these keys
  unsigned threads = 2;
};

std::vector<std::string> split_keys(std::string_view text) {
  std::vector<std::string> keys;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view key = text.substr(0, comma);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (!key.empty()) keys.emplace_back(key);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return keys;
}

// HOST:PORT, [IPv6]:PORT or :PORT (every address); port 0 picks a free one.
std::optional<tcp::endpoint> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  unsigned short port = 0;
  const char* first = text.c_str() + colon + 1;
  const char* last = text.c_str() + text.size();
  const auto [end, error] = std::from_chars(first, last, port);
  if (ec || first == last || error != std::errc{} || end != last) return std::nullopt;
  return tcp::endpoint{address, port};
}

// A CLI11 check: an empty message accepts the value.
CLI::Validator accepts(const char* what, const std::function<bool(const std::string&)>& ok) {
  return CLI::Validator([what, ok](std::string& v) { return ok(v) ? std::string() : std::string(what) + ", not '" + v + "'"; },
                        "");
}

constexpr const char* footer = R"(Paths:
  GET /       traced work: a `db` point with info, a short wait, then the downstream call; 200
  GET /fail   the `db` point fails (the error is recorded on it); 500
  other       404

Trace headers are ignored unless --hmac-keys is given or OSPROF_TRACE_INCOMING=true. Other
propagation settings (OSPROF_PROPAGATORS, OSPROF_PROPAGATORS_ACCEPT, ...) come from the
environment; see integrations/beast/README.md.
Exit codes: 0 success, 1 failure (a call that failed, traces not delivered), 2 usage error.)";

// The command line; --help exits 0, a usage error exits 2 with the reason.
config parse_args(int argc, char** argv) {
  config c;
  CLI::App app(
      "Serves HTTP, continuing the traces callers send signed with --hmac-keys (X-Trace-Info/X-Trace-HMAC, as "
      "Python OSProfiler sends them), and writes its trace points to the connection string's backend.",
      "osprof-demo-service");
  app.footer(footer);
  app.get_formatter()->column_width(30);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  const auto optional = [&app](const char* name, std::optional<std::string>& into, const char* value_name,
                               const char* description) {
    return app.add_option_function<std::string>(name, [&into](const std::string& v) { into = v; }, description)
        ->option_text(value_name);
  };
  const auto http_url = accepts("needs an http://HOST[:PORT]/PATH URL", [](const std::string& v) { return parse_url(v).has_value(); });

  app.add_option("--listen", c.listen, "address to serve on (default 127.0.0.1:8080; port 0 picks a free one)")
      ->option_text("HOST:PORT")
      ->check(accepts("needs HOST:PORT with an IP address", [](const std::string& v) { return parse_listen(v).has_value(); }));
  optional("--connection-string", c.connection_string, "CS",
           "backend for traces (default $OSPROF_CONNECTION_STRING, $OSPROFILER_CONNECTION_STRING, sqlite:///osprof.db)");
  app.add_option_function<std::string>(
         "--hmac-keys",
         [&c](const std::string& v) {
           c.hmac_keys = split_keys(v);
           c.hmac_keys_given = true;
         },
         "continue the traces callers send signed with one of these keys, tried in order (without it trace "
         "headers are ignored; --call signs with the first: default $OSPROF_HMAC_KEYS, else SECRET_KEY)")
      ->option_text("K1,K2")
      ->check(accepts("needs at least one key", [](const std::string& v) { return !split_keys(v).empty(); }));
  optional("--project", c.project, "NAME", "`project` of every stored event (default $OSPROF_PROJECT)");
  optional("--service", c.service, "NAME", "`service` of every stored event (default $OSPROF_SERVICE, else the program name)");
  optional("--downstream", c.downstream, "URL", "an http:// service to call, with the trace, while handling GET /")->check(http_url);
  app.add_option("--threads", c.threads, "threads running the service (default 2)")
      ->option_text("N")
      ->check(CLI::Range(1u, 256u));
  optional("--call", c.call, "URL",
           "do not serve: start a trace signed with the first key, make one traced GET to URL, print the trace id")
      ->check(http_url);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) std::exit(app.exit(e));
    std::fprintf(stderr, "osprof-demo-service: %s\nRun 'osprof-demo-service --help' for the options.\n", e.what());
    std::exit(2);
  }
  return c;
}

// One traced GET: resolve, connect, write, read, all inside the client point (as OSProfiler's
// requests hook wraps the whole send). Returns the status, or throws.
asio::awaitable<unsigned> traced_get(const target_url& url) {
  auto ex = co_await asio::this_coro::executor;
  http::request<http::string_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, url.host + ":" + std::to_string(url.port));
  req.set(http::field::user_agent, "osprof-demo-service");
  // Starts the `http` point and puts the trace headers on the request.
  osprof::beast::client_call call(req, {url.host, url.port, "http"});
  std::exception_ptr error;
  unsigned status = 0;
  try {
    tcp::resolver resolver(ex);
    beast::tcp_stream stream(ex);
    stream.expires_after(10s);
    const auto endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port), asio::use_awaitable);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_await http::async_write(stream, req, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(stream, buffer, res, asio::use_awaitable);
    status = res.result_int();
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    call.fail(error);  // etype and message on the point's stop
    std::rethrow_exception(error);
  }
  call.finish(status);
  co_return status;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

using response = http::response<http::string_body>;

response reply(const http::request<http::string_body>& req, http::status status, std::string body) {
  response res{status, req.version()};
  res.set(http::field::server, "osprof-demo-service");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The application. Runs inside the request's trace when the caller sent a valid one: every
// trace point below joins it, whichever thread resumes the coroutine.
asio::awaitable<response> handle(const http::request<http::string_body>& req, const config& cfg, std::string& trace) {
  auto ex = co_await asio::this_coro::executor;
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (osprof::get() != nullptr) trace = osprof::get()->base_id().to_string();

  if (req.method() == http::verb::get && path == "/") {
    {
      // A nested point with info, held across a co_await.
      OSPROF_TRACE("db", {{"db", {{"statement", "SELECT id, name FROM items WHERE id = ?"}, {"params", "[42]"}}}});
      asio::steady_timer query_time(ex, 2ms);
      co_await query_time.async_wait(asio::use_awaitable);
    }
    std::string downstream = "null";
    if (cfg.downstream) {
      const auto url = parse_url(*cfg.downstream);
      std::optional<unsigned> status;
      std::string error;
      try {
        status = co_await traced_get(*url);
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (!status) {
        co_return reply(req, http::status::bad_gateway,
                        R"({"error": "downstream call failed: )" + json_escape(error) + R"("})" "\n");
      }
      downstream = R"({"url": ")" + json_escape(*cfg.downstream) + R"(", "status": )" + std::to_string(*status) + "}";
    }
    co_return reply(req, http::status::ok,
                    R"({"ok": true, "trace": ")" + trace + R"(", "downstream": )" + downstream + "}\n");
  }

  if (req.method() == http::verb::get && path == "/fail") {
    std::string error;
    try {
      // The point records the exception (etype, message) on its stop event.
      OSPROF_TRACE("db", {{"db", {{"statement", "UPDATE items SET stock = stock - 1 WHERE id = ?"}, {"params", "[42]"}}}});
      asio::steady_timer query_time(ex, 1ms);
      co_await query_time.async_wait(asio::use_awaitable);
      throw std::runtime_error("item 42 is out of stock");
    } catch (const std::exception& e) {
      error = e.what();
    }
    co_return reply(req, http::status::internal_server_error, R"({"error": ")" + json_escape(error) + "\"}\n");
  }

  co_return reply(req, http::status::not_found, "{\"error\": \"not found\"}\n");
}

// An open connection. `idle` is true while it waits for the next request; both it and the
// stream are only touched on the connection's strand.
struct connection {
  explicit connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool idle = true;
};

// Open connections, so that a stop signal can end the idle ones at once (a connection that is
// handling a request finishes it, answers, then closes).
class connections {
 public:
  void add(const std::shared_ptr<connection>& c) {
    std::lock_guard lock(mutex_);
    std::erase_if(list_, [](const std::weak_ptr<connection>& w) { return w.expired(); });
    list_.push_back(c);
  }
  void close_idle() {
    std::lock_guard lock(mutex_);
    for (const std::weak_ptr<connection>& w : list_) {
      if (auto c = w.lock()) {
        asio::post(c->stream.get_executor(), [w] {
          if (auto c = w.lock(); c && c->idle) c->stream.socket().close();
        });
      }
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<connection>> list_;
};

asio::awaitable<void> session(tcp::socket socket, const osprof::beast::server& tracing, const config& cfg,
                              connections& open, const std::atomic<bool>& stopping) {
  auto conn = std::make_shared<connection>(std::move(socket));
  open.add(conn);
  beast::tcp_stream& stream = conn->stream;
  beast::flat_buffer buffer;
  try {
    while (!stopping) {
      // Bounded requests: a header over 16 KiB or a body over 1 MiB is answered 431 or 413,
      // then the connection closes (what is left of such a request cannot be read safely).
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(1024 * 1024);
      stream.expires_after(60s);
      conn->idle = true;
      auto [read_ec, ignored_bytes] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      conn->idle = false;
      if (read_ec == http::error::header_limit || read_ec == http::error::body_limit) {
        const bool header = read_ec == http::error::header_limit;
        http::response<http::string_body> refusal{header ? http::status::request_header_fields_too_large
                                                         : http::status::payload_too_large, 11};
        refusal.set(http::field::content_type, "application/json");
        refusal.body() = header ? "{\"error\": \"request header too large (16 KiB at most)\"}\n"
                                : "{\"error\": \"request body too large (1 MiB at most)\"}\n";
        refusal.keep_alive(false);
        refusal.prepare_payload();
        stream.expires_after(10s);
        co_await http::async_write(stream, refusal, asio::use_awaitable);
        break;
      }
      if (read_ec) break;
      http::request<http::string_body> req = parser.release();
      // The whole of osprof's server side: verify the headers and run the handler inside the
      // caller's trace (or untraced, at no cost, when there is none).
      std::string trace;
      response res = co_await tracing.async_handle(req, [&] { return handle(req, cfg, trace); });
      std::fprintf(stderr, "%s %s -> %u%s%s\n", std::string(req.method_string()).c_str(),
                   std::string(req.target()).c_str(), res.result_int(), trace.empty() ? "" : " trace ", trace.c_str());
      const bool keep_alive = res.keep_alive();
      stream.expires_after(60s);
      co_await http::async_write(stream, res, asio::use_awaitable);
      if (!keep_alive) break;
    }
  } catch (const boost::system::system_error&) {
    // closed by the peer, timed out, or closed for shutdown
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> listen(asio::io_context& ioc, tcp::acceptor& acceptor, const osprof::beast::server& tracing,
                             const config& cfg, connections& open, const std::atomic<bool>& stopping) {
  auto last_report = std::chrono::steady_clock::time_point{};
  while (!stopping) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (stopping || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of file descriptors (EMFILE, ENFILE), buffers or memory, or a connection that was
      // reset while queued: the listener stays, and accepts again once connections close.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report >= 10s) {
        std::fprintf(stderr, "osprof-demo-service: accepting a connection failed: %s; retrying\n", ec.message().c_str());
        last_report = now;
      }
      asio::steady_timer pause(ioc, 100ms);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(std::move(socket), tracing, cfg, open, stopping), asio::detached);
  }
}

void print_stats(const osprof::emitter& tracing) {
  const osprof::stats s = tracing.get_stats();
  std::fprintf(stderr, "osprof-demo-service: %llu events written, %llu dropped, %llu rejected trace headers%s%s%s%s\n",
               static_cast<unsigned long long>(s.written), static_cast<unsigned long long>(s.dropped()),
               static_cast<unsigned long long>(s.rejected_headers), s.last_error.empty() ? "" : "; last error: ",
               s.last_error.c_str(), s.start_error.empty() ? "" : "; not tracing: ", s.start_error.c_str());
}

osprof::options emitter_options(const config& cfg) {
  osprof::options opts;
  if (cfg.connection_string) opts.connection_string = *cfg.connection_string;
  if (cfg.project) opts.project = *cfg.project;
  if (cfg.service) opts.service = *cfg.service;
  return opts;
}

// --call: what `openstack --os-profile KEY ...` does: a new trace, one traced request.
int call(const config& cfg) {
  const auto url = parse_url(*cfg.call);  // checked while parsing
  osprof::emitter tracing{emitter_options(cfg)};
  asio::io_context ioc;
  osprof::init(cfg.hmac_keys.front());
  const std::string trace = osprof::get()->base_id().to_string();
  int exit_code = 0;
  osprof::start("client", {{"demo", {{"url", *cfg.call}}}});
  // The thread's profiler travels into the coroutine on a traced executor.
  asio::co_spawn(osprof::beast::make_traced(ioc.get_executor(), osprof::beast::current_trace()), traced_get(*url),
                 [&](std::exception_ptr e, unsigned status) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       std::fprintf(stderr, "osprof-demo-service: call failed: %s\n", ex.what());
                     }
                     exit_code = 1;
                   } else {
                     std::printf("HTTP %u\n", status);
                   }
                 });
  ioc.run();
  osprof::stop();
  osprof::clean();
  std::printf("Trace ID: %s\n", trace.c_str());
  std::fflush(stdout);
  tracing.flush();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  const config cfg = parse_args(argc, argv);
  if (cfg.hmac_keys.empty()) {
    // OSPROF_HMAC_KEYS set to nothing but separators ("," or " , "): no key to sign or verify with.
    std::fprintf(stderr, "osprof-demo-service: no HMAC key: OSPROF_HMAC_KEYS holds none (give --hmac-keys K1,K2)\n");
    return 2;
  }
  osprof::register_builtin_drivers();
  try {
    if (cfg.call) return call(cfg);

    osprof::emitter tracing{emitter_options(cfg)};
    osprof::beast::server_options server_opts;
    server_opts.propagation.hmac_keys = cfg.hmac_keys;
    // Keys given on the command line are the operator's decision to trust callers that hold
    // them; otherwise OSPROF_TRACE_INCOMING decides (off by default).
    if (cfg.hmac_keys_given) server_opts.propagation.trace_incoming = true;
    const osprof::beast::server server(server_opts);

    asio::io_context ioc(static_cast<int>(cfg.threads));
    tcp::acceptor acceptor(ioc);
    const tcp::endpoint where = *parse_listen(cfg.listen);  // checked while parsing
    acceptor.open(where.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(where);
    acceptor.listen();
    std::printf("osprof-demo-service: listening on http://%s:%u\n", where.address().to_string().c_str(),
                static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);

    std::atomic<bool> stopping{false};
    connections open;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      std::fprintf(stderr, "osprof-demo-service: stopping\n");
      stopping = true;
      acceptor.close();
      open.close_idle();  // requests being handled finish first; idle connections end now
    });
    asio::co_spawn(ioc, listen(ioc, acceptor, server, cfg, open, stopping), asio::detached);

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < cfg.threads; ++i) threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();

    // Everything the requests traced reaches the backend before the process ends.
    const bool delivered = tracing.shutdown(5s);
    print_stats(tracing);
    return delivered ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osprof-demo-service: %s\n", e.what());
    return 1;
  }
}
