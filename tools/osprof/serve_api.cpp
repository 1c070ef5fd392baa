// The routes of `osprof serve`:
//   GET /api/health                   whether the backend answers (200 or 503)
//   GET /api/traces?...               one page of the trace list (parameters below)
//   GET /api/traces/<base_id>         OSProfiler's report JSON, as `trace show --json`
//   GET /api/traces/<base_id>/chrome  Chrome/Perfetto trace events, as `trace show --chrome`
//   GET /                             the trace list (web/index.html)
//   GET /traces/<base_id>             the trace, as `trace show --html`, with a way back
//   GET /assets/<file>                the list's script and style
// Errors are JSON {"error": ..., "status": ...} under /api/ and a short page elsewhere.
#include <charconv>

#include <boost/url/parse.hpp>

#include <osprof/error.hpp>
#include <osprof/render.hpp>
#include <osprof/uuid.hpp>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "serve.hpp"

namespace osprof::cli::serve {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr std::size_t max_limit = 1000;

struct bad_request {
  std::string what;
};

response make_response(unsigned status, std::string body, std::string_view content_type, const request& req) {
  response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response json_response(unsigned status, std::string body, const request& req) {
  return make_response(status, std::move(body), "application/json", req);
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

response page_error(unsigned status, std::string_view message, const request& req) {
  std::string body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>osprof: " +
                     std::to_string(status) +
                     "</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\n"
                     "<body><header class=\"bar\"><a class=\"home\" href=\"/\">&larr; Traces</a></header>"
                     "<p class=\"message error\" id=\"error\">" +
                     html_escape(message) + "</p></body></html>\n";
  return make_response(status, std::move(body), "text/html; charset=utf-8", req);
}

// "%Y-%m-%dT%H:%M:%S.%f" or a prefix of it down to the year.
bool timestamp_prefix(std::string_view t) {
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddddd";
  if (t.size() < 4 || t.size() > shape.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return false;
  }
  return true;
}

bool id_text(std::string_view t) {
  if (t.size() > 36) return false;
  for (char c : t) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  }
  return true;
}

// The cursor is the last row of the page, "<timestamp>,<base_id>": what list_query::after wants.
std::string cursor_of(const trace_summary& row) { return row.timestamp + "," + row.base_id; }

std::optional<trace_summary> parse_cursor(std::string_view text) {
  const auto comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  trace_summary row;
  row.timestamp = text.substr(0, comma);
  row.base_id = text.substr(comma + 1);
  if (row.base_id.empty() || row.base_id.size() > 255 || row.timestamp.size() > 64) return std::nullopt;
  return row;
}

list_query parse_list_query(const boost::urls::params_view& params) {
  list_query q;
  for (const auto& p : params) {
    const std::string& k = p.key;
    const std::string& v = p.value;
    if (k == "limit") {
      std::size_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > max_limit) {
        throw bad_request{"limit must be an integer from 1 to " + std::to_string(max_limit) + ", not '" + v + "'"};
      }
      q.limit = n;
    } else if (k == "cursor") {
      if (v.empty()) continue;
      q.after = parse_cursor(v);
      if (!q.after) throw bad_request{"malformed cursor '" + v + "': pass next_cursor of the previous page"};
    } else if (k == "error") {
      if (v != "true" && v != "false" && v != "1" && v != "0") throw bad_request{"error must be true or false"};
      q.errors_only = v == "true" || v == "1";
    } else if (k == "since" || k == "until") {
      if (v.empty()) continue;
      if (!timestamp_prefix(v)) {
        throw bad_request{k + " must be a UTC time as 2026-12-01T10:00:00.000000 or a prefix of it (2026-12-01), not '" + v + "'"};
      }
      (k == "since" ? q.since : q.until) = v;
    } else if (k == "q" || k == "id") {
      if (!id_text(v)) throw bad_request{"q must be the start of a trace id (hex digits and '-'), not '" + v + "'"};
      q.id_prefix = v;
    } else if (k == "project" || k == "service" || k == "host" || k == "name") {
      if (v.size() > 255) throw bad_request{k + " is longer than 255 bytes"};
      (k == "project" ? q.project : k == "service" ? q.service : k == "host" ? q.host : q.name) = v;
    } else {
      throw bad_request{"unknown parameter '" + k +
                        "'; known: limit, cursor, error, since, until, q, project, service, host, name"};
    }
  }
  return q;
}

std::string list_json(const trace_page& page, const list_query& q) {
  std::string out = "{\"traces\": [";
  bool first = true;
  for (const auto& row : page.traces) {
    out += first ? "\n  {" : ",\n  {";
    first = false;
    out += "\"base_id\": ";
    detail::append_json_string(out, row.base_id);
    out += ", \"timestamp\": ";
    detail::append_json_string(out, row.timestamp);
    if (!row.name.empty()) {
      out += ", \"name\": ";
      detail::append_json_string(out, row.name);
    }
    if (!row.service.empty()) {
      out += ", \"service\": ";
      detail::append_json_string(out, row.service);
    }
    if (!row.finished.empty()) {
      out += ", \"finished\": ";
      detail::append_json_string(out, row.finished);
      const auto a = detail::parse_timestamp(row.timestamp), b = detail::parse_timestamp(row.finished);
      if (a && b) {
        out += ", \"duration_ms\": ";
        detail::append_json_double(out, static_cast<double>(*b - *a) / 1000.0);
      }
    }
    if (row.events != 0) {
      out += ", \"events\": ";
      detail::append_json_uint(out, row.events);
    }
    if (row.has_error) out += *row.has_error ? ", \"error\": true" : ", \"error\": false";
    out += '}';
  }
  out += page.traces.empty() ? "]" : "\n]";
  out += ", \"limit\": ";
  detail::append_json_uint(out, q.limit);
  out += ", \"next_cursor\": ";
  if (page.more && !page.traces.empty()) {
    detail::append_json_string(out, cursor_of(page.traces.back()));
  } else {
    out += "null";
  }
  out += "}\n";
  return out;
}

// The trace page: render_html()'s page with a link back to the list in its header.
std::string trace_page_html(const report& r) {
  std::string page = render_html(r);
  constexpr std::string_view header = "<header>\n";
  if (auto at = page.find(header); at != std::string::npos) {
    page.insert(at + header.size(),
                "<a id=\"osprof-home\" href=\"/\" style=\"color:inherit;font-weight:600;text-decoration:none\">"
                "&larr; Traces</a>\n");
  }
  return page;
}

asio::awaitable<response> api(const request& req, std::string_view path, const boost::urls::params_view& params,
                              backend& b) {
  if (path == "/api/health") {
    const auto started = std::chrono::steady_clock::now();
    list_query q;
    q.limit = 1;
    std::string out = "{\"backend\": ";
    detail::append_json_string(out, b.redacted());
    try {
      co_await b.list_page(q);
    } catch (const backend_unavailable& e) {
      out += ", \"status\": \"unavailable\", \"error\": ";
      detail::append_json_string(out, e.what);
      co_return json_response(503, out + "}\n", req);
    } catch (const error&) {
      // A backend that cannot page with these options still answered.
    }
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    out += ", \"status\": \"ok\", \"latency_ms\": ";
    detail::append_json_double(out, ms);
    co_return json_response(200, out + "}\n", req);
  }
  if (path == "/api/traces" || path == "/api/traces/") {
    const list_query q = parse_list_query(params);
    trace_page page;
    try {
      page = co_await b.list_page(q);
    } catch (const error& e) {
      throw bad_request{e.what()};
    }
    co_return json_response(200, list_json(page, q), req);
  }
  constexpr std::string_view prefix = "/api/traces/";
  if (path.starts_with(prefix)) {
    std::string_view rest = path.substr(prefix.size());
    bool chrome = false;
    if (rest.ends_with("/chrome")) {
      rest.remove_suffix(7);
      chrome = true;
    }
    if (!uuid::parse(rest)) throw bad_request{"'" + std::string(rest) + "' is not a trace id (a uuid)"};
    const std::string id(rest);
    const std::vector<std::string> events = co_await b.read_trace(id);
    const report r = build_report(id, events);
    if (r.empty()) co_return json_error(404, "trace " + id + " not found in " + b.redacted(), req.version(), req.keep_alive());
    co_return json_response(200, chrome ? render_chrome(r) : render_json(r, 2), req);
  }
  co_return json_error(404, "no such API: " + std::string(path), req.version(), req.keep_alive());
}

}  // namespace

