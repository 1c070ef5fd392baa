// What a scoped trace records when an exception leaves its scope. C++ gives a destructor no
// access to the exception in flight, so with OSPROF_CAPTURE_EXCEPTIONS (default on, GCC and
// Clang with libstdc++) osprof wraps __cxa_throw to remember, per thread, the last object
// thrown; the guard's destructor uses it when the count of uncaught exceptions proves it is
// the one unwinding. Otherwise the stop event says `etype: "unknown"`.
#pragma once

#include <string_view>
#include <typeinfo>

namespace osprof::detail {

struct exception_info {
  const std::type_info* type = nullptr;  // nullptr: not known
  std::string_view message;              // what() when the type derives from std::exception
};

/// The exception unwinding through the calling destructor, if it can be known.
exception_info exception_in_flight() noexcept;

}  // namespace osprof::detail
