#include "drivers/clickhouse/json_each_row.hpp"

#include <algorithm>
#include <charconv>

#include "common/json_writer.hpp"
#include "common/text.hpp"

namespace osprof::detail::clickhouse {

void append_row(std::string& out, const event_record& e, const row_settings& settings) {
  json_members(out, json_members::style::compact)
      .plain("date", e.timestamp_text().substr(0, 10))
      .id("base_id", e.base_id)
      .id("trace_id", e.trace_id)
      .id("parent_id", e.parent_id)
      .string("name", e.name)
      .string("project", settings.project)
      .string("service", settings.service)
      .string("host", settings.host)
      .integer("time_us", e.time_us)
      .plain("timestamp", e.timestamp_text())
      .raw("is_stop", e.is_stop ? "1" : "0")
      .raw("has_error", e.has_error ? "1" : "0")
      .string("info", e.info)
      .string("event", e.json)
      .close();
  out += '\n';
}

std::vector<http::part> encode_batch(std::span<const event_record> batch, const row_settings& settings) {
  std::vector<http::part> bodies;
  http::part body;
  std::size_t estimate = 0;
  for (const event_record& e : batch) estimate += e.json.size() + e.info.size() + 320;
  body.body.reserve(std::min(estimate + estimate / 8, settings.max_body_bytes + 4096));
  for (const event_record& e : batch) {
    const std::size_t before = body.body.size();
    append_row(body.body, e, settings);
    if (body.events != 0 && body.body.size() > settings.max_body_bytes) {
      // This row goes into the next body.
      http::part next;
      next.body.assign(body.body, before, std::string::npos);
      next.events = 1;
      body.body.resize(before);
      bodies.push_back(std::move(body));
      body = std::move(next);
      continue;
    }
    ++body.events;
  }
  if (body.events != 0) bodies.push_back(std::move(body));
  return bodies;
}

std::string create_table_sql(std::string_view qualified_table) {
  std::string sql = "CREATE TABLE IF NOT EXISTS ";
  sql += qualified_table;
  sql +=
      " (date Date,"
      " base_id String, trace_id String, parent_id String, name String,"
      " project String, service String, host String,"
      " time_us UInt64, timestamp String, is_stop UInt8, has_error UInt8,"
      " info String, event String)"
      " ENGINE = MergeTree() PARTITION BY toYYYYMM(date) ORDER BY (base_id, time_us)";
  return sql;
}

std::optional<std::vector<std::string>> parse_row_binary_strings(std::string_view data) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < data.size()) {
    std::uint64_t length = 0;
    int shift = 0;
    for (;;) {
      if (at >= data.size() || shift > 63) return std::nullopt;
      const auto byte = static_cast<unsigned char>(data[at++]);
      length |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
      shift += 7;
    }
    if (length > data.size() - at) return std::nullopt;
    out.emplace_back(data.substr(at, length));
    at += length;
  }
  return out;
}

int exception_code(std::string_view body) {
  const auto at = body.find("Code: ");
  if (at == std::string_view::npos) return 0;
  int code = 0;
  const char* from = body.data() + at + 6;
  const auto r = std::from_chars(from, body.data() + body.size(), code);
  return r.ec == std::errc{} ? code : 0;
}

bool permanent_error(int code) {
  switch (code) {
    case 6:    // CANNOT_PARSE_TEXT
    case 16:   // NO_SUCH_COLUMN_IN_TABLE
    case 26:   // CANNOT_PARSE_QUOTED_STRING
    case 27:   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    case 38:   // CANNOT_PARSE_DATE
    case 41:   // CANNOT_PARSE_DATETIME
    case 44:   // ILLEGAL_COLUMN
    case 47:   // UNKNOWN_IDENTIFIER
    case 48:   // NOT_IMPLEMENTED
    case 53:   // TYPE_MISMATCH
    case 60:   // UNKNOWN_TABLE
    case 62:   // SYNTAX_ERROR
    case 69:   // ARGUMENT_OUT_OF_BOUND
    case 72:   // CANNOT_PARSE_NUMBER
    case 81:   // UNKNOWN_DATABASE
    case 115:  // UNKNOWN_SETTING
    case 117:  // INCORRECT_DATA
    case 164:  // READONLY
      return true;
    default: return authentication_error(code);
  }
}

bool authentication_error(int code) {
  switch (code) {
    case 192:  // UNKNOWN_USER
    case 193:  // WRONG_PASSWORD
    case 194:  // REQUIRED_PASSWORD
    case 195:  // IP_ADDRESS_NOT_ALLOWED
    case 497:  // ACCESS_DENIED (later versions)
    case 516:  // AUTHENTICATION_FAILED (later versions)
      return true;
    default: return false;
  }
}

std::string error_text(std::string_view body) {
  std::string_view text = body;
  if (const auto at = text.find(", e.what() = "); at != std::string_view::npos) text = text.substr(0, at);
  return excerpt(text, 400);
}

}  // namespace osprof::detail::clickhouse
