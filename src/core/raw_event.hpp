// The fixed-size event a trace point pushes: ids, a raw clock reading and the payload
// (point name + binary-encoded info) inline. Formatting into OSProfiler's JSON happens on
// the worker side (worker/formatter.hpp).
#pragma once

#include <cstddef>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <typeinfo>

#include <osprof/info.hpp>
#include <osprof/uuid.hpp>

namespace osprof::detail {

enum class event_kind : std::uint8_t { start = 1, stop = 2 };

namespace event_flags {
inline constexpr std::uint8_t clock_tsc = 1;        // `time` is TSC ticks, else realtime ns
inline constexpr std::uint8_t truncated = 2;        // info replaced by a truncation marker
inline constexpr std::uint8_t exception = 4;        // stop after an exception left a scope
inline constexpr std::uint8_t exception_known = 8;  // `exception_type` and a message are set
}  // namespace event_flags

struct alignas(64) raw_event {
  raw_event() noexcept = default;
  // Copies (into and out of the queue's blocks) take the header and only the payload bytes in
  // use: a stop event is ~100 bytes, not 256, which halves the cache lines a push writes and
  // the consumer then reads.
  raw_event(const raw_event& other) noexcept { copy_from(other); }
  raw_event& operator=(const raw_event& other) noexcept {
    copy_from(other);
    return *this;
  }

  std::uint64_t time;                    // see event_flags::clock_tsc
  uuid base_id;
  uuid trace_id;
  uuid parent_id;
  const std::type_info* exception_type;  // set with event_flags::exception_known
  std::byte* spill;                      // out-of-line payload (malloc'ed), or nullptr
  const char* function;                  // static string from OSPROF_TRACE_FUNCTION, or nullptr
  std::uint32_t payload_size;            // bytes in payload (or in spill)
  event_kind kind;
  std::uint8_t flags;
  std::uint16_t name_size;               // the payload starts with the point name
  std::byte payload[inline_payload_budget];

  const std::byte* payload_data() const noexcept { return spill != nullptr ? spill : payload; }

 private:
  void copy_from(const raw_event& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, offsetof(raw_event, payload));
    if (other.spill == nullptr) {
      // payload_size never exceeds the budget when the payload is inline.
      const std::size_t n = other.payload_size <= inline_payload_budget ? other.payload_size : inline_payload_budget;
      std::memcpy(payload, other.payload, n);
    }
  }
};

static_assert(sizeof(raw_event) == 256, "raw_event is four cache lines");
static_assert(std::is_trivially_destructible_v<raw_event>);

}  // namespace osprof::detail
