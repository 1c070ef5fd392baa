// A thread of the driver's own that runs blocking calls (libmongoc's) one at a time, and an
// awaitable that hands it one: the emitter's io_context never blocks, and a cancelled await
// (the emitter's write_timeout, the shutdown deadline) completes at once instead of waiting for
// the blocking call. The call then finishes on its own; its result is dropped, so jobs own
// everything they touch (no references to the caller's data) and share state through
// shared_ptr.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace osprof::detail::mongodb {

class blocking_lane {
 public:
  blocking_lane() : queue_(std::make_shared<job_queue>()) {
    thread_ = std::thread([q = queue_] { q->run(); });
  }

  ~blocking_lane() { finish(nullptr); }

  /// Stops the lane: jobs still queued are dropped (their awaits were cancelled: they must not
  /// store anything now), then `last` runs (releasing the client there, where it was used).
  /// Waits up to a second for that; a call still blocked in libmongoc keeps its own state
  /// alive and ends on its own (bounded by libmongoc's timeouts), so it never holds up the
  /// emitter's shutdown.
  void finish(std::function<void()> last) {
    if (!thread_.joinable()) return;
    if (queue_->finish(std::move(last), std::chrono::seconds(1))) {
      thread_.join();
    } else {
      thread_.detach();
    }
  }

  blocking_lane(const blocking_lane&) = delete;
  blocking_lane& operator=(const blocking_lane&) = delete;

  /// Runs `job` on the lane; its result, or nullopt when the await was cancelled first. `job`
  /// must not throw. Callers pass a named std::function: GCC 12 destroys a lambda temporary
  /// inside a co_await expression twice.
  template <typename T>
  boost::asio::awaitable<std::optional<T>> call(std::function<T()> job) {
    namespace asio = boost::asio;
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::optional<T>)>(
        [this](auto handler, std::function<T()> job) {
          using handler_type = decltype(handler);
          struct call_state {
            std::mutex mutex;
            std::optional<handler_type> handler;
            asio::any_io_executor ex;

            std::optional<handler_type> take() {
              std::lock_guard lock(mutex);
              std::optional<handler_type> h;
              if (handler) {
                h.emplace(std::move(*handler));
                handler.reset();
              }
              return h;
            }
          };
          auto state = std::make_shared<call_state>();
          auto slot = asio::get_associated_cancellation_slot(handler);
          state->ex = asio::get_associated_executor(handler);
          state->handler.emplace(std::move(handler));
          // Whichever comes first, the result or the cancellation, takes the handler; the
          // other finds none and touches nothing of the caller's.
          if (slot.is_connected()) {
            slot.assign([state](asio::cancellation_type) {
              auto h = state->take();
              if (h) asio::post(state->ex, [h = std::move(*h)]() mutable { std::move(h)(std::optional<T>()); });
            });
          }
          queue_->push([state, job = std::move(job)]() mutable {
            T result = job();
            auto h = state->take();
            if (!h) return;
            asio::post(state->ex, [h = std::move(*h), r = std::move(result)]() mutable {
              asio::get_associated_cancellation_slot(h).clear();
              std::move(h)(std::optional<T>(std::move(r)));
            });
          });
        },
        asio::use_awaitable, std::move(job));
  }

 private:
  struct job_queue {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::function<void()>> jobs;
    bool stopping = false;
    bool ended = false;

    void push(std::function<void()> job) {
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
        jobs.push_back(std::move(job));
      }
      cv.notify_all();
    }
    /// True when the thread ended within `wait`.
    bool finish(std::function<void()> last, std::chrono::milliseconds wait) {
      std::unique_lock lock(mutex);
      stopping = true;
      jobs.clear();
      if (last) jobs.push_back(std::move(last));
      cv.notify_all();
      return cv.wait_for(lock, wait, [&] { return ended; });
    }
    void run() {
      std::unique_lock lock(mutex);
      for (;;) {
        cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) {
          ended = true;
          cv.notify_all();
          return;
        }
        auto job = std::move(jobs.front());
        jobs.pop_front();
        lock.unlock();
        job();
        job = nullptr;  // its state (the libmongoc client) goes on this thread
        lock.lock();
      }
    }
  };

  std::shared_ptr<job_queue> queue_;
  std::thread thread_;
};

}  // namespace osprof::detail::mongodb
