// The Elasticsearch REST bodies the driver sends and the answers it reads, without I/O so
// they are tested on their own: _bulk NDJSON and its per-item results, the index mapping,
// the trace search with scroll, and the aggregations behind `trace list`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <osprof/driver.hpp>
#include "drivers/elasticsearch/es_options.hpp"
#include "drivers/http/client.hpp"

namespace osprof::detail::elasticsearch {

/// One action line of a _bulk body: an event's document, or the error-index document
/// OSProfiler adds for a stop event that carries `etype`.
struct bulk_action {
  std::uint32_t event = 0;  ///< index into the batch
  bool error_doc = false;
};

/// The actions of a batch: every event, then (with filter_error_trace) an error document per
/// error stop, right after its event.
std::vector<bulk_action> plan_actions(std::span<const event_record> batch, bool filter_error_trace);

/// The _bulk body for `actions` (NDJSON, ending with a newline as _bulk requires); each action
/// carries `_type: doc_type` unless it is empty.
std::string encode_bulk(std::span<const event_record> batch, std::span<const bulk_action> actions,
                        const es_options& options, std::string_view doc_type);

struct bulk_item {
  unsigned status = 0;
  std::string error;  ///< "type: reason" when the item failed
};

struct bulk_response {
  bool errors = false;
  std::vector<bulk_item> items;  ///< in the order of the actions
};

/// Reads a _bulk answer. Throws std::runtime_error when the body is not one.
bulk_response parse_bulk_response(std::string_view body);

/// What `GET /` says of the server, and so what the driver sends it. Versions differ in
/// mapping types, date_nanos and track_total_hits (the search answers and _bulk items the
/// driver reads have the same shape in all of them).
struct server_info {
  bool known = false;  ///< false: no version (GET / refused or odd): send what the options say
  bool opensearch = false;
  int major = 0;
  int minor = 0;
  std::string name;  ///< "Elasticsearch 7.17.9", "OpenSearch 2.11.1"

  /// 5.x and 6.x: typed mappings, `_type` in every _bulk action.
  bool requires_types() const noexcept { return known && !opensearch && major < 7; }
  /// 8.x and OpenSearch 2: mapping types are gone.
  bool has_no_types() const noexcept { return known && (opensearch ? major >= 2 : major >= 8); }
  /// 7.x and OpenSearch 1: types deprecated; typed index creation needs include_type_name=true.
  bool types_deprecated() const noexcept { return known && !requires_types() && !has_no_types(); }
  /// date_nanos came with 7.0 (OpenSearch has it).
  bool date_nanos() const noexcept { return opensearch || major >= 7; }
  /// track_total_hits came with 6.0; 5.x refuses the key.
  bool track_total_hits() const noexcept { return known && (opensearch || major >= 6); }
};
/// From the body of `GET /`; `known` stays false when it names no version.
server_info parse_server_info(std::string_view body);

/// From the body of `GET /<index>/_mapping` (typed or not): a keyword or date field as it is,
/// a text field through its keyword subfield.
query_fields fields_from_mapping(std::string_view body);

/// The body of `PUT /<index>`: keyword ids and names, a date_nanos timestamp (microseconds
/// kept, sortable, aggregatable; `date` where the server has no date_nanos), and `info` stored
/// but not indexed (its shape varies by point, which would otherwise make dynamic mapping
/// reject events). Under a mapping type when `doc_type` is not empty.
std::string index_mapping(bool error_index, std::string_view doc_type, bool date_nanos);

/// The body of `POST /<index>/_search?scroll=...` for every event of one trace.
std::string trace_query(const es_options& options, const query_fields& fields, std::string_view base_id);
/// The body of `POST /_search/scroll` and `DELETE /_search/scroll`.
std::string scroll_request(const es_options& options, std::string_view scroll_id);
std::string clear_scroll_request(std::string_view scroll_id);

struct search_page {
  std::string scroll_id;
  std::vector<std::string> sources;  ///< each hit's _source, as stored
};
/// Throws std::runtime_error when the body is not a search answer.
search_page parse_search_page(std::string_view body);

/// One bucket per trace (terms on base_id), newest first by its earliest event; with `only`,
/// just those traces. The start time comes from a top hit, so it keeps its microseconds.
/// `track_total_hits`: send `"track_total_hits": false` (the count is not needed).
std::string list_query(const es_options& options, const query_fields& fields, std::span<const std::string> only,
                       bool track_total_hits);
std::vector<trace_summary> parse_list_response(std::string_view body);

/// The distinct base_ids of the error index.
std::string error_ids_query(const es_options& options, const query_fields& fields, bool track_total_hits);
std::vector<std::string> parse_bucket_keys(std::string_view body);

/// A request with a JSON body (none when `body` is empty).
http::request json_request(std::string method, std::string target, std::string body);

/// "type: reason" from an Elasticsearch error body, else the start of the body.
std::string error_summary(std::string_view body);
/// Whether an error body names `type` (e.g. "index_not_found_exception").
bool error_is(std::string_view body, std::string_view type);

}  // namespace osprof::detail::elasticsearch
