// The process-wide event queue between trace points (producers, any thread) and the
// emitter's worker (the single consumer), plus the accounting that bounds its memory.
//
// moodycamel's capacity is a minimum, not a maximum, so the bound is ours: producers take
// "credits" (one per held event) from a shared pool in small chunks and the worker returns
// them once an event is written or dropped. Holding a credit is what lets an event in; with
// none left the event is dropped (or, with the block policy, waited for) and counted.
//
// The queue lives for the whole process and is never destroyed: a trace point racing with
// shutdown, or running from a static destructor, touches valid memory and becomes a no-op.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include <concurrentqueue.h>

#include <osprof/options.hpp>

#include "core/raw_event.hpp"

namespace osprof::detail {

struct queue_traits : moodycamel::ConcurrentQueueDefaultTraits {
  // 64 events of 256 bytes: 16 KiB blocks.
  static constexpr size_t BLOCK_SIZE = 64;
  // Blocks an explicit producer indexes before its index must grow (growing allocates, so
  // try_enqueue would fail): 1024 x 64 = 65536 events from one thread without reallocation.
  static constexpr size_t EXPLICIT_INITIAL_INDEX_SIZE = 1024;
  static constexpr size_t IMPLICIT_INITIAL_INDEX_SIZE = 1024;
};

using event_queue_type = moodycamel::ConcurrentQueue<raw_event, queue_traits>;

enum class run_state : std::uint32_t { idle = 0, running = 1, stopping = 2 };

/// Per-thread producer side: the moodycamel token, unused credits and the accepted counter.
/// Owned by its thread (thread_local), registered for stats while it lives.
struct producer {
  explicit producer(event_queue_type& q);
  ~producer();

  moodycamel::ProducerToken token;
  std::int64_t credits = 0;        // credits taken from the pool, not yet used
  std::uint32_t generation = 0;    // emitter generation the credits belong to
  std::atomic<std::uint64_t> accepted{0};  // written by the owner only (relaxed load + store)
};

/// Settings the producers read, published before the state turns to running.
struct producer_config {
  overflow_policy overflow = overflow_policy::drop;
  std::chrono::nanoseconds block_timeout{0};
  std::size_t max_event_bytes = 65536;
  bool tsc = false;
  std::int64_t credit_chunk = 32;
  /// Starts wait on the caller's thread and travel with their stop (options::hold_starts).
  bool hold_starts = false;
  /// With the block policy: called (on the producer's thread, at most once until the worker
  /// calls clear_worker_woken()) when a producer finds no credit left and starts waiting, so
  /// that a worker sleeping through an idle backoff drains at once. Null: nobody is woken.
  void (*wake_worker)(void* arg) = nullptr;
  void* wake_worker_arg = nullptr;
};

class event_queue {
 public:
  /// The process's queue. The first call creates it with blocks preallocated for
  /// `capacity_hint` events (the first emitter's capacity, or OSPROF_QUEUE_CAPACITY when a
  /// thread is prepared before any emitter starts).
  static event_queue& instance(std::size_t capacity_hint = 0);
  /// The queue if it exists yet (one load; trace points use this), else nullptr.
  static event_queue* current() noexcept { return current_.load(std::memory_order_acquire); }

  event_queue_type& queue() noexcept { return queue_; }

  // ---- state, read by every trace point: generation << 2 | run_state
  run_state state() const noexcept {
    return static_cast<run_state>(state_word_.load(std::memory_order_acquire) & 3u);
  }
  std::uint32_t state_word() const noexcept { return state_word_.load(std::memory_order_acquire); }
  const producer_config& config() const noexcept { return config_; }

  /// Called by a starting emitter: discards stale events, sets the pool to `capacity`
  /// events and `spill_bytes` of out-of-line payload, and starts a new generation.
  void open(const producer_config& config, std::int64_t capacity, std::int64_t spill_bytes);
  /// Trace points become no-ops.
  void set_stopping() noexcept;
  void set_idle() noexcept;

  // ---- producer side
  /// Takes one credit for `p`; false when the pool is empty (after waiting, with the block policy).
  bool take_credit(producer& p, std::uint32_t word) noexcept;
  /// Adds a chunk of credits to `p` without waiting; false when the pool is empty.
  bool add_credits(producer& p, std::uint32_t word) noexcept;
  bool take_spill_bytes(std::int64_t n) noexcept;
  void count_queue_full() noexcept { dropped_queue_full_.fetch_add(1, std::memory_order_relaxed); }
  void count_spilled() noexcept { spilled_.fetch_add(1, std::memory_order_relaxed); }
  void count_truncated() noexcept { truncated_.fetch_add(1, std::memory_order_relaxed); }
  void count_rejected_header() noexcept { rejected_headers_.fetch_add(1, std::memory_order_relaxed); }

  // ---- consumer side
  void release(std::int64_t events, std::int64_t spill_bytes) noexcept;
  /// The worker's formatted records count against the same bytes as out-of-line payloads;
  /// unlike a producer, the worker cannot refuse, so the pool may go below zero.
  void charge_spill_bytes(std::int64_t n) noexcept { free_spill_bytes_.fetch_sub(n, std::memory_order_relaxed); }
  bool over_byte_cap() const noexcept { return free_spill_bytes_.load(std::memory_order_relaxed) < 0; }
  void count_dequeued(std::uint64_t n) noexcept { dequeued_.fetch_add(n, std::memory_order_relaxed); }

  // ---- stats (cumulative since process start)
  struct totals {
    std::uint64_t accepted, dequeued, dropped_queue_full, spilled, truncated, rejected_headers;
  };
  totals read_totals() const;
  /// Events dropped for a full queue: one load, no lock, no producer's line read (the worker
  /// checks it on every pass, and reading every producer's counter would pull the lines those
  /// threads write on every event over to the worker's core).
  std::uint64_t dropped_queue_full() const noexcept { return dropped_queue_full_.load(std::memory_order_relaxed); }

  // ---- producer registry
  /// The worker is awake: the next producer that waits for credits wakes it again.
  void clear_worker_woken() noexcept { worker_woken_.store(false, std::memory_order_relaxed); }

  void add(producer* p);
  void remove(producer* p);

  /// After fork(), in the child: no worker exists any more.
  void after_fork_in_child() noexcept;

 private:
  explicit event_queue(std::size_t capacity);

  static inline constinit std::atomic<event_queue*> current_{nullptr};

  event_queue_type queue_;
  // Read by every trace point, so on a line of its own: moodycamel's last member is a counter
  // its consumer bumps every few hundred events, and sharing that line cost a miss per event.
  alignas(64) std::atomic<std::uint32_t> state_word_{0};
  producer_config config_;
  alignas(64) std::atomic<std::int64_t> free_credits_{0};
  std::atomic<std::int64_t> free_spill_bytes_{0};
  alignas(64) std::atomic<std::uint64_t> dropped_queue_full_{0};
  std::atomic<std::uint64_t> spilled_{0};
  std::atomic<std::uint64_t> truncated_{0};
  std::atomic<std::uint64_t> rejected_headers_{0};
  alignas(64) std::atomic<std::uint64_t> dequeued_{0};
  std::atomic<bool> worker_woken_{false};

  mutable std::mutex producers_mutex_;
  std::vector<producer*> producers_;
  std::uint64_t retired_accepted_ = 0;  // of producers whose thread has exited
};

}  // namespace osprof::detail
