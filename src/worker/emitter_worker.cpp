// The worker side: one io_context thread running two coroutines.
//  - drain_loop takes events from the queue in bulk, formats them into batches, and sleeps
//    `poll_interval` when the queue is empty (it never spins: a spinning consumer makes every
//    push on the callers' side several times slower). While nothing at all is held, the sleep
//    doubles at each empty look, up to idle_poll_bound(): an idle emitter wakes ~10 times a
//    second instead of 1,000. While a sealed batch already waits for the writer, it takes
//    nothing more (drain_held_back()): a backend that falls behind keeps events in the queue.
//  - write_loop writes sealed batches to the driver one at a time, with a timeout per write,
//    retrying with exponential backoff and jitter while the events fit the cap.
// Credits go back to the queue (worker/../core/event_queue.hpp) only once a batch is written
// or dropped, so the cap bounds everything held, not just what is queued.
#include <pthread.h>

#include <algorithm>
#include <cstdlib>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/with_timeout.hpp"
#include "core/tsan_annotations.hpp"
#include "worker/emitter_impl.hpp"

namespace osprof::detail {

using namespace std::chrono_literals;

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
  while (total < limit && !drain_held_back()) {
    const std::size_t want = std::min(drain_buffer_.size(), limit - total);
    const std::size_t n = [&] {
      OSPROF_QUEUE_ACCESS(&queue_.queue(), false);
      return queue_.queue().try_dequeue_bulk(consumer_, drain_buffer_.begin(), want);
    }();
    if (n == 0) break;
    queue_.count_dequeued(events_in({drain_buffer_.data(), n}));
    total += n;
    // Formatted records hold the bytes from now until their batch is written or dropped, in
    // place of the out-of-line payloads they were made from: the byte cap bounds both.
    std::int64_t charge = 0;
    for (std::size_t i = 0; i < n; ++i) {
      raw_event& ev = drain_buffer_[i];
      if (ev.kind == event_kind::span) {
        // A start held on the caller's thread and its stop: two events, as if pushed apart.
        ev.split_span(span_halves_[0], span_halves_[1]);
        charge += add_record(span_halves_[0]);
        charge += add_record(span_halves_[1]);
        continue;
      }
      charge += add_record(ev);
      if (ev.spill != nullptr) {
        charge -= ev.payload_size;
        std::free(ev.spill);
      }
    }
    queue_.charge_spill_bytes(charge);
  }
  return total;
}

// Formats one event into the batch being filled; returns the bytes its record holds.
std::int64_t emitter_impl::add_record(const raw_event& ev) {
  if (current_.size == 0) current_.first_event = clock::now();
  event_record& record = current_.next();
  const format_notes notes = formatter_.format(ev, clock_, record, needs_);
  if (notes.cut_name) [[unlikely]] cut_names_.fetch_add(1, std::memory_order_relaxed);
  if (notes.cut_info) [[unlikely]] cut_info_.fetch_add(1, std::memory_order_relaxed);
  if (notes.invalid_utf8) [[unlikely]] invalid_utf8_.fetch_add(1, std::memory_order_relaxed);
  const auto held = static_cast<std::int64_t>(record.name.capacity() + record.info.capacity() + record.json.capacity());
  current_.spill_bytes += held;
  if (current_.size >= opts.batch_size) seal_batch();
  return held;
}

// Over the byte cap, the worker leaves events in the queue (whose capacity then drops new
// ones, counted) until writes give bytes back; it always keeps one batch going, so a cap
// smaller than one batch still makes progress.
bool emitter_impl::paused_by_byte_cap() const noexcept { return queue_.over_byte_cap() && !pending_.empty(); }

