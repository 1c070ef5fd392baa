// The one exception type osprof throws: bad configuration (connection string, options) and
// failed reads from a backend. Messages name the problem and never contain a password.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace osprof {
inline namespace v1 {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Receives osprof's own diagnostics (backend failures, drops, bad settings).
/// The default handler writes one line to stderr, prefixed with "osprof: ".
using log_handler = void (*)(std::string_view message);

/// Replaces the log handler; nullptr restores the default. Returns the previous handler.
/// @note Thread safe. The handler may be called from the worker thread.
log_handler set_log_handler(log_handler handler) noexcept;

}  // namespace v1
}  // namespace osprof
