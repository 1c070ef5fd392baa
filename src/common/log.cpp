#include "common/log.hpp"

#include <atomic>
#include <cstdio>
#include <string>

#include <osprof/error.hpp>

namespace osprof {
inline namespace v1 {

namespace {

void default_handler(std::string_view message) {
  std::string line = "osprof: ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

std::atomic<log_handler> current_handler{&default_handler};

}  // namespace

log_handler set_log_handler(log_handler handler) noexcept {
  return current_handler.exchange(handler != nullptr ? handler : &default_handler);
}

}  // namespace v1

namespace detail {

void log_message(std::string_view message) noexcept {
  try {
    current_handler.load(std::memory_order_acquire)(message);
  } catch (...) {
    // A throwing handler must not take the worker down.
  }
}

}  // namespace detail
}  // namespace osprof
