// OSProfiler's timestamp text: UTC, "%Y-%m-%dT%H:%M:%S.%f", exactly six fractional digits,
// no zone (e.g. 2026-11-25T15:26:21.360902).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprof::detail {

inline constexpr std::size_t timestamp_size = 26;

/// Writes 26 characters for `us` microseconds since the Unix epoch (UTC).
void format_timestamp(std::int64_t us, char* out) noexcept;
std::string format_timestamp(std::int64_t us);

/// Parses the form above (microseconds required, as OSProfiler's reader requires them).
std::optional<std::int64_t> parse_timestamp(std::string_view text) noexcept;

}  // namespace osprof::detail
