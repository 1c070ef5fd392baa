// Small JSON text helpers shared by the worker's event formatter, the drivers and the report
// renderers. Output separators follow Python's json.dumps defaults (", " and ": ") where
// osprof writes OSProfiler-shaped JSON.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <osprof/uuid.hpp>

namespace osprof::detail {

enum class json_escape : unsigned char {
  utf8,   ///< non-ASCII text stays UTF-8 (what osprof stores)
  ascii,  ///< non-ASCII and DEL become \uXXXX, as Python's json.dumps (ensure_ascii) writes them
};

namespace json_scan {

inline constexpr std::uint64_t ones = 0x0101010101010101u;
inline constexpr std::uint64_t highs = 0x8080808080808080u;

// Whether any of the eight bytes needs more than a copy: below 0x20, a quote, a backslash, at
// or above 0x80 (and DEL when escaping to ASCII). Exact, no false positives: a whole word of
// plain text is copied after one test instead of eight.
inline bool has_special(std::uint64_t w, bool ascii) noexcept {
  const auto zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  std::uint64_t found = w & highs;                 // >= 0x80
  found |= (w - ones * 0x20) & ~w & highs;         // < 0x20
  found |= zero_byte(w ^ (ones * '"'));
  found |= zero_byte(w ^ (ones * '\\'));
  if (ascii) found |= zero_byte(w ^ (ones * 0x7F));
  return found != 0;
}

}  // namespace json_scan

/// The end of the run of bytes from `from` on that a JSON string holds as they are: not a
/// control, quote or backslash, nor (non-ASCII; with `ascii` also DEL) a byte `mode` escapes.
/// Tests sixteen bytes at a time (eight without SSE2). Readers use it too: with `ascii`, the
/// run ends at the closing quote of a plain string, or at whatever needs a closer look. Inline:
/// the report's readers call it for every string of every stored event.
inline std::size_t plain_json_run_end(std::string_view text, std::size_t from, json_escape mode) noexcept {
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
    if (json_scan::has_special(word, ascii)) break;
    j += 8;
  }
  while (j < text.size()) {
    const auto d = static_cast<unsigned char>(text[j]);
    if (d < 0x20 || d >= limit || d == '"' || d == '\\') break;
    ++j;
  }
  return j;
}

/// Appends `text` as a JSON string (quoted, escaped). Invalid UTF-8 bytes become U+FFFD so
/// the output is always valid JSON that strict parsers (simdjson) accept.
void append_json_string(std::string& out, std::string_view text, json_escape mode = json_escape::utf8);
/// append_json_string() without the quotes: `text` escaped, to go inside a string being written.
void append_json_string_contents(std::string& out, std::string_view text, json_escape mode = json_escape::utf8);

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

/// Writes one JSON object member by member, separators included, in Python's json.dumps style
/// (", " and ": ", what OSProfiler stores) or compact ("," and ":"). Opens the object when
/// made; close() ends it.
///   json_members(out).string("name", n).id("base_id", id).raw("info", info).close();
class json_members {
 public:
  enum class style : unsigned char { python, compact };

  explicit json_members(std::string& out, style s = style::python, json_escape escape = json_escape::utf8)
      : out_(out), python_(s == style::python), escape_(escape) {
    out_ += '{';
  }

  json_members& string(std::string_view key, std::string_view value) {
    append_json_string(this->key(key), value, escape_);
    return *this;
  }
  /// A string known to need no escaping (a timestamp: digits and punctuation), quoted as is.
  json_members& plain(std::string_view key, std::string_view value) {
    std::string& out = this->key(key);
    out += '"';
    out += value;
    out += '"';
    return *this;
  }
  /// A value that is JSON already (an object, a number, true).
  json_members& raw(std::string_view key, std::string_view json) {
    this->key(key) += json;
    return *this;
  }
  json_members& integer(std::string_view key, std::int64_t value) {
    append_json_int(this->key(key), value);
    return *this;
  }
  /// A uuid as its 36-character text, quoted.
  json_members& id(std::string_view key, const uuid& value) {
    char text[uuid_text_size + 2];
    text[0] = '"';
    value.format(text + 1);
    text[uuid_text_size + 1] = '"';
    this->key(key).append(text, sizeof text);
    return *this;
  }
  void close() { out_ += '}'; }

 private:
  // The separator, the quoted key and the colon in one append: the worker formats every event
  // with this, millions a second.
  std::string& key(std::string_view name) {
    char buf[64];
    if (name.size() > sizeof buf - 6) {
      if (!first_) out_ += python_ ? ", " : ",";
      first_ = false;
      out_ += '"';
      out_ += name;
      out_ += python_ ? "\": " : "\":";
      return out_;
    }
    std::size_t n = 0;
    if (!first_) {
      buf[n++] = ',';
      if (python_) buf[n++] = ' ';
    }
    first_ = false;
    buf[n++] = '"';
    if (!name.empty()) std::memcpy(buf + n, name.data(), name.size());
    n += name.size();
    buf[n++] = '"';
    buf[n++] = ':';
    if (python_) buf[n++] = ' ';
    out_.append(buf, n);
    return out_;
  }

  std::string& out_;
  bool python_;
  json_escape escape_;
  bool first_ = true;
};

}  // namespace osprof::detail