response json_error(unsigned status, std::string_view message, unsigned version, bool keep_alive) {
  std::string body = "{\"error\": ";
  detail::append_json_string(body, message);
  body += ", \"status\": " + std::to_string(status) + "}\n";
  response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

asio::awaitable<response> handle(const request& req, backend& b) {
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) {
    co_return json_error(400, "malformed request target", req.version(), req.keep_alive());
  }
  const std::string path = url->path();  // percent-decoded
  const bool is_api = path.starts_with("/api/") || path == "/api";
  try {
    const boost::urls::params_view params = url->params();
    if (is_api) co_return co_await api(req, path, params, b);
    if (path == "/" || path == "/index.html") {
      const asset* a = find_asset("/index.html");
      co_return make_response(200, std::string(a->body), a->content_type, req);
    }
    if (path.starts_with("/assets/")) {
      if (const asset* a = find_asset(path.substr(7))) {
        auto res = make_response(200, std::string(a->body), a->content_type, req);
        res.set(http::field::cache_control, "max-age=300");
        co_return res;
      }
    } else if (path.starts_with("/traces/")) {
      const std::string id = path.substr(8);
      if (!uuid::parse(id)) co_return page_error(400, "'" + id + "' is not a trace id (a uuid)", req);
      const std::vector<std::string> events = co_await b.read_trace(id);
    const report r = build_report(id, events);
      if (r.empty()) co_return page_error(404, "Trace " + id + " was not found in " + b.redacted() + ".", req);
      co_return make_response(200, trace_page_html(r), "text/html; charset=utf-8", req);
    }
    co_return page_error(404, "Nothing at " + path + ".", req);
  } catch (const bad_request& e) {
    co_return is_api ? json_error(400, e.what, req.version(), req.keep_alive()) : page_error(400, e.what, req);
  } catch (const backend_unavailable& e) {
    co_return is_api ? json_error(503, e.what, req.version(), req.keep_alive())
                     : page_error(503, "The backend is unavailable: " + e.what, req);
  }
}

}  // namespace osprof::cli::serve
