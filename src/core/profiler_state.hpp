// The state behind osprof::profiler: the trace's ids and the stack of open trace points.
// One per thread (created by init()), one per context_scope, and one per traced coroutine
// (the Asio integration swaps `detail::current` when the coroutine resumes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/profiler.hpp>

namespace osprof::detail {

struct profiler_state : profiler {
  struct frame {
    uuid id;
    std::uint32_t name_offset;  // into `names`
    std::uint32_t name_size;
  };

  profiler_state() {
    frames.reserve(32);
    names.reserve(512);
  }

  void reset(std::string_view key, uuid base, uuid parent) {
    hmac_key.assign(key);
    base_id = base;
    root_parent = parent;
    frames.clear();
    names.clear();
  }

  uuid current_id() const noexcept { return frames.empty() ? root_parent : frames.back().id; }
  uuid enclosing_id() const noexcept {
    if (frames.size() >= 2) return frames[frames.size() - 2].id;
    return frames.size() == 1 ? root_parent : base_id;
  }
  std::string_view frame_name(const frame& f) const noexcept { return {names.data() + f.name_offset, f.name_size}; }

  uuid base_id;
  uuid root_parent;      // the parent given to init() (the base when none)
  std::string hmac_key;
  std::vector<frame> frames;
  std::string names;     // names of the open points, a stack of their own
};

}  // namespace osprof::detail
