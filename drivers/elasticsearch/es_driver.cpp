// The write side of elasticsearch:// on the HTTP write path. A batch is one _bulk body: every
// event's document, and an error-index document per error stop. Elasticsearch answers per
// item: items it refused with 429 (its write queue is full) are sent again on the batch's
// retry, alone; items it refused otherwise are counted; stored items are never sent twice.
//
// Versions: the server's (GET /) decides the mapping types and date types sent; the index's
// mapping (GET /<index>/_mapping) decides which fields reads query, so indices Python
// OSProfiler left to dynamic mapping read as osprof's own.
//
// The read side: a trace's events with a scrolled search, and the trace
// lists with a terms aggregation (error traces: their ids from the error index first). A new
// connection per read.
#include <algorithm>

#include <boost/asio/this_coro.hpp>

#include <osprof/drivers/elasticsearch.hpp>
#include <osprof/error.hpp>

#include "common/log.hpp"
#include "drivers/elasticsearch/es_options.hpp"
#include "drivers/elasticsearch/es_protocol.hpp"
#include "drivers/http/client.hpp"
#include "drivers/http/http_writer.hpp"

namespace osprof::detail::elasticsearch {

namespace asio = boost::asio;

// ---------------------------------------------------------------- read side

namespace {

// Events per terms filter when listing error traces (Elasticsearch allows 65,536 terms).
constexpr std::size_t ids_per_query = 1000;

asio::awaitable<http::response> search(const es_options& o, http::client& c, std::string target, std::string body,
                                       std::string_view what) {
  try {
    co_return co_await c.send(json_request("POST", std::move(target), std::move(body)));
  } catch (const http::transport_error& e) {
    throw error("cannot reach Elasticsearch at " + o.redacted + ": " + std::string(what) + " failed: " + e.what());
  }
}

// What GET / says of the server; nothing known when it does not answer with a version (a
// user without the monitor privilege, a proxy in front).
asio::awaitable<server_info> server_of(const es_options& o, http::client& c, std::string_view what) {
  http::response resp;
  try {
    resp = co_await c.send(json_request("GET", "/", {}));
  } catch (const http::transport_error& e) {
    throw error("cannot reach Elasticsearch at " + o.redacted + ": " + std::string(what) + " failed: " + e.what());
  }
  co_return resp.ok() ? parse_server_info(resp.body) : server_info{};
}

// The fields to query in `index`: what ?keyword_subfields= says, else what the index's
// mapping says (indices mapped dynamically, as Python OSProfiler's writes leave them, hold
// base_id as text with a keyword subfield). nullopt: the index does not exist.
asio::awaitable<std::optional<query_fields>> fields_of(const es_options& o, http::client& c, const std::string& index,
                                                       std::string_view what) {
  if (auto forced = forced_fields(o)) co_return forced;
  http::response resp;
  try {
    resp = co_await c.send(json_request("GET", "/" + index + "/_mapping", {}));
  } catch (const http::transport_error& e) {
    throw error("cannot reach Elasticsearch at " + o.redacted + ": " + std::string(what) + " failed: " + e.what());
  }
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return std::nullopt;
  // Not allowed to read the mapping: the names osprof's own mapping uses.
  co_return resp.ok() ? fields_from_mapping(resp.body) : query_fields{};
}

asio::awaitable<std::vector<trace_summary>> list_from(const es_options& o, http::client& c, const query_fields& fields,
                                                      const server_info& server, std::span<const std::string> only) {
  auto resp = co_await search(o, c, "/" + o.index + "/_search",
                              list_query(o, fields, only, server.track_total_hits()), "listing traces");
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return std::vector<trace_summary>{};
  if (!resp.ok()) {
    throw error(o.redacted + ": listing traces failed: HTTP " + std::to_string(resp.status) + " " +
                error_summary(resp.body) +
                (o.keyword_subfields ? " (?keyword_subfields= overrides what the index's mapping says)" : ""));
  }
  try {
    auto rows = parse_list_response(resp.body);
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
    co_return rows;
  } catch (const std::exception& e) {
    throw error(o.redacted + ": " + e.what());
  }
}

}  // namespace

asio::awaitable<std::vector<std::string>> read_trace(const es_options& o, std::string_view base_id) {
  http::client c(co_await asio::this_coro::executor, o.endpoint.client);
  std::vector<std::string> events;
  const auto fields = co_await fields_of(o, c, o.index, "searching the trace");
  if (!fields) co_return events;
  auto resp = co_await search(o, c, "/" + o.index + "/_search?scroll=" + o.scroll,
                              trace_query(o, *fields, base_id), "searching the trace");
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return events;
  if (!resp.ok()) {
    throw error(o.redacted + ": searching the trace failed: HTTP " + std::to_string(resp.status) + " " +
                error_summary(resp.body));
  }
  std::vector<std::string> scroll_ids;
  for (;;) {
    search_page page;
    try {
      page = parse_search_page(resp.body);
    } catch (const std::exception& e) {
      throw error(o.redacted + ": " + e.what());
    }
    if (!page.scroll_id.empty() && std::find(scroll_ids.begin(), scroll_ids.end(), page.scroll_id) == scroll_ids.end()) {
      scroll_ids.push_back(page.scroll_id);
    }
    if (page.sources.empty() || page.scroll_id.empty()) break;
    for (auto& s : page.sources) events.push_back(std::move(s));
    resp = co_await search(o, c, "/_search/scroll", scroll_request(o, page.scroll_id), "scrolling the trace");
    if (!resp.ok()) {
      throw error(o.redacted + ": scrolling the trace failed: HTTP " + std::to_string(resp.status) + " " +
                  error_summary(resp.body));
    }
  }
  // Free the server's scroll contexts now rather than when they time out.
  for (const auto& id : scroll_ids) {
    try {
      co_await c.send(json_request("DELETE", "/_search/scroll", clear_scroll_request(id)));
    } catch (const http::transport_error&) {
    }
  }
  co_return events;
}

asio::awaitable<std::vector<trace_summary>> list_traces(const es_options& o, bool errors_only) {
  http::client c(co_await asio::this_coro::executor, o.endpoint.client);
  const std::string_view what = errors_only ? "listing error traces" : "listing traces";
  const server_info server = co_await server_of(o, c, what);
  const auto fields = co_await fields_of(o, c, o.index, what);
  if (!fields) co_return std::vector<trace_summary>{};
  if (!errors_only) co_return co_await list_from(o, c, *fields, server, {});
  const auto error_fields = co_await fields_of(o, c, o.error_index, what);
  if (!error_fields) co_return std::vector<trace_summary>{};
  auto resp = co_await search(o, c, "/" + o.error_index + "/_search",
                              error_ids_query(o, *error_fields, server.track_total_hits()), "listing error traces");
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return std::vector<trace_summary>{};
  if (!resp.ok()) {
    throw error(o.redacted + ": listing error traces failed: HTTP " + std::to_string(resp.status) + " " +
                error_summary(resp.body));
  }
  std::vector<std::string> ids;
  try {
    ids = parse_bucket_keys(resp.body);
  } catch (const std::exception& e) {
    throw error(o.redacted + ": " + e.what());
  }
  std::vector<trace_summary> rows;
  for (std::size_t from = 0; from < ids.size(); from += ids_per_query) {
    const std::span<const std::string> chunk(ids.data() + from, std::min(ids_per_query, ids.size() - from));
    auto part = co_await list_from(o, c, *fields, server, chunk);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
  co_return rows;
}

// ---------------------------------------------------------------- write side

namespace {

bool is_success(unsigned status) { return status >= 200 && status < 300; }

class es_codec final : public http::codec {
 public:
  es_codec(es_options options, const driver_context& context)
      : http::codec(options.refresh.empty() ? "/_bulk" : "/_bulk?refresh=" + options.refresh, "application/x-ndjson"),
        options_(std::move(options)),
        filter_error_trace_(context.filter_error_trace),
        bulk_type_(options_.doc_type) {}

  std::vector<http::part> encode(const batch& b) override {
    wrote_ = true;
    actions_ = plan_actions(b.events, filter_error_trace_);
    states_.assign(actions_.size(), action_state::pending);
    rejected_events_ = 0;
    rejection_.clear();
    http::part p;
    p.events = b.size();
    p.body = encode_pending(b);
    return {std::move(p)};
  }

  // Asks the server's version once (what it takes in mapping types and date types), then
  // creates both indices with osprof's mapping, once. Already there (created by an earlier
  // run, by OSProfiler or by an administrator) is fine: the mapping is left alone. A verdict
  // to retry (429, 503, ...) is returned: writing without the mapping would let dynamic
  // mapping create the index with a text base_id.
  asio::awaitable<std::optional<http::verdict>> prepare(http::client& c) override {
    if (!server_checked_) {
      auto resp = co_await c.send(json_request("GET", "/", {}));
      if (resp.ok()) {
        server_ = parse_server_info(resp.body);
      } else {
        const auto v = http::judge_status(resp, "Elasticsearch GET /");
        if (v.what == http::verdict::kind::retry) co_return v;
      }
      if (!server_.known) {
        log_message(options_.redacted + ": the server did not say its version (GET / " + std::to_string(resp.status) +
                    "); writing as the options say");
      }
      choose_types();
      server_checked_ = true;
    }
    if (indices_ready_ || !options_.create_index) co_return std::nullopt;
    // 7.x and OpenSearch 1 take a typed mapping only when asked to.
    const std::string typed = !mapping_type_.empty() && server_.types_deprecated() ? "?include_type_name=true" : "";
    for (const bool error_index : {false, true}) {
      const std::string& index = error_index ? options_.error_index : options_.index;
      auto resp = co_await c.send(
          json_request("PUT", "/" + index + typed, index_mapping(error_index, mapping_type_, date_nanos_)));
      // 5.x calls an existing index index_already_exists_exception, later versions resource_...
      if (resp.ok() || (resp.status == 400 && (error_is(resp.body, "resource_already_exists_exception") ||
                                               error_is(resp.body, "index_already_exists_exception")))) {
        continue;
      }
      const auto v = http::judge_status(resp, "Elasticsearch PUT /" + index);
      if (v.what == http::verdict::kind::retry) co_return v;
      // Not allowed to create indices (e.g. 403): _bulk creates them, with dynamic mapping.
      log_message(options_.redacted + ": cannot create index " + index + " (" + v.why +
                  "); writing without osprof's mapping (reading finds the fields either way)");
    }
    indices_ready_ = true;
    co_return std::nullopt;
  }

  asio::awaitable<http::verdict> judge(http::client&, const batch& b, const http::response& resp, http::part& p) override {
    // The first batch is encoded before prepare() learns the server's version, with the type
    // the options give. Refused as a whole for it (5.x/6.x want a type, 8.x refuses one), it
    // is encoded again for this server and sent at once.
    if (encoded_type_ != bulk_type_ && resp.status == 400) {
      p.body = encode_pending(b);
      co_return http::verdict::send_again();
    }
    if (!resp.ok()) co_return http::judge_status(resp, "Elasticsearch _bulk");
    bulk_response parsed;
    try {
      parsed = parse_bulk_response(resp.body);
    } catch (const std::exception& e) {
      co_return http::verdict::give_up(e.what());
    }
    if (parsed.items.size() != sent_.size()) {
      co_return http::verdict::give_up("_bulk answered " + std::to_string(parsed.items.size()) + " items for " +
                                       std::to_string(sent_.size()) + " actions");
    }
    std::size_t retrying = 0;
    std::string retry_reason;
    for (std::size_t j = 0; j < parsed.items.size(); ++j) {
      const std::size_t i = sent_[j];
      const bulk_item& item = parsed.items[j];
      const bool event_doc = !actions_[i].error_doc;
      if (is_success(item.status)) {
        states_[i] = action_state::done;
        if (event_doc) ++p.stored;
      } else if (item.status == 429) {
        // Elasticsearch's write queue is full (es_rejected_execution_exception): try again.
        ++retrying;
        if (retry_reason.empty()) retry_reason = item.error;
      } else {
        states_[i] = action_state::done;
        // An error document that fails leaves its event stored: only the error flag is missing.
        if (event_doc) ++rejected_events_;
        if (rejection_.empty()) {
          rejection_ = (event_doc ? "" : "error document: ") + std::string("status ") + std::to_string(item.status) + " " + item.error;
        }
      }
    }
    if (retrying != 0) {
      p.body = encode_pending(b);  // the retry sends only these
      co_return http::verdict::retry("Elasticsearch refused " + std::to_string(retrying) + " of " +
                                         std::to_string(parsed.items.size()) + " bulk items with 429 (" + retry_reason +
                                         "); retrying those",
                                     resp.retry_after.value_or(std::chrono::milliseconds{0}));
    }
    co_return http::verdict::stored_part(rejected_events_, "Elasticsearch rejected items: " + rejection_);
  }

  // Makes what was written searchable now rather than at the next refresh_interval.
  asio::awaitable<void> before_close(http::client& c) override {
    if (!wrote_) co_return;
    co_await c.send(json_request("POST", "/" + options_.index + "," + options_.error_index + "/_refresh?ignore_unavailable=true", {}));
  }

 private:
  enum class action_state : std::uint8_t { pending, done };

  std::string encode_pending(const batch& b) {
    sent_.clear();
    std::vector<bulk_action> to_send;
    for (std::size_t i = 0; i < actions_.size(); ++i) {
      if (states_[i] != action_state::pending) continue;
      sent_.push_back(i);
      to_send.push_back(actions_[i]);
    }
    encoded_type_ = bulk_type_;
    return encode_bulk(b.events, to_send, options_, bulk_type_);
  }

  // Mapping types by version. 5.x/6.x need one on every document: ?doc_type= or OSProfiler's
  // `notification`, so that osprof and Python services share an index (6.x allows one type an
  // index). 7.x and OpenSearch 1 take documents without one; the indices osprof creates there
  // get OSProfiler's type too, since Python's driver searches and writes typed (a typed search
  // sees its type only). 8.x and OpenSearch 2 have none. Unknown: as the options say.
  void choose_types() {
    const std::string wanted = options_.doc_type.empty() ? "notification" : options_.doc_type;
    if (server_.requires_types()) {
      bulk_type_ = mapping_type_ = wanted;
    } else if (server_.types_deprecated()) {
      bulk_type_.clear();
      mapping_type_ = wanted;
    } else if (server_.has_no_types()) {
      bulk_type_.clear();
      mapping_type_.clear();
      if (!options_.doc_type.empty()) {
        log_message(options_.redacted + ": ignoring doc_type=" + options_.doc_type + ": " + server_.name +
                    " has no mapping types");
      }
    } else {
      bulk_type_ = mapping_type_ = options_.doc_type;
    }
    date_nanos_ = server_.known ? server_.date_nanos() : options_.doc_type.empty();
  }

  es_options options_;
  bool filter_error_trace_;
  bool server_checked_ = false;
  server_info server_;
  std::string bulk_type_;     ///< `_type` of every _bulk action (empty: none)
  std::string encoded_type_;  ///< the `_type` the last body was encoded with
  std::string mapping_type_;  ///< the mapping type of the indices osprof creates (empty: none)
  bool date_nanos_ = true;
  bool indices_ready_ = false;
  bool wrote_ = false;
  // The batch being written: its actions, which are done, and which the last body carried.
  std::vector<bulk_action> actions_;
  std::vector<action_state> states_;
  std::vector<std::size_t> sent_;
  std::size_t rejected_events_ = 0;
  std::string rejection_;
};

}  // namespace

}  // namespace osprof::detail::elasticsearch

void osprof::drivers::register_elasticsearch() {
  osprof::detail::http::register_backend<osprof::detail::elasticsearch::es_options, osprof::detail::elasticsearch::es_codec>();
}
