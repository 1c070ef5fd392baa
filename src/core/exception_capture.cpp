#include "core/exception_capture.hpp"

#include <exception>

#if OSPROF_CAPTURE_EXCEPTIONS && defined(__GLIBCXX__)
#include <dlfcn.h>

#include <atomic>

namespace osprof::detail {
namespace {

struct thrown {
  void* object;
  std::type_info* type;
  int uncaught;  // std::uncaught_exceptions() once this exception is in flight
};

constinit thread_local thrown last_thrown{nullptr, nullptr, -1};

using cxa_throw_fn = void (*)(void*, std::type_info*, void (*)(void*));

}  // namespace

exception_info exception_in_flight() noexcept {
  const thrown& t = last_thrown;
  // Only trust the record if no other exception was thrown (and caught) since: then the
  // count of exceptions in flight matches the one taken when it was thrown.
  if (t.type == nullptr || t.uncaught != std::uncaught_exceptions()) return {};
  exception_info info{t.type, {}};
  void* object = t.object;
  if (typeid(std::exception).__do_catch(t.type, &object, 1)) {
    const char* what = static_cast<const std::exception*>(object)->what();
    if (what != nullptr) info.message = what;
  }
  return info;
}

}  // namespace osprof::detail

extern "C" {

// Records the thrown object, then hands over to the next __cxa_throw (libstdc++'s, or a
// sanitizer's interceptor). The lookup happens once.
[[noreturn]] void __cxa_throw(void* object, std::type_info* type, void (*destroy)(void*)) {
  using namespace osprof::detail;
  static std::atomic<cxa_throw_fn> next{nullptr};
  cxa_throw_fn real = next.load(std::memory_order_acquire);
  if (real == nullptr) {
    real = reinterpret_cast<cxa_throw_fn>(dlsym(RTLD_NEXT, "__cxa_throw"));
    next.store(real, std::memory_order_release);
  }
  last_thrown = {object, type, std::uncaught_exceptions() + 1};
  real(object, type, destroy);
  __builtin_unreachable();
}
}

#else

namespace osprof::detail {
exception_info exception_in_flight() noexcept { return {}; }
}  // namespace osprof::detail

#endif
