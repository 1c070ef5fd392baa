#include "drivers/clickhouse/clickhouse_options.hpp"

#include "common/text.hpp"

namespace osprof::detail::clickhouse {

std::string clickhouse_options::qualified_table() const { return quote_identifier(database) + "." + quote_identifier(table); }

clickhouse_options clickhouse_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  clickhouse_options o;
  o.endpoint = http::endpoint_options::parse(cs, backend, default_timeout, {"table", "create_table"});
  // Names go into SQL (quoted) and into URLs: letters, digits and '_' only.
  if (const std::string_view db = cs.database(); !db.empty()) {
    if (!is_plain_name(db)) cs.fail("the database name '" + std::string(db) + "' must be letters, digits and '_'");
    o.database = db;
  }
  if (auto t = cs.param_name("table")) o.table = *t;
  if (auto v = cs.param_bool("create_table")) o.create_table = *v;
  return o;
}

std::string quote_identifier(std::string_view name) { return backslash_quoted(name, '`'); }

}  // namespace osprof::detail::clickhouse
