#include "report/stored_event.hpp"

#include "common/time_format.hpp"
#include "report/plain_json_cursor.hpp"

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

bool read_plain_stored_event(std::string_view text, stored_event& out) {
  plain_json_cursor in(text);
  bool has_name = false, has_trace = false, has_parent = false, has_ts = false, has_project = false,
       has_service = false, has_info = false, has_host = false;
  std::string_view ts;
  out.has_base_id = false;
  out.base_id = {};
  out.has_etype = false;
  out.etype.clear();
  const auto required_string = [&](std::string_view& into, bool& present) {
    present = true;
    return in.string(into);  // null too goes the DOM way, to be refused with a reason
  };
  const auto nullable_string = [&](std::string_view& into, bool& present) {
    present = true;
    if (!in.next_is('n')) return in.string(into);
    into = {};
    return in.literal("null");
  };
  const auto info_field = [&](std::string_view k) {
    if (k == "host") return required_string(out.host, has_host);
    if (k == "etype") {
      std::string_view s;
      if (!in.string(s)) return false;  // compact JSON of others: the DOM way
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
