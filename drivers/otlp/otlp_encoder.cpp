#include "drivers/otlp/otlp_encoder.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <utility>
#include <vector>

#include <osprof/version.hpp>

#include "common/json_writer.hpp"

namespace osprof::detail::otlp {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

void append_hex(std::string& out, std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  char buf[16];
  for (int i = 15; i >= 0; --i) {
    buf[i] = digits[v & 0xf];
    v >>= 4;
  }
  out.append(buf, 16);
}

void append_nanos(std::string& out, std::int64_t us) {
  out += '"';
  append_json_int(out, us * 1000);
  out += '"';
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// AnyValue for a JSON value; false for null (no value to give).
bool append_any_value(std::string& out, element v) {
  switch (v.type()) {
    case element_type::STRING:
      out += "{\"stringValue\":";
      append_json_string(out, std::string_view(v.get_string().value_unsafe()));
      out += '}';
      return true;
    case element_type::INT64:
      out += "{\"intValue\":\"";
      append_json_int(out, v.get_int64().value_unsafe());
      out += "\"}";
      return true;
    case element_type::UINT64:  // only above INT64_MAX: OTLP integers are signed
      out += "{\"doubleValue\":";
      append_json_double(out, static_cast<double>(v.get_uint64().value_unsafe()));
      out += '}';
      return true;
    case element_type::DOUBLE:
      out += "{\"doubleValue\":";
      append_json_double(out, v.get_double().value_unsafe());
      out += '}';
      return true;
    case element_type::BOOL:
      out += v.get_bool().value_unsafe() ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
      return true;
    case element_type::ARRAY: {
      out += "{\"arrayValue\":{\"values\":[";
      bool first = true;
      const simdjson::dom::array items = v.get_array().value_unsafe();
      for (element item : items) {
        if (!first) out += ',';
        first = false;
        if (!append_any_value(out, item)) out += "{}";  // an empty AnyValue keeps positions
      }
      out += "]}}";
      return true;
    }
    case element_type::OBJECT: {
      out += "{\"kvlistValue\":{\"values\":[";
      bool first = true;
      const simdjson::dom::object fields = v.get_object().value_unsafe();
      for (auto field : fields) {
        std::string value;
        if (!append_any_value(value, field.value)) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"key\":";
        append_json_string(out, field.key);
        out += ",\"value\":" + value + "}";
      }
      out += "]}}";
      return true;
    }
    case element_type::NULL_VALUE:
      return false;
  }
  return false;
}

// Attributes as (key, AnyValue JSON), in first-seen order; a later key replaces the value.
class attribute_list {
 public:
  void set(std::string key, std::string value) {
    for (auto& [k, v] : items_) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    items_.emplace_back(std::move(key), std::move(value));
  }
  void set_string(std::string key, std::string_view text) {
    std::string v = "{\"stringValue\":";
    append_json_string(v, text);
    v += '}';
    set(std::move(key), std::move(v));
  }
  void set_bool(std::string key, bool value) {
    set(std::move(key), value ? "{\"boolValue\":true}" : "{\"boolValue\":false}");
  }
  // Nested objects become dotted keys ("request.path"); other values keep their JSON type.
  void flatten(const std::string& prefix, element object, bool skip_error_fields) {
    const simdjson::dom::object fields = object.get_object().value_unsafe();
    for (auto field : fields) {
      if (prefix.empty() && skip_error_fields && (field.key == "etype" || field.key == "message")) continue;
      std::string key = prefix.empty() ? std::string(field.key) : prefix + "." + std::string(field.key);
      if (field.value.type() == element_type::OBJECT) {
        flatten(key, field.value, false);
        continue;
      }
      std::string value;
      if (append_any_value(value, field.value)) set(std::move(key), std::move(value));
    }
  }
  void append_to(std::string& out) const {
    out += '[';
    bool first = true;
    for (const auto& [k, v] : items_) {
      if (!first) out += ',';
      first = false;
      out += "{\"key\":";
      append_json_string(out, k);
      out += ",\"value\":" + v + "}";
    }
    out += ']';
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// The string at /a/b of `e`; empty when missing or not a string.
std::string_view string_at(element e, std::string_view a, std::string_view b) {
  std::string_view out;
  if (e.at_pointer("/" + std::string(a) + "/" + std::string(b)).get(out)) return {};
  return out;
}

// OSProfiler's span names: WSGI_<method>_<path>, SQL_<first word>, REQUESTS_<method>_<host>.
std::string span_name(std::string_view point, element info, bool has_info) {
  if (has_info) {
    if (auto method = string_at(info, "request", "method"); !method.empty()) {
      return "WSGI_" + std::string(method) + "_" + std::string(string_at(info, "request", "path"));
    }
    if (auto statement = string_at(info, "db", "statement"); !statement.empty()) {
      statement = statement.substr(0, statement.find(' '));
      std::string word(statement);
      std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
      return "SQL_" + word;
    }
    if (auto method = string_at(info, "requests", "method"); !method.empty()) {
      return "REQUESTS_" + std::string(method) + "_" + std::string(string_at(info, "requests", "hostname"));
    }
  }
  return std::string(point.empty() ? std::string_view("unnamed") : point);
}

// Python's `info.get(key)` is truthy: present, and not null, false, 0, "" or {}.
bool truthy(element info, std::string_view key) {
  element v;
  if (info.get_object().value_unsafe().at_key(key).get(v)) return false;
  switch (v.type()) {
    case element_type::NULL_VALUE: return false;
    case element_type::BOOL: return v.get_bool().value_unsafe();
    case element_type::STRING: return !std::string_view(v.get_string().value_unsafe()).empty();
    case element_type::OBJECT: return v.get_object().value_unsafe().size() != 0;
    case element_type::ARRAY: return v.get_array().value_unsafe().size() != 0;
    case element_type::INT64: return v.get_int64().value_unsafe() != 0;
    case element_type::UINT64: return true;
    case element_type::DOUBLE: return v.get_double().value_unsafe() != 0;
  }
  return false;
}

// Attribute `key` from the value at `pointer` in `info`, when there is one.
void copy_to(attribute_list& attrs, std::string key, element info, std::string_view pointer) {
  element v;
  if (info.at_pointer(pointer).get(v)) return;
  std::string value;
  if (append_any_value(value, v)) attrs.set(std::move(key), std::move(value));
}

// The attributes Python OSProfiler's OTLP driver gives a span (create_span_tags at the start,
// notify at the stop), under its names, so a search in Jaeger/Tempo finds the spans of Python
// and C++ services alike. A field Python requires and info lacks is left out (Python would
// raise KeyError). db.params is compact JSON text (Python: json.dumps, ", " between items).
void add_python_tags(attribute_list& attrs, element start, bool has_start, element stop, bool has_stop) {
  if (has_start) {
    if (truthy(start, "db")) {
      copy_to(attrs, "db.statement", start, "/db/statement");
      element params;
      if (!start.at_pointer("/db/params").get(params)) attrs.set_string("db.params", simdjson::minify(params));
    } else if (truthy(start, "request")) {
      for (const char* field : {"path", "query", "method", "scheme"}) {
        copy_to(attrs, std::string("http.") + field, start, std::string("/request/") + field);
      }
    } else if (truthy(start, "requests")) {
      for (const char* field : {"path", "query", "method", "scheme", "hostname", "port"}) {
        copy_to(attrs, std::string("http.") + field, start, std::string("/requests/") + field);
      }
    } else if (truthy(start, "function")) {
      copy_to(attrs, "args", start, "/function/args");
      copy_to(attrs, "kwargs", start, "/function/kwargs");
      copy_to(attrs, "name", start, "/function/name");
    }
  }
  if (has_stop) {
    for (const char* call : {"db", "function"}) {
      if (truthy(stop, call)) copy_to(attrs, "result", stop, std::string("/") + call + "/result");
    }
    if (truthy(stop, "requests")) copy_to(attrs, "status_code", stop, "/requests/status_code");
  }
}

bool parse_object(simdjson::dom::parser& parser, const std::string& json, element& out) {
  if (json.empty()) return false;
  if (parser.parse(json).get(out)) return false;
  return out.type() == element_type::OBJECT;
}

}  // namespace

span_kind kind_of(std::string_view point) noexcept {
  if (contains(point, "wsgi")) return span_kind::server;
  if (contains(point, "db") || contains(point, "http") || contains(point, "api")) return span_kind::client;
  return span_kind::internal;
}

std::string service_name(std::string_view prefix, std::string_view project, std::string_view service) {
  std::string name;
  for (const std::string_view part : {prefix, project, service}) {
    if (part.empty()) continue;
    if (!name.empty()) name += '-';
    name += part;
  }
  return name;
}

span_encoder::span_encoder(resource_info resource) {
  attribute_list attrs;
  attrs.set_string("service.name", resource.service.empty() ? "unknown_service" : resource.service);
  if (!resource.host.empty()) attrs.set_string("host.name", resource.host);
  attrs.set_string("telemetry.sdk.name", "osprof");
  attrs.set_string("telemetry.sdk.language", "cpp");
  attrs.set_string("telemetry.sdk.version", OSPROF_VERSION_STRING);
  resource_json_ = "{\"attributes\":";
  attrs.append_to(resource_json_);
  resource_json_ += '}';
}

std::string span_encoder::encode(std::span<const span_record> spans) {
  std::string out;
  out.reserve(256 + spans.size() * 640);
  out += "{\"resourceSpans\":[{\"resource\":";
  out += resource_json_;
  out += ",\"scopeSpans\":[{\"scope\":{\"name\":\"osprof\",\"version\":\"" OSPROF_VERSION_STRING "\"},\"spans\":[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i != 0) out += ',';
    append_span(out, spans[i]);
  }
  out += "]}]}]}";
  return out;
}

void span_encoder::append_span(std::string& out, const span_record& s) {
  element start, stop;
  const bool has_start = parse_object(start_parser_, s.start_info, start);
  const bool has_stop = parse_object(stop_parser_, s.stop_info, stop);

  out += "{\"traceId\":\"";
  append_hex(out, s.base_id.hi);
  append_hex(out, s.base_id.lo);
  out += "\",\"spanId\":\"";
  append_hex(out, s.trace_id.lo);
  out += '"';
  if (!(s.parent_id == s.base_id) && !s.parent_id.is_nil() && s.parent_id.lo != 0) {
    out += ",\"parentSpanId\":\"";
    append_hex(out, s.parent_id.lo);
    out += '"';
  }
  out += ",\"name\":";
  append_json_string(out, span_name(s.point, has_start ? start : stop, has_start || has_stop));
  out += ",\"kind\":";
  append_json_int(out, static_cast<int>(kind_of(s.point)));
  out += ",\"startTimeUnixNano\":";
  append_nanos(out, s.start_us);
  out += ",\"endTimeUnixNano\":";
  append_nanos(out, std::max(s.end_us, s.start_us));

  std::string_view etype, message;
  bool failed = false, has_message = false;
  if (has_stop) {
    element v;
    failed = !stop.at_pointer("/etype").get(v) && !v.get_string().get(etype);
    // A message that is not a string (null: an exception without what()) is left out of
    // OSProfiler's event, as the OpenTelemetry SDK drops a None attribute.
    has_message = failed && !stop.at_pointer("/message").get(v) && !v.get_string().get(message);
    if (!has_message) message = {};
  }
  attribute_list attrs;
  if (has_start) attrs.flatten({}, start, false);
  if (has_stop) attrs.flatten({}, stop, failed);
  add_python_tags(attrs, start, has_start, stop, has_stop);
  char id[uuid_text_size];
  s.trace_id.format(id);
  attrs.set_string("osprofiler.trace_id", std::string_view(id, uuid_text_size));
  s.parent_id.format(id);
  attrs.set_string("osprofiler.parent_id", std::string_view(id, uuid_text_size));
  if (failed) attrs.set_bool("error", true);  // OSProfiler's tag
  if (s.unfinished) attrs.set_bool("osprof.unfinished", true);
  if (s.missing_start) attrs.set_bool("osprof.missing_start", true);
  out += ",\"attributes\":";
  attrs.append_to(out);

  if (failed) {
    // Two events at the stop: OSProfiler's `log` (error.kind, message), as its OTLP driver
    // adds it, and the OpenTelemetry convention's `exception`; and an error status.
    out += ",\"events\":[{\"timeUnixNano\":";
    append_nanos(out, s.end_us);
    out += ",\"name\":\"log\",\"attributes\":[{\"key\":\"error.kind\",\"value\":{\"stringValue\":";
    append_json_string(out, etype);
    out += "}}";
    if (has_message) {
      out += ",{\"key\":\"message\",\"value\":{\"stringValue\":";
      append_json_string(out, message);
      out += "}}";
    }
    out += "]},{\"timeUnixNano\":";
    append_nanos(out, s.end_us);
    out += ",\"name\":\"exception\",\"attributes\":[{\"key\":\"exception.type\",\"value\":{\"stringValue\":";
    append_json_string(out, etype);
    out += "}},{\"key\":\"exception.message\",\"value\":{\"stringValue\":";
    append_json_string(out, message);
    out += "}}]}],\"status\":{\"code\":2,\"message\":";
    std::string text(etype);
    if (!message.empty()) text += ": " + std::string(message);
    append_json_string(out, text);
    out += "}";
  }
  out += '}';
}

export_response parse_export_response(std::string_view body) {
  export_response r;
  simdjson::dom::parser parser;
  element doc;
  if (body.empty() || parser.parse(body.data(), body.size()).get(doc)) return r;
  element rejected;
  if (!doc.at_pointer("/partialSuccess/rejectedSpans").get(rejected)) {
    std::string_view text;
    std::uint64_t n = 0;
    if (!rejected.get_string().get(text)) {
      std::from_chars(text.data(), text.data() + text.size(), n);
    } else {
      if (rejected.get_uint64().get(n)) n = 0;
    }
    r.rejected_spans = n;
  }
  element message;
  std::string_view text;
  if (!doc.at_pointer("/partialSuccess/errorMessage").get(message) && !message.get_string().get(text)) r.error_message = text;
  return r;
}

}  // namespace osprof::detail::otlp
