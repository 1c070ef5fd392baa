// The worker side: one io_context thread running two coroutines.
//  - drain_loop takes events from the queue in bulk, formats them into batches, and sleeps
//    `poll_interval` when the queue is empty (it never spins: a spinning consumer makes every
//    push on the callers' side several times slower).
//  - write_loop writes sealed batches to the driver one at a time, with a timeout per write,
//    retrying with exponential backoff and jitter while the events fit the cap.
// Credits go back to the queue (worker/../core/event_queue.hpp) only once a batch is written
// or dropped, so the cap bounds everything held, not just what is queued.
#include <osprof/emitter.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <osprof/driver.hpp>
#include <osprof/error.hpp>

#include "common/log.hpp"
#include "core/clock.hpp"
#include "core/event_queue.hpp"
#include "core/tsan_annotations.hpp"
#include "worker/clock_model.hpp"
#include "worker/formatter.hpp"

namespace osprof::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> emitter_running{false};

// What the emitter does with invalid options, decided here only: it refuses to start, with
// one osprof::error that names every problem (from code and from the environment).
options checked(options o) {
  const std::vector<option_problem> problems = o.validate();
  if (problems.empty()) return o;
  std::string text = "invalid osprof::options:";
  for (const option_problem& p : problems) text += "\n  " + p.message();
  throw error(text);
}

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

}  // namespace

class emitter_impl {
 public:
  explicit emitter_impl(options o);
  ~emitter_impl();

  bool flush(std::chrono::milliseconds timeout);
  bool shutdown(std::chrono::milliseconds timeout);
  stats get_stats() const;

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
  pending_batch current_;
  std::deque<pending_batch> pending_;
  std::vector<pending_batch> spare_batches_;
  std::uint64_t batches_sealed_ = 0;
  asio::steady_timer drain_timer_{ioc_};
  asio::steady_timer writer_wakeup_{ioc_};
  asio::steady_timer deadline_timer_{ioc_};
  asio::cancellation_signal write_cancel_;
  bool stop_requested_ = false;
  bool flush_requested_ = false;
  bool drain_done_ = false;
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
  latency_histogram latency_;
  mutable std::mutex error_mutex_;
  std::string last_error_;

  // flush() waiters.
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;

  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
  bool shutdown_clean_ = true;
};

emitter_impl::emitter_impl(options o)
    : opts(checked(std::move(o))),
      queue_(event_queue::instance(opts.queue_capacity)),
      formatter_(opts.project, opts.service, opts.host),
      consumer_(queue_.queue()) {
  if (!opts.enabled) {
    baseline_ = queue_.read_totals();  // stats count from here, as for a running emitter
    return;
  }
  if (emitter_running.exchange(true)) {
    throw error("another osprof::emitter is already running in this process; shut it down first");
  }
  try {
    driver_context context{ioc_.get_executor(), opts.project, opts.service, opts.host, opts.filter_error_trace,
                           opts.write_timeout};
    writer_ = make_writer(opts.connection_string, context);
    scheme_ = connection_string::parse(opts.connection_string).scheme;
  } catch (...) {
    emitter_running = false;
    throw;
  }
  tsc_ = use_tsc(opts.clock);
  drain_buffer_.resize(256);

  // Capacity: events, further bounded by the byte cap; what the events leave of the byte cap
  // is for out-of-line payloads.
  const auto by_bytes = static_cast<std::int64_t>(opts.queue_max_bytes / sizeof(raw_event));
  const std::int64_t capacity = std::max<std::int64_t>(1, std::min<std::int64_t>(static_cast<std::int64_t>(opts.queue_capacity), by_bytes));
  const std::int64_t spill_bytes =
      std::max<std::int64_t>(0, static_cast<std::int64_t>(opts.queue_max_bytes) - capacity * static_cast<std::int64_t>(sizeof(raw_event)));
  producer_config config;
  config.overflow = opts.overflow;
  config.block_timeout = opts.block_timeout;
  config.max_event_bytes = opts.max_event_bytes;
  config.tsc = tsc_;
  // Small chunks so that credits parked in idle threads cannot starve the others.
  const auto threads = static_cast<std::int64_t>(std::max(2u, std::thread::hardware_concurrency()));
  config.credit_chunk = std::clamp<std::int64_t>(capacity / (8 * threads), 1, 32);

  baseline_ = queue_.read_totals();
  queue_.open(config, capacity, spill_bytes);
  thread_ = std::thread([this] { run_worker(); });
}

