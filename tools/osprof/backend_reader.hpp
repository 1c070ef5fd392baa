// Runs one read operation of a driver (read_trace, list_traces, ...) to completion on a
// private io_context, with a deadline, for the synchronous CLI commands.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/error.hpp>
#include <osprof/options.hpp>

#include "driver/registry.hpp"

namespace osprof::cli {

template <class T>
T read_from_backend(const std::string& connection_string, std::chrono::seconds timeout,
                    const std::function<boost::asio::awaitable<T>(detail::driver&)>& operation) {
  boost::asio::io_context ioc;
  detail::driver_context context;
  context.executor = ioc.get_executor();
  context.purpose = detail::driver_purpose::read;
  context.host = env::host_name();
  context.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  auto driver = detail::driver_registry::instance().create(connection_string, context);
  // A write-only driver's read operations throw its own explanation (where to look instead).
  auto result = boost::asio::co_spawn(ioc, operation(*driver), boost::asio::use_future);
  ioc.run_for(timeout);
  if (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    ioc.stop();
    throw error("no answer from " + detail::redact_connection_string(connection_string) + " within " +
                std::to_string(timeout.count()) + " s (see --timeout)");
  }
  return result.get();
}

}  // namespace osprof::cli
