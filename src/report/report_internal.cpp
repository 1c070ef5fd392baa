#include "report/report_internal.hpp"

#include "common/json_writer.hpp"
#include "core/small_copy.hpp"
#include "report/plain_json_cursor.hpp"

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace osprof::detail::report_impl {

namespace {

bool is_number_char(char c) noexcept {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// A JSON number that simdjson cannot hold: an integer beyond 64 bits, or a float beyond double.
bool beyond_simdjson(std::string_view number) {
  const bool integer = number.find_first_of(".eE") == std::string_view::npos;
  if (integer) {
    const std::string_view digits = number.starts_with('-') ? number.substr(1) : number;
    if (number.starts_with('-')) {
      std::int64_t v = 0;
      return std::from_chars(number.data(), number.data() + number.size(), v).ec == std::errc::result_out_of_range;
    }
    std::uint64_t v = 0;
    return std::from_chars(digits.data(), digits.data() + digits.size(), v).ec == std::errc::result_out_of_range;
  }
  // Only overflow: from_chars leaves the value unset when out of range, strtod says which way.
  const std::string copy(number);
  errno = 0;
  const double v = std::strtod(copy.c_str(), nullptr);
  return errno == ERANGE && std::isinf(v);
}

}  // namespace

std::string mark_python_literals(std::string_view text) {
  std::string out;
  bool changed = false;
  out.reserve(text.size() + 64);
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') {  // copy a string as it is, escapes included
      std::size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, text.size());
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    std::string_view literal;
    for (std::string_view word : {"NaN", "Infinity", "-Infinity"}) {
      if (text.substr(i).starts_with(word)) literal = word;
    }
    if (literal.empty() && (c == '-' || (c >= '0' && c <= '9'))) {
      std::size_t j = i + 1;
      while (j < text.size() && is_number_char(text[j])) ++j;
      const std::string_view number = text.substr(i, j - i);
      if (!beyond_simdjson(number)) {
        out.append(number);
        i = j;
        continue;
      }
      literal = number;
      if (number.find_first_of(".eE") != std::string_view::npos) {
        literal = number.starts_with('-') ? "-Infinity" : "Infinity";  // as Python reads 1e400
      }
      out += "\"\\u0000py:";
      out.append(literal);
      out += '"';
      changed = true;
      i = j;
      continue;
    }
    if (!literal.empty()) {
      out += "\"\\u0000py:";
      out.append(literal);
      out += '"';
      changed = true;
      i += literal.size();
      continue;
    }
    out += c;
    ++i;
  }
  if (!changed) out.clear();
  return out;
}

simdjson::simdjson_result<simdjson::dom::element> json_reader::parse(std::string_view text) {
  auto parsed = parse_json(text);
  if (parsed.error()) {
    marked_ = mark_python_literals(text);
    if (!marked_.empty()) {
      auto again = parse_json(marked_);
      if (!again.error()) return again;
    }
  }
  return parse_json(text);  // the original error (parsing again is rare: corrupt text only)
}

simdjson::simdjson_result<simdjson::dom::element> json_reader::parse_json(std::string_view text) {
  const std::size_t need = text.size() + simdjson::SIMDJSON_PADDING;
  if (need > capacity_) {
    capacity_ = need + need / 2;
    buffer_ = std::make_unique<char[]>(capacity_);
  }
  if (!text.empty()) std::memcpy(buffer_.get(), text.data(), text.size());
  std::memset(buffer_.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  if (max_depth_ > simdjson::DEFAULT_MAX_DEPTH && parser_.max_depth() < max_depth_) {
    // A deep report (one nesting level per point): allocate depth for it up front.
    if (auto err = parser_.allocate(text.size(), max_depth_); err) return err;
  }
  return parser_.parse(buffer_.get(), text.size(), false);
}

void append_py_string(std::string& out, std::string_view s) { append_json_string(out, s, json_escape::ascii); }

void append_py_float(std::string& out, double v) {
  if (!std::isfinite(v)) {  // never produced by a JSON parser; keep the output valid JSON
    out += "null";
    return;
  }
  if (v == 0) {
    out += std::signbit(v) ? "-0.0" : "0.0";
    return;
  }
  // Shortest round-trip digits in scientific form ("-1.2345e+02"), then laid out as
  // Python's repr does: fixed notation when -4 < decimal point position <= 16.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const std::size_t e = sci.find('e');
  char digits[32];
  std::size_t nd = 0;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits[nd++] = c;
  }
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
  const int decpt = exp + 1;
  const std::string_view d(digits, nd);
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-decpt), '0');
      out += d;
    } else if (static_cast<std::size_t>(decpt) >= nd) {
      out += d;
      out.append(static_cast<std::size_t>(decpt) - nd, '0');
      out += ".0";
    } else {
      out += d.substr(0, static_cast<std::size_t>(decpt));
      out += '.';
      out += d.substr(static_cast<std::size_t>(decpt));
    }
    return;
  }
  out += d[0];
  if (nd > 1) {
    out += '.';
    out += d.substr(1);
  }
  out += 'e';
  out += exp < 0 ? '-' : '+';
  const int a = exp < 0 ? -exp : exp;
  if (a < 10) out += '0';
  char eb[8];
  const auto er = std::to_chars(eb, eb + sizeof eb, a);
  out.append(eb, er.ptr);
}

