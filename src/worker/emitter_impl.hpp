// The emitter's state, shared by its two halves: the lifecycle (emitter.cpp: options, the
// backend and the queue opened, the worker started, flush, shutdown, stats) and the worker's
// coroutines (emitter_worker.cpp: draining, batching, writing, retrying, accounting).
#pragma once

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <optional>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <osprof/driver.hpp>
#include <osprof/emitter.hpp>

#include "core/event_queue.hpp"
#include "worker/clock_model.hpp"
#include "worker/formatter.hpp"

namespace osprof::detail {

/// Set by osprof::request_flush() (from a signal handler, say); the worker takes it.
extern std::atomic<bool> flush_signalled;

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// Write latency, as counts per power-of-two bucket of microseconds.
struct latency_histogram {
  static constexpr int buckets = 40;
  std::array<std::atomic<std::uint64_t>, buckets> counts{};
  std::atomic<std::uint64_t> total_us{0};
  std::atomic<std::uint64_t> max_us{0};

  void record(std::uint64_t us) noexcept {
    int b = 0;
    while (b < buckets - 1 && (std::uint64_t{1} << b) < us) ++b;
    counts[static_cast<std::size_t>(b)].fetch_add(1, std::memory_order_relaxed);
    total_us.fetch_add(us, std::memory_order_relaxed);
    std::uint64_t m = max_us.load(std::memory_order_relaxed);
    while (us > m && !max_us.compare_exchange_weak(m, us, std::memory_order_relaxed)) {
    }
  }
};

class emitter_impl {
 public:
  explicit emitter_impl(options o);
  ~emitter_impl();

  bool flush(std::chrono::milliseconds timeout);
  bool shutdown(std::chrono::milliseconds timeout);
  stats get_stats() const;

  // Around fork(): the worker parks between two of its steps, so that it holds no lock (its
  // allocator's included) that the child would inherit locked; it resumes in the parent.
  void park_for_fork();
  void resume_after_fork();
  /// At exit(): what is still held is delivered within a bound, and said in the log.
  void deliver_at_exit();

  options opts;
  pid_t creator_pid = getpid();

 private:
  // Records are reused batch after batch: their strings keep their capacity, so the worker
  // formats without allocating once it has warmed up.
  struct pending_batch {
    std::vector<event_record> records;
    std::size_t size = 0;
    std::uint64_t id = 0;  ///< batch::id: given when the batch is sealed
    std::int64_t spill_bytes = 0;
    clock::time_point first_event{};

    std::span<const event_record> events() const noexcept { return {records.data(), size}; }
    event_record& next() {
      if (size == records.size()) records.emplace_back();
      return records[size++];
    }
  };

  void run_worker();
  asio::awaitable<void> drain_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> deliver(pending_batch& b);
  asio::awaitable<void> close_writer();
  asio::awaitable<write_result> timed_write(const pending_batch& b, std::uint32_t attempt);
  asio::awaitable<void> enforce_deadline();
  std::size_t drain_some(std::size_t limit);
  std::int64_t add_record(const raw_event& ev);
  bool paused_by_byte_cap() const noexcept;
  /// The drain loop leaves events in the queue while this is true (see drain_held_back()).
  bool drain_held_back() const noexcept;
  /// Sealed batches waiting behind the one being written before the drain loop stops taking
  /// events: the writer always has its next batch ready, and what a slow or unreachable backend
  /// holds stays in the queue's 256-byte slots instead of becoming formatted records.
  static constexpr std::size_t max_sealed_batches = 1;
  static constexpr std::size_t max_spare_batches = 2;
  /// The longest sleep of an idle worker (see idle_poll_bound()).
  static constexpr std::chrono::microseconds max_idle_poll{100'000};
  static constexpr std::size_t max_kept_record_bytes = 8192;
  void seal_batch();
  void finish(pending_batch& b);
  void revoke(std::size_t events, const std::string& why);
  void note_failure(const std::string& why);
  void warn_about_drops();
  std::uint64_t finished() const noexcept {
    return written_.load(std::memory_order_acquire) + dropped_backend_.load(std::memory_order_acquire) +
           dropped_shutdown_.load(std::memory_order_acquire);
  }
  std::uint64_t accepted_since_start() const { return event_queue::instance().read_totals().accepted - baseline_.accepted; }

  std::string start_error_;  ///< why it did not start; set in the constructor only
  event_queue& queue_;
  event_queue::totals baseline_{};
  asio::io_context ioc_{1};
  std::string scheme_;  ///< the backend, for messages
  std::unique_ptr<writer> writer_;
  event_formatter formatter_;
  clock_model clock_;
  bool tsc_ = false;
  std::thread thread_;
  std::promise<void> worker_done_;
  std::future<void> worker_done_future_ = worker_done_.get_future();

  // Worker-thread state (only touched on the io_context thread).
  moodycamel::ConsumerToken consumer_;
  std::vector<raw_event> drain_buffer_;
  raw_event span_halves_[2];  // a span record's start and stop, while they are formatted
  pending_batch current_;
  std::deque<pending_batch> pending_;
  std::vector<pending_batch> spare_batches_;
  std::uint64_t batches_sealed_ = 0;
  asio::steady_timer drain_timer_{ioc_};
  /// What the writer reads of each record (writer::needs()), asked once at start.
  record_needs needs_{};
  /// The drain loop's next sleep when it finds nothing to do: poll_interval after any event,
  /// doubling while the worker stays idle, up to idle_poll_bound().
  std::chrono::microseconds idle_sleep_{};
  std::chrono::microseconds idle_poll_bound() const noexcept;
  asio::steady_timer writer_wakeup_{ioc_};
  asio::steady_timer deadline_timer_{ioc_};
  asio::cancellation_signal write_cancel_;
  bool stop_requested_ = false;
  bool flush_requested_ = false;
  bool drain_done_ = false;
  bool drain_waits_for_writer_ = false;  ///< the drain loop sleeps because drain_held_back()
  bool deadline_passed_ = false;
  clock::time_point deadline_{};
  clock::time_point last_resync_{};
  std::uint64_t failures_in_a_row_ = 0;
  clock::time_point last_failure_log_{};
  std::uint64_t drops_reported_ = 0;
  clock::time_point last_drop_log_{};
  std::minstd_rand jitter_{std::random_device{}()};

  // Counters (written by the worker, read by anyone).
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_backend_{0};
  std::atomic<std::uint64_t> dropped_shutdown_{0};
  std::atomic<std::uint64_t> write_failures_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> batches_written_{0};
  std::atomic<std::uint64_t> cut_names_{0};     // changed by the formatter to be stored
  std::atomic<std::uint64_t> cut_info_{0};
  std::atomic<std::uint64_t> invalid_utf8_{0};
  latency_histogram latency_;
  mutable std::mutex error_mutex_;
  std::string last_error_;

  // flush() waiters.
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;

  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
  bool shutdown_clean_ = true;
  std::optional<stats> final_stats_;  ///< after shutdown: this emitter's counters, frozen

  // fork() parking (park_for_fork).
  std::mutex park_mutex_;
  std::condition_variable park_cv_;
  bool park_requested_ = false;
  bool parked_ = false;
};

}  // namespace osprof::detail
