// The state behind osprof::profiler: the trace's ids and the stack of open trace points.
// One per thread (created by init()), one per context_scope, and one per traced coroutine
// (the Asio integration swaps `detail::current` when the coroutine resumes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/profiler.hpp>

#include "core/small_copy.hpp"

namespace osprof::detail {

struct profiler_state : profiler {
  struct frame {
    uuid id;
    std::uint32_t name_offset;  // into `names`
    std::uint32_t name_size;
  };

  profiler_state() {
    frames.reserve(32);
    names.resize(1024);
  }

  void reset(std::string_view key, uuid base, uuid parent) {
    hmac_key.assign(key);
    base_id = base;
    root_parent = parent;
    frames.clear();
    names_used = 0;
  }

  uuid current_id() const noexcept { return frames.empty() ? root_parent : frames.back().id; }
  uuid enclosing_id() const noexcept {
    if (frames.size() >= 2) return frames[frames.size() - 2].id;
    return frames.size() == 1 ? root_parent : base_id;
  }
  std::string_view frame_name(const frame& f) const noexcept { return {names.data() + f.name_offset, f.name_size}; }

  /// Opens a point. The name is kept here for its stop event: the caller's string may not live
  /// that long. Allocates only when nesting outgrows what is reserved; false if that fails.
  bool push(const uuid& id, std::string_view name) noexcept {
    const auto offset = static_cast<std::uint32_t>(names_used);
    if (names_used + name.size() > names.size() || frames.size() == frames.capacity()) [[unlikely]] {
      try {
        if (names_used + name.size() > names.size()) names.resize(2 * (names_used + name.size()));
        frames.reserve(2 * frames.size() + 1);
      } catch (...) {
        return false;
      }
    }
    copy_bytes(names.data() + offset, name.data(), name.size());
    names_used += name.size();
    frames.push_back({id, offset, static_cast<std::uint32_t>(name.size())});
    return true;
  }

  void pop() noexcept {
    names_used = frames.back().name_offset;
    frames.pop_back();
  }

  uuid base_id;
  uuid root_parent;      // the parent given to init() (the base when none)
  std::string hmac_key;
  std::vector<frame> frames;
  std::string names;     // names of the open points, a stack of their own (first names_used bytes)
  std::size_t names_used = 0;
};

/// Events this thread's trace points put in the queue so far (not those dropped); 0 before
/// its first. For `osprof bench`, which tells accepted spans from dropped ones.
std::uint64_t this_thread_accepted() noexcept;

}  // namespace osprof::detail
