// Environment defaults for osprof::options, parsed by the OpenTelemetry rules: empty means
// unset; an invalid value is reported through the log and the default is used.
#include <osprof/options.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

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
namespace env {

namespace {

using detail::lower_trim;
using detail::trim;

const char* get(const char* name) { return detail::env_value(name); }

void invalid(const char* name, const char* value, std::string_view expected) {
  detail::log_message(std::string("ignoring ") + name + "='" + value + "': expected " + std::string(expected));
}

bool parse_uint(std::string_view text, std::uint64_t& out) {
  text = trim(text);
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

}  // namespace

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

std::size_t size(const char* name, std::size_t fallback, std::size_t min) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  std::uint64_t value = 0;
  if (!parse_uint(v, value) || value < min || value > std::numeric_limits<std::uint32_t>::max()) {
    invalid(name, v, "an integer from " + std::to_string(min) + " to 4294967295");
    return fallback;
  }
  return static_cast<std::size_t>(value);
}

std::chrono::milliseconds milliseconds(const char* name, std::chrono::milliseconds fallback) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  std::uint64_t value = 0;
  if (!parse_uint(v, value) || value > std::numeric_limits<std::int32_t>::max()) {
    invalid(name, v, "a duration in milliseconds (a non-negative integer)");
    return fallback;
  }
  return std::chrono::milliseconds(value);
}

std::chrono::microseconds microseconds(const char* name, std::chrono::microseconds fallback) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  std::uint64_t value = 0;
  if (!parse_uint(v, value) || value == 0 || value > std::numeric_limits<std::int32_t>::max()) {
    invalid(name, v, "a duration in microseconds (a positive integer)");
    return fallback;
  }
  return std::chrono::microseconds(value);
}

bool boolean(const char* name, bool fallback) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  const std::string value = lower_trim(v);
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  invalid(name, v, "true or false");
  return fallback;
}

overflow_policy overflow(const char* name, overflow_policy fallback) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  const std::string value = lower_trim(v);
  if (value == "drop") return overflow_policy::drop;
  if (value == "block") return overflow_policy::block;
  invalid(name, v, "drop or block");
  return fallback;
}

clock_source clock(const char* name, clock_source fallback) {
  const char* v = get(name);
  if (v == nullptr) return fallback;
  const std::string value = lower_trim(v);
  if (value == "auto") return clock_source::automatic;
  if (value == "tsc") return clock_source::tsc;
  if (value == "realtime") return clock_source::realtime;
  invalid(name, v, "auto, tsc or realtime");
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

}  // namespace env
}  // namespace v1
}  // namespace osprof
