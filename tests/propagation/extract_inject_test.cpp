// Extract (precedence, counting, tracestate pass-through), inject (current headers), the
// RPC form, the settings, and the propagated trace's activation.
#include <osprof/propagation.hpp>

#include <gtest/gtest.h>

#include "core/event_queue.hpp"
#include "support/env_guard.hpp"

namespace {

using osprof::incoming_headers;
using osprof::propagation_options;
using osprof::propagators;
using osprof::trace_source;
using osprof::uuid;

const uuid B = *uuid::parse("11111111-2222-3333-4444-555555555555");
const uuid P = *uuid::parse("66666666-7777-8888-9999-000000000000");

std::uint64_t rejected_count() { return osprof::detail::event_queue::instance().read_totals().rejected_headers; }

// Options of a service whose operator turned incoming traces on.
propagation_options options(propagators accept, propagators emit, std::vector<std::string> keys = {"SECRET_KEY"}) {
  propagation_options o;
  o.trace_incoming = true;
  o.hmac_keys = std::move(keys);
  o.accept = accept;
  o.emit = emit;
  return o;
}
const propagators both = propagators::osprofiler | propagators::tracecontext;

// Resets this thread's profiler around a test.
struct clean_thread {
  clean_thread() { osprof::clean(); }
  ~clean_thread() { osprof::clean(); }
};

// Until the operator turns trace_incoming on, extract() does not look at the headers: a valid
// one continues nothing, an invalid one is not counted.
TEST(Extract, NothingIsContinuedUntilTurnedOn) {
  clean_thread clean;
  const auto before = rejected_count();
  auto off = options(both, both);
  off.trace_incoming = false;
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  osprof::incoming_headers h;
  h.trace_info = s.info;
  h.trace_hmac = s.hmac;
  h.traceparent = "00-11111111222233334444555555555555-0000000000000001-01";
  EXPECT_FALSE(osprof::extract(h, off));
  EXPECT_EQ(osprof::extract(h, off).osprofiler_status, osprof::header_status::missing);
  h.trace_hmac = "forged";
  EXPECT_FALSE(osprof::extract(h, off));
  EXPECT_EQ(rejected_count(), before);
  h.trace_hmac = s.hmac;
  EXPECT_TRUE(osprof::extract(h, options(both, both)));
}

TEST(Extract, NoHeadersIsNotTracedAndNotCounted) {
  const auto before = rejected_count();
  const auto x = osprof::extract({}, options(both, both));
  EXPECT_FALSE(x);
  EXPECT_FALSE(x.rejected);
  EXPECT_EQ(rejected_count(), before);
}

TEST(Extract, SignedHeaderContinuesWithTheMatchingKey) {
  const auto s = osprof::sign_trace_info("NEW", B, P);
  incoming_headers h;
  h.trace_info = s.info;
  h.trace_hmac = s.hmac;
  const auto x = osprof::extract(h, options(propagators::osprofiler, both, {"OLD", "NEW"}));
  ASSERT_TRUE(x);
  EXPECT_EQ(x.source, trace_source::osprofiler);
  EXPECT_EQ(x.context.base_id, B);
  EXPECT_EQ(x.context.parent_id, P);
  EXPECT_EQ(x.context.hmac_key, "NEW");
}

TEST(Extract, RejectedHeaderIsCountedOnceAndNotTraced) {
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  incoming_headers h;
  h.trace_info = s.info;
  h.trace_hmac = s.hmac;
  const auto before = rejected_count();
  const auto x = osprof::extract(h, options(propagators::osprofiler, both, {"WRONG"}));
  EXPECT_FALSE(x);
  EXPECT_TRUE(x.rejected);
  EXPECT_EQ(x.osprofiler_status, osprof::header_status::bad_signature);
  EXPECT_EQ(rejected_count(), before + 1);

  incoming_headers only_info;
  only_info.trace_info = s.info;
  EXPECT_FALSE(osprof::extract(only_info, options(propagators::osprofiler, both)));
  EXPECT_EQ(rejected_count(), before + 2);

  incoming_headers repeated = h;
  repeated.repeated_osprofiler = true;
  EXPECT_FALSE(osprof::extract(repeated, options(propagators::osprofiler, both)));
  EXPECT_EQ(rejected_count(), before + 3);
}

TEST(Extract, OsprofilerIgnoredWhenNotAccepted) {
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  incoming_headers h;
  h.trace_info = s.info;
  h.trace_hmac = s.hmac;
  const auto before = rejected_count();
  EXPECT_FALSE(osprof::extract(h, options(propagators::tracecontext, both)));
  EXPECT_EQ(rejected_count(), before);
}

TEST(Extract, TraceparentWhenAccepted) {
  incoming_headers h;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
  h.tracestate = "congo=t61rcWkgMzE";
  EXPECT_FALSE(osprof::extract(h, options(propagators::osprofiler, both)));  // default: unsigned not accepted
  const auto x = osprof::extract(h, options(both, both, {"", "K1", "K2"}));
  ASSERT_TRUE(x);
  EXPECT_EQ(x.source, trace_source::tracecontext);
  EXPECT_EQ(x.context.base_id.to_string(), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
  EXPECT_EQ(x.context.parent_id, (uuid{0, 0x00f067aa0ba902b7u}));
  EXPECT_EQ(x.context.hmac_key, "K1");  // the first (non-empty) key signs outgoing headers
  EXPECT_EQ(x.trace_flags, 0x03);
  EXPECT_EQ(x.tracestate, "congo=t61rcWkgMzE");
}

TEST(Extract, UnsampledTraceparentIsNotTracedNorCounted) {
  incoming_headers h;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
  const auto before = rejected_count();
  EXPECT_FALSE(osprof::extract(h, options(both, both)));
  EXPECT_EQ(rejected_count(), before);
}

TEST(Extract, InvalidOrRepeatedTraceparentIsCountedWhenAccepted) {
  const auto before = rejected_count();
  incoming_headers h;
  h.traceparent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
  EXPECT_FALSE(osprof::extract(h, options(both, both)));
  EXPECT_EQ(rejected_count(), before + 1);
  EXPECT_FALSE(osprof::extract(h, options(propagators::osprofiler, both)));  // not accepted: not looked at
  EXPECT_EQ(rejected_count(), before + 1);
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  h.repeated_traceparent = true;
  EXPECT_FALSE(osprof::extract(h, options(both, both)));
  EXPECT_EQ(rejected_count(), before + 2);
}

TEST(Extract, InvalidTracestateIsDroppedButTraceparentStays) {
  incoming_headers h;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  h.tracestate = "foo=1,foo=2";
  const auto x = osprof::extract(h, options(both, both));
  ASSERT_TRUE(x);
  EXPECT_EQ(x.tracestate, "");
}

TEST(Extract, SignedHeaderWinsOverTraceparent) {
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  incoming_headers h;
  h.trace_info = s.info;
  h.trace_hmac = s.hmac;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  h.tracestate = "congo=x";
  const auto x = osprof::extract(h, options(both, both));
  ASSERT_TRUE(x);
  EXPECT_EQ(x.source, trace_source::osprofiler);
  EXPECT_EQ(x.context.base_id, B);
  EXPECT_EQ(x.context.parent_id, P);
  EXPECT_EQ(x.tracestate, "");  // another trace's state is not passed on

  // The same trace in both: its W3C flags and tracestate travel on.
  h.traceparent = "00-11111111222233334444555555555555-9999000000000000-03";
  const auto y = osprof::extract(h, options(propagators::osprofiler, both));
  ASSERT_TRUE(y);
  EXPECT_EQ(y.source, trace_source::osprofiler);
  EXPECT_EQ(y.trace_flags, 0x03);
  EXPECT_EQ(y.tracestate, "congo=x");
}

TEST(Extract, InvalidSignedHeaderFallsBackToTraceparentButIsCounted) {
  const auto s = osprof::sign_trace_info("SECRET_KEY", B, P);
  incoming_headers h;
  h.trace_info = s.info;
  h.trace_hmac = s.hmac;
  h.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const auto before = rejected_count();
  const auto x = osprof::extract(h, options(both, both, {"WRONG"}));
  ASSERT_TRUE(x);
  EXPECT_EQ(x.source, trace_source::tracecontext);
  EXPECT_TRUE(x.rejected);
  EXPECT_EQ(rejected_count(), before + 1);
}

TEST(Inject, NothingWithoutAProfiler) {
  clean_thread guard;
  EXPECT_TRUE(osprof::current_headers(options(both, both)).empty());
}

TEST(Inject, ThreadProfilerGivesPythonIdenticalHeaders) {
  clean_thread guard;
  osprof::init("SECRET_KEY", B, P);
  const auto h = osprof::current_headers(options(both, both));
  // Before any point the callee's parent is init's parent, as in Python.
  EXPECT_EQ(h.trace_info, osprof::sign_trace_info("SECRET_KEY", B, P).info);
  EXPECT_EQ(h.trace_hmac, "64e5ecb1c8ac1801cff0284e43b35653bf623335");
  EXPECT_EQ(h.traceparent, "00-11111111222233334444555555555555-9999000000000000-01");
  EXPECT_EQ(h.tracestate, "osprof=66666666777788889999000000000000");
}

TEST(Inject, TheCurrentPointIsTheParent) {
  clean_thread guard;
  osprof::init("SECRET_KEY", B, P);
  osprof::start("client");
  const uuid point = osprof::get()->id();
  const auto h = osprof::current_headers(options(both, both));
  osprof::stop();
  const auto v = osprof::verify_trace_info(h.trace_info, h.trace_hmac, std::vector<std::string>{"SECRET_KEY"});
  ASSERT_TRUE(v);
  EXPECT_EQ(v.context.base_id, B);
  EXPECT_EQ(v.context.parent_id, point);
  const auto tp = osprof::parse_traceparent(h.traceparent);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->parent_id, point.lo);
}

TEST(Inject, EmitSettingsAndEmptyKey) {
  clean_thread guard;
  osprof::init("", B, P);
  auto h = osprof::current_headers(options(both, both));
  EXPECT_TRUE(h.trace_info.empty());  // Python sends nothing without a key
  EXPECT_FALSE(h.traceparent.empty());
  osprof::clean();
  osprof::init("SECRET_KEY", B, P);
  h = osprof::current_headers(options(both, propagators::osprofiler));
  EXPECT_FALSE(h.trace_info.empty());
  EXPECT_TRUE(h.traceparent.empty());
  EXPECT_TRUE(h.tracestate.empty());
  h = osprof::current_headers(options(both, propagators::none));
  EXPECT_TRUE(h.empty());
}

TEST(Inject, RoundTripThroughW3cKeepsTheExactParent) {
  clean_thread guard;
  osprof::init("K", B, P);
  osprof::start("client");
  const uuid point = osprof::get()->id();
  const auto out = osprof::current_headers(options(both, propagators::tracecontext));
  osprof::stop();
  incoming_headers in;
  in.traceparent = out.traceparent;
  in.tracestate = out.tracestate;
  const auto x = osprof::extract(in, options(propagators::tracecontext, both));
  ASSERT_TRUE(x);
  EXPECT_EQ(x.context.base_id, B);
  EXPECT_EQ(x.context.parent_id, point);  // recovered from osprof's tracestate entry
  // A forged entry that does not match the span id is not used.
  in.tracestate = "osprof=0123456789abcdef0123456789abcdef";
  const auto y = osprof::extract(in, options(propagators::tracecontext, both));
  ASSERT_TRUE(y);
  EXPECT_EQ(y.context.parent_id, (uuid{0, point.lo}));
}

TEST(PropagatedTrace, ActivationRestoresWhatWasThere) {
  clean_thread guard;
  auto t = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"}, 0x03, "congo=1");
  EXPECT_EQ(osprof::get(), nullptr);
  {
    osprof::propagated_scope scope(t.get());
    ASSERT_NE(osprof::get(), nullptr);
    EXPECT_EQ(osprof::get()->base_id(), B);
    EXPECT_EQ(osprof::get()->id(), P);
    EXPECT_EQ(osprof::get()->hmac_key(), "K");
    EXPECT_EQ(osprof::propagated_trace::active(), t.get());
    osprof::start("work");
    const auto h = osprof::current_headers(options(both, both));
    EXPECT_EQ(h.traceparent.substr(h.traceparent.size() - 2), "03");
    EXPECT_EQ(h.tracestate.substr(h.tracestate.find(',')), ",congo=1");
    EXPECT_EQ(t->depth(), 1u);
    osprof::stop();
  }
  EXPECT_EQ(osprof::get(), nullptr);
  EXPECT_EQ(osprof::propagated_trace::active(), nullptr);

  // Over a thread profiler: it comes back afterwards.
  osprof::init("THREAD");
  const auto* thread_profiler = osprof::get();
  {
    osprof::propagated_scope scope(t.get());
    EXPECT_EQ(osprof::get()->hmac_key(), "K");
    {
      osprof::context_scope inner(osprof::trace_context{B, P, "INNER"});
      EXPECT_EQ(osprof::propagated_trace::active(), nullptr);  // another profiler is current
      EXPECT_EQ(osprof::current_headers(options(both, both)).tracestate.find("congo"), std::string::npos);
    }
    EXPECT_EQ(osprof::propagated_trace::active(), t.get());
  }
  EXPECT_EQ(osprof::get(), thread_profiler);
}

TEST(PropagatedTrace, ForkContinuesFromTheCurrentPoint) {
  clean_thread guard;
  auto t = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"});
  osprof::propagated_scope scope(t.get());
  osprof::start("parent");
  const uuid point = osprof::get()->id();
  auto branch = t->fork();
  EXPECT_EQ(branch->base_id(), B);
  EXPECT_EQ(branch->current_id(), point);
  EXPECT_EQ(branch->depth(), 0u);
  osprof::stop();
}

TEST(PropagatedTrace, NilBaseStartsANewTrace) {
  auto t = osprof::propagated_trace::create(osprof::trace_context{});
  EXPECT_FALSE(t->base_id().is_nil());
  EXPECT_EQ(t->current_id(), t->base_id());
  EXPECT_EQ(osprof::propagated_trace::create(osprof::extracted_context{}), nullptr);
}

TEST(PropagatedTrace, DestroyedWhileActiveLeavesNoDanglingProfiler) {
  clean_thread guard;
  auto t = osprof::propagated_trace::create(osprof::trace_context{B, P, "K"});
  t->activate();
  EXPECT_NE(osprof::get(), nullptr);
  t.reset();
  EXPECT_EQ(osprof::get(), nullptr);
  EXPECT_EQ(osprof::propagated_trace::active(), nullptr);
}

TEST(Rpc, ExportIsPythonJson) {
  EXPECT_EQ(osprof::rpc_trace_info_json(osprof::trace_context{B, P, "SECRET_KEY"}),
            R"({"hmac_key": "SECRET_KEY", "base_id": "11111111-2222-3333-4444-555555555555", "parent_id": "66666666-7777-8888-9999-000000000000"})");
  EXPECT_EQ(osprof::rpc_trace_info_json(osprof::trace_context{B, P, "cl\xC3\xA9\""}),
            R"({"hmac_key": "cl\u00e9\"", "base_id": "11111111-2222-3333-4444-555555555555", "parent_id": "66666666-7777-8888-9999-000000000000"})");
}

