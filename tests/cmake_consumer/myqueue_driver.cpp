#include "myqueue_driver.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <osprof/driver.hpp>
#include <osprof/error.hpp>

namespace myqueue {

namespace {

namespace asio = boost::asio;

// The "queue": stored events and their base ids, by queue name.
struct stored {
  std::string base_id;
  std::string timestamp;
  std::string json;
};
struct queue {
  std::mutex mutex;
  std::vector<stored> events;
};

std::shared_ptr<queue> queue_named(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<queue>> queues;
  std::lock_guard lock(mutex);
  auto& q = queues[name];
  if (!q) q = std::make_shared<queue>();
  return q;
}

std::shared_ptr<queue> queue_of(const osprof::connection_string& cs) {
  cs.check_params({});
  if (cs.host.empty()) cs.fail("myqueue:// needs a queue name: myqueue://NAME");
  return queue_named(cs.host);
}

// Called by the emitter's worker, one write at a time: appending is quick, so no thread of
// its own is needed.
class writer final : public osprof::writer {
 public:
  explicit writer(std::shared_ptr<queue> q) : queue_(std::move(q)) {}

  asio::awaitable<osprof::write_result> write(const osprof::batch& b) override {
    std::lock_guard lock(queue_->mutex);
    for (const osprof::event_record& e : b.events) {
      queue_->events.push_back({e.base_id.to_string(), std::string(e.timestamp_text()), e.json});
    }
    co_return osprof::write_result::success();
  }

 private:
  std::shared_ptr<queue> queue_;
};

class reader final : public osprof::reader {
 public:
  explicit reader(std::shared_ptr<queue> q) : queue_(std::move(q)) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    std::vector<std::string> out;
    std::lock_guard lock(queue_->mutex);
    for (const auto& e : queue_->events) {
      if (e.base_id == base_id) out.push_back(e.json);
    }
    co_return out;
  }

  asio::awaitable<std::vector<osprof::trace_summary>> list_traces() override {
    std::map<std::string, std::string> first;  // base_id -> earliest timestamp
    {
      std::lock_guard lock(queue_->mutex);
      for (const auto& e : queue_->events) {
        auto [it, added] = first.try_emplace(e.base_id, e.timestamp);
        if (!added) it->second = std::min(it->second, e.timestamp);
      }
    }
    std::vector<osprof::trace_summary> out;
    for (auto& [id, ts] : first) out.push_back({id, ts});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
    co_return out;
  }

  asio::awaitable<std::vector<osprof::trace_summary>> list_error_traces() override {
    throw osprof::error("myqueue:// does not keep error flags");
    co_return std::vector<osprof::trace_summary>{};
  }

 private:
  std::shared_ptr<queue> queue_;
};

}  // namespace

void register_driver() {
  osprof::register_driver({
      .scheme = "myqueue",
      .summary = "myqueue://NAME an in-process queue (an out-of-tree example)",
      .make_writer = [](const osprof::connection_string& cs, const osprof::driver_context&) -> std::unique_ptr<osprof::writer> {
        return std::make_unique<writer>(queue_of(cs));
      },
      .make_reader = [](const osprof::connection_string& cs, const osprof::driver_context&) -> std::unique_ptr<osprof::reader> {
        return std::make_unique<reader>(queue_of(cs));
      },
  });
}

}  // namespace myqueue
