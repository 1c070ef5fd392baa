#include "propagation/codec.hpp"

#include "common/text.hpp"

#include <array>

namespace osprof::detail {

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

std::string uuid_hex(const uuid& id) {
  std::string out;
  out.reserve(32);
  append_hex(out, id.hi);
  append_hex(out, id.lo);
  return out;
}

std::optional<uuid> parse_uuid_hex(std::string_view text) noexcept {
  if (text.size() != 32) return std::nullopt;
  std::uint64_t words[2] = {0, 0};
  for (std::size_t i = 0; i < 32; ++i) {
    // Lowercase only, as W3C trace context writes it.
    const int v = text[i] >= 'A' && text[i] <= 'F' ? -1 : hex_value(text[i]);
    if (v < 0) return std::nullopt;
    words[i / 16] = words[i / 16] << 4 | static_cast<unsigned>(v);
  }
  return uuid{words[0], words[1]};
}

}  // namespace osprof::detail
