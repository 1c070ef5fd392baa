// What an elasticsearch:// or elasticsearch+https:// connection string means, as a plain
// struct with documented defaults (OSProfiler's index names and scroll settings). Parsed once
// when the driver is created; a bad value is an osprof::error naming the option.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <osprof/connection_string.hpp>
#include "drivers/http/endpoint_options.hpp"

namespace osprof::detail::elasticsearch {

struct es_options : http::backend_options<es_options> {
  /// ?index=: the events (OSProfiler's index_name default).
  std::string index = "osprofiler-notifications";
  /// ?error_index=: {base_id, timestamp} of error events (OSProfiler's fixed name).
  std::string error_index = "osprofiler-notifications-error";
  /// ?doc_type=: a mapping type for Elasticsearch 6 (OSProfiler's es_doc_type was
  /// "notification"); empty, the default, sends none (Elasticsearch 7/8, OpenSearch).
  std::string doc_type;
  /// ?scroll=: how long the server keeps a scroll context between pages (es_scroll_time).
  std::string scroll = "2m";
  /// ?scroll_size=: hits per page when reading a trace (es_scroll_size; at most 10,000).
  std::uint32_t scroll_size = 10000;
  /// ?list_size=: at most this many traces in `trace list` (newest first).
  std::uint32_t list_size = 10000;
  /// ?keyword_subfields=true: query `base_id.keyword`, for indices that Elasticsearch mapped
  /// dynamically (as OSProfiler's writes leave them: base_id text with a keyword subfield; the
  /// timestamp is detected as a date there, so it needs no subfield).
  bool keyword_subfields = false;
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
                                         "7/8 or OpenSearch, OSProfiler's layout, _bulk writes"};

  std::string id_field() const { return keyword_subfields ? "base_id.keyword" : "base_id"; }
  std::string time_field() const { return "timestamp"; }
};

}  // namespace osprof::detail::elasticsearch
