#include "drivers/influxdb/influxdb_options.hpp"

#include "common/text.hpp"

namespace osprof::detail::influxdb {

namespace {

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
  influxdb_options o;
  o.endpoint = http::endpoint_options::parse(cs, backend, default_timeout, {"rp", "measurement", "create_database"});
  const std::string_view db = cs.database();
  if (db.find('/') != std::string_view::npos) cs.fail("the database name '" + std::string(db) + "' contains '/'");
  if (!db.empty()) o.database = db;
  if (auto rp = cs.param("rp")) {
    if (rp->empty()) cs.fail("option 'rp' is empty");
    o.retention_policy = *rp;
  }
  if (auto m = cs.param("measurement")) {
    if (!plain_name(*m)) cs.fail("option 'measurement' must be letters, digits, '_', '-' or '.', not '" + std::string(*m) + "'");
    o.measurement = *m;
  }
  if (auto v = cs.param_bool("create_database")) o.create_database = *v;
  return o;
}

std::string quote_identifier(std::string_view name) { return backslash_quoted(name, '"'); }

}  // namespace osprof::detail::influxdb
