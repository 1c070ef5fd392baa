#include "drivers/elasticsearch/es_driver.hpp"

#include <algorithm>

#include <boost/asio/this_coro.hpp>

#include <osprof/error.hpp>

#include "common/log.hpp"
#include "drivers/builtin.hpp"

// GCC 12 pairs Asio's aligned_alloc'ed coroutine frames with the frame's sized operator
// delete and warns; Asio frees them with aligned_delete, so the warning is a false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace osprof::detail::elasticsearch {

namespace {

// Events per terms filter when listing error traces (Elasticsearch allows 65,536 terms).
constexpr std::size_t ids_per_query = 1000;

bool is_success(unsigned status) { return status >= 200 && status < 300; }

}  // namespace

es_driver::es_driver(std::string scheme, es_options options, const driver_context& context)
    : scheme_(std::move(scheme)), options_(std::move(options)), filter_error_trace_(context.filter_error_trace) {}

es_driver::~es_driver() = default;

http::request es_driver::json_request(std::string method, std::string target, std::string body) {
  http::request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  if (!req.body.empty()) req.content_type = "application/json";
  return req;
}

// Creates both indices with osprof's mapping, once per driver. Already there (created by an
// earlier run, by OSProfiler or by an administrator) is fine: the mapping is left alone. A
// verdict to retry (429, 503, ...) is returned: writing without the mapping would let dynamic
// mapping create the index with a text base_id.
asio::awaitable<std::optional<write_result>> es_driver::ensure_indices(http::client& c) {
  for (const bool error_index : {false, true}) {
    const std::string& index = error_index ? options_.error_index : options_.index;
    auto resp = co_await c.send(json_request("PUT", "/" + index, index_mapping(options_, error_index)));
    if (resp.ok() || (resp.status == 400 && error_is(resp.body, "resource_already_exists_exception"))) continue;
    const auto verdict = http::classify(resp, "Elasticsearch PUT /" + index);
    if (verdict.status == write_status::retry) co_return verdict;
    // Not allowed to create indices (e.g. 403): _bulk creates them, with dynamic mapping.
    log_message(options_.redacted + ": cannot create index " + index + " (" + verdict.error +
                "); writing without osprof's mapping (reading may then need keyword_subfields=true)");
  }
  indices_ready_ = true;
  co_return std::nullopt;
}

asio::awaitable<write_result> es_driver::write(std::span<const event_record> batch) {
  const auto id = http::batch_identity::of(batch);
  if (!inflight_ || !(inflight_->id == id)) {
    inflight_.emplace();
    inflight_->id = id;
    inflight_->actions = plan_actions(batch, filter_error_trace_);
    inflight_->states.assign(inflight_->actions.size(), action_state::pending);
  }
  inflight_batch& b = *inflight_;
  std::vector<std::size_t> sent;
  std::vector<bulk_action> to_send;
  for (std::size_t i = 0; i < b.actions.size(); ++i) {
    if (b.states[i] != action_state::pending) continue;
    sent.push_back(i);
    to_send.push_back(b.actions[i]);
  }
  if (to_send.empty()) {
    bulk_response nothing;
    co_return settle(b, nothing, sent);
  }
  if (!writer_) writer_ = std::make_unique<http::client>(co_await asio::this_coro::executor, options_.http);
  http::response resp;
  try {
    if (!indices_ready_ && options_.create_index) {
      if (auto verdict = co_await ensure_indices(*writer_)) co_return *verdict;
    }
    http::request req;
    req.method = "POST";
    req.target = "/_bulk";
    if (!options_.refresh.empty()) req.target += "?refresh=" + options_.refresh;
    req.body = encode_bulk(batch, to_send, options_);
    req.content_type = "application/x-ndjson";
    req.gzip = options_.gzip;
    resp = co_await writer_->send(std::move(req));
  } catch (const http::transport_error& e) {
    auto verdict = http::classify(e, "Elasticsearch _bulk");
    if (verdict.status == write_status::failed) co_return give_up(b, std::move(verdict));
    co_return verdict;
  }
  if (!resp.ok()) {
    auto verdict = http::classify(resp, "Elasticsearch _bulk");
    if (verdict.status == write_status::failed) co_return give_up(b, std::move(verdict));
    co_return verdict;
  }
  bulk_response parsed;
  try {
    parsed = parse_bulk_response(resp.body);
  } catch (const std::exception& e) {
    co_return give_up(b, write_result::fatal(options_.redacted + ": " + e.what()));
  }
  if (parsed.items.size() != sent.size()) {
    co_return give_up(b, write_result::fatal(options_.redacted + ": _bulk answered " + std::to_string(parsed.items.size()) +
                                             " items for " + std::to_string(sent.size()) + " actions"));
  }
  auto result = settle(b, parsed, sent);
  if (result.status == write_status::retry && resp.retry_after) result.retry_after = *resp.retry_after;
  co_return result;
}

