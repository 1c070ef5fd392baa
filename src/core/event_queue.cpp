#include "core/event_queue.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "core/tsan_annotations.hpp"

namespace osprof::detail {

producer::producer(event_queue_type& q) : token(q) { event_queue::instance().add(this); }

producer::~producer() { event_queue::instance().remove(this); }

event_queue& event_queue::instance(std::size_t capacity_hint) {
  // Deliberately leaked: see the file comment in the header.
  static event_queue* q = [&] {
    auto* created = new event_queue(capacity_hint != 0 ? capacity_hint : options{}.queue_capacity);
    current_.store(created, std::memory_order_release);
    return created;
  }();
  return *q;
}

// `capacity` events can straddle one more block than capacity / BLOCK_SIZE (a partly dequeued
// head block, a partly filled tail block), and a producer that needs a block beyond the
// preallocated ones allocates it, and a larger block index, on the caller's thread. A few
// spare blocks keep a producer that fills the whole capacity off the allocator; with them the
// producers' block index is also sized past capacity / BLOCK_SIZE (moodycamel rounds it up to
// a power of two of the pool).
event_queue::event_queue(std::size_t capacity)
    : queue_(std::max<std::size_t>(capacity, queue_traits::BLOCK_SIZE) + 4 * queue_traits::BLOCK_SIZE) {}

void event_queue::open(const producer_config& config, std::int64_t capacity, std::int64_t spill_bytes) {
  // Events left by an earlier emitter (a trace point that raced with its shutdown, or a
  // parent process before fork) were already counted there; discard them.
  raw_event stale[64];
  const auto take = [&] {
    OSPROF_QUEUE_ACCESS(&queue_, false);
    return queue_.try_dequeue_bulk(stale, 64);
  };
  while (const std::size_t n = take()) {
    for (std::size_t i = 0; i < n; ++i) std::free(stale[i].spill);
  }
  config_ = config;
  free_credits_.store(capacity, std::memory_order_relaxed);
  free_spill_bytes_.store(spill_bytes, std::memory_order_relaxed);
  const std::uint32_t generation = (state_word_.load(std::memory_order_relaxed) >> 2) + 1;
  state_word_.store(generation << 2 | static_cast<std::uint32_t>(run_state::running), std::memory_order_release);
}

void event_queue::set_stopping() noexcept {
  const std::uint32_t word = state_word_.load(std::memory_order_relaxed);
  state_word_.store((word & ~3u) | static_cast<std::uint32_t>(run_state::stopping), std::memory_order_release);
}

void event_queue::set_idle() noexcept {
  const std::uint32_t word = state_word_.load(std::memory_order_relaxed);
  state_word_.store(word & ~3u, std::memory_order_release);
}

bool event_queue::add_credits(producer& p, std::uint32_t word) noexcept {
  const std::uint32_t generation = word >> 2;
  if (p.generation != generation) {
    // Credits from an earlier emitter are void.
    p.generation = generation;
    p.credits = 0;
  }
  std::int64_t available = free_credits_.load(std::memory_order_relaxed);
  while (available > 0) {
    const std::int64_t take = std::min(available, config_.credit_chunk);
    if (free_credits_.compare_exchange_weak(available, available - take, std::memory_order_relaxed)) {
      p.credits += take;
      return true;
    }
  }
  return false;
}

bool event_queue::take_credit(producer& p, std::uint32_t word) noexcept {
  if (p.generation == word >> 2 && p.credits > 0) {
    --p.credits;
    return true;
  }
  const auto refill = [&]() noexcept {
    if (!add_credits(p, word)) return false;
    --p.credits;
    return true;
  };
  if (refill()) return true;
  if (config_.overflow != overflow_policy::block) return false;
  // Block policy: wait for the worker to return credits, up to the timeout. Only this
  // opt-in path may sleep on the caller's thread.
  if (config_.wake_worker != nullptr &&
      (state_word_.load(std::memory_order_acquire) & 3u) == static_cast<std::uint32_t>(run_state::running) &&
      !worker_woken_.exchange(true, std::memory_order_relaxed)) {
    config_.wake_worker(config_.wake_worker_arg);
  }
  const auto deadline = std::chrono::steady_clock::now() + config_.block_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if ((state_word_.load(std::memory_order_acquire) & 3u) != static_cast<std::uint32_t>(run_state::running)) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (refill()) return true;
  }
  return false;
}

bool event_queue::take_spill_bytes(std::int64_t n) noexcept {
  if (free_spill_bytes_.fetch_sub(n, std::memory_order_relaxed) >= n) return true;
  free_spill_bytes_.fetch_add(n, std::memory_order_relaxed);
  return false;
}

void event_queue::release(std::int64_t events, std::int64_t spill_bytes) noexcept {
  if (events != 0) free_credits_.fetch_add(events, std::memory_order_relaxed);
  if (spill_bytes != 0) free_spill_bytes_.fetch_add(spill_bytes, std::memory_order_relaxed);
}

event_queue::totals event_queue::read_totals() const {
  totals t{};
  {
    std::lock_guard lock(producers_mutex_);
    t.accepted = retired_accepted_;
    for (const producer* p : producers_) t.accepted += p->accepted.load(std::memory_order_relaxed);
  }
  t.dequeued = dequeued_.load(std::memory_order_relaxed);
  t.dropped_queue_full = dropped_queue_full_.load(std::memory_order_relaxed);
  t.spilled = spilled_.load(std::memory_order_relaxed);
  t.truncated = truncated_.load(std::memory_order_relaxed);
  t.rejected_headers = rejected_headers_.load(std::memory_order_relaxed);
  return t;
}

void event_queue::add(producer* p) {
  std::lock_guard lock(producers_mutex_);
  producers_.push_back(p);
}

void event_queue::remove(producer* p) {
  std::lock_guard lock(producers_mutex_);
  retired_accepted_ += p->accepted.load(std::memory_order_relaxed);
  std::erase(producers_, p);
  // Unused credits of the current generation go back to the pool.
  if (p->credits > 0 && p->generation == (state_word_.load(std::memory_order_relaxed) >> 2)) {
    free_credits_.fetch_add(p->credits, std::memory_order_relaxed);
  }
  p->credits = 0;
}

void event_queue::after_fork_in_child() noexcept {
  // The mutex may have been held by a thread that does not exist in the child.
  new (&producers_mutex_) std::mutex();
  set_idle();
}

}  // namespace osprof::detail
