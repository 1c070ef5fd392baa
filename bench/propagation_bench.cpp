// Costs of propagation: signing and verifying OSProfiler headers, parsing traceparent, the
// Beast server piece with and without trace headers, and running handlers through the
// traced executor.
#include <osprof/drivers.hpp>
#include <osprof/emitter.hpp>
#include <osprof/propagation.hpp>
#include <osprof_beast/beast.hpp>

#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/string_body.hpp>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using osprof::uuid;

const uuid B = *uuid::parse("11111111-2222-3333-4444-555555555555");
const uuid P = *uuid::parse("66666666-7777-8888-9999-000000000000");

void BM_SignTraceInfo(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(osprof::sign_trace_info("SECRET_KEY", B, P));
}
BENCHMARK(BM_SignTraceInfo);

// Verification with the matching key in last position among `range(0)` keys.
void BM_VerifyTraceInfo(benchmark::State& state) {
  std::vector<std::string> keys;
  for (int i = 1; i < state.range(0); ++i) keys.push_back("OTHER_" + std::to_string(i));
  keys.push_back("SECRET_KEY");
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  for (auto _ : state) benchmark::DoNotOptimize(osprof::verify_trace_info(s.info, s.hmac, keys));
}
BENCHMARK(BM_VerifyTraceInfo)->Arg(1)->Arg(3);

void BM_VerifyForged(benchmark::State& state) {
  const std::vector<std::string> keys = {"SECRET_KEY"};
  const auto s = osprof::sign_trace_info("NOT_THE_KEY", B, P);
  for (auto _ : state) benchmark::DoNotOptimize(osprof::verify_trace_info(s.info, s.hmac, keys));
}
BENCHMARK(BM_VerifyForged);

void BM_ParseTraceparent(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(osprof::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  }
}
BENCHMARK(BM_ParseTraceparent);

void BM_CurrentHeaders(benchmark::State& state) {
  osprof::clean();
  osprof::init("SECRET_KEY", B, P);
  osprof::propagation_options opts;
  opts.emit = osprof::propagators::osprofiler | osprof::propagators::tracecontext;
  for (auto _ : state) benchmark::DoNotOptimize(osprof::current_headers(opts));
  osprof::clean();
}
BENCHMARK(BM_CurrentHeaders);

osprof::beast::server make_server() {
  osprof::beast::server_options o;
  o.propagation.trace_incoming = true;
  o.propagation.hmac_keys = {"SECRET_KEY"};
  o.enabled = true;
  return osprof::beast::server(o);
}

// The common case for a service: a request without trace headers.
void BM_ServerNoTraceHeader(benchmark::State& state) {
  const auto server = make_server();
  http::request<http::string_body> req{http::verb::get, "/v2/servers?limit=1", 11};
  req.set(http::field::host, "api");
  req.set(http::field::user_agent, "bench");
  req.set(http::field::accept, "application/json");
  for (auto _ : state) {
    benchmark::DoNotOptimize(server.handle(req, [] { return 200; }));
  }
}
BENCHMARK(BM_ServerNoTraceHeader);

// A signed request: verify, create the request's trace, `wsgi` start and stop (null backend).
void BM_ServerSignedRequest(benchmark::State& state) {
  osprof::emitter emitter{osprof::options{.connection_string = "null://"}};
  const auto server = make_server();
  http::request<http::string_body> req{http::verb::get, "/v2/servers?limit=1", 11};
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  req.set("X-Trace-Info", s.info);
  req.set("X-Trace-HMAC", s.hmac);
  for (auto _ : state) {
    benchmark::DoNotOptimize(server.handle(req, [] { return 200; }));
  }
}
BENCHMARK(BM_ServerSignedRequest);

// One handler through an io_context, plain and through the traced executor.
void BM_PostPlain(benchmark::State& state) {
  asio::io_context ioc;
  int n = 0;
  for (auto _ : state) {
    asio::post(ioc.get_executor(), [&] { ++n; });
    ioc.run();
    ioc.restart();
  }
  benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_PostPlain);

void BM_PostTraced(benchmark::State& state) {
  asio::io_context ioc;
  auto trace = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"});
  const auto ex = osprof::beast::make_traced(ioc.get_executor(), trace);
  int n = 0;
  for (auto _ : state) {
    asio::post(ex, [&] { ++n; });
    ioc.run();
    ioc.restart();
  }
  benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_PostTraced);

}  // namespace

int main(int argc, char** argv) {
  osprof::register_builtin_drivers();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
