// The state behind osprof::profiler: the trace's ids and the stack of open trace points.
// One per thread (created by init()), one per context_scope, and one per traced coroutine
// (the Asio integration swaps `detail::current` when the coroutine resumes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/profiler.hpp>

#include "core/random.hpp"
#include "core/small_copy.hpp"

namespace osprof::detail {

struct profiler_state : profiler {
  struct frame {
    uuid id;
    std::uint64_t start_time;   // a held start's clock reading
    const char* function;       // a held start's OSPROF_TRACE_FUNCTION name, or nullptr
    std::uint32_t name_offset;  // into `names`; a held start's encoded info follows the name
    std::uint32_t name_size;
    std::uint32_t info_size;    // bytes of a held start's encoded info
    std::uint8_t start_flags;   // a held start's event_flags (its clock)
    bool start_held;            // the start event waits here, to be sent with the stop
  };

  profiler_state() {
    frames.reserve(32);
    names.resize(2048);
  }
  /// Sends the starts still held (the points never stopped), as OSProfiler would have.
  ~profiler_state();
  profiler_state(const profiler_state&) = delete;
  profiler_state& operator=(const profiler_state&) = delete;

  void reset(std::string_view key, uuid base, uuid parent) {
    send_held_starts();
    hmac_key.assign(key);
    base_id = base;
    root_parent = parent;
    frames.clear();
    names_used = 0;
    first_start_sent = false;
  }

  uuid current_id() const noexcept { return frames.empty() ? root_parent : frames.back().id; }
  uuid enclosing_id() const noexcept {
    if (frames.size() >= 2) return frames[frames.size() - 2].id;
    return frames.size() == 1 ? root_parent : base_id;
  }
  std::string_view frame_name(const frame& f) const noexcept { return {names.data() + f.name_offset, f.name_size}; }
  /// The parent of frames[i]: the point that was current when it started.
  uuid parent_of(std::size_t i) const noexcept { return i == 0 ? root_parent : frames[i - 1].id; }
  /// Where a held start's encoded info is (or goes): right after the frame's name.
  std::byte* held_info(const frame& f) noexcept {
    return reinterpret_cast<std::byte*>(names.data() + f.name_offset + f.name_size);
  }

  /// Opens a point with a new random id, with `info_room` bytes after its name for a held
  /// start's info. The name is kept here for its stop event: the caller's string may not live
  /// that long. Allocates only when nesting outgrows what is reserved; false if that fails.
  bool push(std::string_view name, std::size_t info_room = 0) noexcept {
    const auto offset = static_cast<std::uint32_t>(names_used);
    const std::size_t need = names_used + name.size() + info_room;
    if (need > names.size() || frames.size() == frames.capacity()) [[unlikely]] {
      try {
        if (need > names.size()) names.resize(2 * need);
        frames.reserve(2 * frames.size() + 1);
      } catch (...) {
        return false;
      }
    }
    copy_bytes(names.data() + offset, name.data(), name.size());
    names_used += name.size();
    // Each member stored in place: a frame built apart and copied in was read back with 16-byte
    // loads from the id's two 8-byte stores, which the CPU cannot forward (a stall per point).
    frame& f = frames.emplace_back();
    f.id = random_uuid();
    f.name_offset = offset;
    f.name_size = static_cast<std::uint32_t>(name.size());
    return true;
  }

  /// Keeps `size` bytes of encoded info after the top frame's name (written at held_info()).
  void hold_start(std::uint64_t time, std::uint8_t flags, const char* function, std::size_t size) noexcept {
    frame& f = frames.back();
    f.start_time = time;
    f.start_flags = flags;
    f.function = function;
    f.info_size = static_cast<std::uint32_t>(size);
    f.start_held = true;
    names_used += size;
  }

  void pop() noexcept {
    names_used = frames.back().name_offset;
    frames.pop_back();
  }

  /// Sends every start still held (core/profiler.cpp): before the stack is dropped.
  void send_held_starts() noexcept;

  uuid base_id;
  uuid root_parent;      // the parent given to init() (the base when none)
  std::string hmac_key;
  std::vector<frame> frames;
  std::string names;     // names of the open points, a stack of their own (first names_used bytes)
  std::size_t names_used = 0;
  bool first_start_sent = false;  // the first start is never held (options::hold_starts)
};

/// Events this thread's trace points put in the queue so far (not those dropped); 0 before
/// its first. For `osprof bench`, which tells accepted spans from dropped ones.
std::uint64_t this_thread_accepted() noexcept;

}  // namespace osprof::detail
