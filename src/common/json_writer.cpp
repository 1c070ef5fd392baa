#include "common/json_writer.hpp"

namespace osprof::detail {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_u_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += hex_digits[(unit >> 12) & 0xF];
  out += hex_digits[(unit >> 8) & 0xF];
  out += hex_digits[(unit >> 4) & 0xF];
  out += hex_digits[unit & 0xF];
}

}  // namespace

std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) { return (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  auto bits = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  cp = 0xFFFD;
  if (b0 >= 0xC2 && b0 <= 0xDF && left >= 2 && cont(1)) {
    cp = ((b0 & 0x1Fu) << 6) | bits(1);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && left >= 3 && cont(1) && cont(2)) {
    const std::uint32_t v = ((b0 & 0x0Fu) << 12) | (bits(1) << 6) | bits(2);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    cp = v;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && left >= 4 && cont(1) && cont(2) && cont(3)) {
    const std::uint32_t v = ((b0 & 0x07u) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
    if (v < 0x10000 || v > 0x10FFFF) return 0;
    cp = v;
    return 4;
  }
  return 0;
}

void append_json_string(std::string& out, std::string_view text, json_escape mode) {
  // Bytes below this are copied as they are (when not a quote, backslash or control).
  const unsigned char plain_limit = mode == json_escape::ascii ? 0x7F : 0x80;
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < plain_limit && c != '"' && c != '\\') {
      // Copy the run of plain characters in one go.
      std::size_t j = i + 1;
      while (j < text.size()) {
        const auto d = static_cast<unsigned char>(text[j]);
        if (d < 0x20 || d >= plain_limit || d == '"' || d == '\\') break;
        ++j;
      }
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
  out += '"';
}

}  // namespace osprof::detail
