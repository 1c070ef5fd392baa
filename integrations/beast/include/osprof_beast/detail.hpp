// Helpers shared by the server and client pieces: reading trace headers from Beast fields and
// recording an exception on a stop event the way a scoped osprof::trace does.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/field.hpp>
#include <boost/core/demangle.hpp>

#include <osprof/profiler.hpp>
#include <osprof/propagation.hpp>

namespace osprof::beast::detail {

inline std::string_view sv(boost::core::string_view s) noexcept { return {s.data(), s.size()}; }

/// The trace headers of a Beast header (names are case-insensitive there). `storage` keeps
/// tracestate when several fields must be joined.
template <class Fields>
incoming_headers read_trace_headers(const Fields& fields, std::string& storage) {
  incoming_headers h;
  const auto single = [&](std::string_view name, std::optional<std::string_view>& out, bool& repeated) {
    const auto range = fields.equal_range(boost::core::string_view(name.data(), name.size()));
    for (auto it = range.first; it != range.second; ++it) {
      if (out) repeated = true;
      else out = sv(it->value());
    }
  };
  single(trace_info_header, h.trace_info, h.repeated_osprofiler);
  single(trace_hmac_header, h.trace_hmac, h.repeated_osprofiler);
  single(traceparent_header, h.traceparent, h.repeated_traceparent);
  if (h.traceparent) {
    const auto range = fields.equal_range(boost::core::string_view(tracestate_header.data(), tracestate_header.size()));
    auto it = range.first;
    if (it != range.second) {
      auto next = std::next(it);
      if (next == range.second) {
        h.tracestate = sv(it->value());
      } else {
        for (; it != range.second; ++it) {
          if (!storage.empty()) storage += ',';
          storage.append(sv(it->value()));
        }
        h.tracestate = storage;
      }
    }
  }
  return h;
}

/// Sets (or replaces) the trace headers on an outgoing Beast header.
template <class Fields>
void write_trace_headers(Fields& fields, const outgoing_headers& out) {
  const auto put = [&](std::string_view name, const std::string& value) {
    const boost::core::string_view n(name.data(), name.size());
    fields.erase(n);
    if (!value.empty()) fields.set(n, value);
  };
  put(trace_info_header, out.trace_info);
  put(trace_hmac_header, out.trace_hmac);
  put(traceparent_header, out.traceparent);
  put(tracestate_header, out.tracestate);
}

/// Stops the innermost point of `state` with `etype` (the exception's type) and `message` (its
/// what(), null for other types), as a scoped osprof::trace does when an exception leaves it.
inline void stop_with_exception(osprof::detail::profiler_state* state, std::exception_ptr error) noexcept {
  if (state == nullptr) return;
  try {
    std::string type = "unknown";
    std::string message;
    bool has_message = false;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      type = boost::core::demangle(typeid(e).name());
      message = e.what();
      has_message = true;
    } catch (...) {
    }
    const info_field fields[] = {{"etype", type}, {"message", has_message ? info_value(message) : info_value(nullptr)}};
    osprof::detail::stop_point(state, fields);
  } catch (...) {
    osprof::detail::stop_point(state, {});  // out of memory: stop the point all the same
  }
}

}  // namespace osprof::beast::detail