emitter_impl::~emitter_impl() {
  if (thread_.joinable() && getpid() == creator_pid) thread_.join();
}

void emitter_impl::run_worker() {
  pthread_setname_np(pthread_self(), "osprof-worker");
  if (tsc_) clock_.calibrate(10ms);
  last_resync_ = clock::now();
  asio::co_spawn(ioc_, drain_loop(), asio::detached);
  asio::co_spawn(ioc_, write_loop(), asio::bind_cancellation_slot(write_cancel_.slot(), asio::detached));
  try {
    ioc_.run();
  } catch (const std::exception& e) {
    log_message(std::string("worker stopped by an unexpected error: ") + e.what());
  }
  worker_done_.set_value();
}

// Takes up to `limit` events from the queue into batches. Bounded, so that the writer (same
// thread) gets its turn and returns credits even while producers keep the queue busy.
std::size_t emitter_impl::drain_some(std::size_t limit) {
  std::size_t total = 0;
  while (total < limit) {
    const std::size_t want = std::min(drain_buffer_.size(), limit - total);
    const std::size_t n = [&] {
      OSPROF_QUEUE_ACCESS(&queue_.queue(), false);
      return queue_.queue().try_dequeue_bulk(consumer_, drain_buffer_.begin(), want);
    }();
    if (n == 0) break;
    queue_.count_dequeued(n);
    total += n;
    for (std::size_t i = 0; i < n; ++i) {
      raw_event& ev = drain_buffer_[i];
      if (current_.size == 0) current_.first_event = clock::now();
      formatter_.format(ev, clock_, current_.next());
      if (ev.spill != nullptr) {
        current_.spill_bytes += ev.payload_size;
        std::free(ev.spill);
      }
      if (current_.size >= opts.batch_size) seal_batch();
    }
  }
  return total;
}

void emitter_impl::seal_batch() {
  if (current_.size == 0) return;
  current_.id = ++batches_sealed_;
  pending_.push_back(std::move(current_));
  if (!spare_batches_.empty()) {
    current_ = std::move(spare_batches_.back());
    spare_batches_.pop_back();
  } else {
    current_ = pending_batch{};
    current_.records.reserve(std::min<std::size_t>(opts.batch_size, 4096));
  }
  writer_wakeup_.cancel();
}

