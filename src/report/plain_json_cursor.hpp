// A cursor over plain JSON text: objects without a repeated key, strings of printable ASCII
// without escapes, integers that int64 holds written as to_chars writes them, true, false and
// null. Every read returns false at the first thing outside that, and the cursor is then done
// with: its users fall back to the simdjson DOM, which reads everything else or says why not.
// Stored events go through it (`trace show --json`): no allocation, no indirect calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "common/json_writer.hpp"

namespace osprof::detail {

class plain_json_cursor {
 public:
  static constexpr int max_depth = 64;
  static constexpr std::size_t max_keys = 48;  // of the objects open at once; more go the DOM way

  explicit plain_json_cursor(std::string_view text) noexcept : p_(text.data()), end_(p_ + text.size()) {}

  // Whether the next byte after white space is `c` (left unread).
  bool next_is(char c) noexcept {
    skip_space();
    return p_ != end_ && *p_ == c;
  }

  bool at_end() noexcept {
    skip_space();
    return p_ == end_;
  }

  // The characters of the next string.
  bool string(std::string_view& s) noexcept { return next_is('"') && quoted(s); }

  // `word` right at the cursor (after next_is()).
  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  // The next object, `depth` deep (1 for the outermost): member(key) is called past each
  // colon and must read the value.
  template <class Member>
  bool object(int depth, Member&& member) {
    return next_is('{') && members(depth, member);
  }

  // One value in a container `depth` deep (0 at the top), told to `sink`: open(bracket),
  // then member(key, first) or item(first) before each value in it, then close(bracket, empty);
  // string(chars); scalar(text) for an integer, true, false or null, as written.
  template <class Sink>
  bool value(int depth, Sink& sink) {
    skip_space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': {
        sink.open('{');
        bool first = true;
        const bool read = members(depth + 1, [&](std::string_view k) {
          sink.member(k, first);
          first = false;
          return value(depth + 1, sink);
        });
        if (read) sink.close('}', first);
        return read;
      }
      case '[': {
        sink.open('[');
        bool first = true;
        const bool read = depth + 1 <= max_depth && elements(']', [&] {
          sink.item(first);
          first = false;
          return value(depth + 1, sink);
        });
        if (read) sink.close(']', first);
        return read;
      }
      case '"': {
        std::string_view s;
        if (!quoted(s)) return false;
        sink.string(s);
        return true;
      }
      case 't': return word("true", sink);
      case 'f': return word("false", sink);
      case 'n': return word("null", sink);
      default: {
        std::string_view digits;
        if (!integer(digits)) return false;
        sink.scalar(digits);
        return true;
      }
    }
  }

  bool skip_value(int depth) {
    ignore sink;
    return value(depth, sink);
  }

 private:
  struct ignore {
    void open(char) noexcept {}
    void member(std::string_view, bool) noexcept {}
    void item(bool) noexcept {}
    void close(char, bool) noexcept {}
    void string(std::string_view) noexcept {}
    void scalar(std::string_view) noexcept {}
  };

  void skip_space() noexcept {
    // Every token is tested here, and most are not white space: one compare tells them apart.
    while (p_ != end_ && static_cast<unsigned char>(*p_) <= ' ' &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  // The string whose opening quote is at the cursor.
  bool quoted(std::string_view& s) noexcept {
    const char* start = ++p_;
    // Up to the first byte that ends the string or needs a closer look.
    p_ += plain_json_run_end({p_, static_cast<std::size_t>(end_ - p_)}, 0, json_escape::ascii);
    if (p_ == end_ || *p_ != '"') return false;
    s = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }

  // As to_chars writes an int64 (no "-0", no leading zero), with at most 18 digits.
  bool integer(std::string_view& text) noexcept {
    const char* start = p_;
    if (*p_ == '-') ++p_;
    const char* digits = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    const auto count = p_ - digits;
    if (count == 0 || count > 18 || (*digits == '0' && (count > 1 || digits != start))) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  template <class Sink>
  bool word(std::string_view w, Sink& sink) {
    if (!literal(w)) return false;
    sink.scalar(w);
    return true;
  }

  // The members of the object whose brace is at the cursor. A repeated key is refused:
  // Python keeps one entry per key, which the DOM way does too.
  template <class Member>
  bool members(int depth, Member&& member) {
    if (depth > max_depth) return false;
    const std::size_t base = key_count_;
    const bool read = elements('}', [&] {
      std::string_view k;
      if (!string(k) || key_count_ == keys_.size()) return false;
      for (std::size_t i = base; i < key_count_; ++i) {
        // Length and first byte first: most keys differ there, and memcmp is a call.
        const seen_key& seen = keys_[i];
        if (seen.size == k.size() &&
            (k.empty() || (seen.data[0] == k[0] && std::memcmp(seen.data, k.data(), k.size()) == 0))) {
          return false;
        }
      }
      keys_[key_count_++] = {k.data(), k.size()};
      if (!next_is(':')) return false;
      ++p_;
      return member(k);
    });
    key_count_ = base;
    return read;
  }

  // The elements of the object or array whose bracket is at the cursor, each read by read().
  template <class Read>
  bool elements(char close, Read&& read) {
    ++p_;
    if (next_is(close)) {
      ++p_;
      return true;
    }
    for (;;) {
      if (!read()) return false;
      if (next_is(close)) break;
      if (p_ == end_ || *p_ != ',') return false;
      ++p_;
    }
    ++p_;
    return true;
  }

  const char* p_;
  const char* end_;
  // Keys of the open objects, as a stack (no allocation per text). A trivial type, left
  // uninitialised: a cursor per stored event would otherwise zero 48 entries each time.
  struct seen_key {
    const char* data;
    std::size_t size;
  };
  std::array<seen_key, max_keys> keys_;
  std::size_t key_count_ = 0;
};

}  // namespace osprof::detail
