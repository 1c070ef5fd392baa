// Reading one stored OSProfiler event (the notification plus `project` and `service`, as every
// backend stores it) with the fields Python's get_report() requires: name, trace_id, parent_id,
// timestamp, project, service and info.host. A missing or ill-typed field is a reason to skip.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace osprof::detail::report_impl {

/// Views into the parsed document (valid until the parser's next parse).
struct stored_event {
  std::string_view name;       ///< full event name ("wsgi-start")
  std::string_view trace_id;
  std::string_view parent_id;
  std::string_view project;    ///< "" when stored as null (Python's driver default)
  std::string_view service;    ///< "" when stored as null
  std::string_view host;       ///< info.host
  std::string_view base_id;    ///< empty when the event has none
  bool has_base_id = false;
  std::int64_t time_us = 0;    ///< the timestamp, microseconds since the Unix epoch (UTC)
  /// info.etype: its text when it is a string, compact JSON for any other value; absent
  /// when the event has no etype.
  bool has_etype = false;
  std::string etype;
};

/// Reads `doc` into `out`. Returns an empty string on success, otherwise why the event cannot
/// be used (e.g. `missing "trace_id"`, `"timestamp" is not a string but a number`).
std::string read_stored_event(simdjson::dom::element doc, stored_event& out);

/// Reads a stored event straight from its text, without a DOM, when the text is plain JSON:
/// objects without a repeated key, strings of printable ASCII without escapes, integers,
/// true, false and null (what stored events nearly always are). The views point into `text`.
/// Returns false, for read_stored_event() of the parsed text to read it and to say what is
/// wrong, when the text is anything else or the event is one that read_stored_event() refuses.
bool read_plain_stored_event(std::string_view text, stored_event& out);

/// "object", "array", "string", "number", "boolean" or "null".
std::string_view json_type_name(simdjson::dom::element_type t) noexcept;

}  // namespace osprof::detail::report_impl