asio::awaitable<void> emitter_impl::drain_loop() {
  current_.records.reserve(std::min<std::size_t>(opts.batch_size, 4096));
  const std::size_t per_turn = std::max<std::size_t>(opts.batch_size, 256);
  for (;;) {
    const auto now = clock::now();
    if (tsc_ && now - last_resync_ >= 1s) {
      clock_.resync();
      last_resync_ = now;
    }
    const std::size_t taken = drain_some(per_turn);
    if (current_.size != 0 &&
        (flush_requested_ || stop_requested_ || clock::now() - current_.first_event >= opts.flush_interval)) {
      seal_batch();
    }
    warn_about_drops();
    if (stop_requested_ && taken == 0) {
      // Producers stopped before the stop was posted: this pass found the queue empty.
      seal_batch();
      drain_done_ = true;
      writer_wakeup_.cancel();
      co_return;
    }
    if (taken == per_turn || (stop_requested_ && taken != 0)) {
      // More may be waiting: let the writer run, then come straight back.
      co_await asio::post(ioc_, asio::use_awaitable);
      continue;
    }
    flush_requested_ = false;
    drain_timer_.expires_after(opts.poll_interval);
    co_await drain_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> emitter_impl::write_loop() {
  for (;;) {
    if (pending_.empty()) {
      if (drain_done_) break;
      writer_wakeup_.expires_at(clock::time_point::max());
      co_await writer_wakeup_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    pending_batch b = std::move(pending_.front());
    pending_.pop_front();
    co_await deliver(b);
    b.size = 0;
    b.spill_bytes = 0;
    spare_batches_.push_back(std::move(b));
  }
  // The shutdown deadline may have cancelled this coroutine (to cut a write short); the driver
  // still gets a bounded chance to flush and close cleanly.
  co_await asio::this_coro::reset_cancellation_state();
  {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer close_timer(ioc_, deadline_passed_ ? std::chrono::milliseconds(250) : opts.write_timeout);
    co_await (close_writer() || close_timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
  deadline_timer_.cancel();  // nothing left to bound: let the io_context finish
}

// Never throws, so that `||` with the close timer ends as soon as this is done.
asio::awaitable<void> emitter_impl::close_writer() {
  try {
    const close_result r = co_await writer_->close();
    if (r.revoked != 0) revoke(r.revoked, r.error);
    if (!r.error.empty() && r.revoked == 0) log_message("closing the backend: " + r.error);
  } catch (const std::exception& e) {
    log_message(std::string("closing the backend failed: ") + e.what());
  }
}

asio::awaitable<write_result> emitter_impl::timed_write(const pending_batch& b, std::uint32_t attempt) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(ioc_, opts.write_timeout);
  try {
    const batch handed{b.events(), b.id, attempt};
    auto result = co_await (writer_->write(handed) || timer.async_wait(asio::use_awaitable));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    co_return write_result::retryable("the write timed out after " + std::to_string(opts.write_timeout.count()) + " ms");
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) co_return write_result::retryable("the write was cancelled");
    co_return write_result::retryable(e.what());
  } catch (const std::exception& e) {
    co_return write_result::retryable(e.what());
  }
}

asio::awaitable<void> emitter_impl::deliver(pending_batch& b) {
  const std::uint64_t n = b.size;
  auto backoff = opts.retry_backoff;
  for (std::uint32_t attempt = 1;; ++attempt) {
    if (deadline_passed_) {
      dropped_shutdown_.fetch_add(n, std::memory_order_release);
      finish(b);
      co_return;
    }
    const auto started = clock::now();
    write_result r = co_await timed_write(b, attempt);
    if (r.revoked != 0) revoke(r.revoked, r.error);
    latency_.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started).count()));
    if (r.status == write_status::ok) {
      const std::uint64_t rejected = std::min<std::uint64_t>(r.rejected, n);
      if (rejected != 0) {
        note_failure("the backend rejected " + std::to_string(rejected) + " of " + std::to_string(n) +
                     " events: " + r.error);
      } else if (failures_in_a_row_ != 0) {
        log_message("backend " + scheme_ + ":// writes again after " +
                    std::to_string(failures_in_a_row_) + " failed attempts");
      }
      failures_in_a_row_ = 0;
      written_.fetch_add(n - rejected, std::memory_order_release);
      dropped_backend_.fetch_add(rejected, std::memory_order_release);
      batches_written_.fetch_add(1, std::memory_order_relaxed);
      finish(b);
      co_return;
    }
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    ++failures_in_a_row_;
    if (r.status == write_status::failed) {
      note_failure("the backend refused " + std::to_string(n) + " events (not retried): " + r.error);
      dropped_backend_.fetch_add(n, std::memory_order_release);
      finish(b);
      co_return;
    }
    note_failure(r.error);
    // Exponential backoff with full jitter in [backoff/2, backoff], at least what the server asked.
    const auto half = backoff.count() / 2;
    auto delay = std::chrono::milliseconds(half + static_cast<std::int64_t>(jitter_() % static_cast<std::uint64_t>(half + 1)));
    delay = std::max(delay, r.retry_after);
    backoff = std::min(backoff * 2, opts.retry_backoff_max);
    if (stop_requested_ && clock::now() + delay >= deadline_) {
      dropped_shutdown_.fetch_add(n, std::memory_order_release);
      finish(b);
      co_return;
    }
    asio::steady_timer sleep(ioc_, delay);
    co_await sleep.async_wait(asio::as_tuple(asio::use_awaitable));
    retries_.fetch_add(1, std::memory_order_relaxed);
  }
}

