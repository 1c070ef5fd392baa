// The parsing rules behind every environment default (OpenTelemetry's): an empty variable is
// unset; lists are comma-separated, items trimmed, empty items dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace osprof::detail {

/// The variable's value, or nullptr when it is unset or empty.
const char* env_value(const char* name) noexcept;

/// `s` without surrounding whitespace.
std::string_view trim(std::string_view s) noexcept;

/// `s` trimmed and lowercased (ASCII).
std::string lower_trim(std::string_view s);

/// The non-empty items of a comma-separated list, trimmed.
std::vector<std::string> split_list(std::string_view text);

}  // namespace osprof::detail