namespace {

// Whether `s` is written as it is between quotes (ids, names, timestamps nearly always are).
bool plain_string(std::string_view s) noexcept {
  return plain_json_run_end(s, 0, json_escape::ascii) == s.size();
}

}  // namespace

void py_json_writer::quoted(std::string_view s, std::string_view suffix) {
  if (plain_string(s)) {
    // One append, not several: most strings here are keys, ids and names.
    if (char text[96]; s.size() + 2 + suffix.size() <= sizeof text) {
      text[0] = '"';
      detail::copy_bytes(text + 1, s.data(), s.size());
      text[s.size() + 1] = '"';
      detail::copy_bytes(text + s.size() + 2, suffix.data(), suffix.size());
      out_.append(text, s.size() + 2 + suffix.size());
      return;
    }
    out_ += '"';
    out_.append(s);
    out_ += '"';
  } else if (const std::string_view literal = python_literal(s); !literal.empty()) {
    out_.append(literal);  // as Python writes it back
  } else {
    append_py_string(out_, s);
  }
  out_.append(suffix);
}

void py_json_writer::raw_payload_key(std::string_view event_name) {
  static constexpr std::string_view prefix = "\"meta.raw_payload.";
  if (plain_string(event_name)) {  // written as it is: no key assembled first
    out_.append(prefix);
    out_.append(event_name);
    out_.append("\": ", 3);
    return;
  }
  key_buf_.assign(prefix.substr(1));
  key_buf_ += event_name;
  key(key_buf_);
}

void py_json_writer::integer(std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void py_json_writer::value(simdjson::dom::element e, int level) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT:
      object(e.get_object().value_unsafe(), level);
      return;
    case element_type::ARRAY: {
      const simdjson::dom::array a = e.get_array().value_unsafe();
      if (a.begin() == a.end()) {
        out_ += "[]";
        return;
      }
      out_ += '[';
      bool first = true;
      for (simdjson::dom::element item : a) {
        if (!first) out_ += ',';
        first = false;
        newline(level + 1);
        value(item, level + 1);
      }
      newline(level);
      out_ += ']';
      return;
    }
    case element_type::STRING:
      string(e.get_string().value_unsafe());
      return;
    case element_type::INT64:
      integer(e.get_int64().value_unsafe());
      return;
    case element_type::UINT64: {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, e.get_uint64().value_unsafe());
      out_.append(buf, r.ptr);
      return;
    }
    case element_type::DOUBLE:
      append_py_float(out_, e.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      out_ += e.get_bool().value_unsafe() ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out_ += "null";
      return;
  }
}