// Events counted written earlier that the writer lost since: moved to dropped.
void emitter_impl::revoke(std::size_t events, const std::string& why) {
  written_.fetch_sub(events, std::memory_order_acq_rel);
  dropped_backend_.fetch_add(events, std::memory_order_release);
  note_failure(std::to_string(events) + " events written earlier were lost by the backend: " + why);
}

void emitter_impl::finish(pending_batch& b) {
  queue_.release(static_cast<std::int64_t>(b.size), b.spill_bytes);
  { std::lock_guard lock(wait_mutex_); }
  wait_cv_.notify_all();
}

void emitter_impl::note_failure(const std::string& why) {
  {
    std::lock_guard lock(error_mutex_);
    last_error_ = why;
  }
  // The first failure, then at most one line every 10 s while it lasts.
  const auto now = clock::now();
  if (failures_in_a_row_ <= 1 || now - last_failure_log_ >= 10s) {
    last_failure_log_ = now;
    log_message("backend " + scheme_ + ":// write failed (" +
                std::to_string(failures_in_a_row_) + " in a row): " + why);
  }
}

void emitter_impl::warn_about_drops() {
  const auto dropped = queue_.read_totals().dropped_queue_full - baseline_.dropped_queue_full;
  if (dropped == drops_reported_) return;
  const auto now = clock::now();
  if (drops_reported_ == 0 || now - last_drop_log_ >= 10s) {
    log_message("queue full: " + std::to_string(dropped) + " events dropped so far (capacity " +
                std::to_string(opts.queue_capacity) + " events; see OSPROF_QUEUE_CAPACITY and OSPROF_OVERFLOW)");
    drops_reported_ = dropped;
    last_drop_log_ = now;
  }
}

asio::awaitable<void> emitter_impl::enforce_deadline() {
  deadline_timer_.expires_at(deadline_);
  auto [ec] = co_await deadline_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;  // the writer finished first
  deadline_passed_ = true;
  write_cancel_.emit(asio::cancellation_type::terminal);
}

bool emitter_impl::flush(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return get_stats().held == 0;
  const auto deadline = clock::now() + timeout;
  const std::uint64_t target = accepted_since_start();
  asio::post(ioc_, [this] {
    flush_requested_ = true;
    drain_timer_.cancel();
  });
  std::unique_lock lock(wait_mutex_);
  return wait_cv_.wait_until(lock, deadline, [&] { return finished() >= target; });
}

bool emitter_impl::shutdown(std::chrono::milliseconds timeout) {
  std::lock_guard guard(shutdown_mutex_);
  if (shut_down_) return shutdown_clean_;
  shut_down_ = true;
  if (!thread_.joinable()) return true;
  if (getpid() != creator_pid) {
    // In a child after fork(): the worker thread exists only in the parent, and what the
    // queue held belongs to the parent. Nothing to deliver or join here; the child may
    // start an emitter of its own.
    emitter_running = false;
    shutdown_clean_ = false;
    return false;
  }
  const auto deadline = clock::now() + timeout;
  queue_.set_stopping();
  asio::post(ioc_, [this, deadline] {
    stop_requested_ = true;
    deadline_ = deadline;
    drain_timer_.cancel();
    asio::co_spawn(ioc_, enforce_deadline(), asio::detached);
  });
  // The worker ends once everything held is written or dropped; give a stuck backend a
  // short grace after the deadline, then stop the io_context outright.
  if (worker_done_future_.wait_until(deadline + 500ms) != std::future_status::ready) {
    log_message("backend did not finish within the shutdown deadline; stopping the worker");
    ioc_.stop();
  }
  thread_.join();
  writer_.reset();

  // What the worker never reached (events pushed while stopping, or cut off by ioc.stop()).
  raw_event leftover[64];
  const auto take = [&] {
    OSPROF_QUEUE_ACCESS(&queue_.queue(), false);
    return queue_.queue().try_dequeue_bulk(leftover, 64);
  };
  while (const std::size_t n = take()) {
    queue_.count_dequeued(n);
    for (std::size_t i = 0; i < n; ++i) std::free(leftover[i].spill);
  }
  const std::uint64_t accepted = accepted_since_start();
  const std::uint64_t done = finished();
  if (accepted > done) dropped_shutdown_.fetch_add(accepted - done, std::memory_order_release);
  queue_.set_idle();
  emitter_running = false;

  const stats s = get_stats();
  if (s.dropped() != 0) {
    log_message("shut down: " + std::to_string(s.written) + " events written, " + std::to_string(s.dropped()) +
                " dropped (" + std::to_string(s.dropped_queue_full) + " queue full, " +
                std::to_string(s.dropped_backend) + " backend, " + std::to_string(s.dropped_shutdown) + " shutdown)");
  }
  shutdown_clean_ = s.dropped_shutdown == 0;
  { std::lock_guard lock(wait_mutex_); }
  wait_cv_.notify_all();
  return shutdown_clean_;
}

