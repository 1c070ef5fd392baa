#include "drivers/clickhouse/clickhouse_options.hpp"

#include <osprof/error.hpp>

namespace osprof::detail::clickhouse {

namespace {

[[noreturn]] void bad(const std::string& redacted, const std::string& why) {
  throw error("invalid connection string '" + redacted + "': " + why);
}

// Names go into SQL (quoted) and into URLs: letters, digits and '_' only, as ClickHouse's own
// unquoted identifiers.
bool plain_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string clickhouse_options::qualified_table() const { return quote_identifier(database) + "." + quote_identifier(table); }

clickhouse_options clickhouse_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  if (cs.scheme != "clickhouse" && cs.scheme != "clickhouse+https") {
    bad(cs.redacted, "the ClickHouse driver does not handle the scheme '" + cs.scheme + "'");
  }
  cs.check_params({"table", "create_table", "gzip", "max_body_bytes", "tls", "tls_verify", "ca_file", "timeout_ms"});
  clickhouse_options o;
  o.http = http::options_from(cs, default_port, default_timeout);
  if (cs.host.empty()) bad(cs.redacted, "no host (clickhouse://host:8123/database)");
  if (const std::string_view db = cs.database(); !db.empty()) {
    if (!plain_name(db)) bad(cs.redacted, "the database name '" + std::string(db) + "' must be letters, digits and '_'");
    o.database = db;
  }
  if (auto t = cs.param("table")) {
    if (!plain_name(*t)) bad(cs.redacted, "option 'table' must be letters, digits and '_', not '" + std::string(*t) + "'");
    o.table = *t;
  }
  if (auto v = cs.param_bool("create_table")) o.create_table = *v;
  if (auto v = cs.param_bool("gzip")) o.gzip = *v;
  if (auto v = cs.param_uint("max_body_bytes")) {
    if (*v < 4096) bad(cs.redacted, "option 'max_body_bytes' must be at least 4096");
    o.max_body_bytes = static_cast<std::size_t>(*v);
  }
  return o;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "`";
  for (const char c : name) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out += '`';
}

std::string quote_string(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out += '\'';
}

}  // namespace osprof::detail::clickhouse
