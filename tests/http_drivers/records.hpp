// Builds driver input (event_record) for the InfluxDB and ClickHouse tests: by hand for the
// encoder tests, and from stored event JSON (osprof's own formatting) to write the same
// events into another backend for comparison.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <simdjson.h>

#include <osprof/uuid.hpp>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include <osprof/driver.hpp>

namespace osprof_test {

using osprof::event_record;

/// One event as the worker formats it: OSProfiler's key order and separators.
inline event_record make_record(const std::string& name, osprof::uuid base, osprof::uuid trace, osprof::uuid parent,
                                std::int64_t time_us, const std::string& info_members = {}, bool error = false,
                                const std::string& project = "demo", const std::string& service = "api") {
  event_record e;
  e.name = name;
  e.base_id = base;
  e.trace_id = trace;
  e.parent_id = parent;
  e.time_us = time_us;
  osprof::detail::format_timestamp(time_us, e.timestamp.data());
  e.is_stop = name.ends_with("-stop");
  e.has_error = error;
  e.info = "{" + info_members + (info_members.empty() ? "" : ", ") + "\"host\": \"vm\"}";
  e.json = "{\"name\": ";
  osprof::detail::append_json_string(e.json, name);
  e.json += ", \"base_id\": \"" + base.to_string() + "\", \"trace_id\": \"" + trace.to_string() + "\", \"parent_id\": \"" +
            parent.to_string() + "\", \"timestamp\": \"" + std::string(e.timestamp_text()) + "\", \"info\": " + e.info +
            ", \"project\": ";
  osprof::detail::append_json_string(e.json, project);
  e.json += ", \"service\": ";
  osprof::detail::append_json_string(e.json, service);
  e.json += "}";
  return e;
}

/// The event_record a stored event (osprof's JSON) came from: ids, time, flags, and the info
/// object's text as it appears between "info": and , "project".
inline event_record record_from_json(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  event_record e;
  e.name = std::string(std::string_view(doc["name"]));
  auto id = [&](const char* key) {
    const auto parsed = osprof::uuid::parse(std::string_view(doc[key]));
    if (!parsed) throw std::runtime_error(std::string("not a uuid: ") + key);
    return *parsed;
  };
  e.base_id = id("base_id");
  e.trace_id = id("trace_id");
  e.parent_id = id("parent_id");
  const std::string_view ts = doc["timestamp"];
  const auto us = osprof::detail::parse_timestamp(ts);
  if (!us) throw std::runtime_error("bad timestamp in " + json);
  e.time_us = *us;
  std::copy(ts.begin(), ts.end(), e.timestamp.begin());
  e.is_stop = e.name.ends_with("-stop");
  simdjson::dom::element etype;
  e.has_error = e.is_stop && doc["info"]["etype"].get(etype) == simdjson::SUCCESS;
  const auto from = json.find("\"info\": ") + 8;
  const auto to = json.rfind(", \"project\": ");
  e.info = json.substr(from, to - from);
  e.json = json;
  return e;
}

}  // namespace osprof_test
