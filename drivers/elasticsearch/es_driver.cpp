// Registers elasticsearch:// and elasticsearch+https://.
#include <osprof/drivers/elasticsearch.hpp>

#include "drivers/elasticsearch/es_driver.hpp"

namespace osprof::drivers {

void register_elasticsearch() {
  using namespace osprof::detail::elasticsearch;
  for (const char* scheme : {"elasticsearch", "elasticsearch+https"}) {
    register_driver({
        .scheme = scheme,
        .summary = std::string_view(scheme) == "elasticsearch"
                       ? "elasticsearch://host[:port][?index=...] Elasticsearch 7/8 or OpenSearch, OSProfiler's layout, _bulk writes"
                       : "elasticsearch+https://[user:password@]host[:port] Elasticsearch over TLS, certificates verified",
        .make_writer = [](const connection_string& cs, const driver_context& context) {
          return make_writer(es_options::from(cs, context.timeout), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) {
          return make_reader(es_options::from(cs, context.timeout));
        },
    });
  }
}

}  // namespace osprof::drivers
