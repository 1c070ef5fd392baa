// The fixed-size event a trace point pushes: ids, a raw clock reading and the payload
// (point name + binary-encoded info) inline. Formatting into OSProfiler's JSON happens on
// the worker side (worker/formatter.hpp).
//
// A trace point does not fill an event on its stack and copy it into the queue: it pushes a
// small "source" (pointers to what it knows) and the event is built directly in the queue's
// slot by raw_event's move constructor, which moodycamel calls to place the element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include <osprof/info.hpp>
#include <osprof/uuid.hpp>

#include "core/small_copy.hpp"

namespace osprof::detail {

// `span`: a start held on the caller's thread until its stop, both in one slot (one push,
// one record for the worker to take). The worker splits it back into the two events.
// `source` and `span_source` mark the carriers a trace point pushes (never stored).
enum class event_kind : std::uint8_t { start = 1, stop = 2, span = 3, span_source = 0xfe, source = 0xff };

namespace event_flags {
inline constexpr std::uint8_t clock_tsc = 1;        // `time` is TSC ticks, else realtime ns
inline constexpr std::uint8_t truncated = 2;        // info replaced by a truncation marker
inline constexpr std::uint8_t exception = 4;        // stop after an exception left a scope
inline constexpr std::uint8_t exception_known = 8;  // `exception_type` and a message are set
inline constexpr std::uint8_t name_cut = 16;        // the point name was cut at max_point_name_bytes
}  // namespace event_flags

/// A 128-bit id without a default value (so events are not zeroed before being written).
struct raw_id {
  std::uint64_t hi;
  std::uint64_t lo;
  raw_id& operator=(const uuid& id) noexcept {
    hi = id.hi;
    lo = id.lo;
    return *this;
  }
  uuid to_uuid() const noexcept { return uuid{hi, lo}; }
};

class event_queue;
struct span_source;  // a held start's frame and its stop (core/profiler.cpp)

struct exception_trailer {  // what follows the name after an exception
  const std::type_info* type;
  std::string_view message;
};

/// What a trace point knows about its event; raw_event is built from it in place.
struct event_source {
  event_queue* queue;
  std::int64_t* spilled_bytes;  // out: bytes of out-of-line payload taken from the byte cap
  const uuid* base_id;
  const uuid* trace_id;
  const uuid* parent_id;
  std::string_view name;
  std::span<const info_field> fields;
  const char* function;
  const exception_trailer* exception;
  std::uint64_t time;
  event_kind kind;
  std::uint8_t flags;
  // A held start's encoded info, used instead of `fields` when its data is set (a held start
  // sent on its own; a span is built from a span_source).
  std::span<const std::byte> held_info = {};
};

struct alignas(64) raw_event {
  raw_event() noexcept = default;  // uninitialised, as a drain buffer needs
  /// The carrier a trace point pushes: only the source pointer and the marker are set.
  explicit raw_event(const event_source* src) noexcept : source(src), kind(event_kind::source) {}
  explicit raw_event(const span_source* src) noexcept : held_span(src), kind(event_kind::span_source) {}
  // Into the queue: built from the source (or copied). Out of it: header plus the payload bytes
  // in use (a stop event is ~100 bytes, not 256: fewer cache lines written and read).
  raw_event(raw_event&& other) noexcept {
    if (other.kind == event_kind::source) {
      build(*other.source);
    } else if (other.kind == event_kind::span_source) {
      build_span(*other.held_span);
    } else {
      copy_from(other);
    }
  }
  raw_event(const raw_event& other) noexcept { copy_from(other); }
  raw_event& operator=(const raw_event& other) noexcept {
    copy_from(other);
    return *this;
  }
  raw_event& operator=(raw_event&& other) noexcept {
    copy_from(other);
    return *this;
  }

  union {
    std::uint64_t time;            // see event_flags::clock_tsc
    const event_source* source;    // with event_kind::source only
    const span_source* held_span;  // with event_kind::span_source only
  };
  raw_id base_id;
  raw_id trace_id;
  raw_id parent_id;
  union {
    const std::type_info* exception_type;  // set with event_flags::exception_known
    std::uint64_t start_time;              // with event_kind::span (never an exception)
  };
  std::byte* spill;                      // out-of-line payload (malloc'ed), or nullptr
  const char* function;                  // static string from OSPROF_TRACE_FUNCTION, or nullptr
  std::uint32_t payload_size;            // bytes in payload (or in spill)
  event_kind kind;
  std::uint8_t flags;
  std::uint16_t name_size;               // the payload starts with the point name
  std::byte payload[inline_payload_budget];

  const std::byte* payload_data() const noexcept { return spill != nullptr ? spill : payload; }

  /// A span's two events. Its payload is the name, the start's info, the stop's info, then
  /// the start info's size (u32), always inline: the name and the start's info are copied as
  /// they lie in the profiler's stack, in one piece.
  void split_span(raw_event& start, raw_event& stop) const noexcept {
    std::uint32_t start_size;
    std::memcpy(&start_size, payload + payload_size - 4, 4);
    const std::uint32_t stop_size = payload_size - 4 - name_size - start_size;
    for (raw_event* ev : {&start, &stop}) {
      std::memcpy(static_cast<void*>(ev), this, offsetof(raw_event, payload));
      ev->exception_type = nullptr;
    }
    start.kind = event_kind::start;
    start.time = start_time;
    start.payload_size = name_size + start_size;
    copy_bytes(start.payload, payload, start.payload_size);
    stop.kind = event_kind::stop;
    stop.function = nullptr;
    stop.payload_size = name_size + stop_size;
    copy_bytes(stop.payload, payload, name_size);
    copy_bytes(stop.payload + name_size, payload + name_size + start_size, stop_size);
  }

 private:
  /// Writes the whole event from a trace point's source (core/profiler.cpp).
  void build(const event_source& src) noexcept;
  /// Writes a span record from a held start's frame and its stop (core/profiler.cpp).
  void build_span(const span_source& src) noexcept;

  void copy_from(const raw_event& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, offsetof(raw_event, payload));
    if (other.spill == nullptr) {
      // payload_size never exceeds the budget when the payload is inline.
      const std::size_t n = other.payload_size <= inline_payload_budget ? other.payload_size : inline_payload_budget;
      copy_bytes(payload, other.payload, n);
    }
  }
};

/// The events a run of dequeued slots holds: one each, two for a span (a start and its stop),
/// as the queue counts them when they are accepted.
inline std::uint64_t events_in(std::span<const raw_event> slots) noexcept {
  std::uint64_t events = slots.size();
  for (const raw_event& ev : slots) events += ev.kind == event_kind::span;
  return events;
}

static_assert(sizeof(raw_event) == 256, "raw_event is four cache lines");
static_assert(std::is_trivially_destructible_v<raw_event>);
static_assert(std::is_nothrow_move_constructible_v<raw_event>);

}  // namespace osprof::detail
