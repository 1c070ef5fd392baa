// The OTLP driver: joins start/stop events into spans (otlp_spans.hpp), encodes them as
// OTLP/HTTP JSON (otlp_encoder.hpp) and posts them to a collector's /v1/traces on the HTTP
// write path (drivers/http/http_writer.hpp). Write-only: collectors do not give traces back.
#pragma once

#include <memory>

#include <osprof/driver.hpp>

#include "drivers/otlp/otlp_options.hpp"

namespace osprof::detail::otlp {

namespace asio = boost::asio;

std::unique_ptr<writer> make_writer(otlp_options options, const driver_context& context);

}  // namespace osprof::detail::otlp
