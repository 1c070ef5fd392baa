#include "propagation/codec.hpp"

#include <openssl/evp.h>

#include <array>

namespace osprof::detail {

std::string urlsafe_b64encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

namespace {

constexpr std::array<std::uint8_t, 256> make_b64_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  // urlsafe_b64decode first translates '-' to '+' and '_' to '/'.
  t[static_cast<unsigned char>('-')] = 62;
  t[static_cast<unsigned char>('_')] = 63;
  return t;
}
constexpr auto b64_table = make_b64_table();

}  // namespace

std::optional<std::string> python_urlsafe_b64decode(std::string_view text) {
  // base64._bytes_from_decode_data: a str must be ASCII.
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
  }
  // binascii.a2b_base64(strict_mode=False) as in CPython 3.11.
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  int quad_pos = 0;
  int pads = 0;
  unsigned left = 0;
  for (const char ch : text) {
    if (ch == '=') {
      // `pads` only advances from the third character of a quad on (C's short-circuit).
      if (quad_pos >= 2 && quad_pos + ++pads >= 4) return out;  // a complete padding ends the data
      continue;
    }
    const unsigned v = b64_table[static_cast<unsigned char>(ch)];
    if (v >= 64) continue;  // not in the alphabet: skipped
    pads = 0;
    switch (quad_pos) {
      case 0:
        quad_pos = 1;
        left = v;
        break;
      case 1:
        quad_pos = 2;
        out += static_cast<char>(((left << 2) | (v >> 4)) & 0xFF);
        left = v & 0x0F;
        break;
      case 2:
        quad_pos = 3;
        out += static_cast<char>(((left << 4) | (v >> 2)) & 0xFF);
        left = v & 0x03;
        break;
      default:
        quad_pos = 0;
        out += static_cast<char>(((left << 6) | v) & 0xFF);
        left = 0;
        break;
    }
  }
  if (quad_pos != 0) return std::nullopt;  // "Incorrect padding" (or one data char too many)
  return out;
}

namespace {

// Decodes one UTF-8 sequence at `i`; returns U+FFFD (advancing one byte) when invalid.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) -> int {
    if (i + k >= s.size()) return -1;
    const auto b = static_cast<unsigned char>(s[i + k]);
    return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
  };
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    const int c1 = cont(1);
    if (c1 >= 0) {
      i += 2;
      return static_cast<char32_t>(((b0 & 0x1F) << 6) | c1);
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    const int c1 = cont(1), c2 = cont(2);
    if (c1 >= 0 && c2 >= 0) {
      const char32_t cp = static_cast<char32_t>(((b0 & 0x0F) << 12) | (c1 << 6) | c2);
      if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
        i += 3;
        return cp;
      }
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    const int c1 = cont(1), c2 = cont(2), c3 = cont(3);
    if (c1 >= 0 && c2 >= 0 && c3 >= 0) {
      const char32_t cp = static_cast<char32_t>(((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3);
      if (cp >= 0x10000 && cp <= 0x10FFFF) {
        i += 4;
        return cp;
      }
    }
  }
  ++i;
  return 0xFFFD;
}

void append_u16_escape(std::string& out, unsigned unit) {
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
}

}  // namespace

void append_python_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const char32_t cp = next_code_point(text, i);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp < 0x10000)) {
      append_u16_escape(out, static_cast<unsigned>(cp));  // everything outside ' '..'~'
    } else if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      append_u16_escape(out, 0xD800 | static_cast<unsigned>(v >> 10));
      append_u16_escape(out, 0xDC00 | static_cast<unsigned>(v & 0x3FF));
    } else {
      out += static_cast<char>(cp);
    }
  }
  out += '"';
}

void append_hex64(std::string& out, std::uint64_t value) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += hex[(value >> shift) & 0xF];
}

std::string uuid_hex(const uuid& id) {
  std::string out;
  out.reserve(32);
  append_hex64(out, id.hi);
  append_hex64(out, id.lo);
  return out;
}

std::optional<uuid> parse_uuid_hex(std::string_view text) noexcept {
  if (text.size() != 32) return std::nullopt;
  std::uint64_t words[2] = {0, 0};
  for (std::size_t i = 0; i < 32; ++i) {
    const char c = text[i];
    unsigned v;
    if (c >= '0' && c <= '9') v = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<unsigned>(c - 'a' + 10);
    else return std::nullopt;
    words[i / 16] = words[i / 16] << 4 | v;
  }
  return uuid{words[0], words[1]};
}

}  // namespace osprof::detail
