#include "report/stored_event.hpp"

#include <array>
#include <cstring>
#include <vector>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace osprof::detail::report_impl {

std::string_view json_type_name(simdjson::dom::element_type t) noexcept {
  using simdjson::dom::element_type;
  switch (t) {
    case element_type::OBJECT: return "object";
    case element_type::ARRAY: return "array";
    case element_type::STRING: return "string";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

namespace {

std::string not_a(std::string_view field, std::string_view expected, simdjson::dom::element v) {
  std::string why = "\"";
  why += field;
  why += "\" is not ";
  why += expected;
  why += " but ";
  why += json_type_name(v.type());
  return why;
}

std::string missing(std::string_view field) {
  std::string why = "missing \"";
  why += field;
  why += '"';
  return why;
}

}  // namespace

std::string read_stored_event(simdjson::dom::element doc, stored_event& out) {
  using simdjson::dom::element;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return "not a JSON object but " + std::string(json_type_name(doc.type()));

  // One pass over the fields; a repeated key keeps its last value, as Python's json does.
  element name, trace_id, parent_id, timestamp, project, service, info, base_id;
  bool has_name = false, has_trace = false, has_parent = false, has_ts = false, has_project = false,
       has_service = false, has_info = false, has_base = false;
  for (auto field : obj) {
    const std::string_view k = field.key;
    if (k == "name") {
      name = field.value, has_name = true;
    } else if (k == "trace_id") {
      trace_id = field.value, has_trace = true;
    } else if (k == "parent_id") {
      parent_id = field.value, has_parent = true;
    } else if (k == "timestamp") {
      timestamp = field.value, has_ts = true;
    } else if (k == "project") {
      project = field.value, has_project = true;
    } else if (k == "service") {
      service = field.value, has_service = true;
    } else if (k == "info") {
      info = field.value, has_info = true;
    } else if (k == "base_id") {
      base_id = field.value, has_base = true;
    }
  }

  struct required {
    std::string_view field;
    bool present;
    element value;
    std::string_view* into;
  };
  const required strings[] = {{"name", has_name, name, &out.name},
                              {"trace_id", has_trace, trace_id, &out.trace_id},
                              {"parent_id", has_parent, parent_id, &out.parent_id}};
  for (const auto& r : strings) {
    if (!r.present) return missing(r.field);
    if (r.value.get_string().get(*r.into)) return not_a(r.field, "a string", r.value);
  }

  if (!has_ts) return missing("timestamp");
  std::string_view ts;
  if (timestamp.get_string().get(ts)) return not_a("timestamp", "a string", timestamp);
  const auto us = parse_timestamp(ts);
  if (!us) {
    std::string why = "bad timestamp \"";
    why += ts.substr(0, 40);
    why += "\" (expected %Y-%m-%dT%H:%M:%S.%f)";
    return why;
  }
  out.time_us = *us;

  // project and service: Python's drivers store None when the service gave none.
  const required nullable[] = {{"project", has_project, project, &out.project},
                               {"service", has_service, service, &out.service}};
  for (const auto& r : nullable) {
    if (!r.present) return missing(r.field);
    if (r.value.is_null()) {
      *r.into = {};
    } else if (r.value.get_string().get(*r.into)) {
      return not_a(r.field, "a string", r.value);
    }
  }

  if (!has_info) return missing("info");
  simdjson::dom::object info_obj;
  if (info.get_object().get(info_obj)) return not_a("info", "an object", info);
  bool has_host = false;
  element host;
  out.has_etype = false;
  out.etype.clear();
  for (auto field : info_obj) {
    if (field.key == "host") {
      host = field.value, has_host = true;
    } else if (field.key == "etype") {
      out.has_etype = true;
      std::string_view s;
      if (!field.value.get_string().get(s)) {
        out.etype.assign(s);
      } else {
        out.etype = simdjson::minify(field.value);
      }
    }
  }
  if (!has_host) return missing("info.host");
  if (host.get_string().get(out.host)) return not_a("info.host", "a string", host);

  out.has_base_id = false;
  out.base_id = {};
  if (has_base) {
    if (base_id.get_string().get(out.base_id)) return not_a("base_id", "a string", base_id);
    out.has_base_id = true;
  }
  return {};
}

namespace {

// A recursive descent over plain JSON (see read_plain_stored_event) that gives up at the
// first thing outside it.
class plain_reader {
 public:
  explicit plain_reader(std::string_view text) : p_(text.data()), end_(p_ + text.size()) {}

  // Calls field(key, value_start) for each member of the object at the current position;
  // `field` reads the value (or returns false). Repeated keys are refused.
  template <class Field>
  bool object(int depth, Field&& field) {
    if (depth > max_depth) return false;
    skip_space();
    if (p_ == end_ || *p_ != '{') return false;
    ++p_;
    skip_space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    const std::size_t base = key_count_;
    for (;;) {
      skip_space();
      std::string_view k;
      if (p_ == end_ || *p_ != '"' || !string(k)) return false;
      if (key_count_ == keys_.size()) return false;
      for (std::size_t i = base; i < key_count_; ++i) {
        if (keys_[i] == k) return false;
      }
      keys_[key_count_++] = k;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      if (!field(k)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == '}') break;
      if (*p_ != ',') return false;
      ++p_;
    }
    ++p_;
    key_count_ = base;
    return true;
  }

  // A string value: its characters; null: `is_null` set.
  bool string_or_null(std::string_view& s, bool& is_null) {
    is_null = false;
    if (p_ != end_ && *p_ == 'n') {
      is_null = true;
      return literal("null");
    }
    return p_ != end_ && *p_ == '"' && string(s);
  }

  bool skip_value(int depth) {
    skip_space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(depth + 1, [&](std::string_view) { return skip_value(depth + 1); });
      case '[': return array(depth + 1);
      case '"': {
        std::string_view s;
        return string(s);
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return integer();
    }
  }

  bool at_end() {
    skip_space();
    return p_ == end_;
  }

 private:
  static constexpr int max_depth = 64;
  static constexpr std::size_t max_keys = 48;  // open at once; more go the DOM way

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool string(std::string_view& s) {
    const char* start = ++p_;  // past the opening quote
    // Up to the first byte that ends the string or needs a closer look.
    p_ += plain_json_run_end({p_, static_cast<std::size_t>(end_ - p_)}, 0, json_escape::ascii);
    if (p_ == end_ || *p_ != '"') return false;
    s = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }

  bool integer() {
    const char* start = p_;
    if (*p_ == '-') ++p_;
    const char* digits = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    const auto count = p_ - digits;
    if (count == 0 || count > 18 || (*digits == '0' && (count > 1 || digits != start))) return false;
    return p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E');
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool array(int depth) {
    if (depth > max_depth) return false;
    ++p_;
    skip_space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!skip_value(depth)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') break;
      if (*p_ != ',') return false;
      ++p_;
    }
    ++p_;
    return true;
  }

  const char* p_;
  const char* end_;
  // Keys of the objects being read, as a stack (no allocation per event).
  std::array<std::string_view, max_keys> keys_;
  std::size_t key_count_ = 0;
};

}  // namespace

bool read_plain_stored_event(std::string_view text, stored_event& out) {
  plain_reader in(text);
  bool has_name = false, has_trace = false, has_parent = false, has_ts = false, has_project = false,
       has_service = false, has_info = false, has_host = false;
  std::string_view ts;
  out.has_base_id = false;
  out.base_id = {};
  out.has_etype = false;
  out.etype.clear();
  const auto required_string = [&](std::string_view& into, bool& present) {
    bool is_null = false;
    present = true;
    return in.string_or_null(into, is_null) && !is_null;
  };
  const auto nullable_string = [&](std::string_view& into, bool& present) {
    bool is_null = false;
    present = true;
    if (!in.string_or_null(into, is_null)) return false;
    if (is_null) into = {};
    return true;
  };
  const auto info_field = [&](std::string_view k) {
    if (k == "host") return required_string(out.host, has_host);
    if (k == "etype") {
      std::string_view s;
      bool is_null = false;
      if (!in.string_or_null(s, is_null) || is_null) return false;  // compact JSON of others: the DOM way
      out.has_etype = true;
      out.etype.assign(s);
      return true;
    }
    return in.skip_value(2);
  };
  const bool read = in.object(1, [&](std::string_view k) {
    if (k == "name") return required_string(out.name, has_name);
    if (k == "trace_id") return required_string(out.trace_id, has_trace);
    if (k == "parent_id") return required_string(out.parent_id, has_parent);
    if (k == "timestamp") return required_string(ts, has_ts);
    if (k == "project") return nullable_string(out.project, has_project);
    if (k == "service") return nullable_string(out.service, has_service);
    if (k == "base_id") return required_string(out.base_id, out.has_base_id);
    if (k == "info") {
      has_info = true;
      return in.object(2, info_field);
    }
    return in.skip_value(1);
  });
  if (!read || !in.at_end() || !has_name || !has_trace || !has_parent || !has_ts || !has_project || !has_service ||
      !has_info || !has_host) {
    return false;
  }
  const auto us = parse_timestamp(ts);
  if (!us) return false;
  out.time_us = *us;
  return true;
}

}  // namespace osprof::detail::report_impl
