#include "drivers/influxdb/influxdb_options.hpp"

#include <osprof/error.hpp>

namespace osprof::detail::influxdb {

namespace {

[[noreturn]] void bad(const std::string& redacted, const std::string& why) {
  throw error("invalid connection string '" + redacted + "': " + why);
}

// Measurement names appear unescaped in line protocol and InfluxQL: keep them plain.
bool plain_name(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

influxdb_options influxdb_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  if (cs.scheme != "influxdb" && cs.scheme != "influxdb+https") {
    bad(cs.redacted, "the InfluxDB driver does not handle the scheme '" + cs.scheme + "'");
  }
  cs.check_params({"rp", "measurement", "create_database", "gzip", "max_body_bytes", "tls", "tls_verify", "ca_file", "timeout_ms"});
  influxdb_options o;
  o.http = http::options_from(cs, default_port, default_timeout);
  if (cs.host.empty()) bad(cs.redacted, "no host (influxdb://host:8086/database)");
  const std::string_view db = cs.database();
  if (db.find('/') != std::string_view::npos) bad(cs.redacted, "the database name '" + std::string(db) + "' contains '/'");
  if (!db.empty()) o.database = db;
  if (auto rp = cs.param("rp")) {
    if (rp->empty()) bad(cs.redacted, "option 'rp' is empty");
    o.retention_policy = *rp;
  }
  if (auto m = cs.param("measurement")) {
    if (!plain_name(*m)) bad(cs.redacted, "option 'measurement' must be letters, digits, '_', '-' or '.', not '" + std::string(*m) + "'");
    o.measurement = *m;
  }
  if (auto v = cs.param_bool("create_database")) o.create_database = *v;
  if (auto v = cs.param_bool("gzip")) o.gzip = *v;
  if (auto v = cs.param_uint("max_body_bytes")) {
    if (*v < 4096) bad(cs.redacted, "option 'max_body_bytes' must be at least 4096");
    o.max_body_bytes = static_cast<std::size_t>(*v);
  }
  return o;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out += '"';
}

std::string quote_string(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out += '\'';
}

}  // namespace osprof::detail::influxdb
