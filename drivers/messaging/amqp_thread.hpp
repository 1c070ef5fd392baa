// The driver's own thread, where rabbitmq-c's blocking calls run, and the bridge that lets a
// coroutine await a job there without blocking its io_context.
//
// A job's result reaches the awaiting coroutine through a timer on the coroutine's executor.
// When the coroutine is cancelled (the emitter's write_timeout), it returns at once and the
// job runs on: whatever the job changes on the thread's side (a batch confirmed) is still
// there for the next job, which is how a retried batch learns that it was stored.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace osprof::detail::messaging {

class amqp_thread {
 public:
  /// `on_idle` runs on the thread every `idle_tick` while no job is queued (heartbeats).
  amqp_thread(std::chrono::milliseconds idle_tick, std::function<void()> on_idle)
      : idle_tick_(idle_tick), on_idle_(std::move(on_idle)), thread_([this] { loop(); }) {}

  ~amqp_thread() { stop(); }
  amqp_thread(const amqp_thread&) = delete;
  amqp_thread& operator=(const amqp_thread&) = delete;

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

  /// Lets the jobs queued so far run, then ends the thread. `interrupt` first ends a blocking
  /// call in progress (it is called from this thread, so it may only touch the socket).
  void stop(const std::function<void()>& interrupt = {}) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        if (!thread_.joinable()) return;
      }
      stopping_ = true;
      if (interrupt) interrupting_ = true;
    }
    if (interrupt) interrupt();
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  /// True while stop() is ending the thread early: jobs should give up rather than wait.
  bool interrupting() const {
    std::lock_guard lock(mutex_);
    return interrupting_;
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (jobs_.empty()) {
        if (stopping_) return;
        if (!wake_.wait_for(lock, idle_tick_, [this] { return !jobs_.empty() || stopping_; })) {
          lock.unlock();
          if (on_idle_) on_idle_();
          lock.lock();
        }
        continue;
      }
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::chrono::milliseconds idle_tick_;
  std::function<void()> on_idle_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool interrupting_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

/// Runs `fn` on `thread` and awaits its result on `executor`; nullopt when the awaiting
/// coroutine was cancelled first (`fn` still runs).
template <class T, class Fn>
boost::asio::awaitable<std::optional<T>> run_on(amqp_thread& thread, boost::asio::any_io_executor executor, Fn fn) {
  namespace asio = boost::asio;
  struct state {
    explicit state(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    std::optional<T> result;
  };
  auto s = std::make_shared<state>(executor);
  thread.submit([s, executor, fn = std::move(fn)]() mutable {
    T value = fn();
    asio::post(executor, [s, value = std::move(value)]() mutable {
      s->result = std::move(value);
      s->timer.cancel();
    });
  });
  co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return std::move(s->result);
}

}  // namespace osprof::detail::messaging
