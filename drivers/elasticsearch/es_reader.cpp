// The read side of elasticsearch://: a trace's events with a scrolled search, and the trace
// lists with a terms aggregation (error traces: their ids from the error index first).
#include "drivers/elasticsearch/es_driver.hpp"

#include <algorithm>

#include <boost/asio/this_coro.hpp>

#include <osprof/error.hpp>

#include "drivers/elasticsearch/es_protocol.hpp"
#include "drivers/http/client.hpp"


namespace osprof::detail::elasticsearch {

namespace {

// Events per terms filter when listing error traces (Elasticsearch allows 65,536 terms).
constexpr std::size_t ids_per_query = 1000;

http::request json_request(std::string method, std::string target, std::string body) {
  http::request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  if (!req.body.empty()) req.content_type = "application/json";
  return req;
}

class es_reader final : public reader {
 public:
  explicit es_reader(es_options options) : options_(std::move(options)) {}

  asio::awaitable<http::response> search(http::client& c, std::string target, std::string body,
                                                    std::string_view what) {
    try {
      co_return co_await c.send(json_request("POST", std::move(target), std::move(body)));
    } catch (const http::transport_error& e) {
      throw error("cannot reach Elasticsearch at " + options_.redacted + ": " + std::string(what) + " failed: " + e.what());
    }
  }

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    http::client c(co_await asio::this_coro::executor, options_.endpoint.client);
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

  asio::awaitable<std::vector<trace_summary>> list_from(http::client& c, std::span<const std::string> only) {
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

  asio::awaitable<std::vector<trace_summary>> list_traces() override {
    http::client c(co_await asio::this_coro::executor, options_.endpoint.client);
    co_return co_await list_from(c, {});
  }

  asio::awaitable<std::vector<trace_summary>> list_error_traces() override {
    http::client c(co_await asio::this_coro::executor, options_.endpoint.client);
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

 private:
  es_options options_;
};

}  // namespace

std::unique_ptr<reader> make_reader(es_options options) { return std::make_unique<es_reader>(std::move(options)); }

}  // namespace osprof::detail::elasticsearch
