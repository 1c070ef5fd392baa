// OTLP/HTTP JSON (ExportTraceServiceRequest) for joined spans, by the protocol's JSON rules:
// lowerCamelCase keys, hex trace and span ids, 64-bit integers as decimal strings, enums as
// integers. The mapping follows OSProfiler's OTLP driver (osprofiler/drivers/otlp.py) where it
// has one: trace id = base_id, span id = the low 64 bits of the point's trace_id, no parent
// at the root, span kind and name from the point; info becomes typed attributes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "drivers/otlp/otlp_spans.hpp"

namespace osprof::detail::otlp {

/// What every span of one emitter shares (the OTLP Resource).
struct resource_info {
  std::string service;  ///< service.name, as service_name() makes it
  std::string host;     ///< host.name
};

/// service.name as Python OSProfiler's OTLP driver makes it (_get_service_name):
/// `[<prefix>-]<project>-<service>`; without a project, `[<prefix>-]<service>` (Python would
/// write "None").
std::string service_name(std::string_view prefix, std::string_view project, std::string_view service);

/// Span kinds and status codes of opentelemetry-proto (trace.proto).
enum class span_kind : int { internal = 1, server = 2, client = 3 };
inline constexpr int status_error = 2;

/// OSProfiler's rule: SERVER for a point named like wsgi, CLIENT for db/http/api, else INTERNAL.
span_kind kind_of(std::string_view point) noexcept;

class span_encoder {
 public:
  explicit span_encoder(resource_info resource);

  /// The request body for `spans` (one resource, one scope "osprof").
  std::string encode(std::span<const span_record> spans);

 private:
  void append_span(std::string& out, const span_record& s);

  std::string resource_json_;
  simdjson::dom::parser start_parser_;
  simdjson::dom::parser stop_parser_;
};

/// The collector's answer: spans it rejected in a partial success (0 for `{}`, an empty body
/// or anything that is not an ExportTraceServiceResponse).
struct export_response {
  std::uint64_t rejected_spans = 0;
  std::string error_message;
};
export_response parse_export_response(std::string_view body);

}  // namespace osprof::detail::otlp