TEST(Rpc, ImportAsProfilerInit) {
  auto ctx = osprof::parse_rpc_trace_info(osprof::rpc_trace_info_json(osprof::trace_context{B, P, "K"}));
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->base_id, B);
  EXPECT_EQ(ctx->parent_id, P);
  EXPECT_EQ(ctx->hmac_key, "K");

  ctx = osprof::parse_rpc_trace_info(R"({"hmac_key": null, "base_id": "11111111-2222-3333-4444-555555555555"})");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->hmac_key, "");
  EXPECT_EQ(ctx->parent_id, B);

  ctx = osprof::parse_rpc_trace_info(R"({"hmac_key": "K"})");
  ASSERT_TRUE(ctx);
  EXPECT_FALSE(ctx->base_id.is_nil());

  EXPECT_FALSE(osprof::parse_rpc_trace_info(R"({"base_id": "11111111-2222-3333-4444-555555555555"})"));
  EXPECT_FALSE(osprof::parse_rpc_trace_info(R"({"hmac_key": "K", "trace_id": "x"})"));
  EXPECT_FALSE(osprof::parse_rpc_trace_info(R"({"hmac_key": 5})"));
  EXPECT_FALSE(osprof::parse_rpc_trace_info(R"({"hmac_key": "K", "base_id": "nope"})"));
  EXPECT_FALSE(osprof::parse_rpc_trace_info("[]"));
  EXPECT_FALSE(osprof::parse_rpc_trace_info("{"));
}

