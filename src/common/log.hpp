// osprof's own diagnostics, routed to the handler set with osprof::set_log_handler().
#pragma once

#include <string_view>

namespace osprof::detail {

void log_message(std::string_view message) noexcept;

}  // namespace osprof::detail
