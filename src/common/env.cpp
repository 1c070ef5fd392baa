// osprof::options: the environment defaults, parsed by the OpenTelemetry rules (empty means
// unset), and the validation that says what is wrong. An invalid value read for `options` is
// recorded in its `environment_problems`; the general readers (propagation, integrations)
// report one through the log. Either way the default is used.
#include <osprof/options.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include <osprof/error.hpp>

#include "common/env_parse.hpp"
#include "common/log.hpp"

extern char* program_invocation_short_name;  // glibc

namespace osprof::detail {

const char* env_value(const char* name) noexcept {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower_trim(std::string_view s) {
  std::string out(trim(s));
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace osprof::detail

namespace osprof {
inline namespace v1 {

std::string option_problem::message() const {
  if (variable.empty()) return "options." + field + " = " + value + ": expected " + allowed;
  return variable + "=\"" + value + "\" (options." + field + "): expected " + allowed;
}

namespace {

using detail::lower_trim;
using detail::trim;

enum class unit : std::uint8_t { none, count, milliseconds, microseconds };

// Each environment variable behind an `options` field, with the field's accepted range: one
// table for the environment and for values set in code.
struct setting {
  const char* field;
  const char* variable;
  unit kind = unit::none;  ///< none: not a number
  std::int64_t min = 0;
  std::int64_t max = 0;
};

constexpr std::int64_t max_u32 = std::numeric_limits<std::uint32_t>::max();
// Durations stop at ~24.8 days: beyond any sensible timeout, and `now() + timeout` cannot overflow.
constexpr std::int64_t max_i32 = std::numeric_limits<std::int32_t>::max();

constexpr setting settings[] = {
    {"queue_capacity", "OSPROF_QUEUE_CAPACITY", unit::count, 1, max_u32},
    {"queue_max_bytes", "OSPROF_QUEUE_MAX_BYTES", unit::count, 4096, std::int64_t{1} << 40},
    {"batch_size", "OSPROF_BATCH_SIZE", unit::count, 1, max_u32},
    {"flush_interval", "OSPROF_FLUSH_INTERVAL_MS", unit::milliseconds, 0, max_i32},
    {"poll_interval", "OSPROF_POLL_INTERVAL_US", unit::microseconds, 1, max_i32},
    {"overflow", "OSPROF_OVERFLOW"},
    {"block_timeout", "OSPROF_BLOCK_TIMEOUT_MS", unit::milliseconds, 0, max_i32},
    // 0 would cancel every write before it could finish.
    {"write_timeout", "OSPROF_WRITE_TIMEOUT_MS", unit::milliseconds, 1, max_i32},
    // 0 would retry a failing backend in a tight loop.
    {"retry_backoff", "OSPROF_RETRY_BACKOFF_MS", unit::milliseconds, 1, max_i32},
    {"retry_backoff_max", "OSPROF_RETRY_BACKOFF_MAX_MS", unit::milliseconds, 1, max_i32},
    {"shutdown_timeout", "OSPROF_SHUTDOWN_TIMEOUT_MS", unit::milliseconds, 0, max_i32},
    {"max_event_bytes", "OSPROF_MAX_EVENT_BYTES", unit::count, 256, max_u32},
    {"filter_error_trace", "OSPROF_FILTER_ERROR_TRACE"},
    {"hold_starts", "OSPROF_HOLD_STARTS"},
    {"clock", "OSPROF_CLOCK"},
    {"enabled", "OSPROF_ENABLED"},
    {"enabled", "OTEL_SDK_DISABLED"},
    {"strict", "OSPROF_STRICT"},
};

constexpr const char* allowed_booleans = "true or false (also 1/0, yes/no, on/off)";
constexpr const char* allowed_overflow = "drop or block";
constexpr const char* allowed_clocks = "auto, tsc or realtime";

const setting& setting_for_variable(const char* name) {
  for (const setting& s : settings) {
    if (std::strcmp(s.variable, name) == 0) return s;
  }
  throw error(std::string("no osprof::options field is read from ") + name);
}

const setting& setting_for_field(std::string_view field) {
  for (const setting& s : settings) {
    if (s.field == field) return s;
  }
  throw error("osprof::options has no field " + std::string(field));
}

std::string allowed_range(const setting& s) {
  const std::string range = "from " + std::to_string(s.min) + " to " + std::to_string(s.max);
  switch (s.kind) {
    case unit::milliseconds: return "a whole number of milliseconds " + range;
    case unit::microseconds: return "a whole number of microseconds " + range;
    default: return "an integer " + range;
  }
}

std::string with_unit(const setting& s, std::string value) {
  switch (s.kind) {
    case unit::milliseconds: return value + " ms";
    case unit::microseconds: return value + " us";
    default: return value;
  }
}

const char* get(const char* name) { return detail::env_value(name); }

void log_invalid(const char* name, const char* value, std::string_view expected) {
  detail::log_message(std::string("ignoring ") + name + "='" + value + "': expected " + std::string(expected));
}

void record_invalid(const char* name, const char* value, std::string allowed, std::vector<option_problem>& problems) {
  problems.push_back({setting_for_variable(name).field, name, value, std::move(allowed)});
}

bool parse_uint(std::string_view text, std::uint64_t& out) {
  text = trim(text);
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string value = lower_trim(text);
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  return std::nullopt;
}

// The variable as a number in its field's range; nullopt when unset, or invalid (recorded).
std::optional<std::int64_t> number(const char* name, std::vector<option_problem>& problems) {
  const char* v = get(name);
  if (v == nullptr) return std::nullopt;
  const setting& s = setting_for_variable(name);
  std::uint64_t value = 0;
  if (parse_uint(v, value) && value >= static_cast<std::uint64_t>(s.min) && value <= static_cast<std::uint64_t>(s.max)) {
    return static_cast<std::int64_t>(value);
  }
  record_invalid(name, v, allowed_range(s), problems);
  return std::nullopt;
}

}  // namespace

namespace env {

std::string connection_string() {
  if (const char* v = get("OSPROF_CONNECTION_STRING")) return v;
  if (const char* v = get("OSPROFILER_CONNECTION_STRING")) return v;
  return "sqlite:///osprof.db";
}

std::string string(const char* name, const char* fallback) {
  const char* v = get(name);
  return v != nullptr ? v : fallback;
}

std::vector<std::string> list(const char* name, const char* fallback) {
  const char* v = get(name);
  return detail::split_list(v != nullptr ? v : fallback);
}

bool boolean(const char* name, bool fallback) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  if (const auto value = parse_bool(v)) return *value;
  log_invalid(name, v, allowed_booleans);
  return fallback;
}

std::string service_name() {
  if (const char* v = get("OSPROF_SERVICE")) return v;
  if (const char* v = get("OTEL_SERVICE_NAME")) return v;
  return program_invocation_short_name != nullptr ? program_invocation_short_name : "";
}

std::string host_name() {
  if (const char* v = get("OSPROF_HOST")) return v;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::size_t size(const char* name, std::size_t fallback, std::vector<option_problem>& problems) {
  const auto value = number(name, problems);
  return value ? static_cast<std::size_t>(*value) : fallback;
}

std::chrono::milliseconds milliseconds(const char* name, std::chrono::milliseconds fallback,
                                       std::vector<option_problem>& problems) {
  const auto value = number(name, problems);
  return value ? std::chrono::milliseconds(*value) : fallback;
}

std::chrono::microseconds microseconds(const char* name, std::chrono::microseconds fallback,
                                       std::vector<option_problem>& problems) {
  const auto value = number(name, problems);
  return value ? std::chrono::microseconds(*value) : fallback;
}

bool boolean(const char* name, bool fallback, std::vector<option_problem>& problems) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  if (const auto value = parse_bool(v)) return *value;
  record_invalid(name, v, allowed_booleans, problems);
  return fallback;
}

overflow_policy overflow(const char* name, overflow_policy fallback, std::vector<option_problem>& problems) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  const std::string value = lower_trim(v);
  if (value == "drop") return overflow_policy::drop;
  if (value == "block") return overflow_policy::block;
  record_invalid(name, v, allowed_overflow, problems);
  return fallback;
}

clock_source clock(const char* name, clock_source fallback, std::vector<option_problem>& problems) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  const std::string value = lower_trim(v);
  if (value == "auto") return clock_source::automatic;
  if (value == "tsc") return clock_source::tsc;
  if (value == "realtime") return clock_source::realtime;
  record_invalid(name, v, allowed_clocks, problems);
  return fallback;
}

bool enabled(std::vector<option_problem>& problems) {
  // Both are read (no short circuit), so that a bad value in either is recorded.
  const bool enabled = boolean("OSPROF_ENABLED", true, problems);
  const bool sdk_disabled = boolean("OTEL_SDK_DISABLED", false, problems);
  return enabled && !sdk_disabled;
}

}  // namespace env

std::vector<option_problem> options::validate() const {
  std::vector<option_problem> problems = environment_problems;
  const auto check = [&](const char* field, auto value) {
    const setting& s = setting_for_field(field);
    // Sizes are unsigned, durations signed: compare without converting either to the other.
    if (std::cmp_less(value, s.min) || std::cmp_greater(value, s.max)) {
      problems.push_back({field, "", with_unit(s, std::to_string(value)), allowed_range(s)});
    }
  };
  check("queue_capacity", queue_capacity);
  check("queue_max_bytes", queue_max_bytes);
  check("batch_size", batch_size);
  check("flush_interval", flush_interval.count());
  check("poll_interval", poll_interval.count());
  if (overflow != overflow_policy::drop && overflow != overflow_policy::block) {
    problems.push_back({"overflow", "", std::to_string(static_cast<int>(overflow)), allowed_overflow});
  }
  check("block_timeout", block_timeout.count());
  check("write_timeout", write_timeout.count());
  check("retry_backoff", retry_backoff.count());
  check("retry_backoff_max", retry_backoff_max.count());
  if (retry_backoff_max < retry_backoff) {
    problems.push_back({"retry_backoff_max", "", std::to_string(retry_backoff_max.count()) + " ms",
                        "at least retry_backoff (" + std::to_string(retry_backoff.count()) + " ms)"});
  }
  check("shutdown_timeout", shutdown_timeout.count());
  check("max_event_bytes", max_event_bytes);
  if (clock != clock_source::automatic && clock != clock_source::tsc && clock != clock_source::realtime) {
    problems.push_back({"clock", "", std::to_string(static_cast<int>(clock)), allowed_clocks});
  }
  return problems;
}

}  // namespace v1
}  // namespace osprof
