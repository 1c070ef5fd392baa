// Trace points: the caller-side hot path. Everything here runs on the instrumented thread;
// see the budget in README.md ("How cheap is a trace point").
#include <osprof/profiler.hpp>

#include <pthread.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/clock.hpp"
#include "core/event_queue.hpp"
#include "core/exception_capture.hpp"
#include "core/info_codec.hpp"
#include "core/profiler_state.hpp"
#include "core/random.hpp"
#include "core/small_copy.hpp"
#include "core/tsan_annotations.hpp"

namespace osprof::detail {

void reseed_after_fork() noexcept;

// The carrier of a span record (raw_event::build_span): the held start's frame, in its
// profiler's stack, and what the stop adds.
struct span_source {
  const profiler_state* state;
  const profiler_state::frame* top;
  uuid parent;
  std::span<const info_field> fields;  // the stop's
  std::uint64_t stop_time;
};

namespace {

// This thread's queue producer. The raw pointer is what trace points read; the owner
// destroys it (returning unused credits) when the thread exits.
constinit thread_local producer* tls_producer = nullptr;
// Set once the thread's producer is destroyed (thread exit): nothing may recreate it.
constinit thread_local bool producer_destroyed = false;

struct producer_owner {
  std::unique_ptr<producer> p;
  ~producer_owner() {
    tls_producer = nullptr;
    producer_destroyed = true;
  }
};

producer* make_producer() {
  thread_local producer_owner owner;
  if (!owner.p) {
    owner.p = std::make_unique<producer>(event_queue::instance().queue());
    tls_producer = owner.p.get();
  }
  return owner.p.get();
}

}  // namespace

std::uint64_t this_thread_accepted() noexcept {
  return tls_producer != nullptr ? tls_producer->accepted.load(std::memory_order_relaxed) : 0;
}

namespace {

// The profiler that init() creates for this thread, reused across init()/clean().
profiler_state* thread_default_state() {
  thread_local std::unique_ptr<profiler_state> state = std::make_unique<profiler_state>();
  return state.get();
}

void after_fork_child() noexcept {
  reseed_after_fork();
  event_queue::instance().after_fork_in_child();
  // The parent sends the starts it holds: were the child to send them too (when it stops those
  // points), each would be stored twice.
  if (profiler_state* state = current) {
    for (auto& f : state->frames) f.start_held = false;
  }
}

[[maybe_unused]] const int fork_handler_installed = pthread_atfork(nullptr, nullptr, &after_fork_child);

constexpr std::string_view truncation_key = "osprof_truncated_bytes";

// Writes the name, then (after an exception) u32 size + message, then the encoded info.
void write_payload(std::byte* out, std::string_view name, std::span<const info_field> fields,
                   const exception_trailer* exc) noexcept {
  // (memcpy from an empty view's null data() is undefined, hence the size checks)
  if (!name.empty()) std::memcpy(out, name.data(), name.size());
  out += name.size();
  if (exc != nullptr) {
    const auto size = static_cast<std::uint32_t>(exc->message.size());
    std::memcpy(out, &size, 4);
    if (size != 0) std::memcpy(out + 4, exc->message.data(), size);
    out += 4 + size;
  }
  encode_info(out, fields);
}

// The payload of a stop after an exception, or of an event whose name + info exceed the
// inline budget (then out of line, or a truncation marker when even that is not allowed).
// Rare; kept out of the hot path.
[[gnu::noinline, gnu::cold]] void fill_payload_slow(event_queue& q, raw_event& ev, std::string_view name,
                                                    std::span<const info_field> fields, const exception_trailer* exc,
                                                    std::int64_t& spilled_bytes) noexcept {
  std::size_t size = name.size() + encoded_info_size(fields) + (exc != nullptr ? 4 + exc->message.size() : 0);
  if (size <= inline_payload_budget) {
    write_payload(ev.payload, name, fields, exc);
    ev.payload_size = static_cast<std::uint32_t>(size);
    return;
  }
  void* buffer = nullptr;
  if (size <= q.config().max_event_bytes && q.take_spill_bytes(static_cast<std::int64_t>(size))) {
    buffer = std::malloc(size);
    if (buffer == nullptr) q.release(0, static_cast<std::int64_t>(size));
  }
  if (buffer != nullptr) {
    // Out of line: once, counted, and bounded by max_event_bytes and the byte cap.
    ev.spill = static_cast<std::byte*>(buffer);
    spilled_bytes = static_cast<std::int64_t>(size);
    write_payload(ev.spill, name, fields, exc);
    q.count_spilled();
  } else {
    // Keep the event (its ids hold the tree together) but replace its info by a marker.
    const info_field marker[] = {{truncation_key, static_cast<std::uint64_t>(size)}};
    name = name.substr(0, inline_payload_budget - encoded_info_size(marker) - 4);
    const exception_trailer no_message{exc != nullptr ? exc->type : nullptr, {}};
    ev.name_size = static_cast<std::uint16_t>(name.size());
    size = name.size() + encoded_info_size(marker) + (exc != nullptr ? 4 : 0);
    write_payload(ev.payload, name, marker, exc != nullptr ? &no_message : nullptr);
    ev.flags |= event_flags::truncated;
    q.count_truncated();
  }
  ev.payload_size = static_cast<std::uint32_t>(size);
}

[[gnu::noinline, gnu::cold]] producer* first_producer(event_queue& q) noexcept {
  if (producer_destroyed) {  // a trace point from a thread_local destructor, after the producer's
    q.count_queue_full();
    return nullptr;
  }
  try {
    return make_producer();
  } catch (...) {
    q.count_queue_full();
    return nullptr;
  }
}

[[gnu::noinline, gnu::cold]] bool enqueue_allocating(event_queue& q, producer& p, const event_source& src,
                                                     std::int64_t& spilled_bytes) noexcept {
  // No free block in the pool although the credit proves we are under the cap (a producer
  // that is new, or whose blocks are still held): let moodycamel allocate one.
  bool ok = false;
  try {
    ok = q.queue().enqueue(p.token, raw_event(&src));
  } catch (...) {
  }
  if (!ok) {
    q.release(1, spilled_bytes);
    q.count_queue_full();
  }
  return ok;
}

bool is_running(std::uint32_t state_word) noexcept {
  return (state_word & 3u) == static_cast<std::uint32_t>(run_state::running);
}

// The queue of the running emitter and its state word; nullptr when none runs.
event_queue* running_queue(std::uint32_t& word) noexcept {
  event_queue* q = event_queue::current();
  if (q == nullptr) return nullptr;
  word = q->state_word();
  return is_running(word) ? q : nullptr;
}

// Only this thread writes its producer's count; the worker reads it.
void count_accepted(producer& p, std::uint64_t events) noexcept {
  p.accepted.store(p.accepted.load(std::memory_order_relaxed) + events, std::memory_order_relaxed);
}

// A start that waited on the caller's thread (profiler_state::frame::start_held).
struct held_start {
  std::uint64_t time;
  std::uint8_t flags;
  std::span<const std::byte> info;
};

// The trace point's work: stamp, take a credit, push a source from which the event is built
// in the queue's slot. A held start is sent with its own time and info. Inlined into each
// caller: nine arguments would otherwise go through the stack, and most are constants there.
[[gnu::always_inline]] inline void emit(event_kind kind, const uuid& base, const uuid& trace_id, const uuid& parent,
                                        std::string_view name, std::span<const info_field> fields,
                                        const char* function, const exception_trailer* exc,
                                        const held_start* held = nullptr) noexcept {
  std::uint32_t word;
  event_queue* qp = running_queue(word);
  if (qp == nullptr) return;
  event_queue& q = *qp;

  std::int64_t spilled_bytes = 0;
  event_source src{&q, &spilled_bytes, &base, &trace_id, &parent, name, fields, function, exc, 0, kind, 0};
  if (held != nullptr) {
    src.time = held->time;
    src.flags = held->flags;
    src.held_info = held->info;
  } else if (q.config().tsc) {
    src.time = read_tsc();
    src.flags = event_flags::clock_tsc;
  } else {
    src.time = realtime_ns();
  }

  producer* p = tls_producer;
  if (p == nullptr) [[unlikely]] {
    p = first_producer(q);
    if (p == nullptr) return;
  }
  // Fast path: a credit left from this emitter's chunk; otherwise refill from the pool.
  if (p->generation == (word >> 2) && p->credits > 0) [[likely]] {
    --p->credits;
  } else if (!q.take_credit(*p, word)) {
    q.count_queue_full();
    return;
  }

  {
    OSPROF_QUEUE_ACCESS(&q.queue(), true);
    if (!q.queue().try_enqueue(p->token, raw_event(&src))) [[unlikely]] {
      if (!enqueue_allocating(q, *p, src, spilled_bytes)) return;
    }
  }
  count_accepted(*p, 1);
}

// Room for a held start's info: the span record's payload is the name, u32 size + the
// start's info, then the stop's info (at least its 4-byte field count).
constexpr std::size_t held_info_room(std::size_t name_size) noexcept {
  return name_size + 8 <= inline_payload_budget ? inline_payload_budget - name_size - 8 : 0;
}

// The top frame's held start and its stop in one push. False, with nothing taken, when that
// cannot be done here and now: the caller then sends the two events one by one.
bool emit_span(profiler_state& state, const profiler_state::frame& top, std::span<const info_field> fields) noexcept {
  std::uint32_t word;
  event_queue* qp = running_queue(word);
  if (qp == nullptr) return false;
  event_queue& q = *qp;
  producer* p = tls_producer;
  if (p == nullptr) return false;
  const bool tsc = q.config().tsc;
  if (tsc != ((top.start_flags & event_flags::clock_tsc) != 0)) return false;  // another emitter's clock
  if (!fields.empty() && top.name_size + 4 + top.info_size + encoded_info_size(fields) > inline_payload_budget) {
    return false;
  }
  // Two credits: the span holds a place for each of its events, as two pushes would.
  if ((p->generation != (word >> 2) || p->credits < 2) && !(q.add_credits(*p, word) && p->credits >= 2)) return false;
  const span_source src{&state, &top, state.enclosing_id(), fields, tsc ? read_tsc() : realtime_ns()};
  p->credits -= 2;
  {
    OSPROF_QUEUE_ACCESS(&q.queue(), true);
    if (!q.queue().try_enqueue(p->token, raw_event(&src))) [[unlikely]] {
      p->credits += 2;
      return false;
    }
  }
  count_accepted(*p, 2);
  return true;
}

void send_held_start(profiler_state& state, std::size_t i) noexcept {
  profiler_state::frame& f = state.frames[i];
  if (!f.start_held) return;
  f.start_held = false;
  const uuid parent = state.parent_of(i);
  const held_start held{f.start_time, f.start_flags, {state.held_info(f), f.info_size}};
  emit(event_kind::start, state.base_id, f.id, parent, state.frame_name(f), {}, f.function, nullptr, &held);
}

}  // namespace

void profiler_state::send_held_starts() noexcept {
  for (std::size_t i = 0; i < frames.size(); ++i) send_held_start(*this, i);
}

profiler_state::~profiler_state() {
  // At thread exit the queue producer may be gone already: then there is nothing to send with.
  if (!producer_destroyed) send_held_starts();
}

// Builds the event in place (called by moodycamel, through raw_event's move constructor, on
// the slot the event will occupy).
void raw_event::build(const event_source& src) noexcept {
  time = src.time;
  base_id = *src.base_id;
  trace_id = *src.trace_id;
  parent_id = *src.parent_id;
  exception_type = nullptr;
  spill = nullptr;
  function = src.function;
  kind = src.kind;
  flags = src.flags;
  std::string_view name = src.name;
  const exception_trailer* exc = src.exception;
  if (exc != nullptr) [[unlikely]] {
    flags |= event_flags::exception;
    if (exc->type != nullptr) {
      flags |= event_flags::exception_known;
      exception_type = exc->type;
    }
  }
  // Longer point names are cut (they would not fit a storage column either), and counted.
  if (name.size() > max_point_name_bytes) [[unlikely]] {
    std::size_t cut = max_point_name_bytes;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    name = name.substr(0, cut);
    flags |= event_flags::name_cut;
  }
  name_size = static_cast<std::uint16_t>(name.size());
  if (src.held_info.data() != nullptr) {
    // A held start sent on its own: it fits inline (checked when it was held).
    copy_bytes(payload, name.data(), name.size());
    copy_bytes(payload + name.size(), src.held_info.data(), src.held_info.size());
    payload_size = static_cast<std::uint32_t>(name.size() + src.held_info.size());
    return;
  }
  std::byte* end = nullptr;
  if (exc == nullptr && name.size() + 4 <= inline_payload_budget) [[likely]] {
    copy_bytes(payload, name.data(), name.size());
    if (src.fields.empty()) {
      const std::uint32_t none = 0;  // most stop events: no info, just the field count
      std::memcpy(payload + name.size(), &none, 4);
      end = payload + name.size() + 4;
    } else {
      end = encode_info_bounded(payload + name.size(), payload + inline_payload_budget, src.fields);
    }
  }
  if (end != nullptr) [[likely]] {
    payload_size = static_cast<std::uint32_t>(end - payload);
  } else {
    fill_payload_slow(*src.queue, *this, name, src.fields, exc, *src.spilled_bytes);
  }
}

// Builds a span record in place from the held start's frame (called by moodycamel, as build()).
// What emit_span() checked: no exception, the start's clock, and that name + both infos + the
// start info's size fit inline.
void raw_event::build_span(const span_source& src) noexcept {
  const profiler_state& state = *src.state;
  const profiler_state::frame& top = *src.top;
  time = src.stop_time;
  base_id = state.base_id;
  trace_id = top.id;
  parent_id = src.parent;
  start_time = top.start_time;
  spill = nullptr;
  function = top.function;
  kind = event_kind::span;
  flags = top.start_flags;
  name_size = static_cast<std::uint16_t>(top.name_size);
  // The name and the start's info lie one after the other in the profiler's stack.
  const std::uint32_t held = top.name_size + top.info_size;
  copy_bytes(payload, state.names.data() + top.name_offset, held);
  std::byte* at = payload + held;
  std::byte* const info_limit = payload + inline_payload_budget - 4;
  std::byte* stop_end = src.fields.empty() ? nullptr : encode_info_bounded(at, info_limit, src.fields);
  if (stop_end == nullptr) {  // no stop info (a stop info that did not fit was sent apart)
    const std::uint32_t none = 0;
    std::memcpy(at, &none, 4);
    stop_end = at + 4;
  }
  std::memcpy(stop_end, &top.info_size, 4);
  payload_size = static_cast<std::uint32_t>(stop_end + 4 - payload);
}

void start_point(profiler_state* state, std::string_view name, std::span<const info_field> fields,
                 const char* function) noexcept {
  // A start is held only while its point is innermost: once a point starts inside it, its start
  // goes first, so that a thread's events are stored in OSProfiler's order (a parent's start
  // before its children's events) and only the innermost open point per profiler waits.
  if (!state->frames.empty() && state->frames.back().start_held) send_held_start(*state, state->frames.size() - 1);
  // The start is held on this thread, to go with its stop in one push, when the emitter asks
  // for it and name + info fit one event; otherwise it is sent now. The profiler's first start
  // is always sent now: readers (Python's `trace list` among them) take a trace's first stored
  // event for its start.
  const event_queue* q = event_queue::current();
  const bool hold = state->first_start_sent && q != nullptr && is_running(q->state_word()) &&
                    q->config().hold_starts && held_info_room(name.size()) != 0;
  state->first_start_sent = true;
  const std::size_t room = hold ? held_info_room(name.size()) : 0;
  if (!state->push(name, room)) return;  // out of memory for a nesting this deep: skip the point
  if (hold) [[likely]] {
    std::byte* info = state->held_info(state->frames.back());
    if (const std::byte* end = encode_info_bounded(info, info + room, fields)) [[likely]] {
      const bool tsc = q->config().tsc;
      state->hold_start(tsc ? read_tsc() : realtime_ns(), tsc ? event_flags::clock_tsc : 0, function,
                        static_cast<std::size_t>(end - info));
      return;
    }
  }
  const std::size_t top = state->frames.size() - 1;
  emit(event_kind::start, state->base_id, state->frames[top].id, state->parent_of(top), name, fields, function, nullptr);
}

namespace {
void stop_with(profiler_state* state, std::span<const info_field> fields, const exception_trailer* exc) noexcept {
  if (state == nullptr || state->frames.empty()) return;
  const auto& top = state->frames.back();
  if (top.start_held) {
    if (exc == nullptr && emit_span(*state, top, fields)) [[likely]] {
      state->pop();
      return;
    }
    send_held_start(*state, state->frames.size() - 1);
  }
  emit(event_kind::stop, state->base_id, top.id, state->enclosing_id(), state->frame_name(top), fields, nullptr, exc);
  state->pop();
}
}  // namespace

void stop_point(profiler_state* state, std::span<const info_field> fields) noexcept { stop_with(state, fields, nullptr); }

void stop_point_after_exception(profiler_state* state) noexcept {
  const exception_info info = exception_in_flight();
  const exception_trailer exc{info.type, info.message};
  stop_with(state, {}, &exc);
}

}  // namespace osprof::detail