void py_json_writer::object(simdjson::dom::object o, int level) {
  const std::size_t base = fields_.size();
  for (auto field : o) fields_.emplace_back(field.key, field.value);
  const std::size_t count = fields_.size() - base;
  if (count == 0) {
    out_ += "{}";
    return;
  }
  // Python keeps one entry per key: at the first key's position, with the last value.
  bool duplicates = false;
  if (count > 1) {
    if (count <= 16) {
      for (std::size_t i = base; i < base + count && !duplicates; ++i) {
        for (std::size_t j = i + 1; j < base + count; ++j) {
          if (fields_[i].first == fields_[j].first) {
            duplicates = true;
            break;
          }
        }
      }
    } else {
      std::vector<std::string_view> keys;
      keys.reserve(count);
      for (std::size_t i = base; i < base + count; ++i) keys.push_back(fields_[i].first);
      std::sort(keys.begin(), keys.end());
      duplicates = std::adjacent_find(keys.begin(), keys.end()) != keys.end();
    }
  }
  std::unordered_map<std::string_view, std::size_t> last;
  constexpr std::size_t written = static_cast<std::size_t>(-1);
  if (duplicates) {
    for (std::size_t i = base; i < base + count; ++i) last[fields_[i].first] = i;
  }
  out_ += '{';
  bool first = true;
  for (std::size_t i = base; i < base + count; ++i) {
    std::size_t from = i;
    if (duplicates) {
      auto it = last.find(fields_[i].first);
      if (it->second == written) continue;
      from = it->second;
      it->second = written;
    }
    if (!first) out_ += ',';
    first = false;
    newline(level + 1);
    key(fields_[i].first);
    const simdjson::dom::element v = fields_[from].second;
    value(v, level + 1);
  }
  newline(level);
  out_ += '}';
  fields_.resize(base);
}

namespace {

// The reading side of py_json_writer::plain_value(): copies what the cursor reads, giving up
// (returns false) at the first thing it does not copy exactly as value() writes it.
class plain_copier {
 public:
  // Writes straight into the output string's buffer, grown as needed, then trims it: far
  // cheaper than an append per token.
  plain_copier(py_json_writer& w, std::string_view text, int level)
      : out_(w.out()), indent_(w.indent()), level_(level), text_(text), in_(text), room_(2 * text.size() + 256) {
    const std::size_t used = out_.size();
    out_.resize(used + room_);
    at_ = out_.data() + used;
    limit_ = out_.data() + out_.size();
  }
  ~plain_copier() { out_.resize(static_cast<std::size_t>(at_ - out_.data())); }

  bool run() { return in_.value(0, *this) && in_.at_end(); }

  // What run() writes, for a text the cursor has read whole before: nothing is checked again,
  // the structure is scanned and each string copied whole (plain strings have no escapes).
  void reindent() {
    const char* p = text_.data();
    const char* const end = p + text_.size();
    while (p != end) {
      switch (const char c = *p) {
        case ' ':
        case '\n':
        case '\r':
        case '\t': ++p; break;
        case '{':
        case '[': {
          const char close = c == '{' ? '}' : ']';
          const char* q = p + 1;
          while (q != end && is_space(*q)) ++q;
          if (q != end && *q == close) {  // empty
            put(c);
            put(close);
            p = q + 1;
          } else {
            open(c);
            newline(level_);
            ++p;
          }
          break;
        }
        case '}':
        case ']': close(c, false); ++p; break;
        // Python's separators are ", " and ": ": their space is skipped here, not in a turn.
        case ',':
          item(false);
          p += p + 1 != end && p[1] == ' ' ? 2 : 1;
          break;
        case ':':
          put(": ");
          p += p + 1 != end && p[1] == ' ' ? 2 : 1;
          break;
        case '"': {
          const void* quote = std::memchr(p + 1, '"', static_cast<std::size_t>(end - p - 1));
          const char* q = quote != nullptr ? static_cast<const char*>(quote) + 1 : end;
          put(std::string_view(p, static_cast<std::size_t>(q - p)));
          p = q;
          break;
        }
        default: {  // an integer, true, false or null
          const char* q = p + 1;
          while (q != end && *q != ',' && *q != '}' && *q != ']' && !is_space(*q)) ++q;
          put(std::string_view(p, static_cast<std::size_t>(q - p)));
          p = q;
          break;
        }
      }
    }
  }

  // What the cursor reads, as value() writes it.
  void open(char bracket) {
    put(bracket);
    ++level_;
  }
  void member(std::string_view key, bool first) {
    item(first);
    put_string(key);
    put(": ");
  }
  void item(bool first) {
    if (!first) put(',');
    newline(level_);
  }
  void close(char bracket, bool empty) {
    --level_;
    if (!empty) newline(level_);
    put(bracket);
  }
  void string(std::string_view s) { put_string(s); }
  void scalar(std::string_view text) { put(text); }

