#include "common/json_writer.hpp"

#include "common/text.hpp"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace osprof::detail {

namespace {

void append_u_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += hex_digits[(unit >> 12) & 0xF];
  out += hex_digits[(unit >> 8) & 0xF];
  out += hex_digits[(unit >> 4) & 0xF];
  out += hex_digits[unit & 0xF];
}

constexpr std::uint64_t ones = 0x0101010101010101u;
constexpr std::uint64_t highs = 0x8080808080808080u;

// Whether any of the eight bytes needs more than a copy: below 0x20, a quote, a backslash, at
// or above 0x80 (and DEL when escaping to ASCII). Exact, no false positives: a whole word of
// plain text is copied after one test instead of eight.
bool has_special(std::uint64_t w, bool ascii) noexcept {
  const auto zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  std::uint64_t found = w & highs;                 // >= 0x80
  found |= (w - ones * 0x20) & ~w & highs;         // < 0x20
  found |= zero_byte(w ^ (ones * '"'));
  found |= zero_byte(w ^ (ones * '\\'));
  if (ascii) found |= zero_byte(w ^ (ones * 0x7F));
  return found != 0;
}

}  // namespace

std::size_t plain_json_run_end(std::string_view text, std::size_t from, json_escape mode) noexcept {
  const bool ascii = mode == json_escape::ascii;
  const unsigned char limit = ascii ? 0x7F : 0x80;
  std::size_t j = from;
#if defined(__SSE2__)
  // Sixteen bytes per test (x86-64 always has SSE2). As signed bytes, everything at or above
  // 0x80 is negative, so one "less than 0x20" finds both the controls and the non-ASCII bytes.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  while (text.size() - j >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + j));
    __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    special = _mm_or_si128(special, _mm_cmplt_epi8(v, space));
    if (ascii) special = _mm_or_si128(special, _mm_cmpeq_epi8(v, del));
    if (const int mask = _mm_movemask_epi8(special); mask != 0) return j + static_cast<std::size_t>(__builtin_ctz(mask));
    j += 16;
  }
#endif
  while (text.size() - j >= 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + j, 8);
    if (has_special(word, ascii)) break;
    j += 8;
  }
  while (j < text.size()) {
    const auto d = static_cast<unsigned char>(text[j]);
    if (d < 0x20 || d >= limit || d == '"' || d == '\\') break;
    ++j;
  }
  return j;
}

void append_json_string(std::string& out, std::string_view text, json_escape mode) {
  // Bytes below this are copied as they are (when not a quote, backslash or control).
  const unsigned char plain_limit = mode == json_escape::ascii ? 0x7F : 0x80;
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
  out += '"';
}

}  // namespace osprof::detail
