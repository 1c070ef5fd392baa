// memory://<name> keeps events in this process, in a store shared by name: for tests and
// examples that need a backend without a server (it is not part of the library). The store can be told to fail, reject or
// slow down, which is how the emitter's retry and drop accounting is tested.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace osprof::test {

class memory_store {
 public:
  enum class fault : int {
    none,       ///< store every batch
    retryable,  ///< fail every write as a connection error would (retried)
    fatal,      ///< refuse every batch for good (dropped, not retried)
  };

  /// The store named `name`, created on first use; lives until the process ends.
  static std::shared_ptr<memory_store> get(std::string_view name);

  void append(std::vector<std::string> events, std::vector<std::pair<std::string, std::string>> errors);
  std::vector<std::string> events() const;
  std::vector<std::string> events_of(std::string_view base_id) const;
  /// base_id -> timestamp of the latest error event.
  std::vector<std::pair<std::string, std::string>> errors() const;
  std::size_t size() const;
  void clear();

  std::atomic<fault> fault_mode{fault::none};
  std::atomic<std::uint32_t> reject_every{0};  ///< with fault::none: reject every n-th event
  std::atomic<std::int64_t> delay_ms{0};       ///< each write takes this long
  /// What the writer says it reads (writer::needs()), asked when the emitter starts: set it
  /// before. false: everything; true: the columns only (no info, no json).
  std::atomic<bool> columns_only{false};
  std::atomic<std::uint64_t> write_calls{0};

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
  std::vector<std::pair<std::string, std::string>> errors_;
};

/// Registers memory:// (the tests' main does, before any test runs).
void register_memory_driver();

}  // namespace osprof::test
