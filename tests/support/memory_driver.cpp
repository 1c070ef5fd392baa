// memory://<name>: see memory_store.hpp. Registered by the tests' main (test_main.cpp).
#include <algorithm>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <osprof/driver.hpp>

#include "support/memory_store.hpp"

namespace osprof::test {

namespace asio = boost::asio;

std::shared_ptr<memory_store> memory_store::get(std::string_view name) {
  static std::mutex mutex;
  static auto* stores = new std::map<std::string, std::shared_ptr<memory_store>, std::less<>>();
  std::lock_guard lock(mutex);
  auto it = stores->find(name);
  if (it == stores->end()) it = stores->emplace(std::string(name), std::make_shared<memory_store>()).first;
  return it->second;
}

void memory_store::append(std::vector<std::string> events, std::vector<std::pair<std::string, std::string>> errors) {
  std::lock_guard lock(mutex_);
  for (auto& e : events) events_.push_back(std::move(e));
  for (auto& [base, ts] : errors) {
    auto it = std::find_if(errors_.begin(), errors_.end(), [&](const auto& p) { return p.first == base; });
    if (it != errors_.end()) {
      it->second = ts;
    } else {
      errors_.emplace_back(base, ts);
    }
  }
}

std::vector<std::string> memory_store::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<std::string> memory_store::events_of(std::string_view base_id) const {
  std::string needle = "\"base_id\": \"";
  needle += base_id;
  needle += '"';
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : events_) {
    if (e.find(needle) != std::string::npos) out.push_back(e);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> memory_store::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

std::size_t memory_store::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

void memory_store::clear() {
  std::lock_guard lock(mutex_);
  events_.clear();
  errors_.clear();
}

namespace {

class memory_writer final : public writer {
 public:
  memory_writer(std::shared_ptr<memory_store> store, asio::any_io_executor executor)
      : store_(std::move(store)), executor_(std::move(executor)) {}

  asio::awaitable<write_result> write(const osprof::batch& b) override {
    const std::span<const event_record> batch = b.events;
    store_->write_calls.fetch_add(1, std::memory_order_relaxed);
    if (const auto ms = store_->delay_ms.load(); ms > 0) {
      asio::steady_timer timer(executor_, std::chrono::milliseconds(ms));
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return write_result::retryable("memory://: write cancelled");
    }
    switch (store_->fault_mode.load()) {
      case memory_store::fault::retryable: co_return write_result::retryable("memory://: simulated connection failure");
      case memory_store::fault::fatal: co_return write_result::fatal("memory://: simulated permanent rejection");
      case memory_store::fault::none: break;
    }
    const std::uint32_t every = store_->reject_every.load();
    std::vector<std::string> events;
    std::vector<std::pair<std::string, std::string>> errors;
    events.reserve(batch.size());
    std::size_t rejected = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (every != 0 && (i + 1) % every == 0) {
        ++rejected;
        continue;
      }
      events.push_back(batch[i].json);
      if (batch[i].has_error) errors.emplace_back(batch[i].base_id.to_string(), std::string(batch[i].timestamp_text()));
    }
    store_->append(std::move(events), std::move(errors));
    write_result r;
    r.rejected = rejected;
    if (rejected != 0) r.error = "memory://: simulated rejection of single events";
    co_return r;
  }

  record_needs needs() const noexcept override {
    if (!store_->columns_only.load()) return record_needs::everything();
    return {.columns = true, .info = false, .json = false};
  }

 private:
  std::shared_ptr<memory_store> store_;
  asio::any_io_executor executor_;
};

class memory_reader final : public reader {
 public:
  explicit memory_reader(std::shared_ptr<memory_store> store) : store_(std::move(store)) {}

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    co_return store_->events_of(base_id);
  }

  asio::awaitable<std::vector<trace_summary>> list_traces() override {
    co_return summarize(store_->events(), {});
  }

  asio::awaitable<std::vector<trace_summary>> list_error_traces() override {
    std::vector<std::string> ids;
    for (const auto& [base, ts] : store_->errors()) ids.push_back(base);
    co_return summarize(store_->events(), ids);
  }

 private:
  // One row per trace with its earliest timestamp, newest first. Events are our own JSON,
  // so fixed-offset field lookups suffice here.
  static std::vector<trace_summary> summarize(const std::vector<std::string>& events,
                                              const std::vector<std::string>& only) {
    std::map<std::string, std::string> first;
    for (const auto& e : events) {
      const auto b = e.find("\"base_id\": \"");
      const auto t = e.find("\"timestamp\": \"");
      if (b == std::string::npos || t == std::string::npos) continue;
      std::string base = e.substr(b + 12, 36);
      if (!only.empty() && std::find(only.begin(), only.end(), base) == only.end()) continue;
      std::string ts = e.substr(t + 14, 26);
      auto [it, inserted] = first.try_emplace(base, ts);
      if (!inserted && ts < it->second) it->second = ts;
    }
    std::vector<trace_summary> out;
    for (auto& [base, ts] : first) out.push_back({base, ts});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
    return out;
  }

  std::shared_ptr<memory_store> store_;
};

// memory://name (host) or memory:///name (path): one store per name.
std::shared_ptr<memory_store> store_of(const connection_string& cs) {
  cs.check_params({});
  return memory_store::get(cs.host.empty() ? std::string(cs.database()) : cs.host);
}

}  // namespace

void register_memory_driver() {
  register_driver({
      .scheme = "memory",
      .summary = "memory://NAME keeps events in this process (tests)",
      .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
        return std::make_unique<memory_writer>(store_of(cs), context.executor);
      },
      .make_reader = [](const connection_string& cs, const driver_context&) -> std::unique_ptr<reader> {
        return std::make_unique<memory_reader>(store_of(cs));
      },
  });
}

}  // namespace osprof::test
