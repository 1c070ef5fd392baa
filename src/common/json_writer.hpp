// Small JSON text helpers shared by the worker's event formatter, the drivers and the report
// renderers. Output separators follow Python's json.dumps defaults (", " and ": ") where
// osprof writes OSProfiler-shaped JSON.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace osprof::detail {

enum class json_escape : unsigned char {
  utf8,   ///< non-ASCII text stays UTF-8 (what osprof stores)
  ascii,  ///< non-ASCII and DEL become \uXXXX, as Python's json.dumps (ensure_ascii) writes them
};

/// Appends `text` as a JSON string (quoted, escaped). Invalid UTF-8 bytes become U+FFFD so
/// the output is always valid JSON that strict parsers (simdjson) accept.
void append_json_string(std::string& out, std::string_view text, json_escape mode = json_escape::utf8);

inline void append_json_int(std::string& out, std::int64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

inline void append_json_uint(std::string& out, std::uint64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

/// Shortest round-trip form; NaN and infinities (not JSON) become null.
inline void append_json_double(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out += text;
  // Keep floats recognisable as floats, as Python prints 1.0 rather than 1.
  if (text.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

}  // namespace osprof::detail
