// The floor the span's targets are measured against: what any design that stamps events with
// a clock and pushes them through a shared lock-free queue pays, two clock reads and two
// pushes of a 64-byte event (moodycamel, with a producer token). osprof_emit_latency times it
// in sparse bursts, osprof_span_gbench back to back; both take the event and the step from here.
#pragma once

#include <concurrentqueue.h>
#include <x86intrin.h>

#include <cstdint>

namespace osprof_bench {

struct alignas(64) floor_event {
  std::uint64_t trace_id[2];
  std::uint64_t span_id;
  std::uint64_t parent_id;
  std::uint64_t timestamp;
  const char* name = "db";
  std::uint32_t kind;
  std::uint32_t field_count;
  const void* fields;
};
static_assert(sizeof(floor_event) == 64);

// The same with osprof's event size (256 bytes: ids, clock, name and the inline info), to show
// what the larger event costs by itself.
struct alignas(64) floor_event_256 : floor_event {
  char payload[192];
};
static_assert(sizeof(floor_event_256) == 256);

// The TSC, which osprof's clock reads where it is invariant.
inline std::uint64_t read_tsc() noexcept { return __rdtsc(); }

// One floor span: a clock read and a push for its start, the same for its stop.
template <class Event, class Clock>
inline void push_floor_span(moodycamel::ConcurrentQueue<Event>& queue, moodycamel::ProducerToken& producer, Event& event,
                            std::uint64_t span_id, Clock&& clock) {
  event.span_id = span_id;
  event.kind = 0;
  event.timestamp = clock();
  queue.enqueue(producer, event);
  event.kind = 1;
  event.timestamp = clock();
  queue.enqueue(producer, event);
}

}  // namespace osprof_bench