write_result es_driver::settle(inflight_batch& b, const bulk_response& r, const std::vector<std::size_t>& sent) {
  std::size_t retrying = 0;
  std::string retry_reason;
  for (std::size_t j = 0; j < r.items.size(); ++j) {
    const std::size_t i = sent[j];
    const bulk_item& item = r.items[j];
    if (is_success(item.status)) {
      b.states[i] = action_state::stored;
    } else if (item.status == 429) {
      // Elasticsearch's write queue is full (es_rejected_execution_exception): try again.
      ++retrying;
      if (retry_reason.empty()) retry_reason = item.error;
    } else {
      b.states[i] = action_state::rejected;
      // An error document that fails leaves its event stored: only the error flag is missing.
      if (!b.actions[i].error_doc) ++b.rejected_events;
      if (b.rejection.empty()) {
        b.rejection = (b.actions[i].error_doc ? "error document: " : "") + std::string("status ") +
                      std::to_string(item.status) + " " + item.error;
      }
    }
  }
  if (retrying != 0) {
    return write_result::retryable(options_.redacted + ": Elasticsearch refused " + std::to_string(retrying) + " of " +
                                   std::to_string(sent.size()) + " bulk items with 429 (" + retry_reason +
                                   "); retrying those");
  }
  write_result ok;
  ok.rejected = b.rejected_events;
  if (ok.rejected != 0) ok.error = options_.redacted + ": Elasticsearch rejected items: " + b.rejection;
  inflight_.reset();
  return ok;
}

// A failure for good after part of the batch may already be stored: what is stored stays
// counted as written, the rest as rejected, so the emitter's accounts stay exact.
write_result es_driver::give_up(inflight_batch& b, write_result why) {
  std::size_t stored_events = 0;
  for (std::size_t i = 0; i < b.actions.size(); ++i) {
    if (!b.actions[i].error_doc && b.states[i] == action_state::stored) ++stored_events;
  }
  inflight_.reset();
  if (stored_events == 0) return why;
  write_result partial;
  partial.rejected = b.id.size - stored_events;
  partial.error = why.error;
  return partial;
}

// The emitter runs flush() and close() concurrently at shutdown; so the refresh happens in
// close(), before the connection is closed, and flush() has nothing of its own to do.
asio::awaitable<void> es_driver::flush() { co_return; }

asio::awaitable<void> es_driver::close() {
  if (!writer_) co_return;
  try {
    // Makes what was written searchable now rather than at the next refresh_interval.
    co_await writer_->send(
        json_request("POST", "/" + options_.index + "," + options_.error_index + "/_refresh?ignore_unavailable=true", {}));
  } catch (const http::transport_error&) {
  }
  writer_->close();
}

// ---------------------------------------------------------------- reading

asio::awaitable<http::response> es_driver::search(http::client& c, std::string target, std::string body,
                                                  std::string_view what) {
  try {
    co_return co_await c.send(json_request("POST", std::move(target), std::move(body)));
  } catch (const http::transport_error& e) {
    throw error(options_.redacted + ": " + std::string(what) + " failed: " + e.what());
  }
}

