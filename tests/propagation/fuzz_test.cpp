// Bad input, generated: malformed, oversized and forged trace headers through the Beast server
// piece and the codec. Nothing may crash (this also runs under ASan+UBSan), a forged header
// never starts a trace, every rejection is counted, and no request leaves a profiler behind.
// The generator is seeded (OSPROF_FUZZ_SEED, OSPROF_FUZZ_ITERATIONS) and prints its seed.
#include <osprof_beast/beast.hpp>

#include <osprof/emitter.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <boost/beast/http/string_body.hpp>

#include "support/memory_store.hpp"
#include "propagation/codec.hpp"
#include "trace_events.hpp"

namespace {

namespace http = boost::beast::http;
using osprof::uuid;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

class generator {
 public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }

  std::string bytes(std::size_t max) {
    std::string s(below(max + 1), '\0');
    for (char& c : s) c = static_cast<char>(below(256));
    return s;
  }
  std::string from(std::string_view alphabet, std::size_t max) {
    std::string s(below(max + 1), '\0');
    for (char& c : s) c = alphabet[below(alphabet.size())];
    return s;
  }

  // Small edits of a valid value: flips, cuts, insertions, padding changes, case changes.
  std::string mutate(std::string s) {
    const int edits = 1 + static_cast<int>(below(4));
    for (int i = 0; i < edits; ++i) {
      switch (below(8)) {
        case 0:
          if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
          break;
        case 1:
          if (!s.empty()) s.resize(below(s.size()));
          break;
        case 2: s.insert(below(s.size() + 1), bytes(4)); break;
        case 3:
          if (!s.empty() && s.back() == '=') s.pop_back();
          else s += '=';
          break;
        case 4:
          for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          break;
        case 5: s.insert(below(s.size() + 1), from(" \t\r\n-_+/=.", 3)); break;
        case 6:
          if (!s.empty()) s.erase(below(s.size()), 1 + below(3));
          break;
        default: s += s.substr(0, below(s.size() + 1)); break;
      }
    }
    return s;
  }

  // A JSON-ish payload: usually an object, with the expected keys or others, odd values.
  std::string payload() {
    const char* keys[] = {"base_id", "parent_id", "hmac_key", "trace_id", "base\\u005fid", "", "BASE_ID"};
    std::string out = chance(90) ? "{" : "[";
    const int n = static_cast<int>(below(5));
    for (int i = 0; i < n; ++i) {
      if (i != 0) out += chance(95) ? ", " : ",,";
      out += '"';
      out += keys[below(std::size(keys))];
      out += "\": ";
      out += value(0);
    }
    if (chance(95)) out += out[0] == '{' ? "}" : "]";
    if (chance(5)) out = mutate(out);
    return out;
  }

  std::string value(int depth) {
    switch (below(depth > 20 ? 8 : 10)) {
      case 0: return "\"" + uuid::random().to_string() + "\"";
      case 1: return "\"" + from("0123456789abcdefABCDEF-", 40) + "\"";
      case 2: return "null";
      case 3: return chance(50) ? "true" : "false";
      case 4: return std::to_string(static_cast<std::int64_t>(below(1000)) - 500);
      case 5: return chance(50) ? "1e999" : "123456789012345678901234567890";
      case 6: return "\"\\ud800\\u0000" + from("abc\\\"", 6) + "\"";
      case 7: return "\"" + bytes(6) + "\"";
      case 8: return "[" + value(depth + 1) + "]";
      default: return "{\"k\": " + value(depth + 1) + "}";
    }
  }

  std::string traceparent() {
    traceparent_ = "00-" + osprof::detail::uuid_hex(uuid::random()) + "-" + osprof::detail::uuid_hex(uuid::random()).substr(16) + "-01";
    return chance(50) ? mutate(traceparent_) : traceparent_;
  }

 private:
  std::mt19937_64 rng_;
  std::string traceparent_;
};

