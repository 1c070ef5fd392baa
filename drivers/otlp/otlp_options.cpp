#include "drivers/otlp/otlp_options.hpp"

#include <charconv>

#include <boost/url/parse.hpp>

#include "common/env_parse.hpp"
#include "common/log.hpp"
#include "common/text.hpp"

namespace osprof::detail::otlp {

namespace {

// The per-signal variable if set, else the generic one; returns the name that was used.
std::pair<const char*, std::string> signal_env(const env_reader& env, const char* traces_name, const char* generic_name) {
  if (const char* v = env(traces_name)) return {traces_name, v};
  if (const char* v = env(generic_name)) return {generic_name, v};
  return {nullptr, {}};
}

void ignoring(const char* name, const std::string& value, const std::string& why) {
  log_message(std::string("ignoring ") + name + "='" + value + "': " + why);
}

struct endpoint_url {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path;
};

// An http(s) URL from OTEL_EXPORTER_OTLP_*ENDPOINT; nullopt (and the reason) when unusable.
std::optional<endpoint_url> parse_endpoint(const std::string& text, std::string& why) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    why = "not a URL";
    return std::nullopt;
  }
  endpoint_url ep;
  const std::string scheme(parsed->scheme());
  if (scheme == "https") {
    ep.tls = true;
  } else if (scheme != "http") {
    why = "the scheme must be http or https";
    return std::nullopt;
  }
  ep.host = std::string(parsed->host_name().empty() ? std::string_view(parsed->encoded_host()) : parsed->host_name());
  if (parsed->host_type() == boost::urls::host_type::ipv6) {
    ep.host = std::string(parsed->encoded_host_address());
  }
  if (ep.host.empty()) {
    why = "no host";
    return std::nullopt;
  }
  ep.port = ep.tls ? 443 : 80;
  if (parsed->has_port()) {
    const auto number = parsed->port_number();
    if (number == 0) {
      why = "the port must be a number from 1 to 65535";
      return std::nullopt;
    }
    ep.port = number;
  }
  ep.path = std::string(parsed->encoded_path());
  return ep;
}

std::string join_path(std::string base, std::string_view tail) {
  while (base.ends_with('/')) base.pop_back();
  return base + std::string(tail);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_headers(std::string_view text,
                                                               const std::function<void(std::string)>& bad_item) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : split_list(text)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      bad_item("'" + item + "' is not key=value");
      continue;
    }
    auto key = percent_decode(trim(std::string_view(item).substr(0, eq)));
    auto value = percent_decode(trim(std::string_view(item).substr(eq + 1)));
    if (!key || !value) {
      bad_item("'" + item + "' has a bad %-escape");
      continue;
    }
    if (key->empty()) {
      bad_item("'" + item + "' has an empty key");
      continue;
    }
    bool valid_name = true;
    for (const unsigned char c : *key) {
      valid_name = valid_name && c > 0x20 && c < 0x7f && c != ':' && c != '(' && c != ')' && c != ',' && c != '"';
    }
    if (!valid_name || value->find_first_of("\r\n") != std::string::npos) {
      bad_item("'" + item + "' is not a valid HTTP header");
      continue;
    }
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

otlp_options otlp_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  return from(cs, default_timeout, env_value);
}

