#include "drivers/redis/redis_options.hpp"

#include <charconv>

#include <osprof/error.hpp>

namespace osprof::detail::redis {

namespace {

constexpr std::uint16_t default_port = 6379;
constexpr std::uint16_t default_sentinel_port = 26379;

// The query may hold sentinel_password=...; hide its value as the URL password is hidden.
std::string redact_query_secrets(std::string text) {
  static constexpr std::string_view secret = "sentinel_password=";
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 1)) {
    if (at != 0 && text[at - 1] != '?' && text[at - 1] != '&') continue;
    const auto value = at + secret.size();
    const auto end = text.find_first_of("&' ", value);
    text.replace(value, (end == std::string::npos ? text.size() : end) - value, "***");
  }
  return text;
}

[[noreturn]] void bad(const std::string& redacted, const std::string& why) {
  throw error("invalid connection string '" + redacted + "': " + why);
}

}  // namespace

std::string endpoint::text() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

endpoint parse_endpoint(std::string_view text, std::uint16_t fallback_port, std::string_view what) {
  endpoint ep;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) throw error(std::string(what) + ": '" + std::string(text) + "' lacks ']'");
    ep.host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) throw error(std::string(what) + ": '" + std::string(text) + "' is not [host]:port");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = text.rfind(':');
    ep.host = text.substr(0, colon);
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (ep.host.empty()) throw error(std::string(what) + ": '" + std::string(text) + "' has no host");
  ep.port = fallback_port;
  if (!port_text.empty() || text.ends_with(':')) {
    unsigned value = 0;
    const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || r.ec != std::errc{} || r.ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      throw error(std::string(what) + ": the port in '" + std::string(text) + "' is not a number from 1 to 65535");
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  return ep;
}

redis_options redis_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  // connection_string's own messages hide the URL password only.
  try {
    return parse(cs, default_timeout);
  } catch (const error& e) {
    throw error(redact_query_secrets(e.what()));
  }
}

