// W3C Trace Context: traceparent and tracestate, by the rules of the spec's request-header
// section and its test suite (w3c/trace-context spec/20-http_request_header_format.md,
// test/test.py), multi-tenant tracestate keys included.
#include <osprof/propagation.hpp>

#include <vector>

#include "common/text.hpp"
#include "propagation/codec.hpp"

namespace osprof {
inline namespace v1 {

namespace {

bool ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ows(s.back())) s.remove_suffix(1);
  return s;
}

int lower_hex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool read_hex(std::string_view s, std::uint64_t& out) noexcept {
  out = 0;
  for (const char c : s) {
    const int v = lower_hex(c);
    if (v < 0) return false;
    out = out << 4 | static_cast<std::uint64_t>(v);
  }
  return true;
}

bool lcalpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool keychar(char c) noexcept {
  return lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// key = simple-key / multi-tenant-key
//   simple-key       = (lcalpha / DIGIT) 0*255(keychar)
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id        = (lcalpha / DIGIT) 0*240(keychar)
//   system-id        = lcalpha 0*13(keychar)
bool valid_key(std::string_view key) noexcept {
  const auto body_ok = [](std::string_view s) {
    for (std::size_t i = 1; i < s.size(); ++i) {
      if (!keychar(s[i])) return false;
    }
    return true;
  };
  const auto at = key.find('@');
  if (at == std::string_view::npos) {
    return !key.empty() && key.size() <= 256 && (lcalpha(key[0]) || digit(key[0])) && body_ok(key);
  }
  const std::string_view tenant = key.substr(0, at), system = key.substr(at + 1);
  return !tenant.empty() && tenant.size() <= 241 && (lcalpha(tenant[0]) || digit(tenant[0])) && body_ok(tenant) &&
         !system.empty() && system.size() <= 14 && lcalpha(system[0]) && body_ok(system);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool valid_value(std::string_view value) noexcept {
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  for (const char c : value) {
    if (c < 0x20 || c > 0x7E || c == ',' || c == '=') return false;
  }
  return true;
}

struct member {
  std::string_view key;
  std::string_view value;
};

// Splits a list into its non-empty members (OWS around members removed). Returns false on a
// member that is not key=value.
bool split_members(std::string_view list, std::vector<member>& out) {
  while (true) {
    const auto comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    if (!item.empty()) {
      const auto eq = item.find('=');
      if (eq == std::string_view::npos) return false;
      out.push_back({item.substr(0, eq), item.substr(eq + 1)});
    }
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// Longest combined tracestate looked at: 32 members of 256 + 1 + 256 characters, commas,
// and generous whitespace. Longer is not a valid list.
constexpr std::size_t max_tracestate_size = 32 * 1024;
constexpr std::size_t max_members = 32;

}  // namespace

std::optional<traceparent> parse_traceparent(std::string_view value) noexcept {
  value = trim_ows(value);
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2): 55 characters for version 00.
  if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  std::uint64_t version = 0, hi = 0, lo = 0, parent = 0, flags = 0;
  if (!read_hex(value.substr(0, 2), version) || version == 0xFF) return std::nullopt;
  // Version 00 has exactly four fields; a higher version may add fields after a dash.
  if (version == 0 ? value.size() != 55 : (value.size() > 55 && value[55] != '-')) return std::nullopt;
  if (!read_hex(value.substr(3, 16), hi) || !read_hex(value.substr(19, 16), lo) ||
      !read_hex(value.substr(36, 16), parent) || !read_hex(value.substr(53, 2), flags)) {
    return std::nullopt;
  }
  if ((hi == 0 && lo == 0) || parent == 0) return std::nullopt;
  traceparent tp;
  tp.version = static_cast<std::uint8_t>(version);
  tp.trace_id = uuid{hi, lo};
  tp.parent_id = parent;
  tp.flags = static_cast<std::uint8_t>(flags);
  return tp;
}

std::string format_traceparent(const traceparent& tp) {
  std::string out = "00-";
  out.reserve(55);
  detail::append_hex(out, tp.trace_id.hi);
  detail::append_hex(out, tp.trace_id.lo);
  out += '-';
  detail::append_hex(out, tp.parent_id);
  out += '-';
  detail::append_hex(out, tp.flags, 2);
  return out;
}

std::optional<std::string> parse_tracestate(std::string_view combined) {
  if (combined.size() > max_tracestate_size) return std::nullopt;
  std::vector<member> members;
  if (!split_members(combined, members) || members.size() > max_members) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const member& m = members[i];
    if (!valid_key(m.key) || !valid_value(m.value)) return std::nullopt;
    for (std::size_t j = 0; j < i; ++j) {
      if (members[j].key == m.key) return std::nullopt;  // one entry per key
    }
    if (!out.empty()) out += ',';
    out.append(m.key);
    out += '=';
    out.append(m.value);
  }
  return out;
}

std::string tracestate_put(std::string_view list, std::string_view key, std::string_view value) {
  std::string out;
  out.append(key);
  out += '=';
  out.append(value);
  std::vector<member> members;
  if (!split_members(list, members)) members.clear();
  std::size_t kept = 1;
  for (const member& m : members) {
    if (m.key == key) continue;
    if (kept == max_members) break;  // the right-most entries go first
    out += ',';
    out.append(m.key);
    out += '=';
    out.append(m.value);
    ++kept;
  }
  return out;
}

std::string_view tracestate_get(std::string_view list, std::string_view key) noexcept {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == key) return item.substr(eq + 1);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return {};
}

}  // namespace v1
}  // namespace osprof
