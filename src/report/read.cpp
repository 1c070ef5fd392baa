// read_report(), read_trace_events() and list_traces(): one read through the backend's
// reader, run to completion on a private io_context within the caller's deadline, for
// synchronous callers (the CLI, programs that fetch a report).
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/driver.hpp>
#include <osprof/error.hpp>
#include <osprof/options.hpp>
#include <osprof/report.hpp>

#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

namespace {

template <class T, class Operation>
T run_read(std::string_view connection_string, const read_options& options, Operation operation) {
  boost::asio::io_context ioc;
  driver_context context;
  context.executor = ioc.get_executor();
  context.host = env::host_name();
  context.timeout = options.timeout;
  auto r = make_reader(connection_string, context);
  auto result = boost::asio::co_spawn(ioc, operation(*r), boost::asio::use_future);
  ioc.run_for(options.timeout);
  if (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    ioc.stop();
    throw error("no answer from " + redact_connection_string(connection_string) + " within " +
                std::to_string(options.timeout.count()) + " ms");
  }
  return result.get();
}

}  // namespace

report read_report(std::string_view connection_string, std::string_view base_id, const read_options& options) {
  return detail::report_impl::build_report_taking(base_id, detail::report_impl::read_trace_events(connection_string, base_id, options));
}

std::vector<trace_summary> list_traces(std::string_view connection_string, bool errors_only, const read_options& options) {
  return run_read<std::vector<trace_summary>>(connection_string, options, [&](reader& r) {
    return errors_only ? r.list_error_traces() : r.list_traces();
  });
}

}  // namespace v1
}  // namespace osprof

namespace osprof::detail::report_impl {

std::vector<std::string> read_trace_events(std::string_view connection_string, std::string_view base_id,
                                           const read_options& options) {
  const std::string id(base_id);
  return osprof::v1::run_read<std::vector<std::string>>(connection_string, options,
                                                       [&](reader& r) { return r.read_trace(id); });
}

}  // namespace osprof::detail::report_impl