TEST(Rpc, ImportFromAContext) {
  auto ctx = osprof::parse_rpc_context(
      R"({"user_id": "u", "trace_info": {"hmac_key": "K", "base_id": "11111111-2222-3333-4444-555555555555", "parent_id": "66666666-7777-8888-9999-000000000000"}})");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->parent_id, P);
  EXPECT_FALSE(osprof::parse_rpc_context(R"({"user_id": "u"})"));
  EXPECT_FALSE(osprof::parse_rpc_context(R"({"trace_info": null})"));
}

using osprof_test::env_guard;

TEST(Settings, DefaultsAndEnvironment) {
  env_guard env;
  for (const char* name : {"OSPROF_PROPAGATORS", "OSPROF_PROPAGATORS_ACCEPT", "OSPROF_PROPAGATORS_EMIT",
                           "OTEL_PROPAGATORS", "OSPROF_HMAC_KEYS", "OSPROF_TRACE_INCOMING"}) {
    env.set(name, nullptr);
  }
  propagation_options defaults;
  EXPECT_FALSE(defaults.trace_incoming);
  EXPECT_EQ(defaults.accept, propagators::osprofiler);
  EXPECT_EQ(defaults.emit, both);
  EXPECT_EQ(defaults.hmac_keys, std::vector<std::string>{"SECRET_KEY"});

  env.set("OSPROF_HMAC_KEYS", " K1, ,K2 ");
  env.set("OTEL_PROPAGATORS", "tracecontext,baggage");
  propagation_options otel;
  EXPECT_EQ(otel.hmac_keys, (std::vector<std::string>{"K1", "K2"}));
  EXPECT_EQ(otel.accept, both);
  EXPECT_EQ(otel.emit, both);

  env.set("OTEL_PROPAGATORS", "b3");
  EXPECT_EQ(propagation_options{}.emit, propagators::osprofiler);

  env.set("OSPROF_PROPAGATORS", "TraceContext");
  EXPECT_EQ(propagation_options{}.accept, propagators::tracecontext);
  EXPECT_EQ(propagation_options{}.emit, propagators::tracecontext);

  env.set("OSPROF_PROPAGATORS_EMIT", "none");
  env.set("OSPROF_PROPAGATORS_ACCEPT", "osprofiler, tracecontext");
  EXPECT_EQ(propagation_options{}.emit, propagators::none);
  EXPECT_EQ(propagation_options{}.accept, both);

  env.set("OSPROF_PROPAGATORS_ACCEPT", "bogus");  // nothing usable: the default
  EXPECT_EQ(propagation_options{}.accept, propagators::osprofiler);

  env.set("OSPROF_TRACE_INCOMING", "true");
  EXPECT_TRUE(propagation_options{}.trace_incoming);
  env.set("OSPROF_TRACE_INCOMING", "maybe");  // invalid: logged, and the default (off) kept
  EXPECT_FALSE(propagation_options{}.trace_incoming);
}

}  // namespace
