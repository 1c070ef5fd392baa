#include "driver/driver.hpp"

#include <osprof/error.hpp>

namespace osprof::detail {

asio::awaitable<void> driver::flush() { co_return; }

asio::awaitable<void> driver::close() { co_return; }

void driver::read_unsupported() const {
  throw error(std::string(scheme()) +
              "://: this backend is write-only, so traces cannot be read back from it; "
              "use the backend's own tools, or send the events to a backend that osprof can read");
}

asio::awaitable<std::vector<std::string>> driver::read_trace(std::string_view) {
  read_unsupported();
  co_return std::vector<std::string>{};
}

asio::awaitable<std::vector<trace_summary>> driver::list_traces() {
  read_unsupported();
  co_return std::vector<trace_summary>{};
}

asio::awaitable<std::vector<trace_summary>> driver::list_error_traces() {
  read_unsupported();
  co_return std::vector<trace_summary>{};
}

}  // namespace osprof::detail
