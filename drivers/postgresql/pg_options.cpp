#include "drivers/postgresql/pg_options.hpp"

#include <algorithm>
#include <array>

#include <osprof/error.hpp>

namespace osprof::detail::postgresql {

namespace {

// libpq's connection keywords that make sense in a connection string (libpq's documentation,
// "Parameter Key Words"), minus those osprof sets itself (client_encoding, dbname, user,
// password, port) and those that hold secrets (password, sslpassword: give the password in
// the user info; libpq's PGPASSWORD and passfile work too).
constexpr std::array<std::string_view, 25> libpq_keywords = {
    "host", "hostaddr", "connect_timeout", "options", "application_name", "fallback_application_name",
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "channel_binding", "requirepeer", "gssencmode", "target_session_attrs", "passfile"};

}  // namespace

pg_options pg_options::from(const connection_string& cs) {
  for (const auto& [key, value] : cs.params) {
    if (key.find("password") != std::string::npos) {
      // Not through fail(): the message would show the query, and so the secret.
      throw error("invalid connection string for " + cs.scheme + "://: give the password in the user info (" +
                  cs.scheme + "://user:password@host/database), not as the option '" + key + "'");
    }
  }
  std::vector<std::string_view> known(libpq_keywords.begin(), libpq_keywords.end());
  known.push_back("dedup");
  known.push_back("indexes");
  cs.check_params(std::span<const std::string_view>(known));

  pg_options o;
  if (auto v = cs.param_bool("dedup")) o.dedup = *v;
  o.indexes = sql::index_set_param(cs);
  std::string host = cs.host;
  if (auto h = cs.param("host")) {
    if (!host.empty()) cs.fail("the host is given twice (in the URL and as ?host=)");
    host = *h;  // SQLAlchemy's way to a unix socket directory: postgresql://user@/db?host=/run/postgresql
  }
  if (!host.empty()) o.keywords.emplace_back("host", host);
  if (cs.port) o.keywords.emplace_back("port", std::to_string(*cs.port));
  if (!cs.user.empty()) o.keywords.emplace_back("user", cs.user);
  if (cs.has_password) o.keywords.emplace_back("password", cs.password);
  const std::string database(cs.database());
  if (database.find('/') != std::string::npos) cs.fail("the database name '" + database + "' has a '/'");
  if (!database.empty()) o.keywords.emplace_back("dbname", database);
  for (const auto& [key, value] : cs.params) {
    if (key == "host" || key == "dedup" || key == "indexes") continue;  // osprof's, not libpq's
    o.keywords.emplace_back(key, value);
  }
  if (!cs.param("fallback_application_name")) o.keywords.emplace_back("fallback_application_name", "osprof");
  o.keywords.emplace_back("client_encoding", "UTF8");  // the JSON and the columns are UTF-8

  o.where = "postgresql://";
  if (!cs.user.empty()) o.where += cs.user + "@";
  o.where += host.empty() ? std::string("(libpq's default host)") : host;
  if (cs.port) o.where += ":" + std::to_string(*cs.port);
  o.where += "/" + (database.empty() ? std::string("(the user's database)") : database);
  return o;
}

}  // namespace osprof::detail::postgresql