asio::awaitable<std::vector<std::string>> es_driver::read_trace(std::string_view base_id) {
  http::client c(co_await asio::this_coro::executor, options_.http);
  std::vector<std::string> events;
  auto resp = co_await search(c, "/" + options_.index + "/_search?scroll=" + options_.scroll,
                              trace_query(options_, base_id), "searching the trace");
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return events;
  if (!resp.ok()) {
    throw error(options_.redacted + ": searching the trace failed: HTTP " + std::to_string(resp.status) + " " +
                error_summary(resp.body));
  }
  std::vector<std::string> scroll_ids;
  for (;;) {
    search_page page;
    try {
      page = parse_search_page(resp.body);
    } catch (const std::exception& e) {
      throw error(options_.redacted + ": " + e.what());
    }
    if (!page.scroll_id.empty() && std::find(scroll_ids.begin(), scroll_ids.end(), page.scroll_id) == scroll_ids.end()) {
      scroll_ids.push_back(page.scroll_id);
    }
    if (page.sources.empty() || page.scroll_id.empty()) break;
    for (auto& s : page.sources) events.push_back(std::move(s));
    resp = co_await search(c, "/_search/scroll", scroll_request(options_, page.scroll_id), "scrolling the trace");
    if (!resp.ok()) {
      throw error(options_.redacted + ": scrolling the trace failed: HTTP " + std::to_string(resp.status) + " " +
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

asio::awaitable<std::vector<trace_summary>> es_driver::list_from(http::client& c, std::span<const std::string> only) {
  auto resp = co_await search(c, "/" + options_.index + "/_search", list_query(options_, only), "listing traces");
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return std::vector<trace_summary>{};
  if (!resp.ok()) {
    throw error(options_.redacted + ": listing traces failed: HTTP " + std::to_string(resp.status) + " " +
                error_summary(resp.body) +
                (options_.keyword_subfields ? "" : " (for an index mapped dynamically, add ?keyword_subfields=true)"));
  }
  try {
    co_return parse_list_response(resp.body);
  } catch (const std::exception& e) {
    throw error(options_.redacted + ": " + e.what());
  }
}

asio::awaitable<std::vector<trace_summary>> es_driver::list_traces() {
  http::client c(co_await asio::this_coro::executor, options_.http);
  co_return co_await list_from(c, {});
}

asio::awaitable<std::vector<trace_summary>> es_driver::list_error_traces() {
  http::client c(co_await asio::this_coro::executor, options_.http);
  auto resp = co_await search(c, "/" + options_.error_index + "/_search", error_ids_query(options_), "listing error traces");
  if (resp.status == 404 && error_is(resp.body, "index_not_found_exception")) co_return std::vector<trace_summary>{};
  if (!resp.ok()) {
    throw error(options_.redacted + ": listing error traces failed: HTTP " + std::to_string(resp.status) + " " +
                error_summary(resp.body));
  }
  std::vector<std::string> ids;
  try {
    ids = parse_bucket_keys(resp.body);
  } catch (const std::exception& e) {
    throw error(options_.redacted + ": " + e.what());
  }
  std::vector<trace_summary> rows;
  for (std::size_t from = 0; from < ids.size(); from += ids_per_query) {
    const std::span<const std::string> chunk(ids.data() + from, std::min(ids_per_query, ids.size() - from));
    auto part = co_await list_from(c, chunk);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
  co_return rows;
}

}  // namespace osprof::detail::elasticsearch

namespace osprof::detail {

void register_elasticsearch_driver(driver_registry& registry) {
  for (const char* scheme : {"elasticsearch", "elasticsearch+https"}) {
    registry.add(
        scheme,
        [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<driver> {
          return std::make_unique<elasticsearch::es_driver>(cs.scheme, elasticsearch::es_options::from(cs, context.timeout),
                                                            context);
        },
        std::string(scheme) == "elasticsearch"
            ? "elasticsearch://host[:port][?index=...] Elasticsearch 7/8 or OpenSearch, OSProfiler's layout, _bulk writes"
            : "elasticsearch+https://[user:password@]host[:port] Elasticsearch over TLS, certificates verified");
  }
}

}  // namespace osprof::detail
