#include "drivers/messaging/notification.hpp"

#include <simdjson.h>

#include <osprof/uuid.hpp>

#include "common/json_writer.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"

namespace osprof::detail::messaging {

std::string python_datetime_text(std::int64_t us) {
  char text[timestamp_size];
  format_timestamp(us, text);
  std::string out(text, timestamp_size);
  out[10] = ' ';
  if (out.ends_with(".000000")) out.resize(out.size() - 7);
  return out;
}

void append_notification(std::string& out, std::string_view payload, std::string_view publisher_id,
                         std::string_view service, std::int64_t now_us) {
  char id[36];
  uuid::random().format(id);
  out += "{\"message_id\": \"";
  out.append(id, 36);
  out += "\", \"publisher_id\": ";
  append_json_string(out, publisher_id);
  out += ", \"event_type\": ";
  std::string event_type = "profiler.";
  event_type += service;
  append_json_string(out, event_type);
  out += ", \"priority\": \"INFO\", \"payload\": ";
  out += payload;
  out += ", \"timestamp\": \"";
  out += python_datetime_text(now_us);
  out += "\", \"_unique_id\": \"";
  const uuid unique = uuid::random();
  append_hex(out, unique.hi);
  append_hex(out, unique.lo);
  out += "\"}";
}

namespace {

std::optional<received_notification> parse_object(simdjson::ondemand::object obj, int depth) {
  received_notification n;
  bool has_payload = false;
  std::string envelope;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    auto value = field.value();
    if (key == "payload") {
      simdjson::ondemand::object payload;
      if (value.get_object().get(payload) != simdjson::SUCCESS) return std::nullopt;
      std::string_view raw;
      if (payload.raw_json().get(raw) != simdjson::SUCCESS) return std::nullopt;
      n.payload = raw;
      has_payload = true;
    } else if (key == "event_type" || key == "priority" || key == "_unique_id") {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) continue;
      (key == "event_type" ? n.event_type : key == "priority" ? n.priority : n.unique_id) = text;
    } else if (key == "oslo.message" && depth == 0) {
      std::string_view text;
      if (value.get_string().get(text) == simdjson::SUCCESS) envelope = text;
    }
  }
  if (!envelope.empty()) {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(envelope);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object inner;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(inner) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return parse_object(inner, depth + 1);
  }
  if (!has_payload) return std::nullopt;
  // The base id, for the reader's filter.
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(n.payload);
  simdjson::ondemand::document doc;
  std::string_view base;
  if (parser.iterate(padded).get(doc) == simdjson::SUCCESS && doc["base_id"].get_string().get(base) == simdjson::SUCCESS) {
    n.base_id = base;
  }
  return n;
}

}  // namespace

std::optional<received_notification> parse_notification(std::string_view body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  try {
    return parse_object(obj, 0);
  } catch (const simdjson::simdjson_error&) {
    return std::nullopt;
  }
}

}  // namespace osprof::detail::messaging
