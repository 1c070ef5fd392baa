// The emitter's public class and its lifecycle: the options checked, the backend and the
// queue opened, the worker thread started (its coroutines are in emitter_worker.cpp), flush,
// shutdown and stats.
#include <osprof/emitter.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>
#include <thread>

#include <pthread.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <osprof/error.hpp>

#include "common/log.hpp"
#include "core/clock.hpp"
#include "core/tsan_annotations.hpp"
#include "worker/emitter_impl.hpp"

namespace osprof::detail {

using namespace std::chrono_literals;

std::atomic<bool> flush_signalled{false};
static_assert(std::atomic<bool>::is_always_lock_free, "request_flush() must be async-signal-safe");

namespace {

std::atomic<bool> emitter_running{false};

// The running emitter, for the process-wide fork and exit hooks below. Set while it runs.
std::atomic<emitter_impl*> running_emitter{nullptr};

void before_fork() {
  if (emitter_impl* e = running_emitter.load()) e->park_for_fork();
}
void after_fork_in_parent() {
  if (emitter_impl* e = running_emitter.load()) e->resume_after_fork();
}
// In the child, the worker thread does not exist: the inherited emitter is inert (its shutdown
// and destructor do nothing there), and the child may start an emitter of its own.
void after_fork_in_child() {
  running_emitter = nullptr;
  emitter_running = false;
}
void at_exit() {
  if (emitter_impl* e = running_emitter.load()) e->deliver_at_exit();
}

// Once, the first time an emitter starts.
void install_process_hooks() {
  static const bool installed = [] {
    pthread_atfork(&before_fork, &after_fork_in_parent, &after_fork_in_child);
    std::atexit(&at_exit);
    return true;
  }();
  (void)installed;
}

// What the emitter does when it cannot start, decided here only. By default tracing never
// stops the service: the reason is logged once, the emitter runs without tracing (trace
// points stay no-ops) and stats::start_error keeps the reason. With options::strict it is
// thrown as one osprof::error instead.
std::string refuse(const options& o, std::string why) {
  if (o.strict) throw error(why);
  log_message("not tracing: " + why);
  return why;
}

// Invalid options (from code and from the environment) are one problem naming every value.
std::string checked(const options& o) {
  const std::vector<option_problem> problems = o.validate();
  if (problems.empty()) return {};
  std::string text = "invalid osprof::options:";
  for (const option_problem& p : problems) text += "\n  " + p.message();
  return refuse(o, std::move(text));
}

}  // namespace

emitter_impl::emitter_impl(options o)
    : opts(std::move(o)),
      start_error_(checked(opts)),
      // Invalid options never size the queue: it is made with the default capacity then.
      queue_(event_queue::instance(start_error_.empty() ? opts.queue_capacity : 0)),
      formatter_(opts.project, opts.service, opts.host),
      consumer_(queue_.queue()) {
  baseline_ = queue_.read_totals();  // stats count from here, as for a running emitter
  if (!start_error_.empty() || !opts.enabled) return;
  if (emitter_running.exchange(true)) {
    start_error_ = refuse(opts, "another osprof::emitter is already running in this process; shut it down first");
    return;
  }
  try {
    driver_context context{ioc_.get_executor(), opts.project, opts.service, opts.host, opts.filter_error_trace,
                           opts.write_timeout};
    writer_ = make_writer(opts.connection_string, context);
    needs_ = writer_->needs();
    scheme_ = connection_string::parse(opts.connection_string).scheme;
  } catch (const std::exception& e) {
    emitter_running = false;
    start_error_ = refuse(opts, e.what());
    return;
  } catch (...) {
    emitter_running = false;
    start_error_ = refuse(opts, "the backend's driver failed to start (it threw something other than an exception)");
    return;
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
  config.hold_starts = opts.hold_starts;
  // Small chunks so that credits parked in idle threads cannot starve the others.
  const auto threads = static_cast<std::int64_t>(std::max(2u, std::thread::hardware_concurrency()));
  config.credit_chunk = std::clamp<std::int64_t>(capacity / (8 * threads), 1, 32);
  // A blocked producer ends the worker's idle backoff (one post per episode, off the hot path).
  config.wake_worker = [](void* self) {
    auto* e = static_cast<emitter_impl*>(self);
    asio::post(e->ioc_, [e] { e->drain_timer_.cancel(); });
  };
  config.wake_worker_arg = this;

  baseline_ = queue_.read_totals();
  queue_.open(config, capacity, spill_bytes);
  install_process_hooks();
  try {
    thread_ = std::thread([this] { run_worker(); });
  } catch (const std::system_error& e) {
    queue_.set_stopping();
    queue_.set_idle();
    writer_.reset();
    emitter_running = false;
    start_error_ = refuse(opts, std::string("cannot start the worker thread: ") + e.what());
    return;
  }
  running_emitter = this;
}

void emitter_impl::park_for_fork() {
  if (std::this_thread::get_id() == thread_.get_id() || getpid() != creator_pid) return;
  std::unique_lock lock(park_mutex_);
  park_requested_ = true;
  asio::post(ioc_, [this] {
    std::unique_lock lock(park_mutex_);
    parked_ = true;
    park_cv_.notify_all();
    park_cv_.wait(lock, [this] { return !park_requested_; });
    parked_ = false;
  });
  // Bounded: a worker inside a long step (a backend's own thread may still be busy) only
  // makes this fork as unsafe as any fork in a program with threads.
  park_cv_.wait_for(lock, 200ms, [this] { return parked_; });
}

void emitter_impl::resume_after_fork() {
  std::lock_guard lock(park_mutex_);
  park_requested_ = false;
  park_cv_.notify_all();
}

void emitter_impl::deliver_at_exit() {
  if (getpid() != creator_pid || std::this_thread::get_id() == thread_.get_id()) return;
  const std::uint64_t held = get_stats().held;
  if (held == 0) return;
  const auto bound = opts.shutdown_timeout;
  log_message("the process is exiting with " + std::to_string(held) + " events not yet written; delivering them for up to " +
              std::to_string(bound.count()) + " ms (keep the emitter in main(), or call shutdown() before exit())");
  if (!flush(bound)) {
    log_message(std::to_string(get_stats().held) + " events were not written before the process exited");
  }
}

emitter_impl::~emitter_impl() {
  if (thread_.joinable() && getpid() == creator_pid) thread_.join();
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
    // start an emitter of its own (the fork hook above already let it).
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
    for (std::size_t i = 0; i < n; ++i) std::free(leftover[i].spill);
    queue_.count_dequeued(events_in({leftover, n}));
  }
  const std::uint64_t accepted = accepted_since_start();
  const std::uint64_t done = finished();
  if (accepted > done) dropped_shutdown_.fetch_add(accepted - done, std::memory_order_release);
  queue_.set_idle();
  running_emitter = nullptr;
  emitter_running = false;

  const stats s = get_stats();
  {
    // Later emitters share the queue's counters: this one's are frozen now.
    std::lock_guard lock(error_mutex_);
    final_stats_ = s;
  }
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
  {
    std::lock_guard lock(error_mutex_);
    if (final_stats_) return *final_stats_;
  }
  stats s;
  // Not started: nothing here is this emitter's (another one may be running).
  if (!start_error_.empty()) {
    s.start_error = start_error_;
    return s;
  }
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
  s.cut_names = cut_names_.load(std::memory_order_relaxed);
  s.cut_info = cut_info_.load(std::memory_order_relaxed);
  s.invalid_utf8 = invalid_utf8_.load(std::memory_order_relaxed);
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

void request_flush() noexcept { detail::flush_signalled.store(true, std::memory_order_relaxed); }

bool emitter::shutdown(std::chrono::milliseconds timeout) { return impl_->shutdown(timeout); }

stats emitter::get_stats() const { return impl_->get_stats(); }

const options& emitter::config() const noexcept { return impl_->opts; }

}  // namespace v1
}  // namespace osprof