TEST(Fuzz, CodecNeverCrashes) {
  const std::uint64_t seed = env_number("OSPROF_FUZZ_SEED", 20240611);
  const std::uint64_t iterations = env_number("OSPROF_FUZZ_ITERATIONS", 20000);
  std::printf("seed %llu, %llu iterations\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(iterations));
  generator g(seed);
  const std::vector<std::string> keys = {"K1", "K2"};
  for (std::uint64_t i = 0; i < iterations; ++i) {
    const std::string junk = g.chance(50) ? g.bytes(300) : g.mutate(g.payload());
    (void)osprof::detail::python_urlsafe_b64decode(junk);
    (void)osprof::parse_traceparent(junk);
    (void)osprof::parse_tracestate(junk);
    (void)osprof::parse_rpc_trace_info(junk);
    (void)osprof::parse_rpc_context(junk);
    (void)osprof::tracestate_put(junk, "osprof", "x");
    (void)osprof::tracestate_get(junk, "osprof");
    // Signed with a configured key, so decoding and the payload rules are what is exercised.
    const auto s = osprof::sign_payload("K2", g.payload());
    const auto v = osprof::verify_trace_info(g.chance(80) ? s.info : g.mutate(s.info), s.hmac, keys);
    if (v) {
      EXPECT_FALSE(v.context.base_id.is_nil());
      EXPECT_FALSE(v.context.parent_id.is_nil());
      EXPECT_EQ(v.context.hmac_key, "K2");
    }
    (void)osprof::verify_trace_info(junk, g.mutate(s.hmac), keys);
  }
}

TEST(Fuzz, ServerNeverCrashesNeverTrustsForgeriesNeverLeaks) {
  const std::uint64_t seed = env_number("OSPROF_FUZZ_SEED", 777);
  const std::uint64_t iterations = env_number("OSPROF_FUZZ_ITERATIONS", 20000) / 2;
  std::printf("seed %llu, %llu requests\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(iterations));
  auto store = osprof::test::memory_store::get("fuzz_server");
  store->clear();
  osprof::emitter emitter{osprof::options{.connection_string = "memory://fuzz_server", .queue_capacity = 1 << 20}};
  osprof::clean();

  generator g(seed);
  osprof::beast::server_options strict;
  strict.propagation.trace_incoming = true;
  strict.propagation.hmac_keys = {"K1", "K2"};
  strict.propagation.accept = osprof::propagators::osprofiler;
  strict.enabled = true;
  osprof::beast::server_options open = strict;
  open.propagation.accept = osprof::propagators::osprofiler | osprof::propagators::tracecontext;
  const osprof::beast::server strict_server(strict), open_server(open);

  std::uint64_t traced = 0, forged_with_osprofiler = 0, leaks = 0, forged_traced = 0;
  const std::uint64_t rejected_before = emitter.get_stats().rejected_headers;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    request req{http::verb::get, "/" + g.from("abc/?=&%", 20), 11};
    // What kind of sender: a forger (wrong key, or no key at all), or a key holder whose
    // header is mangled on the way.
    const int kind = static_cast<int>(g.below(5));
    bool forged = false;
    std::string info, mac;
    switch (kind) {
      case 0: {  // signed with a key the server does not have
        const auto s = osprof::sign_payload("NOT-A-KEY", g.chance(50) ? g.payload()
                                                                       : R"({"base_id": ")" + uuid::random().to_string() + "\"}");
        info = s.info;
        mac = g.chance(70) ? s.hmac : g.mutate(s.hmac);
        forged = true;
        break;
      }
      case 1:  // random bytes, oversized sometimes
        info = g.chance(10) ? std::string(osprof::max_trace_info_size + g.below(50000), 'A') : g.bytes(200);
        mac = g.chance(50) ? g.from("0123456789abcdef", 41) : g.bytes(60);
        forged = true;
        break;
      case 2: {  // a key holder's header, mangled
        const auto s = osprof::sign_trace_info("K1", uuid::random(), uuid::random());
        info = g.mutate(s.info);
        mac = g.chance(50) ? s.hmac : g.mutate(s.hmac);
        break;
      }
      case 3: {  // a key holder's arbitrary payload
        const auto s = osprof::sign_payload("K2", g.payload());
        info = s.info;
        mac = s.hmac;
        break;
      }
      default:  // no OSProfiler header
        break;
    }
    if (!info.empty() || g.chance(5)) req.set("X-Trace-Info", info);
    if (!mac.empty() || g.chance(5)) req.set("X-Trace-HMAC", mac);
    if (g.chance(10)) req.insert("X-Trace-Info", g.bytes(10));  // repeated: never trusted
    const bool with_traceparent = g.chance(40);
    if (with_traceparent) {
      req.set("traceparent", g.traceparent());
      if (g.chance(10)) req.insert("traceparent", g.traceparent());
      for (int n = static_cast<int>(g.below(3)); n > 0; --n) req.insert("tracestate", g.mutate("congo=1,rojo=2"));
    }
    const bool use_open = g.chance(50);
    const auto& server = use_open ? open_server : strict_server;
    if (forged && !with_traceparent) ++forged_with_osprofiler;

    if (osprof::get() != nullptr) ++leaks;
    bool was_traced = false;
    try {
      server.handle(req, [&] {
        was_traced = osprof::get() != nullptr;
        if (g.chance(3)) throw std::runtime_error("handler failure");
        return response{http::status::ok, 11};
      });
    } catch (const std::runtime_error&) {
    }
    if (osprof::get() != nullptr) ++leaks;
    if (was_traced) ++traced;
    if (forged && was_traced && !with_traceparent) ++forged_traced;
    if (forged && was_traced && with_traceparent && !use_open) ++forged_traced;
  }
  EXPECT_EQ(leaks, 0u);
  EXPECT_EQ(forged_traced, 0u);  // a forged OSProfiler header never starts a trace
  // Every forged OSProfiler header (without a traceparent to fall back on) was counted.
  EXPECT_GE(emitter.get_stats().rejected_headers - rejected_before, forged_with_osprofiler);
  EXPECT_GT(traced, 0u);  // the generator does reach the traced path

  // Every traced request left exactly one balanced `wsgi` point.
  ASSERT_TRUE(emitter.flush(std::chrono::seconds(60)));
  const auto events = osprof::test::parse_events(store->events());
  std::uint64_t starts = 0, stops = 0;
  for (const auto& e : events) {
    if (e.point() != "wsgi") continue;
    (e.is_start() ? starts : stops) += 1;
  }
  EXPECT_EQ(starts, traced);
  EXPECT_EQ(stops, traced);
  std::printf("%llu of %llu requests traced, %llu forged OSProfiler headers rejected\n",
              static_cast<unsigned long long>(traced), static_cast<unsigned long long>(iterations),
              static_cast<unsigned long long>(forged_with_osprofiler));
}

}  // namespace
