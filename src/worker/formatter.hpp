// Turns raw caller-side events into OSProfiler notifications (event_record), on the worker:
// ids to text, the raw clock to a UTC timestamp, the encoded info to JSON, host/project/service.
#pragma once

#include <string>
#include <typeinfo>
#include <unordered_map>

#include "core/raw_event.hpp"
#include <osprof/driver.hpp>
#include "worker/clock_model.hpp"

namespace osprof::detail {

/// What format() changed so that the event could be stored (each counted in stats).
struct format_notes {
  bool cut_name = false;      ///< the point name was longer than max_point_name_bytes
  bool cut_info = false;      ///< info nested deeper than max_info_depth, or a key cut
  bool invalid_utf8 = false;  ///< bytes that are not UTF-8 stored as U+FFFD
};

class event_formatter {
 public:
  /// project, service and host are stored as valid UTF-8 (U+FFFD for other bytes).
  event_formatter(std::string_view project, std::string_view service, std::string_view host);

  format_notes format(const raw_event& ev, const clock_model& clock, event_record& out);

  /// "void ns::Driver::spawn(int)" -> "ns::Driver::spawn" (best effort; the input otherwise).
  static std::string short_function_name(std::string_view pretty);
  /// The demangled name of a type ("std::runtime_error").
  static std::string type_name(const std::type_info& type);

 private:
  const std::string& cached_type_name(const std::type_info* type);
  const std::string& cached_function_name(const char* function);

  std::string project_;
  std::string service_;
  std::string host_;
  std::unordered_map<const std::type_info*, std::string> type_names_;
  std::unordered_map<const char*, std::string> function_names_;
};

}  // namespace osprof::detail
