// Registers clickhouse:// and clickhouse+https://.
#include <osprof/drivers/clickhouse.hpp>

#include "drivers/clickhouse/clickhouse_driver.hpp"

namespace osprof::drivers {

void register_clickhouse() {
  using namespace osprof::detail::clickhouse;
  for (const char* scheme : {"clickhouse", "clickhouse+https"}) {
    register_driver({
        .scheme = scheme,
        .summary = std::string_view(scheme) == "clickhouse"
                       ? "ClickHouse: clickhouse://[user:password@]host[:8123][/database][?table=] (JSONEachRow inserts into MergeTree)"
                       : "ClickHouse over TLS, certificates verified: clickhouse+https://[user:password@]host[:8123][/database]",
        .make_writer = [](const connection_string& cs, const driver_context& context) {
          return make_writer(clickhouse_options::from(cs, context.timeout), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) {
          return make_reader(clickhouse_options::from(cs, context.timeout));
        },
    });
  }
}

}  // namespace osprof::drivers
