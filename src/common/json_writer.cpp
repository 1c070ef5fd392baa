#include "common/json_writer.hpp"

#include "common/text.hpp"

#include <cstdint>
#include <cstring>

namespace osprof::detail {

namespace {

void append_u_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += hex_digits[(unit >> 12) & 0xF];
  out += hex_digits[(unit >> 8) & 0xF];
  out += hex_digits[(unit >> 4) & 0xF];
  out += hex_digits[unit & 0xF];
}

}  // namespace


void append_json_string(std::string& out, std::string_view text, json_escape mode) {
  // Most strings (names, ids, hosts) are short and plain: quoted in a buffer, one append.
  if (text.size() <= 126 && plain_json_run_end(text, 0, mode) == text.size()) {
    char quoted[128];
    quoted[0] = '"';
    // An empty view may hold a null pointer, which memcpy must not be given.
    if (!text.empty()) std::memcpy(quoted + 1, text.data(), text.size());
    quoted[text.size() + 1] = '"';
    out.append(quoted, text.size() + 2);
    return;
  }
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  append_json_string_contents(out, text, mode);
  out += '"';
}

void append_json_string_contents(std::string& out, std::string_view text, json_escape mode) {
  // Bytes below this are copied as they are (when not a quote, backslash or control).
  const unsigned char plain_limit = mode == json_escape::ascii ? 0x7F : 0x80;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < plain_limit && c != '"' && c != '\\') {
      // Copy the run of plain characters in one go.
      const std::size_t j = plain_json_run_end(text, i + 1, mode);
      out.append(text.data() + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c < 0x80) {  // other C0 controls, and DEL in ascii mode
      append_u_escape(out, c);
      ++i;
      continue;
    }
    std::uint32_t cp;
    const std::size_t n = decode_utf8(text, i, cp);
    if (mode == json_escape::utf8) {
      if (n != 0) {
        out.append(text.data() + i, n);
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      }
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      append_u_escape(out, 0xD800 + (cp >> 10));
      append_u_escape(out, 0xDC00 + (cp & 0x3FF));
    } else {
      append_u_escape(out, cp);
    }
    i += n == 0 ? 1 : n;
  }
}

}  // namespace osprof::detail
