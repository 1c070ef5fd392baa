// What an elasticsearch:// or elasticsearch+https:// connection string means, as a plain
// struct with documented defaults (OSProfiler's index names and scroll settings). Parsed once
// when the driver is created; a bad value is an osprof::error naming the option.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <osprof/connection_string.hpp>
#include "drivers/http/endpoint_options.hpp"

namespace osprof::detail::elasticsearch {

struct es_options : http::backend_options<es_options> {
  /// ?index=: the events (OSProfiler's index_name default).
  std::string index = "osprofiler-notifications";
  /// ?error_index=: {base_id, timestamp} of error events (OSProfiler's fixed name).
  std::string error_index = "osprofiler-notifications-error";
  /// ?doc_type=: the mapping type on servers that have types (OSProfiler's es_doc_type,
  /// "notification" when not given): sent with every document to 5.x/6.x, given to the
  /// indices osprof creates on 7.x and OpenSearch 1; 8.x and OpenSearch 2 have no types and
  /// it is ignored there (logged). On a server whose version is unknown it is used as given.
  std::string doc_type;
  /// ?scroll=: how long the server keeps a scroll context between pages (es_scroll_time).
  std::string scroll = "2m";
  /// ?scroll_size=: hits per page when reading a trace (es_scroll_size; at most 10,000).
  std::uint32_t scroll_size = 10000;
  /// ?list_size=: at most this many traces in `trace list` (newest first).
  std::uint32_t list_size = 10000;
  /// ?keyword_subfields=true|false: query `base_id.keyword` (true) or `base_id` (false). Unset,
  /// the default, each read looks at the index's mapping and queries what it finds: a keyword
  /// field as it is, a text field (what dynamic mapping makes of OSProfiler's documents)
  /// through its keyword subfield.
  std::optional<bool> keyword_subfields;
  /// ?create_index=false: do not create the indices with osprof's mapping before writing.
  bool create_index = true;
  /// ?refresh=true|wait_for|false: _bulk's refresh parameter (empty, the default, sends none:
  /// events become searchable at the index's refresh_interval, 1 s by default).
  std::string refresh;
  std::string redacted;  ///< the connection string without its password

  static es_options from(const connection_string& cs, std::chrono::milliseconds default_timeout);

  /// The schemes, defaults and summary of this backend.
  /// 100 MB: Elasticsearch's default http.max_content_length.
  static constexpr http::backend backend{"elasticsearch", "Elasticsearch", 9200, 100u << 20, "[?index=...]",
                                         "5.x to 8.x or OpenSearch 1/2, OSProfiler's layout, _bulk writes"};

};

/// The fields the queries name: base_id and timestamp, as the index maps them.
struct query_fields {
  std::string id = "base_id";
  std::string time = "timestamp";
};

/// The fields ?keyword_subfields= sets, or nullopt to ask the index's mapping.
inline std::optional<query_fields> forced_fields(const es_options& o) {
  if (!o.keyword_subfields) return std::nullopt;
  return query_fields{*o.keyword_subfields ? "base_id.keyword" : "base_id", "timestamp"};
}

}  // namespace osprof::detail::elasticsearch
