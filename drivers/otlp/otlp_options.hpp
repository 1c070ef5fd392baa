// What an otlp:// or otlp+https:// connection string means, completed from the OpenTelemetry
// exporter variables (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION,
// _CERTIFICATE, _PROTOCOL) by the specification's rules: the TRACES_ variant wins over the
// generic one, an empty variable is unset, an invalid value is logged and ignored. What the
// connection string itself says wins over the environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <osprof/connection_string.hpp>
#include "drivers/http/endpoint_options.hpp"

namespace osprof::detail::otlp {

/// Reads an environment variable (nullptr when unset or empty); replaceable for tests.
using env_reader = std::function<const char*(const char*)>;

struct otlp_options {
  /// No body limit of OTLP's own: a batch is one export request.
  static constexpr http::backend backend{"otlp", "OTLP collector", 4318, 64u << 20, "",
                                         "OTLP/HTTP JSON to /v1/traces, for Jaeger or Tempo; write-only; "
                                         "OTEL_EXPORTER_OTLP_* honoured"};

  http::endpoint_options endpoint;     ///< host, port (4318), TLS, headers, timeout, gzip
  std::string target = "/v1/traces";   ///< the request path
  /// ?unfinished_timeout_ms=: a start whose stop has not come after this long is exported
  /// as an unfinished span (checked at each write).
  std::chrono::milliseconds unfinished_timeout{60000};
  /// ?max_pending=: starts held waiting for their stop; beyond it the oldest is exported as
  /// unfinished, so memory stays bounded however many stops are lost.
  std::size_t max_pending = 100000;
  /// ?service_name_prefix=, else OSPROF_OTLP_SERVICE_NAME_PREFIX: as Python OSProfiler's
  /// `[profiler_otlp] service_name_prefix`, service.name becomes `<prefix>-<project>-<service>`.
  std::string service_name_prefix;
  std::string url;        ///< the resolved URL, for messages
  std::string redacted;   ///< the connection string without its password

  /// `default_timeout` applies when neither ?timeout_ms= nor OTEL_EXPORTER_OTLP_*TIMEOUT is set.
  static otlp_options from(const connection_string& cs, std::chrono::milliseconds default_timeout,
                           const env_reader& env);
  /// The same, from this process's environment.
  static otlp_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);

  /// What `osprof trace show/list` says of an OTLP connection string: where to look instead.
  static constexpr std::string_view why_no_reader =
      "OTLP is write-only: a collector does not give traces back, so osprof cannot show or list them from it; look at "
      "them in the tracing UI behind the collector (Jaeger, Grafana Tempo), or send the events to a backend osprof can "
      "read (sqlite://, redis://, elasticsearch://)";

  /// "OTLP collector at <url>", for messages.
  std::string where() const { return "OTLP collector at " + url; }
};

/// Parses OTEL_EXPORTER_OTLP_HEADERS' format: comma-separated key=value pairs, each part
/// trimmed and percent-decoded. Malformed items are reported through `bad` and skipped.
std::vector<std::pair<std::string, std::string>> parse_headers(std::string_view text,
                                                               const std::function<void(std::string)>& bad);

}  // namespace osprof::detail::otlp
