// The Elasticsearch driver: OSProfiler's layout (index osprofiler-notifications, error
// documents in osprofiler-notifications-error) written with _bulk on the HTTP write path
// (drivers/http/http_writer.hpp), per-item results judged one by one; read back with a
// scrolled search (show) and a terms aggregation (list).
#pragma once

#include <memory>

#include <osprof/driver.hpp>

#include "drivers/elasticsearch/es_options.hpp"

namespace osprof::detail::elasticsearch {

namespace asio = boost::asio;

std::unique_ptr<writer> make_writer(es_options options, const driver_context& context);
std::unique_ptr<reader> make_reader(es_options options);

}  // namespace osprof::detail::elasticsearch
