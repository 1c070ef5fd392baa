// Joins OSProfiler's start and stop events into OTLP spans on the worker side. The emitter
// calls write() from one thread, so the joiner is a plain map from a point's trace_id to its
// held start. A start whose stop never comes (a crashed request, a lost event) is released as
// an unfinished span after a timeout or when too many are held; a stop whose start is unknown
// becomes a zero-length span; at close every held start is released, so nothing is lost at a
// clean shutdown.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <osprof/uuid.hpp>

#include <osprof/driver.hpp>

namespace osprof::detail::otlp {

struct span_record {
  uuid base_id;
  uuid trace_id;
  uuid parent_id;
  std::string point;         ///< the point's name (event name without -start/-stop)
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  std::string start_info;    ///< the start's info object as JSON; empty without a start
  std::string stop_info;     ///< the stop's info object as JSON; empty without a stop
  bool unfinished = false;    ///< no stop came in time: end == start
  bool missing_start = false; ///< a stop whose start was never seen: start == end
  std::uint32_t events_in_batch = 0;  ///< events of the batch being joined that this span carries
  std::uint32_t events_before = 0;    ///< events of earlier batches (held starts)
};

struct join_options {
  std::chrono::milliseconds unfinished_timeout{60000};
  std::size_t max_pending = 100000;
};

class span_joiner {
 public:
  explicit span_joiner(join_options options) : options_(options) {}

  /// Joins one batch. Returns the spans complete now: started and stopped, stops without a
  /// start, and held starts older than the timeout at `now_us` (or beyond max_pending).
  std::vector<span_record> join(std::span<const event_record> batch, std::int64_t now_us);

  /// Every held start, as unfinished spans (at close).
  std::vector<span_record> drain();

  std::size_t pending() const noexcept { return held_.size(); }

 private:
  struct held_start {
    uuid base_id;
    uuid parent_id;
    std::string point;
    std::int64_t start_us = 0;
    std::string info;
    std::uint64_t batch = 0;  ///< which join() call brought it
  };
  struct uuid_hash {
    std::size_t operator()(const uuid& u) const noexcept { return static_cast<std::size_t>(u.hi ^ (u.lo * 0x9e3779b97f4a7c15ULL)); }
  };

  span_record release(const uuid& trace_id, held_start&& h) const;

  join_options options_;
  std::unordered_map<uuid, held_start, uuid_hash> held_;
  std::deque<std::pair<std::int64_t, uuid>> arrival_;  ///< held starts, oldest first (may hold joined ones)
  std::uint64_t batch_ = 0;
};

}  // namespace osprof::detail::otlp
