#include "drivers/influxdb/influxdb_options.hpp"

#include "common/text.hpp"

namespace osprof::detail::influxdb {

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
  // Measurement names appear unescaped in line protocol and InfluxQL: kept plain.
  if (auto m = cs.param_name("measurement", "-.")) o.measurement = *m;
  if (auto v = cs.param_bool("create_database")) o.create_database = *v;
  return o;
}

std::string quote_identifier(std::string_view name) { return backslash_quoted(name, '"'); }

}  // namespace osprof::detail::influxdb
