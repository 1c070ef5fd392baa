#include "drivers/redis/resp.hpp"

#include <charconv>

namespace osprof::detail::redis {

std::string_view resp_value::error_code() const noexcept {
  if (type != kind::error) return {};
  std::string_view t(text);
  return t.substr(0, t.find(' '));
}

std::string resp_value::describe() const {
  switch (type) {
    case kind::simple: return "'" + text + "'";
    case kind::error: return text;
    case kind::integer: return "integer " + std::to_string(integer);
    case kind::bulk: return "a bulk string of " + std::to_string(text.size()) + " bytes";
    case kind::null: return "nil";
    case kind::array: return "an array of " + std::to_string(elements.size()) + " elements";
  }
  return "?";
}

command_writer& command_writer::begin(std::size_t args) {
  char buf[24];
  out_ += '*';
  auto r = std::to_chars(buf, buf + sizeof buf, args);
  out_.append(buf, r.ptr);
  out_ += "\r\n";
  return *this;
}

command_writer& command_writer::arg(std::string_view value) {
  char buf[24];
  out_ += '$';
  auto r = std::to_chars(buf, buf + sizeof buf, value.size());
  out_.append(buf, r.ptr);
  out_ += "\r\n";
  out_ += value;
  out_ += "\r\n";
  return *this;
}

command_writer& command_writer::arg(std::int64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return arg(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

std::string printable_excerpt(std::string_view bytes, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

namespace {

std::int64_t parse_number(std::string_view text, std::string_view line) {
  std::int64_t value = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size()) {
    throw protocol_error("malformed length or integer in '" + printable_excerpt(line) + "'");
  }
  return value;
}

}  // namespace

void resp_parser::complete(resp_value value) {
  // Hand the value to the innermost open array; arrays that become full complete in turn.
  while (!stack_.empty()) {
    frame& top = stack_.back();
    top.array.elements.push_back(std::move(value));
    if (--top.remaining > 0) return;
    value = std::move(top.array);
    stack_.pop_back();
  }
  ready_.push_back(std::move(value));
  reply_elements_ = reply_bytes_ = 0;  // the next reply counts afresh
}

std::size_t resp_parser::parse(std::string_view data) {
  std::size_t pos = 0;
  // What a reply may take, counted as its lines and bulk strings are consumed.
  const auto count = [this](std::int64_t bytes, std::int64_t elements) {
    reply_bytes_ += bytes;
    reply_elements_ += elements;
    if (reply_bytes_ > max_reply_bytes) {
      throw protocol_error("a reply larger than " + std::to_string(max_reply_bytes >> 20) + " MiB");
    }
    if (reply_elements_ > max_reply_elements) {
      throw protocol_error("a reply of more than " + std::to_string(max_reply_elements) + " elements");
    }
  };
  for (;;) {
    if (in_bulk_) {
      const auto need = static_cast<std::size_t>(bulk_length_) + 2;
      if (data.size() - pos < need) break;
      if (data[pos + need - 2] != '\r' || data[pos + need - 1] != '\n') {
        throw protocol_error("a bulk string is not followed by CRLF");
      }
      count(static_cast<std::int64_t>(need), 0);
      resp_value v;
      v.type = resp_value::kind::bulk;
      v.text.assign(data.data() + pos, need - 2);
      pos += need;
      in_bulk_ = false;
      complete(std::move(v));
      continue;
    }
    const auto eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      if (data.size() - pos > max_line) {
        throw protocol_error("no line end within " + std::to_string(max_line) + " bytes ('" +
                             printable_excerpt(data.substr(pos)) + "')");
      }
      break;
    }
    const std::string_view line = data.substr(pos, eol - pos);
    if (line.empty()) throw protocol_error("an empty line where a reply was expected");
    count(static_cast<std::int64_t>(line.size()) + 2, 0);
    const std::string_view body = line.substr(1);
    resp_value v;
    switch (line[0]) {
      case '+':
        v.type = resp_value::kind::simple;
        v.text = body;
        break;
      case '-':
        v.type = resp_value::kind::error;
        v.text = body;
        break;
      case ':':
        v.type = resp_value::kind::integer;
        v.integer = parse_number(body, line);
        break;
      case '$': {
        const std::int64_t n = parse_number(body, line);
        if (n == -1) {
          v.type = resp_value::kind::null;
          break;
        }
        if (n < 0 || n > max_bulk) throw protocol_error("bad bulk string length in '" + printable_excerpt(line) + "'");
        in_bulk_ = true;
        bulk_length_ = n;
        pos = eol + 2;
        continue;
      }
      case '*': {
        const std::int64_t n = parse_number(body, line);
        if (n == -1) {
          v.type = resp_value::kind::null;
          break;
        }
        if (n < 0) throw protocol_error("bad array length in '" + printable_excerpt(line) + "'");
        count(0, n);  // announced: refused before any of it is read
        v.type = resp_value::kind::array;
        if (n == 0) break;
        if (stack_.size() >= max_depth) throw protocol_error("arrays nested too deeply");
        v.elements.reserve(static_cast<std::size_t>(std::min<std::int64_t>(n, 1 << 16)));
        stack_.push_back({std::move(v), n});
        pos = eol + 2;
        continue;
      }
      default:
        throw protocol_error("'" + printable_excerpt(data.substr(pos)) + "' is not a RESP reply");
    }
    pos = eol + 2;
    complete(std::move(v));
  }
  return pos;
}

resp_value resp_parser::take() {
  resp_value v = std::move(ready_.front());
  ready_.pop_front();
  return v;
}

void resp_parser::reset() {
  stack_.clear();
  ready_.clear();
  in_bulk_ = false;
  bulk_length_ = 0;
  reply_elements_ = reply_bytes_ = 0;
}

}  // namespace osprof::detail::redis