// A backend slower than the producers (or not answering) leaves the events in the queue,
// 256 bytes each, rather than as formatted records several times larger: the memory held
// at the queue's capacity stays close to the slots' own. The writer wakes the drain loop as
// soon as it takes the next batch.
bool emitter_impl::drain_held_back() const noexcept {
  return pending_.size() >= max_sealed_batches || paused_by_byte_cap();
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

// The longest idle sleep: max_idle_poll, but never beyond half of flush_interval (an event
// that arrives during the sleep then reaches the backend within 1.5 x flush_interval) nor
// below poll_interval.
std::chrono::microseconds emitter_impl::idle_poll_bound() const noexcept {
  const std::chrono::microseconds flush = opts.flush_interval / 2;
  return std::max(opts.poll_interval, std::min<std::chrono::microseconds>(max_idle_poll, flush));
}

asio::awaitable<void> emitter_impl::drain_loop() {
  current_.records.reserve(std::min<std::size_t>(opts.batch_size, 4096));
  const std::size_t per_turn = std::max<std::size_t>(opts.batch_size, 256);
  const std::chrono::microseconds idle_bound = idle_poll_bound();
  idle_sleep_ = opts.poll_interval;
  for (;;) {
    const auto now = clock::now();
    if (tsc_ && now - last_resync_ >= 1s) {
      clock_.resync();
      last_resync_ = now;
    }
    if (flush_signalled.load(std::memory_order_relaxed)) {
      flush_signalled.store(false, std::memory_order_relaxed);
      flush_requested_ = true;
    }
    queue_.clear_worker_woken();
    const std::size_t taken = drain_some(per_turn);
    if (current_.size != 0 &&
        (flush_requested_ || stop_requested_ || clock::now() - current_.first_event >= opts.flush_interval)) {
      seal_batch();
    }
    warn_about_drops();
    if (stop_requested_ && taken == 0 && !drain_held_back()) {
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
    // A flush lasts until the queue was found empty: held back, events are still in it.
    if (!drain_held_back()) flush_requested_ = false;
    // Idle (nothing taken, nothing held, no flush asked): back off. Anything else: poll_interval.
    std::chrono::microseconds sleep = opts.poll_interval;
    if (taken == 0 && current_.size == 0 && pending_.empty()) {
      sleep = idle_sleep_;
      idle_sleep_ = std::min(idle_sleep_ * 2, idle_bound);
    } else {
      idle_sleep_ = opts.poll_interval;
    }
    drain_waits_for_writer_ = drain_held_back();
    drain_timer_.expires_after(sleep);
    co_await drain_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    drain_waits_for_writer_ = false;
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
    if (drain_waits_for_writer_) drain_timer_.cancel();  // room for the next batch: format it meanwhile
    co_await deliver(b);
    b.size = 0;
    b.spill_bytes = 0;
    // A few spare batches are kept, with their strings' capacity (formatting then allocates
    // nothing); after a backlog the rest are freed, so that memory returns to the cap.
    if (spare_batches_.size() < max_spare_batches) {
      for (event_record& r : b.records) {
        if (r.info.capacity() + r.json.capacity() > max_kept_record_bytes) r = event_record{};
      }
      spare_batches_.push_back(std::move(b));
    }
  }
  // The shutdown deadline may have cancelled this coroutine (to cut a write short); the driver
  // still gets a bounded chance to flush and close cleanly.
  co_await asio::this_coro::reset_cancellation_state();
  {
    co_await with_timeout(close_writer(), deadline_passed_ ? std::chrono::milliseconds(250) : opts.write_timeout);
  }
  deadline_timer_.cancel();  // nothing left to bound: let the io_context finish
}

// Never throws: a failure to close is logged.
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
  try {
    const batch handed{b.events(), b.id, attempt};
    auto result = co_await with_timeout(writer_->write(handed), opts.write_timeout);
    if (result) co_return std::move(*result);
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
    // Exponential backoff with full jitter in [backoff/2, backoff], at least what the server
    // asked, but never beyond retry_backoff_max: one bad Retry-After (a day, from a proxy) must
    // not stop the writes for that long.
    const auto half = backoff.count() / 2;
    auto delay = std::chrono::milliseconds(half + static_cast<std::int64_t>(jitter_() % static_cast<std::uint64_t>(half + 1)));
    delay = std::max(delay, std::min(r.retry_after, opts.retry_backoff_max));
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
  const auto dropped = queue_.dropped_queue_full() - baseline_.dropped_queue_full;
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

}  // namespace osprof::detail