redis_options redis_options::parse(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  redis_options o;
  o.redacted = redact_query_secrets(cs.redacted);
  o.timeout = default_timeout;

  // The same option list for every scheme keeps errors predictable; options that do not
  // apply to a mode are rejected below with a reason.
  cs.check_params({"db", "tls", "cluster", "service_name", "sentinels", "nodes", "sentinel_username",
                   "sentinel_password", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile", "ssl_keyfile",
                   "ssl_check_hostname", "timeout_ms", "dedup", "ttl"});

  if (cs.scheme == "redis" || cs.scheme == "rediss") {
    o.mode = cs.param_bool("cluster").value_or(false) ? redis_mode::cluster : redis_mode::standalone;
    o.tls.enabled = cs.scheme == "rediss";
  } else if (cs.scheme == "redissentinel") {
    o.mode = redis_mode::sentinel;
    if (cs.param("cluster")) bad(o.redacted, "option 'cluster' does not apply to redissentinel://");
  } else if (cs.scheme == "rediscluster") {
    o.mode = redis_mode::cluster;
    if (cs.param("cluster")) bad(o.redacted, "option 'cluster' is implied by rediscluster://");
  } else {
    bad(o.redacted, "the Redis driver does not handle the scheme '" + cs.scheme + "'");
  }
  if (auto tls = cs.param_bool("tls")) {
    if (cs.scheme == "rediss" && !*tls) bad(o.redacted, "rediss:// always uses TLS; use redis:// for plain TCP");
    o.tls.enabled = *tls;
  }

  const std::uint16_t fallback = o.mode == redis_mode::sentinel ? default_sentinel_port : default_port;
  const std::string host = cs.host.empty() ? std::string("127.0.0.1") : cs.host;
  o.endpoints.push_back({host, cs.port_or(fallback)});
  const char* list_option = o.mode == redis_mode::sentinel ? "sentinels" : "nodes";
  if (cs.param(o.mode == redis_mode::sentinel ? "nodes" : "sentinels")) {
    bad(o.redacted, o.mode == redis_mode::sentinel ? "option 'nodes' is for Redis Cluster; list more Sentinels with 'sentinels'"
                                                   : "option 'sentinels' is for redissentinel://");
  }
  if (o.mode == redis_mode::standalone && cs.param("nodes")) {
    bad(o.redacted, "option 'nodes' is for Redis Cluster (rediscluster:// or cluster=true)");
  }
  if (auto extra = cs.param(list_option)) {
    std::string_view rest = *extra;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      if (!item.empty()) {
        try {
          o.endpoints.push_back(parse_endpoint(item, fallback, std::string("option '") + list_option + "'"));
        } catch (const error& e) {
          bad(o.redacted, e.what());
        }
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }

  o.user = cs.user;
  o.password = cs.password;
  o.has_password = cs.has_password;
  if (!o.user.empty() && !o.has_password) o.has_password = true;  // AUTH user "" (as redis-py)

  std::string_view db_text = cs.database();
  if (auto q = cs.param("db")) {
    if (!db_text.empty()) bad(o.redacted, "the database is given twice (path and option 'db')");
    db_text = *q;
  }
  if (!db_text.empty()) {
    const auto r = std::from_chars(db_text.data(), db_text.data() + db_text.size(), o.db);
    if (r.ec != std::errc{} || r.ptr != db_text.data() + db_text.size() || o.db < 0) {
      bad(o.redacted, "the database '" + std::string(db_text) + "' is not a number (redis://host:port/0)");
    }
  }
  if (o.mode == redis_mode::cluster && o.db != 0) bad(o.redacted, "Redis Cluster has database 0 only");

  if (auto name = cs.param("service_name")) {
    if (o.mode != redis_mode::sentinel) bad(o.redacted, "option 'service_name' is for redissentinel://");
    if (name->empty()) bad(o.redacted, "option 'service_name' is empty");
    o.service_name = *name;
  }
  if (auto u = cs.param("sentinel_username")) {
    if (o.mode != redis_mode::sentinel) bad(o.redacted, "option 'sentinel_username' is for redissentinel://");
    o.sentinel_user = *u;
    o.has_sentinel_password = true;
  }
  if (auto p = cs.param("sentinel_password")) {
    if (o.mode != redis_mode::sentinel) bad(o.redacted, "option 'sentinel_password' is for redissentinel://");
    o.sentinel_password = *p;
    o.has_sentinel_password = true;
  }

  const bool any_ssl_option = cs.param("ssl_cert_reqs") || cs.param("ssl_ca_certs") || cs.param("ssl_ca_path") ||
                              cs.param("ssl_certfile") || cs.param("ssl_keyfile") || cs.param("ssl_check_hostname");
  if (any_ssl_option && !o.tls.enabled) bad(o.redacted, "ssl_* options need TLS (rediss:// or tls=true)");
  if (auto reqs = cs.param("ssl_cert_reqs")) {
    if (*reqs == "required") {
      o.tls.verify_peer = true;
    } else if (*reqs == "none") {
      o.tls.verify_peer = false;
      o.tls.check_hostname = false;
    } else {
      bad(o.redacted, "option 'ssl_cert_reqs' must be 'required' or 'none', not '" + std::string(*reqs) + "'");
    }
  }
  if (auto v = cs.param_bool("ssl_check_hostname")) {
    if (*v && !o.tls.verify_peer) bad(o.redacted, "ssl_check_hostname=true needs ssl_cert_reqs=required");
    o.tls.check_hostname = *v;
  }
  if (auto v = cs.param("ssl_ca_certs")) o.tls.ca_file = *v;
  if (auto v = cs.param("ssl_ca_path")) o.tls.ca_path = *v;
  if (auto v = cs.param("ssl_certfile")) o.tls.cert_file = *v;
  if (auto v = cs.param("ssl_keyfile")) o.tls.key_file = *v;
  if (o.tls.cert_file.empty() != o.tls.key_file.empty()) {
    bad(o.redacted, "options 'ssl_certfile' and 'ssl_keyfile' go together");
  }

  if (auto ms = cs.param_uint("timeout_ms")) {
    if (*ms == 0) bad(o.redacted, "option 'timeout_ms' must be at least 1");
    o.timeout = std::chrono::milliseconds(*ms);
  }
  if (auto v = cs.param_bool("dedup")) o.dedup = *v;
  if (auto v = cs.param_uint("ttl")) o.ttl_seconds = *v;
  return o;
}

}  // namespace osprof::detail::redis
