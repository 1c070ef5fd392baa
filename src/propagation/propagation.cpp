// Settings, extract/inject, and the propagated trace a server continues.
#include <osprof/propagation.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "common/env_parse.hpp"
#include "common/log.hpp"
#include "core/event_queue.hpp"
#include "core/profiler_state.hpp"
#include "propagation/codec.hpp"

namespace osprof {
inline namespace v1 {

// ---------------------------------------------------------------------------------------
// Settings

namespace env {

namespace {

const char* get(const char* name) { return detail::env_value(name); }

template <class F>
void for_each_item(std::string_view text, F&& f) {
  for (const std::string& item : detail::split_list(text)) f(detail::lower_trim(item));
}

// An OSPROF_PROPAGATORS* list. Unknown names are reported and ignored; a list with nothing
// usable (and no explicit `none`) leaves the default.
propagators parse_osprof_list(const char* name, const char* value, propagators fallback) {
  std::uint8_t bits = 0;
  bool valid = false;
  for_each_item(value, [&](const std::string& item) {
    if (item == "osprofiler") {
      bits |= static_cast<std::uint8_t>(propagators::osprofiler);
      valid = true;
    } else if (item == "tracecontext") {
      bits |= static_cast<std::uint8_t>(propagators::tracecontext);
      valid = true;
    } else if (item == "none") {
      valid = true;
    } else {
      detail::log_message(std::string("ignoring '") + item + "' in " + name +
                          ": expected osprofiler, tracecontext or none");
    }
  });
  return valid ? static_cast<propagators>(bits) : fallback;
}

}  // namespace

propagators propagator_set(bool accept) {
  const propagators fallback = accept ? propagators::osprofiler : propagators::osprofiler | propagators::tracecontext;
  const char* specific = accept ? "OSPROF_PROPAGATORS_ACCEPT" : "OSPROF_PROPAGATORS_EMIT";
  if (const char* v = get(specific)) return parse_osprof_list(specific, v, fallback);
  if (const char* v = get("OSPROF_PROPAGATORS")) return parse_osprof_list("OSPROF_PROPAGATORS", v, fallback);
  if (const char* v = get("OTEL_PROPAGATORS")) {
    // OpenTelemetry's list speaks only of W3C here (OSProfiler's headers are not an OTel
    // propagator, so they stay on); b3, baggage and the others belong to other libraries.
    bool w3c = false;
    for_each_item(v, [&](const std::string& item) { w3c = w3c || item == "tracecontext"; });
    return w3c ? propagators::osprofiler | propagators::tracecontext : propagators::osprofiler;
  }
  return fallback;
}

}  // namespace env

const propagation_options& default_propagation_options() {
  static const propagation_options options{};
  return options;
}

void warn_about_well_known_key(const propagation_options& opts) {
  static std::atomic<bool> warned{false};
  if (!opts.trace_incoming || warned.load(std::memory_order_relaxed)) return;
  if (std::find(opts.hmac_keys.begin(), opts.hmac_keys.end(), well_known_hmac_key) == opts.hmac_keys.end()) return;
  if (warned.exchange(true)) return;
  detail::log_message(
      "warning: incoming trace headers are verified with OSProfiler's well-known default key SECRET_KEY, so any "
      "client can switch tracing on here; set OSPROF_HMAC_KEYS (propagation_options::hmac_keys) to keys of your own");
}

// ---------------------------------------------------------------------------------------
// The propagated trace

namespace {
// The propagated_trace whose state is (or was last) installed on this thread by activate().
constinit thread_local propagated_trace* active_trace = nullptr;
}  // namespace

propagated_trace::propagated_trace(private_tag, const trace_context& ctx, std::uint8_t trace_flags,
                                   std::string tracestate)
    : state_(new detail::profiler_state()), flags_(trace_flags), tracestate_(std::move(tracestate)) {
  const uuid base = ctx.base_id.is_nil() ? uuid::random() : ctx.base_id;
  state_->reset(ctx.hmac_key, base, ctx.parent_id.is_nil() ? base : ctx.parent_id);
}

propagated_trace::~propagated_trace() {
  // Destroyed while still installed on this thread (a scope outliving its trace): leave no
  // dangling profiler behind.
  if (detail::current == state_) detail::current = nullptr;
  if (active_trace == this) active_trace = nullptr;
  delete state_;
}

std::shared_ptr<propagated_trace> propagated_trace::create(const trace_context& ctx, std::uint8_t trace_flags,
                                                           std::string tracestate) {
  return std::make_shared<propagated_trace>(private_tag{}, ctx, trace_flags, std::move(tracestate));
}

std::shared_ptr<propagated_trace> propagated_trace::create(const extracted_context& x) {
  if (!x) return nullptr;
  return create(x.context, x.trace_flags, x.tracestate);
}

uuid propagated_trace::base_id() const noexcept { return state_->base_id; }
uuid propagated_trace::current_id() const noexcept { return state_->current_id(); }
std::string_view propagated_trace::hmac_key() const noexcept { return state_->hmac_key; }
std::size_t propagated_trace::depth() const noexcept { return state_->frames.size(); }

std::shared_ptr<propagated_trace> propagated_trace::fork() const {
  state_->send_held_starts();  // the fork's points name the current one as their parent
  return create(trace_context{state_->base_id, state_->current_id(), state_->hmac_key}, flags_, tracestate_);
}

propagated_trace::activation propagated_trace::activate() noexcept {
  const activation previous{detail::current, active_trace};
  detail::current = state_;
  active_trace = this;
  return previous;
}

void propagated_trace::deactivate(activation previous) noexcept {
  detail::current = previous.state;
  active_trace = previous.trace;
}

propagated_trace* propagated_trace::active() noexcept {
  propagated_trace* t = active_trace;
  return t != nullptr && t->state_ == detail::current ? t : nullptr;
}

// ---------------------------------------------------------------------------------------
// Extract

extracted_context extract(const incoming_headers& headers, const propagation_options& opts) {
  extracted_context x;
  // Headers from outside mean nothing until the operator turned this on (as Python's
  // `enabled`): neither verified nor counted.
  if (!opts.trace_incoming || !headers.any()) return x;
  warn_about_well_known_key(opts);

  // 1. OSProfiler's signed pair wins when it verifies.
  if (has(opts.accept, propagators::osprofiler) && (headers.trace_info || headers.trace_hmac)) {
    if (headers.repeated_osprofiler) {
      x.osprofiler_status = header_status::incomplete;
    } else {
      verified_trace_info v = verify_trace_info(headers.trace_info, headers.trace_hmac, opts.hmac_keys);
      x.osprofiler_status = v.status;
      if (v) {
        x.source = trace_source::osprofiler;
        x.context = std::move(v.context);
      }
    }
    if (x.source == trace_source::none) x.rejected = true;
  }

  // 2. traceparent: continues the trace when nothing better did; otherwise it may still hand
  //    its flags and tracestate on when it names the same trace.
  const bool accept_w3c = has(opts.accept, propagators::tracecontext);
  const bool emit_w3c = has(opts.emit, propagators::tracecontext);
  if (headers.traceparent && (accept_w3c || (emit_w3c && x.source == trace_source::osprofiler))) {
    const std::optional<traceparent> tp =
        headers.repeated_traceparent ? std::nullopt : parse_traceparent(*headers.traceparent);
    if (!tp) {
      if (accept_w3c) x.rejected = true;
    } else if (x.source == trace_source::none) {
      if (tp->sampled()) {
        x.source = trace_source::tracecontext;
        // The parent: the exact uuid if an osprof caller left it in tracestate, else the
        // 64-bit span id in the low half (what OSProfiler's OTLP driver reads back).
        uuid parent{0, tp->parent_id};
        std::optional<std::string> state = parse_tracestate(headers.tracestate);
        if (state) {
          if (auto full = detail::parse_uuid_hex(tracestate_get(*state, tracestate_key)); full && full->lo == tp->parent_id) {
            parent = *full;
          }
          x.tracestate = std::move(*state);
        }
        x.context.base_id = tp->trace_id;
        x.context.parent_id = parent;
        // Outgoing OSProfiler headers need a key: the first configured one.
        for (const std::string& key : opts.hmac_keys) {
          if (!key.empty()) {
            x.context.hmac_key = key;
            break;
          }
        }
        x.trace_flags = static_cast<std::uint8_t>((tp->flags & 0x02) | 0x01);
      }
    } else if (tp->trace_id == x.context.base_id) {
      x.trace_flags = static_cast<std::uint8_t>((tp->flags & 0x02) | 0x01);
      if (std::optional<std::string> state = parse_tracestate(headers.tracestate)) x.tracestate = std::move(*state);
    }
  }

  if (x.rejected) detail::event_queue::instance().count_rejected_header();
  return x;
}

// ---------------------------------------------------------------------------------------
// Inject

outgoing_headers make_headers(const trace_context& ctx, const propagation_options& opts, std::uint8_t trace_flags,
                              std::string_view tracestate) {
  outgoing_headers out;
  if (ctx.base_id.is_nil()) return out;
  const uuid parent = ctx.parent_id.is_nil() ? ctx.base_id : ctx.parent_id;
  // get_trace_id_headers(): only with a key (an empty one sends nothing).
  if (has(opts.emit, propagators::osprofiler) && !ctx.hmac_key.empty()) {
    signed_trace_info s = sign_trace_info(ctx.hmac_key, ctx.base_id, parent);
    out.trace_info = std::move(s.info);
    out.trace_hmac = std::move(s.hmac);
  }
  // A parent whose low 64 bits are zero has no valid W3C span id (never one osprof generates).
  if (has(opts.emit, propagators::tracecontext) && parent.lo != 0) {
    traceparent tp;
    tp.trace_id = ctx.base_id;
    tp.parent_id = parent.lo;
    tp.flags = static_cast<std::uint8_t>((trace_flags & 0x02) | 0x01);
    out.traceparent = format_traceparent(tp);
    out.tracestate = tracestate_put(tracestate, tracestate_key, detail::uuid_hex(parent));
  }
  return out;
}

outgoing_headers current_headers(const propagation_options& opts) {
  detail::profiler_state* state = detail::current;
  if (state == nullptr) return {};
  state->send_held_starts();  // the callee's points name the current one as their parent
  const trace_context ctx{state->base_id, state->current_id(), state->hmac_key};
  if (const propagated_trace* t = propagated_trace::active()) {
    return make_headers(ctx, opts, t->trace_flags(), t->tracestate());
  }
  return make_headers(ctx, opts);
}

}  // namespace v1
}  // namespace osprof