 private:
  void room(std::size_t n) {
    if (static_cast<std::size_t>(limit_ - at_) < n) [[unlikely]] grow(n);
  }
  // Grows the room after what is written (resize() zero-fills it), never by the size of the
  // whole output: the output is the whole report, and deep levels outgrow the first guess on
  // every payload (a deep chain rendered in quadratic time when this doubled the output).
  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(at_ - out_.data());
    room_ = std::max(2 * room_, n + 256);
    out_.resize(used + room_);
    at_ = out_.data() + used;
    limit_ = out_.data() + out_.size();
  }
  void put(char c) {
    room(1);
    *at_++ = c;
  }
  // Tokens and keys are mostly short: a copy inline, not a call into libc.
  void put(std::string_view s) {
    room(s.size());
    detail::copy_bytes(at_, s.data(), s.size());
    at_ += s.size();
  }
  // As py_json_writer::newline().
  void newline(int level) {
    if (indent_ <= 0) return;
    const auto n = static_cast<std::size_t>(level) * static_cast<std::size_t>(indent_);
    room(n + 1);
    const std::string_view line = py_json_writer::line_break_and_spaces;
    if (n < line.size()) {
      detail::copy_bytes(at_, line.data(), n + 1);
    } else {
      *at_ = '\n';
      std::memset(at_ + 1, ' ', n);
    }
    at_ += n + 1;
  }
  void put_string(std::string_view s) {
    room(s.size() + 2);
    *at_++ = '"';
    detail::copy_bytes(at_, s.data(), s.size());
    at_ += s.size();
    *at_++ = '"';
  }

  static bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  std::string& out_;
  int indent_;
  int level_;
  std::string_view text_;
  plain_json_cursor in_;
  std::size_t room_;  // bytes made writable after the output when last grown
  char* at_;
  char* limit_;
};

}  // namespace

bool py_json_writer::plain_value(std::string_view text, int level) {
  const std::size_t size = out_.size();
  bool copied = false;
  {
    plain_copier copier(*this, text, level);
    copied = copier.run();
  }
  if (!copied) out_.resize(size);
  return copied;
}

void py_json_writer::checked_plain_value(std::string_view text, int level) {
  plain_copier copier(*this, text, level);
  copier.reindent();
}

void append_ms(std::string& out, std::int64_t us) {
  // Integer arithmetic (no locale, no float rounding surprises); rounds half away from zero.
  const bool negative = us < 0;
  const std::uint64_t a = negative ? static_cast<std::uint64_t>(-(us + 1)) + 1 : static_cast<std::uint64_t>(us);
  if (negative) out += '-';
  int decimals;
  if (a < 1000) {
    decimals = 3;
  } else if (a < 10'000) {
    decimals = 2;
  } else if (a < 100'000) {
    decimals = 1;
  } else {
    decimals = 0;
  }
  std::uint64_t scale = 1;
  for (int k = decimals; k < 3; ++k) scale *= 10;
  const std::uint64_t v = (a + scale / 2) / scale;  // in units of 10^-decimals ms
  std::uint64_t div = 1;
  for (int k = 0; k < decimals; ++k) div *= 10;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v / div);
  out.append(buf, r.ptr);
  if (decimals > 0) {
    out += '.';
    const std::uint64_t frac = v % div;
    r = std::to_chars(buf, buf + sizeof buf, frac);
    const auto len = static_cast<int>(r.ptr - buf);
    out.append(static_cast<std::size_t>(decimals - len), '0');
    out.append(buf, r.ptr);
  }
  out += " ms";
}

std::string info_field_text(json_reader& reader, std::string_view event_json, std::string_view key) {
  simdjson::dom::element doc;
  if (reader.parse(event_json).get(doc)) return {};
  simdjson::dom::element v;
  if (doc["info"][key].get(v)) return {};
  std::string_view s;
  if (!v.get_string().get(s)) return std::string(python_literal(s).empty() ? s : python_literal(s));
  return simdjson::minify(v);
}

const std::string* raw_payload_of(const report_node& n, bool stop) {
  const std::string* found = nullptr;
  for (const auto& [name, json] : n.raw_payloads) {
    if (is_stop_event(name) == stop) found = &json;
  }
  return found;
}

}  // namespace osprof::detail::report_impl