stats emitter_impl::get_stats() const {
  stats s;
  const auto totals = queue_.read_totals();
  const std::uint64_t accepted = totals.accepted - baseline_.accepted;
  s.dropped_queue_full = totals.dropped_queue_full - baseline_.dropped_queue_full;
  s.emitted = accepted + s.dropped_queue_full;
  s.written = written_.load(std::memory_order_acquire);
  s.dropped_backend = dropped_backend_.load(std::memory_order_acquire);
  s.dropped_shutdown = dropped_shutdown_.load(std::memory_order_acquire);
  s.write_failures = write_failures_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.batches_written = batches_written_.load(std::memory_order_relaxed);
  const std::uint64_t dequeued = totals.dequeued - baseline_.dequeued;
  s.queue_depth = accepted > dequeued ? accepted - dequeued : 0;
  const std::uint64_t done = s.written + s.dropped_backend + s.dropped_shutdown;
  s.held = accepted > done ? accepted - done : 0;
  s.spilled_events = totals.spilled - baseline_.spilled;
  s.truncated_events = totals.truncated - baseline_.truncated;
  s.rejected_headers = totals.rejected_headers - baseline_.rejected_headers;
  std::uint64_t count = 0;
  for (const auto& c : latency_.counts) count += c.load(std::memory_order_relaxed);
  s.write_latency_count = count;
  if (count != 0) {
    s.write_latency_avg_us = latency_.total_us.load(std::memory_order_relaxed) / count;
    s.write_latency_max_us = latency_.max_us.load(std::memory_order_relaxed);
    const std::uint64_t rank = count - count / 100;  // p99
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < latency_.counts.size(); ++b) {
      seen += latency_.counts[b].load(std::memory_order_relaxed);
      if (seen >= rank) {
        s.write_latency_p99_us = std::min<std::uint64_t>(std::uint64_t{1} << b, s.write_latency_max_us);
        break;
      }
    }
  }
  std::lock_guard lock(error_mutex_);
  s.last_error = last_error_;
  return s;
}

}  // namespace osprof::detail

namespace osprof {
inline namespace v1 {

emitter::emitter(options opts) : impl_(std::make_unique<detail::emitter_impl>(std::move(opts))) {}

emitter::~emitter() {
  if (!impl_) return;
  if (impl_->creator_pid != getpid()) {
    // In a child after fork(): the worker thread exists only in the parent. Joining or
    // destroying its handle here would be undefined; leave it.
    (void)impl_.release();
    return;
  }
  impl_->shutdown(impl_->opts.shutdown_timeout);
}

bool emitter::flush(std::chrono::milliseconds timeout) { return impl_->flush(timeout); }

bool emitter::shutdown(std::chrono::milliseconds timeout) { return impl_->shutdown(timeout); }

stats emitter::get_stats() const { return impl_->get_stats(); }

const options& emitter::config() const noexcept { return impl_->opts; }

}  // namespace v1
}  // namespace osprof