otlp_options otlp_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout,
                                const env_reader& env) {
  otlp_options o;
  o.redacted = cs.redacted;

  // Timeout: ?timeout_ms= (read by options_from) over the environment over the default.
  auto timeout = default_timeout;
  if (auto [name, value] = signal_env(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); name) {
    std::int64_t ms = -1;
    const auto t = trim(value);
    const auto r = std::from_chars(t.data(), t.data() + t.size(), ms);
    if (t.empty() || r.ec != std::errc{} || r.ptr != t.data() + t.size() || ms < 0) {
      ignoring(name, value, "expected milliseconds (a non-negative integer)");
    } else {
      // 0 means no limit; the emitter's write_timeout still bounds every write.
      timeout = ms == 0 ? std::chrono::milliseconds(std::chrono::hours(24)) : std::chrono::milliseconds(ms);
    }
  }

  // Where: the connection string's host, else the endpoint variables, else the default.
  connection_string where = cs;
  if (cs.host.empty()) {
    std::optional<endpoint_url> ep;
    if (const char* value = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
      const char* name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
      std::string why;
      ep = parse_endpoint(std::string(trim(value)), why);
      if (!ep) ignoring(name, value, why);
      if (ep && ep->path.empty()) ep->path = "/";  // the per-signal URL is used as is
      if (ep) o.url = std::string(trim(std::string_view(value)));
    }
    if (!ep) {
      if (const char* value = env("OTEL_EXPORTER_OTLP_ENDPOINT")) {
        std::string why;
        ep = parse_endpoint(std::string(trim(value)), why);
        if (!ep) ignoring("OTEL_EXPORTER_OTLP_ENDPOINT", value, why);
        if (ep) {
          ep->path = join_path(ep->path, "/v1/traces");
          o.url = join_path(std::string(trim(value)), "/v1/traces");
        }
      }
    }
    if (!ep) {
      ep = endpoint_url{cs.scheme == "otlp+https", "localhost", backend.default_port, "/v1/traces"};
      o.url = std::string(ep->tls ? "https" : "http") + "://localhost:4318/v1/traces";
    }
    where.host = ep->host;
    where.port = ep->port;
    where.scheme = ep->tls ? "otlp+https" : "otlp";
    o.target = ep->path;
  } else {
    // As OSProfiler: http://host:port<path>/v1/traces.
    o.target = join_path(cs.path, "/v1/traces");
  }
  o.endpoint = http::endpoint_options::parse(where, backend, timeout,
                                             {"headers", "unfinished_timeout_ms", "max_pending", "service_name_prefix"});
  http::client_options& client = o.endpoint.client;
  client.redacted = cs.redacted;
  if (!cs.host.empty()) {
    o.url = std::string(client.tls ? "https" : "http") + "://" +
            (client.host.find(':') != std::string::npos ? "[" + client.host + "]" : client.host) + ":" +
            std::to_string(client.port) + o.target;
  }

  // Headers: the environment's, then ?headers= (same format; a key given twice keeps the last).
  auto add_headers = [&client](const std::vector<std::pair<std::string, std::string>>& headers) {
    for (const auto& [k, v] : headers) {
      std::erase_if(client.headers, [&](const auto& h) { return h.first == k; });
      client.headers.emplace_back(k, v);
    }
  };
  if (auto [name, value] = signal_env(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"); name) {
    const std::string var = name;
    add_headers(parse_headers(value, [&](const std::string& why) { ignoring(var.c_str(), value, why); }));
  }
  if (auto v = cs.param("headers")) {
    add_headers(parse_headers(*v, [&](const std::string& why) { cs.fail("option 'headers': " + why); }));
  }

  // Compression: ?compression= or ?gzip= (read by endpoint_options) over the environment.
  if (auto [name, value] = signal_env(env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION");
      name && !cs.param("compression") && !cs.param("gzip")) {
    const std::string v = lower_trim(value);
    if (v == "gzip" || v == "none") {
      o.endpoint.gzip = v == "gzip";
    } else {
      ignoring(name, value, "expected gzip or none");
    }
  }

  // Certificate: a PEM bundle of trusted CAs, unless ?ca_file= names one.
  if (!cs.param("ca_file")) {
    if (auto [name, value] =
            signal_env(env, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE");
        name) {
      client.ca_file = std::string(trim(value));
    }
  }

  if (auto [name, value] = signal_env(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"); name) {
    if (lower_trim(value) != "http/json") {
      ignoring(name, value, "the otlp:// driver sends OTLP/HTTP with JSON (http/json) only");
    }
  }

  if (auto v = cs.param_uint("unfinished_timeout_ms")) {
    if (*v == 0) cs.fail("option 'unfinished_timeout_ms' must be at least 1");
    o.unfinished_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = cs.param_uint("max_pending")) {
    if (*v == 0) cs.fail("option 'max_pending' must be at least 1");
    o.max_pending = static_cast<std::size_t>(*v);
  }
  if (auto v = cs.param("service_name_prefix")) {
    o.service_name_prefix = std::string(*v);
  } else if (const char* value = env("OSPROF_OTLP_SERVICE_NAME_PREFIX")) {
    o.service_name_prefix = std::string(trim(value));
  }
  return o;
}

}  // namespace osprof::detail::otlp
