#include "drivers/influxdb/line_protocol.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include <simdjson.h>

#include "common/text.hpp"

namespace osprof::detail::influxdb {

namespace {

// splitmix64's finalizer: every input bit affects every output bit.
std::uint64_t avalanche(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) { return avalanche(h ^ avalanche(v + 0x9e3779b97f4a7c15ULL)); }

std::uint64_t hash_text(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

void append_uuid(std::string& out, const uuid& id) {
  char text[uuid_text_size];
  id.format(text);
  out.append(text, uuid_text_size);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// ",project=..,service=..,host=.." for the tags every point of this writer carries.
std::string constant_tags(const encoder_settings& s) {
  std::string out;
  for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"project", &s.project},
                                   {"service", &s.service},
                                   {"host", &s.host}}) {
    if (value->empty()) continue;
    out += ',';
    out += key;
    out += '=';
    append_tag_value(out, *value);
  }
  return out;
}

}  // namespace

void append_tag_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case ',':
      case ' ':
      case '=':
        out += '\\';
        out += c;
        break;
      case '\\': out += '/'; break;
      case '\n':
      case '\r': out += ' '; break;
      default: out += c;
    }
  }
}

void append_string_field(std::string& out, std::string_view value) {
  out += '"';
  std::size_t from = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '"' && c != '\\') continue;
    out.append(value.data() + from, i - from);
    out += '\\';
    out += c;
    from = i + 1;
  }
  out.append(value.data() + from, value.size() - from);
  out += '"';
}

std::int64_t timestamp_assigner::assign(std::uint64_t series, std::int64_t time_us, std::uint64_t seed) {
  std::int64_t offset = static_cast<std::int64_t>(seed % 1000);
  std::uint64_t key = 0;
  for (int tries = 0; tries < 1000; ++tries) {
    key = mix(series, static_cast<std::uint64_t>(time_us * 1000 + offset));
    if (!taken(key)) break;
    offset = (offset + 1) % 1000;
  }
  if (current_.size() >= generation_) {
    previous_ = std::move(current_);
    current_ = {};
  }
  current_.insert(key);
  return time_us * 1000 + offset;
}

std::vector<http::part> encode_batch(std::span<const event_record> batch, const encoder_settings& settings,
                                       timestamp_assigner& times) {
  const std::string tags = constant_tags(settings);
  std::vector<http::part> bodies;
  std::size_t estimate = 0;
  for (const event_record& e : batch) estimate += e.json.size() + e.json.size() / 8 + 200;
  const std::size_t reserve = std::min(estimate, settings.max_body_bytes);
  http::part body;
  body.body.reserve(reserve);
  std::string line;

  for (const event_record& e : batch) {
    line.clear();
    line += settings.measurement;
    line += ",base_id=";
    append_uuid(line, e.base_id);
    line += ",name=";
    append_tag_value(line, e.name);
    line += tags;
    line += " event=";
    append_string_field(line, e.json);
    if (e.has_error) line += ",error=true";
    line += ' ';
    const std::uint64_t series = mix(mix(e.base_id.hi, e.base_id.lo), hash_text(e.name));
    append_int(line, times.assign(series, e.time_us, mix(e.trace_id.hi, e.trace_id.lo)));
    line += '\n';

    if (body.events != 0 && body.body.size() + line.size() > settings.max_body_bytes) {
      bodies.push_back(std::move(body));
      body = {};
      body.body.reserve(reserve);
    }
    body.body += line;
    ++body.events;
  }
  if (body.events != 0) bodies.push_back(std::move(body));
  return bodies;
}

std::size_t parse_dropped(std::string_view body) {
  const auto at = body.rfind("dropped=");
  if (at == std::string_view::npos) return 0;
  std::size_t n = 0;
  const char* from = body.data() + at + 8;
  const auto r = std::from_chars(from, body.data() + body.size(), n);
  return r.ec == std::errc{} ? n : 0;
}

std::string error_text(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view message;
  if (parser.parse(body.data(), body.size()).get(doc) == simdjson::SUCCESS && doc["error"].get(message) == simdjson::SUCCESS) {
    return excerpt(message, 1000);
  }
  return excerpt(body);
}

}  // namespace osprof::detail::influxdb