namespace osprof {
inline namespace v1 {

using detail::profiler_state;

namespace {
const profiler_state& state_of(const profiler* p) { return *static_cast<const profiler_state*>(p); }
}  // namespace

uuid profiler::base_id() const noexcept { return state_of(this).base_id; }
uuid profiler::id() const noexcept { return state_of(this).current_id(); }
uuid profiler::parent_id() const noexcept { return state_of(this).enclosing_id(); }
std::string_view profiler::hmac_key() const noexcept { return state_of(this).hmac_key; }
std::size_t profiler::depth() const noexcept { return state_of(this).frames.size(); }

void prepare_thread() {
  detail::make_producer();
  (void)detail::next_random();
}

profiler* init(std::string_view hmac_key, uuid base_id, uuid parent_id) {
  if (detail::current != nullptr) return get();
  prepare_thread();
  if (base_id.is_nil()) base_id = uuid::random();
  if (parent_id.is_nil()) parent_id = base_id;
  profiler_state* state = detail::thread_default_state();
  state->reset(hmac_key, base_id, parent_id);
  detail::current = state;
  return state;
}

profiler* init(std::string_view hmac_key, std::string_view base_id, std::string_view parent_id) {
  // Ids from the service's own code: any spelling of a uuid (stored in the canonical form).
  uuid base{}, parent{};
  if (!base_id.empty()) {
    auto parsed = uuid::parse_like(base_id);
    if (!parsed) return nullptr;
    base = *parsed;
  }
  if (!parent_id.empty()) {
    auto parsed = uuid::parse_like(parent_id);
    if (!parsed) return nullptr;
    parent = *parsed;
  }
  return init(hmac_key, base, parent);
}

void clean() noexcept {
  if (detail::current != nullptr) detail::current->send_held_starts();
  detail::current = nullptr;
}

std::optional<trace_context> capture() {
  profiler_state* state = detail::current;
  if (state == nullptr) return std::nullopt;
  // Points elsewhere will name the current one as their parent: its start goes first.
  state->send_held_starts();
  return trace_context{state->base_id, state->current_id(), state->hmac_key};
}

context_scope::context_scope(const trace_context& ctx) : saved_(detail::current), own_(new profiler_state()) {
  prepare_thread();
  const uuid base = ctx.base_id.is_nil() ? uuid::random() : ctx.base_id;
  own_->reset(ctx.hmac_key, base, ctx.parent_id.is_nil() ? base : ctx.parent_id);
  detail::current = own_;
}

context_scope::~context_scope() {
  detail::current = saved_;
  delete own_;
}

}  // namespace v1
}  // namespace osprof
