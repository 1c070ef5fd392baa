#include "worker/formatter.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <memory>
#include <span>

#include "common/json_writer.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"
#include "core/info_codec.hpp"

namespace osprof::detail {

event_formatter::event_formatter(std::string_view project, std::string_view service, std::string_view host)
    : project_(to_valid_utf8(project)), service_(to_valid_utf8(service)), host_(to_valid_utf8(host)) {}

std::string event_formatter::type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(type.name());
}

std::string event_formatter::short_function_name(std::string_view pretty) {
  // Cut the parameter list: the '(' that matches the last ')'.
  std::string_view s = pretty;
  if (auto close = s.rfind(')'); close != std::string_view::npos) {
    int depth = 0;
    for (std::size_t i = close + 1; i-- > 0;) {
      if (s[i] == ')') ++depth;
      if (s[i] == '(' && --depth == 0) {
        s = s.substr(0, i);
        break;
      }
    }
  }
  // Cut the return type: the last space outside <...> and (...).
  int depth = 0;
  for (std::size_t i = s.size(); i-- > 0;) {
    const char c = s[i];
    if (c == '>' || c == ')') ++depth;
    if (c == '<' || c == '(') --depth;
    if (c == ' ' && depth == 0) {
      s = s.substr(i + 1);
      break;
    }
  }
  return s.empty() ? std::string(pretty) : std::string(s);
}

const std::string& event_formatter::cached_type_name(const std::type_info* type) {
  auto [it, inserted] = type_names_.try_emplace(type);
  if (inserted) it->second = type_name(*type);
  return it->second;
}

const std::string& event_formatter::cached_function_name(const char* function) {
  auto [it, inserted] = function_names_.try_emplace(function);
  if (inserted) it->second = short_function_name(function);
  return it->second;
}

format_notes event_formatter::format(const raw_event& ev, const clock_model& clock, event_record& out) {
  format_notes notes;
  const bool stop = ev.kind == event_kind::stop;
  const std::byte* payload = ev.payload_data();
  const std::string_view name(reinterpret_cast<const char*>(payload), ev.name_size);
  std::span<const std::byte> rest(payload + ev.name_size, ev.payload_size - ev.name_size);

  // The name is stored outside JSON too (a column, a key): valid UTF-8 only.
  if (is_valid_utf8(name)) [[likely]] {
    out.name.assign(name);
  } else {
    out.name = to_valid_utf8(name);
    notes.invalid_utf8 = true;
  }
  out.name += stop ? "-stop" : "-start";
  notes.cut_name = (ev.flags & event_flags::name_cut) != 0;
  out.is_stop = stop;
  out.base_id = ev.base_id.to_uuid();
  out.trace_id = ev.trace_id.to_uuid();
  out.parent_id = ev.parent_id.to_uuid();
  out.time_us = clock.to_unix_us(ev.time, (ev.flags & event_flags::clock_tsc) != 0);
  format_timestamp(out.time_us, out.timestamp.data());

  // info: the caller's fields, then function (start) or etype/message (stop after an
  // exception), then host last, in OSProfiler's order.
  std::string& info = out.info;
  info.assign("{");
  const bool exception = (ev.flags & event_flags::exception) != 0;
  std::string_view message;
  if (exception && rest.size() >= 4) {
    std::uint32_t size = 0;
    std::memcpy(&size, rest.data(), 4);
    size = std::min<std::uint32_t>(size, static_cast<std::uint32_t>(rest.size() - 4));
    message = {reinterpret_cast<const char*>(rest.data() + 4), size};
    rest = rest.subspan(4 + size);
  }
  info_notes info_found;
  bool first = append_info_members(info, rest, true, "host", info_found);
  notes.cut_info = info_found.cut;
  notes.invalid_utf8 = notes.invalid_utf8 || info_found.invalid_utf8 || !is_valid_utf8(message);
  if (exception) {
    if (!first) info += ", ";
    info += "\"etype\": ";
    append_json_string(info, (ev.flags & event_flags::exception_known) != 0 && ev.exception_type != nullptr
                                  ? std::string_view(cached_type_name(ev.exception_type))
                                  : std::string_view("unknown"));
    info += ", \"message\": ";
    if (message.empty()) {
      info += "null";
    } else {
      append_json_string(info, message);
    }
    first = false;
  }
  if (!stop && ev.function != nullptr) {
    if (!first) info += ", ";
    info += "\"function\": {\"name\": ";
    append_json_string(info, cached_function_name(ev.function));
    info += '}';
    first = false;
  }
  if (!first) info += ", ";
  info += "\"host\": ";
  append_json_string(info, host_);
  info += '}';
  // OSProfiler flags an error by `etype` in a stop event's info, whoever put it there.
  out.has_error = stop && (exception || info.find("\"etype\": ") != std::string::npos);

  out.json.clear();
  json_members(out.json)
      .string("name", out.name)
      .id("base_id", out.base_id)
      .id("trace_id", out.trace_id)
      .id("parent_id", out.parent_id)
      .plain("timestamp", out.timestamp_text())
      .raw("info", info)
      .string("project", project_)
      .string("service", service_)
      .close();
  return notes;
}

}  // namespace osprof::detail
